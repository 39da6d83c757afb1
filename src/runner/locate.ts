/** file:line:col of a scenario step's key, for BadInputErrors raised after the loader accepted the file. */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';

export function stepLocation(file: string, stepIndex: number, key = 'fault'): string {
  try {
    const lc = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc });
    const steps = doc.get('steps', true);
    if (isSeq(steps)) {
      const step = steps.items[stepIndex];
      if (isMap(step)) {
        const node = step.get(key, true) as { range?: [number, number, number] } | undefined;
        const offset = node?.range?.[0] ?? (step as { range?: [number, number, number] }).range?.[0];
        if (offset !== undefined) {
          const pos = lc.linePos(offset);
          return `${file}:${pos.line}:${pos.col}`;
        }
      }
    }
  } catch {
    /* fall back below */
  }
  return `${file}: steps[${stepIndex}]`;
}
