/**
 * A search spread over worker threads (`sim --workers N`), with the result of one sequential
 * search: the schedules are fast-check's own stream, cut into index ranges; each worker
 * tallies a range up to the first schedule a sequential search would stop at
 * (explore.ts tallyRange); the tallies are merged in schedule order and the first stopping
 * schedule *by index* — not the first to arrive — is replayed and shrunk from its fast-check
 * path (concludeRanges). Which worker ran what, and when, never reaches the result.
 *
 * The same ranges are what `sim --shard` runs in a Kubernetes pod (simulator/shards.ts).
 */
import { Worker } from 'node:worker_threads';
import { concludeRanges, type ExploreOptions, type ExploreResult, type RangeTally } from './explore.ts';

/** The plain-data part of ExploreOptions a worker needs (functions do not cross threads). */
export type SearchSpec = Omit<ExploreOptions, 'wallClockMs' | 'onProgress'>;

export function searchSpec(opts: ExploreOptions): SearchSpec {
  const { wallClockMs: _wall, onProgress: _progress, ...spec } = opts;
  return spec;
}

export interface RangeRequest {
  spec: SearchSpec;
  from: number;
  to: number;
}

export interface WorkerLaunch {
  /** script every worker runs (the CLI's launcher, which dispatches on workerData) */
  script: string | URL;
  workerData: unknown;
}

export interface ParallelOptions {
  workers: number;
  launch: WorkerLaunch;
  /** schedules per range handed to a worker (default: ~16 ranges per worker, 1..25) */
  rangeRuns?: number;
}

/**
 * Small ranges balance uneven schedules and let a search stop soon after a finding; 25 keeps
 * the per-range messages (a tally each) far below the cost of the schedules themselves.
 */
export function defaultRangeRuns(runs: number, workers: number): number {
  return Math.max(1, Math.min(25, Math.ceil(runs / (workers * 16))));
}

export async function runParallelSearch(opts: ExploreOptions, p: ParallelOptions): Promise<ExploreResult> {
  if (opts.path !== undefined) throw new Error('a replay (--path) runs one schedule: use one worker');
  const wall = opts.wallClockMs ?? (() => 0);
  const started = wall();
  const spec = searchSpec(opts);
  const size = p.rangeRuns ?? defaultRangeRuns(opts.runs, p.workers);
  const ranges: RangeTally[] = [];
  let foundAtMs: number | null = null;
  await new Promise<void>((resolve, reject) => {
    const pool = Array.from(
      { length: Math.max(1, p.workers) },
      () => new Worker(p.launch.script, { workerData: p.launch.workerData }),
    );
    const busy = new Map<Worker, number>(); // worker → `from` of its range
    let nextFrom = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    let counted = 0;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      // ranges past the first stop are not needed: stop those workers mid-range
      void Promise.all(pool.map((w) => w.terminate())).then(() => (err ? reject(err) : resolve()));
    };
    const limit = () => Math.min(opts.runs, stopAt);
    const dispatch = (w: Worker) => {
      if (nextFrom >= limit()) return;
      const req: RangeRequest = { spec, from: nextFrom, to: Math.min(opts.runs, nextFrom + size) };
      busy.set(w, nextFrom);
      nextFrom = req.to;
      w.postMessage(req);
    };
    const allBelowStopDone = () => nextFrom >= limit() && ![...busy.values()].some((from) => from < stopAt);
    for (const w of pool) {
      w.on('message', (r: RangeTally) => {
        busy.delete(w);
        ranges.push(r);
        if (r.stop !== null && r.stop < stopAt) {
          stopAt = r.stop;
          foundAtMs ??= wall() - started;
        }
        counted += r.tally.runs;
        opts.onProgress?.(Math.min(counted, opts.runs), opts.runs);
        if (allBelowStopDone()) finish();
        else dispatch(w);
      });
      w.on('error', (err) => finish(err));
      w.on('exit', (code) => {
        if (!settled && code !== 0) finish(new Error(`search worker exited with code ${code}`));
      });
      dispatch(w);
    }
    if (allBelowStopDone()) finish();
  });
  const r = concludeRanges(opts, ranges);
  r.stats.wallSeconds = (wall() - started) / 1000;
  if (r.failure && opts.wallClockMs) r.failure.foundAfterWallMs = foundAtMs;
  return r;
}
