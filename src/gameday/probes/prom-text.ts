/**
 * Minimal Prometheus text exposition parser: enough to read a controller's /metrics
 * (name, labels, value) without a Prometheus server in the loop.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE_RE.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, labels: parseLabels(m[2] ?? ''), value: parseValue(m[3]!) });
  }
  return out;
}

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    while (s[i] === ',' || s[i] === ' ') i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const key = s.slice(i, eq).trim();
    i = eq + 1;
    if (s[i] !== '"') break;
    i++;
    let value = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const next = s[i + 1]!;
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += s[i];
        i++;
      }
    }
    i++; // closing quote
    labels[key] = value;
  }
  return labels;
}

export function selectSamples(samples: Sample[], metric: string, labels: Record<string, string>): Sample[] {
  return samples.filter(
    (s) => s.name === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

export function aggregate(values: number[], how: 'sum' | 'min' | 'max' | 'count'): number {
  if (how === 'count') return values.length;
  if (how === 'min') return Math.min(...values);
  if (how === 'max') return Math.max(...values);
  return values.reduce((a, b) => a + b, 0);
}

export type Criteria = '==' | '!=' | '>' | '<' | '>=' | '<=' | 'between';

export function compare(actual: number, criteria: Criteria, expected: number | [number, number]): boolean {
  if (criteria === 'between') {
    const [lo, hi] = expected as [number, number];
    return actual >= lo && actual <= hi;
  }
  const e = expected as number;
  switch (criteria) {
    case '==':
      return actual === e;
    case '!=':
      return actual !== e;
    case '>':
      return actual > e;
    case '<':
      return actual < e;
    case '>=':
      return actual >= e;
    case '<=':
      return actual <= e;
  }
}
