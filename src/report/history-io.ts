/**
 * history.jsonl in and out. Reading is strict about shape (a line that is not a JSON object
 * with numeric seq/t and a string kind is bad input, reported as file:line[:col]) and lenient
 * about meaning (unknown kinds and ordering problems are kept and surfaced as warnings by
 * facts.ts), so a history written by a newer executor still renders.
 */
import type { HistoryEvent } from '../contracts/history.ts';
import { BadInputError } from '../errors.ts';

/** One event per line, trailing newline, no blank lines: the format every executor writes. */
export function serializeHistory(history: readonly HistoryEvent[]): string {
  let out = '';
  for (const e of history) out += `${JSON.stringify(e)}\n`;
  return out;
}

/** Parses history.jsonl text; `file` names the file in errors. Blank lines are ignored. */
export function parseHistory(text: string, file: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      const { message, col } = describeJsonError(err, raw);
      throw new BadInputError(
        `not valid JSON: ${message}`,
        `${file}:${lineNo}${col === null ? '' : `:${col}`}`,
      );
    }
    const problem = shapeProblem(value);
    if (problem) throw new BadInputError(`not a history event: ${problem}`, `${file}:${lineNo}`);
    events.push(value as HistoryEvent);
  }
  return events;
}

function shapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v['kind'] !== 'string' || v['kind'] === '') return 'missing string field "kind"';
  if (typeof v['seq'] !== 'number' || !Number.isInteger(v['seq'])) return 'missing integer field "seq"';
  if (typeof v['t'] !== 'number' || !Number.isFinite(v['t'])) return 'missing numeric field "t"';
  return null;
}

/**
 * Where and why a text is not JSON, as one line. V8's JSON.parse messages give a position
 * only for some errors and quote the input (newlines included), so a small scanner that
 * follows RFC 8259 finds the first offending character itself.
 */
export function describeJsonError(err: unknown, text: string): { message: string; col: number | null } {
  const at = locateJsonError(text);
  if (at) {
    const before = text.slice(0, at.offset);
    const col = at.offset - before.lastIndexOf('\n');
    return { message: at.problem, col };
  }
  const v8 = (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, ' ');
  return { message: v8, col: null };
}

/** 1-based line and column of the first JSON syntax error in text, or null if it parses. */
export function jsonErrorLineCol(text: string): { line: number; col: number; problem: string } | null {
  const at = locateJsonError(text);
  if (!at) return null;
  const before = text.slice(0, at.offset);
  return { line: before.split('\n').length, col: at.offset - before.lastIndexOf('\n'), problem: at.problem };
}

class JsonSyntax {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

function locateJsonError(text: string): { offset: number; problem: string } | null {
  let i = 0;
  const n = text.length;
  const fail = (expected: string): never => {
    const found = i >= n ? 'end of input' : JSON.stringify(text[i]);
    throw new JsonSyntax(i, `unexpected ${found}, expected ${expected}`);
  };
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`);
      i++;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? '')) fail('a digit');
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail("a closing '\"'");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('an escaped control character');
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail('a hex digit');
            i++;
          }
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail('an escape character');
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a double-quoted property name');
        string();
        ws();
        if (text[i] !== ':') fail("':'");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("',' or ']'");
      }
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : null;
    if (c === '"') {
      string();
      return;
    }
    if (word) {
      literal(word);
      return;
    }
    if (c === '-' || /[0-9]/.test(c ?? '')) {
      if (c === '-') i++;
      if (text[i] === '0') i++;
      else digits();
      if (text[i] === '.') {
        i++;
        digits();
      }
      if (text[i] === 'e' || text[i] === 'E') {
        i++;
        if (text[i] === '+' || text[i] === '-') i++;
        digits();
      }
      return;
    }
    fail('a JSON value');
  };
  try {
    value();
    ws();
    if (i < n) fail('end of input');
    return null;
  } catch (err) {
    if (err instanceof JsonSyntax) return { offset: err.offset, problem: err.problem };
    throw err;
  }
}
