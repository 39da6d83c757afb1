/**
 * A search spread over worker threads or over shards (pods of a Kubernetes Indexed Job)
 * gives what one sequential search gives: the same outcome JSON (everything but wall-clock
 * figures and paths), the same shrunk counterexample and replay command. The first finding
 * by schedule index wins, not the first to arrive.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  concludeRanges,
  type ExploreOptions,
  type ExploreResult,
  runExploration,
  tallyRange,
} from '../../simulator/explore.ts';
import { shardBounds } from '../../src/cli/commands/sim-parallel.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-sim-par-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sim(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', 'sim', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** RunJson without what differs between two runs of the same search: wall time and file paths. */
function outcome(stdout: string): Record<string, unknown> {
  const j = JSON.parse(stdout);
  j.stats.wallSeconds = null;
  if (j.shrink) j.shrink.foundAfterWallSeconds = null;
  j.counterexampleFile = j.counterexampleFile === null ? null : 'written';
  return j;
}

/** ExploreResult without wall time, the full history replaced by its verdict. */
function comparable(r: ExploreResult): string {
  return JSON.stringify({
    ...r,
    stats: { ...r.stats, wallSeconds: null },
    failure: r.failure
      ? { ...r.failure, foundAfterWallMs: null, result: r.failure.result.verdict, scenario: null }
      : null,
  });
}

describe('range tallies merged in schedule order', () => {
  const durable: ExploreOptions = {
    runs: 30,
    seed: 11,
    leaseBackend: 'durable',
    durationMs: 60_000,
    property: 'safety',
  };

  it('give the sequential result whatever the cut and the arrival order', () => {
    const sequential = runExploration(durable);
    expect(sequential.stats.runs).toBe(30);
    const ranges = [0, 4, 5, 13, 29].map((from, i, all) => tallyRange(durable, from, all[i + 1] ?? 30));
    expect(comparable(concludeRanges(durable, ranges.reverse()))).toBe(comparable(sequential));
  });

  it('replay the first finding by index, not the first range to report one', () => {
    const kv: ExploreOptions = { ...durable, runs: 40, seed: 1, leaseBackend: 'kv', durationMs: 600_000 };
    const sequential = runExploration(kv);
    expect(sequential.failure).not.toBeNull();
    const ranges = [0, 10, 20, 30].map((from) => tallyRange(kv, from, from + 10));
    // every range finds a split brain of its own; the earliest schedule decides
    expect(ranges.every((r) => r.stop !== null)).toBe(true);
    const merged = concludeRanges(kv, [ranges[3]!, ranges[1]!, ranges[2]!, ranges[0]!]);
    expect(merged.failure?.path).toBe(sequential.failure?.path);
    expect(comparable(merged)).toBe(comparable(sequential));
  });

  it('refuse a search with schedules missing before the first finding', () => {
    const ranges = [tallyRange(durable, 0, 10), tallyRange(durable, 20, 30)];
    expect(() => concludeRanges(durable, ranges)).toThrow(/schedules 10\.\.29 were not searched/);
  });

  it('cuts shards into contiguous ranges that cover every schedule once', () => {
    for (const [runs, count] of [
      [10, 3],
      [3, 5],
      [1000, 7],
    ] as const) {
      const bounds = [...Array(count).keys()].map((i) => shardBounds(runs, i, count));
      expect(bounds[0]!.from).toBe(0);
      expect(bounds.at(-1)!.to).toBe(runs);
      for (let i = 1; i < count; i++) expect(bounds[i]!.from).toBe(bounds[i - 1]!.to);
    }
  });
});

describe('sim --workers', () => {
  it('--workers 2 prints the outcome JSON of --workers 1 (durable search, no finding)', () => {
    const args = ['--runs', '24', '--seed', '5', '--duration', '2m', '--json', '--no-report'];
    const one = sim([...args, '--workers', '1', '--out', join(tmp, 'w1')]);
    const two = sim([...args, '--workers', '2', '--out', join(tmp, 'w2')]);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(outcome(two.stdout)).toEqual(outcome(one.stdout));
  });

  it('--workers 2 finds, shrinks and reports the split brain --workers 1 does (kv)', () => {
    const args = ['--lease-backend', 'kv', '--runs', '30', '--seed', '3', '--json', '--no-report'];
    const one = sim([...args, '--workers', '1', '--out', join(tmp, 'k1')]);
    const two = sim([...args, '--workers', '2', '--out', join(tmp, 'k2')]);
    expect(one.code, one.stderr).toBe(1);
    expect(two.code, two.stderr).toBe(1);
    expect(outcome(two.stdout)).toEqual(outcome(one.stdout));
    const files = (d: string) => readdirSync(join(tmp, d));
    expect(files('k2')).toEqual(files('k1'));
  });

  it('refuses --workers with a replay path or a scenario (exit 2, one line)', () => {
    const r = sim(['--workers', '2', '--seed', '1', '--path', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--workers');
  });
});

describe('sim --shards / --merge', () => {
  const search = ['--lease-backend', 'kv', '--runs', '45', '--seed', '9'];

  it('three shards (JOB_COMPLETION_INDEX) merged give the sequential outcome', () => {
    const dir = join(tmp, 'shards');
    for (const i of [2, 0, 1]) {
      const r = sim([...search, '--shards', '3', '--results-dir', dir], { JOB_COMPLETION_INDEX: String(i) });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).shard).toEqual({ index: i, count: 3 });
    }
    const merged = sim(['--merge', dir, '--json', '--no-report', '--out', join(tmp, 'm')]);
    const sequential = sim([...search, '--json', '--no-report', '--out', join(tmp, 's')]);
    expect(sequential.code, sequential.stderr).toBe(1);
    expect(merged.code, merged.stderr).toBe(1);
    expect(outcome(merged.stdout)).toEqual(outcome(sequential.stdout));
  });

  it('merges durable shards given as files (a pod log line each)', () => {
    const args = ['--runs', '12', '--seed', '4', '--duration', '1m'];
    const files = [0, 1].map((i) => {
      const r = sim([...args, '--shards', '2', '--shard-index', String(i)]);
      expect(r.code, r.stderr).toBe(0);
      const f = join(tmp, `pod-${i}.log`);
      writeFileSync(f, `some log line\n${r.stdout}`);
      return f;
    });
    const merged = sim(['--merge', ...files, '--json', '--no-report']);
    const sequential = sim([...args, '--json', '--no-report']);
    expect(merged.code, merged.stderr).toBe(sequential.code);
    expect(outcome(merged.stdout)).toEqual(outcome(sequential.stdout));
  });

  it('refuses a missing shard and shards of another search (exit 2 naming it)', () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir, { recursive: true });
    const args = ['--runs', '12', '--seed', '4', '--duration', '1m', '--shards', '3'];
    expect(sim([...args, '--shard-index', '0', '--results-dir', dir]).code).toBe(0);
    const missing = sim(['--merge', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/shard\(s\) 1, 2 missing/);
    const other = sim([...args.slice(0, 2), '--seed', '5', ...args.slice(4), '--shard-index', '1']);
    writeFileSync(join(dir, 'shard-1.json'), other.stdout);
    const mixed = sim(['--merge', dir]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('shard-1.json');
    expect(readFileSync(join(dir, 'shard-0.json'), 'utf8')).toContain('failover-lab/sim-shard@1');
  });

  it('a shard needs --seed (every pod must draw the same schedules)', () => {
    const r = sim(['--runs', '10', '--shards', '2', '--shard-index', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--seed');
  });
});
