/**
 * Runs a catalog scenario on the real topology through the CLI, for the catalog test files
 * (split in two so vitest's two workers share the real runs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { runCli } from './cli.ts';

export interface Run {
  code: number | null;
  json: Record<string, unknown> & {
    ok: boolean;
    outcomes: Array<{ name: string; ok: boolean; detail: string; expectedViolation?: boolean }>;
  };
  history: HistoryEvent[];
  stderr: string;
}

/** A temp directory for this test file's runs, removed after it. */
export function runsDir(): string {
  const out = mkdtempSync(join(tmpdir(), 'fl-runner-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  return out;
}

export async function runScenario(out: string, file: string, name: string): Promise<Run> {
  const dir = join(out, name);
  const res = await runCli(['run', file, '--json', '--out', dir, '--no-report']);
  const json = JSON.parse(res.stdout.trim() || '{}') as Run['json'];
  const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryEvent);
  return { code: res.code, json, history, stderr: res.stderr };
}

export const roles = (h: HistoryEvent[]) =>
  h.filter((e): e is Extract<HistoryEvent, { kind: 'role' }> => e.kind === 'role');
