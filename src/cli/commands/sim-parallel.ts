/**
 * `sim` across cores and machines (issue #18):
 *
 *   sim --workers N ...                    the search over N worker threads (simulator/parallel.ts)
 *   sim --shards K [--shard-index I] ...   one pod's share of a search: schedules
 *       [⌊I·runs/K⌋, ⌊(I+1)·runs/K⌋), I from JOB_COMPLETION_INDEX when not given (a Kubernetes
 *       Indexed Job, `export --to k8s-job`); prints one shard JSON on stdout and, with
 *       --results-dir DIR, writes it to DIR/shard-<I>.json
 *   sim --merge FILE|DIR ...               the shards' JSON → the report of one search
 *
 * Every form gives what one sequential `sim` with the same flags gives (outcome JSON, shrunk
 * counterexample, replay command): the first stopping schedule by index wins, whichever
 * worker or pod met it first. Only wall-clock figures differ.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  concludeRanges,
  type ExploreOptions,
  type ExploreResult,
  type RangeTally,
  tallyRange,
} from '../../../simulator/explore.ts';
import {
  runParallelSearch,
  type SearchSpec,
  searchSpec,
  type WorkerLaunch,
} from '../../../simulator/parallel.ts';
import { BadInputError } from '../../errors.ts';

export const SHARD_FORMAT = 'failover-lab/sim-shard@1';

/** What one shard (pod) prints: its range's tally and the search it belongs to. */
export interface ShardJson {
  format: typeof SHARD_FORMAT;
  shard: { index: number; count: number };
  spec: SearchSpec;
  range: RangeTally;
  wallSeconds: number;
}

export interface ParallelArgs {
  workers: number;
  shard: { index: number; count: number } | null;
  resultsDir: string | null;
  merge: string[] | null;
}

export interface ParallelFlags {
  workers?: string;
  shards?: string;
  shardIndex?: string;
  resultsDir?: string;
  merge?: string[];
}

function intFlag(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max)
    throw new BadInputError(`expected an integer in ${min}..${max}, got "${v}"`, flag);
  return Number(v);
}

/** --workers/--shards/--shard-index/--results-dir/--merge → typed; env supplies the pod's index. */
export function parseParallelFlags(
  f: ParallelFlags,
  env: Record<string, string | undefined>,
  other: {
    seed: boolean;
    scenario: boolean;
    checkDeterminism: boolean;
    targetCoverage: boolean;
    path: boolean;
  },
): ParallelArgs {
  const workers = f.workers === undefined ? 1 : intFlag(f.workers, '--workers', 1, 256);
  const alone = (flag: string) => {
    if (other.scenario) throw new BadInputError('applies to a search, not to --scenario', flag);
    if (other.checkDeterminism) throw new BadInputError('cannot be combined with --check-determinism', flag);
    if (other.targetCoverage) throw new BadInputError('cannot be combined with --target-coverage', flag);
    if (other.path) throw new BadInputError('a --path replay runs one schedule', flag);
  };
  if (workers > 1) alone('--workers');
  let shard: ParallelArgs['shard'] = null;
  if (f.shards !== undefined) {
    alone('--shards');
    const count = intFlag(f.shards, '--shards', 1, 100_000);
    const raw = f.shardIndex ?? env.JOB_COMPLETION_INDEX;
    if (raw === undefined)
      throw new BadInputError(
        'give --shard-index or run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)',
        '--shards',
      );
    const index = intFlag(
      raw,
      f.shardIndex !== undefined ? '--shard-index' : 'JOB_COMPLETION_INDEX',
      0,
      count - 1,
    );
    // every shard must draw the same schedules: a seed picked per pod would not
    if (!other.seed) throw new BadInputError('every shard needs the same --seed', '--shards');
    shard = { index, count };
  } else if (f.shardIndex !== undefined) throw new BadInputError('needs --shards', '--shard-index');
  if (f.resultsDir !== undefined && shard === null)
    throw new BadInputError('needs --shards', '--results-dir');
  const merge = f.merge && f.merge.length > 0 ? f.merge : null;
  if (merge !== null && (shard !== null || workers > 1 || other.scenario || other.checkDeterminism))
    throw new BadInputError('merges shard files on its own: no search, scenario or shard flags', '--merge');
  return { workers, shard, resultsDir: f.resultsDir ?? null, merge };
}

/** Schedules of shard `index` of `count`: contiguous, together exactly 0..runs-1. */
export function shardBounds(runs: number, index: number, count: number): { from: number; to: number } {
  return { from: Math.floor((index * runs) / count), to: Math.floor(((index + 1) * runs) / count) };
}

/** How to start worker threads running the code this process runs (set by bin/failover-lab.mjs). */
export function workerLaunch(): WorkerLaunch {
  const l = (globalThis as Record<symbol, unknown>)[Symbol.for('failover-lab.launcher')] as
    | { script: string; compiled: boolean }
    | undefined;
  if (!l) throw new BadInputError('needs the failover-lab launcher (bin/failover-lab.mjs)', '--workers');
  return { script: l.script, workerData: { failoverLabEntry: 'sim-worker', compiled: l.compiled } };
}

export function searchInWorkers(search: ExploreOptions, workers: number): Promise<ExploreResult> {
  return runParallelSearch(search, { workers, launch: workerLaunch() });
}

/** One shard's range, tallied; written to stdout and, with a results dir, to shard-<i>.json. */
export function runShard(search: ExploreOptions, p: ParallelArgs, wallMs: () => number): ShardJson {
  const shard = p.shard!;
  const started = wallMs();
  const { from, to } = shardBounds(search.runs, shard.index, shard.count);
  const range = tallyRange(searchSpec(search), from, to);
  const out: ShardJson = {
    format: SHARD_FORMAT,
    shard,
    spec: searchSpec(search),
    range,
    wallSeconds: (wallMs() - started) / 1000,
  };
  const text = `${JSON.stringify(out)}\n`;
  if (p.resultsDir !== null) {
    mkdirSync(p.resultsDir, { recursive: true });
    writeFileSync(join(p.resultsDir, `shard-${shard.index}.json`), text);
  }
  process.stdout.write(text);
  return out;
}

/** A file per shard, or directories of them (every *.json inside). */
function shardFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new BadInputError('no such file or directory', p);
    }
    if (!isDir) files.push(p);
    else
      for (const name of readdirSync(p)
        .filter((n) => n.endsWith('.json'))
        .sort())
        files.push(join(p, name));
  }
  if (files.length === 0) throw new BadInputError('no shard files (*.json) found', '--merge');
  return files;
}

/** Parses and cross-checks shard outputs: one search, each shard once, no schedule missing. */
export function readShards(paths: string[]): { spec: SearchSpec; ranges: RangeTally[] } {
  const shards = shardFiles(paths).map((file) => {
    let j: ShardJson;
    try {
      // a pod's log may carry other lines: the shard JSON is the line with the format tag
      const line = readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.includes(SHARD_FORMAT));
      j = JSON.parse(line ?? 'null');
    } catch {
      throw new BadInputError('not valid JSON', file);
    }
    if (j?.format !== SHARD_FORMAT) throw new BadInputError(`not a ${SHARD_FORMAT} shard output`, file);
    return { file, j };
  });
  const first = shards[0]!;
  const specText = JSON.stringify(first.j.spec);
  const seen = new Map<number, string>();
  for (const { file, j } of shards) {
    if (JSON.stringify(j.spec) !== specText)
      throw new BadInputError(
        `a different search than ${first.file} (seed, runs, backend or flags differ)`,
        file,
      );
    if (j.shard.count !== first.j.shard.count)
      throw new BadInputError(`${j.shard.count} shards, ${first.file} says ${first.j.shard.count}`, file);
    const dup = seen.get(j.shard.index);
    if (dup !== undefined) throw new BadInputError(`shard ${j.shard.index} again (also in ${dup})`, file);
    seen.set(j.shard.index, file);
    const b = shardBounds(j.spec.runs, j.shard.index, j.shard.count);
    if (j.range.from !== b.from || j.range.to !== b.to)
      throw new BadInputError(`range ${j.range.from}..${j.range.to} is not shard ${j.shard.index}'s`, file);
  }
  const ranges = shards.map((s) => s.j.range).sort((x, y) => x.from - y.from);
  // shards after the first finding are not needed; before it every one is
  let next = 0;
  for (const r of ranges) {
    if (r.from !== next) break;
    if (r.stop !== null) return { spec: first.j.spec, ranges };
    next = r.to;
  }
  if (next < first.j.spec.runs) {
    const missing = [...Array(first.j.shard.count).keys()].filter((i) => !seen.has(i));
    throw new BadInputError(`shard(s) ${missing.slice(0, 10).join(', ')} missing`, '--merge');
  }
  return { spec: first.j.spec, ranges };
}

/** The merged search: replays (and shrinks) the first finding by index, like one sequential run. */
export function mergeShards(
  search: ExploreOptions,
  ranges: RangeTally[],
  wallMs: () => number,
): ExploreResult {
  const started = wallMs();
  const r = concludeRanges(search, ranges);
  r.stats.wallSeconds = (wallMs() - started) / 1000;
  return r;
}
