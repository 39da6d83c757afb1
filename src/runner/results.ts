/**
 * Writes the outcome of a real run: history.jsonl (one event per line) and result.json
 * (the RunJson plus the full verdict). The report writer (src/report) can replace this by
 * being handed the same RunResult — see `ResultWriter`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './execute.ts';

export type ResultWriter = (dir: string, result: RunResult) => Promise<void> | void;

export const writeRunResults: ResultWriter = (dir, result) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'history.jsonl'), `${result.history.map((e) => JSON.stringify(e)).join('\n')}\n`);
  writeFileSync(
    join(dir, 'result.json'),
    `${JSON.stringify({ ...result.runJson, verdict: result.verdict }, null, 2)}\n`,
  );
};

/** reports/<scenario>/<timestamp>/, the timestamp file-name safe */
export function reportDirFor(root: string, scenario: string, when = new Date()): string {
  return join(root, scenario, when.toISOString().replace(/[:.]/g, '-'));
}
