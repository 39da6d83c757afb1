/** Small text helpers shared by the renderers (units in the output, escaping for each format). */
import type { HistoryEvent } from '../contracts/history.ts';

/** "850 ms", "3.15 s", "42.0 s": milliseconds for humans, always with the unit. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'n/a';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(abs < 10_000 ? 2 : 1)} s`;
}

/** A global history time, as "t=13.150 s". */
export function formatT(t: number): string {
  return `t=${(t / 1000).toFixed(3)} s`;
}

/** One event as compact JSON, cut at maxChars so a failure text stays readable. */
export function compactJson(e: HistoryEvent | unknown, maxChars = 400): string {
  const s = JSON.stringify(e) ?? 'undefined';
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}

/**
 * Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF)
 * make junit.xml unparseable, so they are replaced by U+FFFD rather than escaped.
 */
export function replaceXmlInvalid(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\uFFFD';
      continue;
    }
    const invalid =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
      (c >= 0xdc00 && c <= 0xdfff) ||
      c === 0xfffe ||
      c === 0xffff;
    out += invalid ? '\uFFFD' : s[i]!;
  }
  return out;
}

export function escapeXml(s: string): string {
  return replaceXmlInvalid(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute values additionally keep their newlines and tabs (parsers normalise raw ones to spaces). */
export function escapeXmlAttr(s: string): string {
  return escapeXml(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON for a <script type="application/json"> block: no "</script>" or "<!--" can end it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A Markdown table cell: pipes escaped, newlines folded, long text cut. */
export function mdCell(s: string, maxChars = 160): string {
  const one = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return one.length > maxChars ? `${one.slice(0, maxChars - 1)}…` : one;
}

/** Inline code in Markdown that survives backticks inside the text. */
export function mdCode(s: string): string {
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A run re-rendered without any record of its start has startedAt = epoch 0: say so. */
export function startedText(startedAt: Date): string {
  return startedAt.getTime() === 0 ? 'start time unknown' : `started ${startedAt.toISOString()}`;
}
