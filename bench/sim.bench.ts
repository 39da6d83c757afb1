/**
 * Simulator benchmark (`npm run bench:sim`): writes bench/results/sim.json and prints it.
 *
 *   kv        time to find the legacy-kv split brain (cold, first in the process), shrunk size,
 *             and whether the printed replay reproduces the same violation
 *   durable   SIM_BENCH_RUNS (default 10 000) schedules × 10 simulated minutes: violations,
 *             simulated seconds per wall second on this core
 *   determinism  SIM_BENCH_DETERMINISM (default 100) cases, each run twice
 *   core      cost of the controller core's step() inside a run
 *
 * Tests never assert these figures; they are for humans and trend lines.
 *
 * The file keeps a `before` (issue #18: old and new figures side by side): the first run
 * that finds a results file without one moves that file's figures there; later runs keep
 * it and replace `after`. Each run records the load average at its start and end.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  caseToScenario,
  checkDeterminism,
  replayCommand,
  runSimulation,
  simulateScenario,
} from '../simulator/index.ts';
import * as core from '../src/controller/core.ts';

const TEN_MIN = 600_000;
const RUNS = Number(process.env.SIM_BENCH_RUNS ?? 10_000);
const DETERMINISM = Number(process.env.SIM_BENCH_DETERMINISM ?? 100);
const now = () => performance.now();

function kvSearch(seed: number) {
  const t0 = now();
  const r = runSimulation({
    runs: 1000,
    seed,
    leaseBackend: 'kv',
    durationMs: TEN_MIN,
    property: 'safety',
    wallClockMs: now,
  });
  const totalMs = now() - t0;
  const f = r.failure;
  if (!f) return { seed, found: false, totalWallMs: totalMs };
  const replay = runSimulation({
    runs: 1000,
    seed: f.seed,
    path: f.path,
    leaseBackend: 'kv',
    durationMs: TEN_MIN,
    property: 'safety',
  });
  const v0 = f.result.verdict.violations.find((v) => v.invariant === f.invariant);
  const v1 = replay.failure?.result.verdict.violations.find((v) => v.invariant === f.invariant);
  return {
    seed,
    found: true,
    invariant: f.invariant,
    foundAfterRuns: f.foundAfterRuns,
    foundAfterWallMs: round(f.foundAfterWallMs ?? -1),
    totalWallMsInclShrink: round(totalMs),
    shrinks: f.shrinks,
    stepsBeforeShrink: f.originalSteps,
    stepsAfterShrink: f.case.steps.length,
    replay: replayCommand({
      seed: f.seed,
      path: f.path,
      leaseBackend: 'kv',
      durationMs: TEN_MIN,
      property: 'safety',
      runs: 1000,
    }),
    replayReproduces: replay.failure?.invariant === f.invariant && JSON.stringify(v0) === JSON.stringify(v1),
  };
}

function coreCost() {
  const cfg = core.defaultControllerConfig({ region: 'a', peerRegion: 'b', witnesses: ['w1', 'w2', 'w3'] });
  let s = core.createControllerState(cfg, 0, { initialRole: 'primary' });
  const n = 100_000;
  const t0 = now();
  for (let i = 1; i <= n; i++) s = core.step(s, { type: 'tick', nowMs: i }).state;
  const stepUs = ((now() - t0) / n) * 1000;
  const t1 = now();
  for (let i = 0; i < n; i++) structuredClone(s);
  const cloneUs = ((now() - t1) / n) * 1000;
  // steps per default 10-minute run with a failover in it
  const sc = caseToScenario(
    { seed: 1, steps: [{ at: 60_000, for: 180_000, fault: 'isolate', target: 'a', params: {} }] },
    { durationMs: TEN_MIN, leaseBackend: 'durable' },
  );
  const t2 = now();
  const reps = 50;
  let steps = 0;
  for (let i = 0; i < reps; i++) steps += simulateScenario(sc, { seed: i }).stats.coreSteps;
  const runMs = (now() - t2) / reps;
  const stepsPerRun = steps / reps;
  return {
    stepUs: round(stepUs, 2),
    structuredCloneUs: round(cloneUs, 2),
    stepsPerTenMinuteRun: round(stepsPerRun),
    wallMsPerTenMinuteRun: round(runMs, 2),
    coreShareOfRun: round((stepsPerRun * stepUs) / 1000 / runMs, 3),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const loadAtStart = loadavg().map((l) => round(l, 2));
const kv = [kvSearch(1), kvSearch(2), kvSearch(3), kvSearch(4), kvSearch(5)];

const t0 = now();
let lastPrint = 0;
const durable = runSimulation({
  runs: RUNS,
  seed: 1234,
  leaseBackend: 'durable',
  durationMs: TEN_MIN,
  property: 'all',
  wallClockMs: now,
  onProgress: (done, total) => {
    if (now() - lastPrint > 10_000) {
      lastPrint = now();
      process.stderr.write(`durable: ${done}/${total}\n`);
    }
  },
});
const durableWallS = (now() - t0) / 1000;

const t1 = now();
const det = checkDeterminism({ seed: 99, count: DETERMINISM, durationMs: TEN_MIN, leaseBackend: 'durable' });
const detWallS = (now() - t1) / 1000;

const result = {
  when: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  loadAverage1_5_15: { start: loadAtStart, end: loadavg().map((l) => round(l, 2)) },
  kv: {
    searches: kv,
    maxFoundAfterWallMs: Math.max(
      ...kv.map((k) =>
        'foundAfterWallMs' in k ? (k.foundAfterWallMs ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
      ),
    ),
    maxStepsAfterShrink: Math.max(
      ...kv.map((k) =>
        'stepsAfterShrink' in k ? (k.stepsAfterShrink ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
      ),
    ),
    allReplaysReproduce: kv.every((k) => 'replayReproduces' in k && k.replayReproduces),
  },
  durable: {
    schedules: durable.stats.runs,
    simulatedMinutesEach: TEN_MIN / 60_000,
    property: 'all',
    ok: durable.ok,
    violationsWithinAssumptions: (durable.failure ? 1 : 0) + durable.otherFindings.count,
    failure: durable.failure ? { invariant: durable.failure.invariant, case: durable.failure.case } : null,
    outsideAssumptionSchedules: durable.outsideAssumptions.runs,
    outsideAssumptionSchedulesWithViolations: durable.outsideAssumptions.withViolations,
    events: durable.stats.events,
    simSeconds: round(durable.stats.simSeconds),
    wallSeconds: round(durableWallS, 2),
    simSecondsPerWallSecond: round(durable.stats.simSeconds / durableWallS, 0),
    coverage: durable.coverage,
  },
  determinism: {
    cases: det.checked,
    mismatches: det.mismatches.length,
    wallSeconds: round(detWallS, 2),
  },
  core: coreCost(),
};

/**
 * The figures to compare against: the file's `before`, or the whole file when it predates
 * before/after (the 16:06 run of 2026-12-06, load average ≈ 0.1 by the session that ran it,
 * which the file itself did not record).
 */
function previousBaseline(file: string): unknown {
  if (!existsSync(file)) return null;
  const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if ('before' in old) return old.before;
  return {
    ...old,
    loadAverage1_5_15: old.loadAverage1_5_15 ?? 'not recorded (≈0.1, quiet, per its session)',
  };
}

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'sim.json');
const out = { before: previousBaseline(file), after: result };
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
