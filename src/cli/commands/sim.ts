/**
 * `failover-lab sim`: the deterministic simulator.
 *
 *   sim [--runs N] [--seed S] [--path P] [--lease-backend durable|kv] [--duration 10m]
 *       [--property safety|liveness|all] [--json] [--out DIR]      property-based search
 *   sim --scenario FILE [--seed S] [--lease-backend B] [--out DIR] one scenario, seeded
 *   sim --scenario FILE --seeds N [--seed S] [--json]             one scenario over N seeds:
 *       min/median/max failover and demotion times and the verdict count
 *   sim [--outside-assumptions]                                   search also outside them
 *   sim --check-determinism [--runs N] [--seed S]                 every case run twice
 *
 * Exit 0: all invariants held; 1: a violation (or nondeterminism); 2: bad input.
 * --json prints exactly one JSON object (RunJson, src/check/verdict.ts) on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type Coverage,
  checkDeterminism,
  counterexampleScenario,
  coverageSummary,
  type ExploreOptions,
  type ExploreResult,
  type LeaseBackend,
  type PropertyKind,
  replayCommand,
  runCoverageGuided,
  runSeeds,
  runSimulation,
  type SearchMode,
  type SeedsResult,
  simulateScenario,
} from '../../../simulator/index.ts';
import type { RunJson, Verdict } from '../../check/verdict.ts';
import type { HistoryEvent } from '../../contracts/history.ts';
import { BadInputError, EXIT_OK, EXIT_VIOLATION } from '../../errors.ts';
import { writeRunReport } from '../../report/index.ts';
import { loadScenarioFile, scenarioToYaml } from '../../scenario/loader.ts';
import { MAX_DURATION_MS, parseDurationMs, type Scenario } from '../../scenario/schema.ts';
import { describeTopology } from '../../scenario/topology-description.ts';
import type { ExitSetter } from '../command-module.ts';
import { parseModeFlag } from '../mode-flag.ts';
import {
  mergeShards,
  type ParallelArgs,
  type ParallelFlags,
  parseParallelFlags,
  readShards,
  runShard,
  searchInWorkers,
} from './sim-parallel.ts';

export const DEFAULT_COUNTEREXAMPLE_DIR = 'reports/sim-counterexamples';
const DEFAULT_RUNS = 100;
const DEFAULT_DETERMINISM_RUNS = 20;

interface SimFlags extends ParallelFlags {
  runs?: string;
  seed?: string;
  path?: string;
  leaseBackend?: string;
  duration: string;
  property: string;
  scenario?: string;
  json?: boolean;
  out?: string;
  checkDeterminism?: boolean;
  report?: boolean;
  reportsDir?: string;
  seeds?: string;
  outsideAssumptions?: boolean;
  targetCoverage?: boolean;
  mode?: string;
}

export interface SimArgs {
  runs: number | null;
  seed: number | null;
  path: string | null;
  leaseBackend: LeaseBackend | null;
  durationMs: number;
  property: PropertyKind;
  scenario: string | null;
  json: boolean;
  out: string | null;
  checkDeterminism: boolean;
  /** null = write no report directory (--no-report) */
  reportsDir: string | null;
  /** --scenario over this many seeds (from --seed, default 1) */
  seeds: number | null;
  outsideAssumptions: boolean;
  /** search in rounds that draw only kinds with unvisited coverage cells */
  targetCoverage: boolean;
  /** the controllers' operating mode the search runs them in (operator steps outside automatic) */
  mode: SearchMode;
  /** --workers, --shards/--shard-index/--results-dir, --merge (sim-parallel.ts) */
  parallel: ParallelArgs;
}

/** Flags → typed arguments; every problem is one BadInputError naming the flag. */
export function parseSimFlags(f: SimFlags): SimArgs {
  const int = (v: string | undefined, flag: string, min: number, max: number): number | null => {
    if (v === undefined) return null;
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
      throw new BadInputError(`expected an integer in ${min}..${max}, got "${v}"`, flag);
    }
    return Number(v);
  };
  const runs = int(f.runs, '--runs', 1, 10_000_000);
  const seeds = int(f.seeds, '--seeds', 1, 1_000_000);
  if (seeds !== null && f.scenario === undefined)
    throw new BadInputError('--seeds runs one --scenario over many seeds; give --scenario FILE', '--seeds');
  const seed = int(f.seed, '--seed', -0x80000000, 0x7fffffff);
  if (f.path !== undefined && !/^\d+(:\d+)*$/.test(f.path)) {
    throw new BadInputError(`expected a fast-check path like "12:0:3", got "${f.path}"`, '--path');
  }
  if (f.path !== undefined && seed === null)
    throw new BadInputError('--path needs the --seed it came with', '--path');
  let leaseBackend: LeaseBackend | null = null;
  if (f.leaseBackend !== undefined) {
    if (f.leaseBackend !== 'durable' && f.leaseBackend !== 'kv') {
      throw new BadInputError(`expected durable or kv, got "${f.leaseBackend}"`, '--lease-backend');
    }
    leaseBackend = f.leaseBackend;
  }
  let durationMs: number;
  try {
    durationMs = parseDurationMs(f.duration);
  } catch {
    throw new BadInputError(`expected a duration like 90s or 10m, got "${f.duration}"`, '--duration');
  }
  if (durationMs < 1000) throw new BadInputError(`must be at least 1s, got "${f.duration}"`, '--duration');
  if (durationMs > MAX_DURATION_MS) {
    throw new BadInputError(`must be at most 24h, got "${f.duration}"`, '--duration');
  }
  if (f.property !== 'safety' && f.property !== 'liveness' && f.property !== 'all') {
    throw new BadInputError(`expected safety, liveness or all, got "${f.property}"`, '--property');
  }
  if (f.scenario !== undefined && f.checkDeterminism) {
    throw new BadInputError('--scenario and --check-determinism cannot be combined', '--check-determinism');
  }
  if (f.scenario !== undefined && f.path !== undefined) {
    throw new BadInputError('--path replays a search case; a --scenario run takes only --seed', '--path');
  }
  const mode = parseModeFlag(f.mode);
  if (f.mode !== undefined && f.scenario !== undefined)
    throw new BadInputError('a scenario file sets its own mode (topology.controller.mode)', '--mode');
  return {
    runs,
    seed,
    path: f.path ?? null,
    leaseBackend,
    durationMs,
    property: f.property,
    scenario: f.scenario ?? null,
    json: f.json ?? false,
    out: f.out ?? null,
    checkDeterminism: f.checkDeterminism ?? false,
    reportsDir: f.report === false ? null : (f.reportsDir ?? 'reports'),
    seeds,
    outsideAssumptions: f.outsideAssumptions ?? false,
    targetCoverage: f.targetCoverage ?? false,
    mode,
    parallel: parseParallelFlags(f, process.env, {
      seed: seed !== null,
      scenario: f.scenario !== undefined,
      checkDeterminism: f.checkDeterminism ?? false,
      targetCoverage: f.targetCoverage ?? false,
      path: f.path !== undefined,
    }),
  };
}

/** Writes reports/<scenario>/<timestamp>/ (src/report) for a simulated run; returns its dir. */
async function writeSimReport(
  a: SimArgs,
  scenario: string,
  history: HistoryEvent[],
  verdict: Verdict,
  startedAt: Date,
  wallSeconds: number,
  extra: Record<string, unknown>,
): Promise<string | null> {
  if (a.reportsDir === null) return null;
  const { dir } = await writeRunReport(
    { scenario, executor: 'sim', history, verdict, startedAt, finishedAt: new Date(), wallSeconds, extra },
    { reportsRoot: resolve(a.reportsDir) },
  );
  process.stderr.write(`report: ${dir}\n`);
  return dir;
}

const wallMs = (): number => performance.now();

function coverageSummaryLine(c: Coverage): string {
  const s = coverageSummary(c, describeTopology());
  const phases = Object.entries(s.perPhase)
    .map(([p, x]) => `${p} ${x.visited}/${x.total}`)
    .join(', ');
  return `coverage cells (fault kind × target × protocol phase): ${s.visited}/${s.total} visited (${phases}); premises reached: ${s.premises.join(' ') || 'none'}`;
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function runSeedsMode(a: SimArgs, setExit: ExitSetter): Promise<void> {
  const scenario = await loadScenarioFile(a.scenario!);
  const firstSeed = a.seed ?? 1;
  const started = wallMs();
  const r: SeedsResult = runSeeds(scenario, {
    firstSeed,
    count: a.seeds!,
    ...(a.leaseBackend ? { leaseBackend: a.leaseBackend } : {}),
  });
  const wallSeconds = (wallMs() - started) / 1000;
  const ok = r.failed === 0;
  if (a.json) {
    printJson({
      ok,
      violations: [],
      counterexample: null,
      replay: `npx failover-lab sim --scenario ${a.scenario} --seeds ${a.seeds} --seed ${firstSeed}`,
      stats: { runs: r.seeds.length, events: r.events, simSeconds: r.simSeconds, wallSeconds },
      scenario: r.scenario,
      seeds: { first: firstSeed, count: r.seeds.length },
      verdicts: { passed: r.passed, failed: r.failed, failedSeeds: r.failedSeeds },
      failoverMs: r.failover,
      demotionMs: r.demotion,
    });
  } else {
    const line = (name: string, s: SeedsResult['failover']) =>
      s === null
        ? `  ${name}: none in ${r.seeds.length} runs\n`
        : `  ${name}: min ${sec(s.minMs)} / median ${sec(s.medianMs)} / max ${sec(s.maxMs)} (${s.n} of ${r.seeds.length} runs)\n`;
    process.stdout.write(
      `scenario ${r.scenario}, seeds ${firstSeed}..${firstSeed + r.seeds.length - 1}: ${r.passed} passed, ${r.failed} failed${r.failed > 0 ? ` (seeds ${r.failedSeeds.slice(0, 10).join(', ')}${r.failed > 10 ? ', ...' : ''})` : ''}\n`,
    );
    process.stdout.write(line('failover (from the region loss, else the first fault)', r.failover));
    process.stdout.write(line('demotion (from the first fault)', r.demotion));
  }
  setExit(ok ? EXIT_OK : EXIT_VIOLATION);
}

function coverageLine(c: Coverage): string {
  const kinds = Object.entries(c.faultKinds)
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  const roles = Object.entries(c.roleTransitions)
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  return `coverage: faults [${kinds || 'none'}] transitions [${roles || 'none'}] promotions [${Object.entries(
    c.promotionBases,
  )
    .map(([k, n]) => `${k}=${n}`)
    .join(' ')}]`;
}

class Progress {
  private lastDrawMs = 0;
  private readonly enabled = process.stderr.isTTY === true;
  private readonly startedMs = wallMs();

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = wallMs();
    if (now - this.lastDrawMs < 100 && done < total) return;
    this.lastDrawMs = now;
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const rate = done / Math.max(0.001, (now - this.startedMs) / 1000);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} schedules (${rate.toFixed(0)}/s)`,
    );
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}

function printJson(obj: RunJson): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function writeHistory(dir: string, history: HistoryEvent[], verdict: Verdict): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'history.jsonl'), `${history.map((e) => JSON.stringify(e)).join('\n')}\n`);
  writeFileSync(join(dir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
}

async function runScenarioMode(a: SimArgs, setExit: ExitSetter): Promise<void> {
  const scenario = await loadScenarioFile(a.scenario!);
  const seed = a.seed ?? 1;
  const startedAt = new Date();
  const started = wallMs();
  const r = simulateScenario(scenario, { seed, ...(a.leaseBackend ? { leaseBackend: a.leaseBackend } : {}) });
  const wallSeconds = (wallMs() - started) / 1000;
  if (a.out) writeHistory(resolve(a.out), r.history, r.verdict);
  const replay = `npx failover-lab sim --scenario ${a.scenario} --seed ${seed}${a.leaseBackend ? ` --lease-backend ${a.leaseBackend}` : ''}`;
  const reportDir = await writeSimReport(a, scenario.name, r.history, r.verdict, startedAt, wallSeconds, {
    replay,
    seed,
    scenarioFile: a.scenario,
  });
  if (a.json) {
    printJson({
      ok: r.verdict.ok,
      violations: r.verdict.violations.map((v) => ({ invariant: v.invariant, at: v.at, detail: v.detail })),
      counterexample: null,
      replay,
      stats: { runs: 1, events: r.stats.events, simSeconds: r.stats.simMs / 1000, wallSeconds },
      scenario: scenario.name,
      seed,
      withinAssumptions: r.withinAssumptions,
      assumptionNotes: r.assumptionNotes,
      outcomes: r.verdict.outcomes.map((o) => ({
        name: o.name,
        kind: o.kind,
        ok: o.ok,
        detail: o.detail,
        ...(o.expectedViolation ? { expectedViolation: true } : {}),
      })),
      measurements: r.verdict.measurements,
      coverage: r.coverage,
      ...(a.out ? { historyFile: join(resolve(a.out), 'history.jsonl') } : {}),
      reportDir,
    });
  } else {
    process.stdout.write(`scenario ${scenario.name} (seed ${seed}): ${r.verdict.ok ? 'PASS' : 'FAIL'}\n`);
    for (const o of r.verdict.outcomes) {
      const mark = o.ok ? 'ok  ' : o.expectedViolation ? 'exp ' : 'FAIL';
      process.stdout.write(`  ${mark} ${o.kind === 'expectation' ? 'expect ' : ''}${o.name}: ${o.detail}\n`);
    }
    if (!r.withinAssumptions)
      process.stdout.write(`  outside assumptions: ${r.assumptionNotes.join('; ')}\n`);
    process.stdout.write(`replay: ${replay}\n`);
  }
  process.stderr.write(`${coverageLine(r.coverage)}\n`);
  setExit(r.verdict.ok ? EXIT_OK : EXIT_VIOLATION);
}

function runDeterminismMode(a: SimArgs, setExit: ExitSetter): void {
  const seed = a.seed ?? defaultSeed();
  const count = a.runs ?? DEFAULT_DETERMINISM_RUNS;
  const started = wallMs();
  const r = checkDeterminism({
    seed,
    count,
    durationMs: a.durationMs,
    leaseBackend: a.leaseBackend ?? 'durable',
  });
  const wallSeconds = (wallMs() - started) / 1000;
  const ok = r.mismatches.length === 0;
  if (a.json) {
    printJson({
      ok,
      violations: r.mismatches.map((m) => ({
        invariant: 'determinism',
        at: 0,
        detail: `simulator seed ${m.case.seed}: trace hashes ${m.hashes[0]} != ${m.hashes[1]}`,
      })),
      counterexample: r.mismatches[0]?.case ?? null,
      replay: `npx failover-lab sim --check-determinism --seed ${seed} --runs ${count}`,
      stats: { runs: r.checked * 2, events: r.events, simSeconds: r.simSeconds, wallSeconds },
      determinism: { seeds: r.checked, mismatches: r.mismatches.length },
    });
  } else {
    process.stdout.write(
      ok
        ? `determinism: ${r.checked} cases run twice, identical traces (seed ${seed})\n`
        : `determinism: ${r.mismatches.length} of ${r.checked} cases differed between two runs (seed ${seed}); first: ${JSON.stringify(r.mismatches[0]!.case)}\n`,
    );
  }
  setExit(ok ? EXIT_OK : EXIT_VIOLATION);
}

/** A fresh search seed when none is given (printed, so the search can be repeated). */
function defaultSeed(): number {
  return Math.floor(Date.now() % 0x7fffffff);
}

function writeCounterexample(
  r: ExploreResult,
  a: SimArgs,
  backend: LeaseBackend,
  replay: string,
  scenario: Scenario,
): string | null {
  const f = r.failure;
  if (!f) return null;
  const dir = resolve(a.out ?? DEFAULT_COUNTEREXAMPLE_DIR);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario.name}.yaml`);
  const header = [
    `Counterexample for invariant ${f.invariant} (lease backend ${backend}), shrunk ${f.shrinks} times.`,
    `Replay the search case:  ${replay}`,
    `Re-run this file in the simulator:  npx failover-lab sim --scenario ${file} --seed ${f.case.seed}`,
    `Run it on the real topology:  npx failover-lab run ${file}`,
    ...(f.simOnlyFaults.length > 0
      ? [`SIM-ONLY faults: ${f.simOnlyFaults.join(', ')} (the real executor cannot inject them)`]
      : []),
  ].join('\n');
  writeFileSync(file, scenarioToYaml(scenario, { header }));
  return file;
}

/** The search `a` asks for: sequential, over worker threads, or merged from shard files. */
type SearchSource = (search: ExploreOptions) => ExploreResult | Promise<ExploreResult>;

async function runSearchMode(a: SimArgs, setExit: ExitSetter, source?: SearchSource): Promise<void> {
  const seed = a.seed ?? defaultSeed();
  const startedAt = new Date();
  const runs = a.runs ?? DEFAULT_RUNS;
  const backend = a.leaseBackend ?? 'durable';
  const progress = new Progress();
  const search: ExploreOptions = {
    runs,
    seed,
    ...(a.path !== null ? { path: a.path } : {}),
    leaseBackend: backend,
    durationMs: a.durationMs,
    property: a.property,
    outsideAssumptions: a.outsideAssumptions,
    // absent in automatic mode, so shard outputs of earlier versions still merge
    ...(a.mode !== 'automatic' ? { mode: a.mode } : {}),
    wallClockMs: wallMs,
    onProgress: (done: number, total: number) => progress.update(done, total),
  };

  if (a.parallel.shard !== null) {
    const shard = runShard(search, a.parallel, wallMs);
    process.stderr.write(
      `sim shard ${shard.shard.index}/${shard.shard.count}: schedules ${shard.range.from}..${shard.range.to - 1}, ` +
        `${shard.range.tally.runs} run${shard.range.stop !== null ? `, stopped at ${shard.range.stop} (merge replays it)` : ''}\n`,
    );
    setExit(EXIT_OK); // the verdict is the merge's: a finished shard succeeded
    return;
  }
  const r = source
    ? await source(search)
    : a.targetCoverage
      ? runCoverageGuided(search)
      : a.parallel.workers > 1
        ? await searchInWorkers(search, a.parallel.workers)
        : runSimulation(search);
  progress.done();
  if (r.error) throw new Error(`simulator failed: ${r.error}`);
  const f = r.failure;
  const replay = f
    ? a.targetCoverage
      ? `npx failover-lab sim --scenario <counterexample file> --seed ${f.case.seed} (coverage-guided rounds: replay the file)`
      : replayCommand({
          seed: f.seed,
          path: f.path,
          leaseBackend: backend,
          durationMs: a.durationMs,
          property: a.property,
          runs,
          mode: a.mode,
        })
    : null;
  // once: it re-runs the case (trimmed, and with a boot order) to check it still violates
  const cx = f ? counterexampleScenario(f, backend) : null;
  const file = f && cx ? writeCounterexample(r, a, backend, replay!, cx) : null;
  const reportDir =
    f && cx
      ? await writeSimReport(a, cx.name, f.result.history, f.result.verdict, startedAt, r.stats.wallSeconds, {
          replay,
          counterexample: { invariant: f.invariant, seed: f.case.seed, steps: f.case.steps },
          file,
        })
      : null;
  const violations = f
    ? f.result.verdict.outcomes
        .filter((o) => o.name === f.invariant)
        .flatMap((o) => o.violations)
        .map((v) => ({ invariant: v.invariant, at: v.at, detail: v.detail }))
    : r.otherFindings.examples.flatMap((e) => e.violations);
  const stats = {
    runs: r.stats.runs,
    events: r.stats.events,
    simSeconds: r.stats.simSeconds,
    wallSeconds: r.stats.wallSeconds,
  };
  if (a.json) {
    printJson({
      ok: r.ok,
      violations,
      counterexample: f ? { invariant: f.invariant, seed: f.case.seed, steps: f.case.steps } : null,
      replay,
      stats,
      search: {
        seed,
        property: a.property,
        leaseBackend: backend,
        durationMs: a.durationMs,
        runs,
        mode: a.mode,
      },
      shrink: f
        ? {
            shrinks: f.shrinks,
            shrinkRuns: r.stats.shrinkRuns,
            originalSteps: f.originalSteps,
            foundAfterRuns: f.foundAfterRuns,
            foundAfterWallSeconds: f.foundAfterWallMs === null ? null : f.foundAfterWallMs / 1000,
          }
        : null,
      counterexampleFile: file,
      reportDir,
      otherFindings: { count: r.otherFindings.count, examples: r.otherFindings.examples },
      inAssumptionRuns: stats.runs - r.outsideAssumptions.runs,
      outsideAssumptions: r.outsideAssumptions,
      coverage: { ...r.coverage, summary: coverageSummary(r.coverage, describeTopology()) },
    });
  } else {
    const speed = stats.wallSeconds > 0 ? Math.round(stats.simSeconds / stats.wallSeconds) : 0;
    process.stdout.write(
      `sim: ${stats.runs} schedules × ${a.durationMs / 1000}s (${backend}, property ${a.property}, seed ${seed}): ` +
        `${stats.events} events, ${stats.simSeconds.toFixed(0)} s simulated in ${stats.wallSeconds.toFixed(2)} s (${speed}× real time)\n`,
    );
    if (f) {
      process.stdout.write(`VIOLATION ${f.invariant}: ${violations[0]?.detail ?? ''}\n`);
      process.stdout.write(
        `  shrunk to ${f.case.steps.length} fault step(s) (from ${f.originalSteps}, ${f.shrinks} shrinks); simulator seed ${f.case.seed}\n`,
      );
      for (const s of f.case.steps) process.stdout.write(`  - ${JSON.stringify(s)}\n`);
      process.stdout.write(`  replay: ${replay}\n  scenario: ${file}\n`);
    } else if (r.otherFindings.count > 0) {
      process.stdout.write(
        `${r.otherFindings.count} schedule(s) violated invariants outside --property ${a.property}; re-run with --property all to shrink them:\n`,
      );
      for (const e of r.otherFindings.examples)
        process.stdout.write(`  ${e.invariants.join(',')}: ${JSON.stringify(e.case)}\n`);
    } else {
      process.stdout.write('all invariants held\n');
    }
    // beside the in-assumption result, always: a jump in the outside count must be visible
    process.stdout.write(
      `in assumptions: ${stats.runs - r.outsideAssumptions.runs} schedule(s)${f ? `, violation found` : ''} · outside assumptions: ${r.outsideAssumptions.runs} schedule(s) (not held against the property), ${r.outsideAssumptions.withViolations} with violations\n`,
    );
  }
  process.stderr.write(`${coverageLine(r.coverage)}\n`);
  if (!a.json) process.stdout.write(`${coverageSummaryLine(r.coverage)}\n`);
  setExit(r.ok ? EXIT_OK : EXIT_VIOLATION);
}

/** `--merge`: the search the shards were cut from, then presented as if it ran here. */
function runMergeMode(a: SimArgs, setExit: ExitSetter): Promise<void> {
  const { spec, ranges } = readShards(a.parallel.merge!);
  const merged: SimArgs = {
    ...a,
    runs: spec.runs,
    seed: spec.seed,
    leaseBackend: spec.leaseBackend,
    durationMs: spec.durationMs,
    property: spec.property,
    outsideAssumptions: spec.outsideAssumptions ?? false,
    mode: spec.mode ?? 'automatic',
  };
  return runSearchMode(merged, setExit, (search) => mergeShards({ ...spec, ...search }, ranges, wallMs));
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('sim')
    .description(
      'Deterministic simulator: property-based search for split-brain schedules, or one scenario, seeded',
    )
    .option(
      '--runs <n>',
      `schedules to try (default ${DEFAULT_RUNS}; with --check-determinism: cases, default ${DEFAULT_DETERMINISM_RUNS})`,
    )
    .option('--seed <s>', 'fast-check seed of the search (scenario mode: simulator seed, default 1)')
    .option('--path <p>', 'fast-check replay path printed with a counterexample (needs --seed)')
    .option('--lease-backend <b>', 'durable (default) or kv (known unsafe legacy-kv)')
    .option('--duration <d>', 'simulated length of each schedule', '10m')
    .option('--property <p>', 'invariants the search shrinks on: safety, liveness or all', 'safety')
    .option(
      '--mode <m>',
      "controllers' operating mode: automatic (default), semi-automatic or manual (operator steps drawn)",
    )
    .option('--scenario <file>', 'run one scenario file instead of searching')
    .option('--json', 'print one JSON object on stdout')
    .option(
      '--out <dir>',
      `where to write counterexamples (default ${DEFAULT_COUNTEREXAMPLE_DIR}) or, with --scenario, history.jsonl + verdict.json`,
    )
    .option('--check-determinism', 'run each case twice and compare trace hashes')
    .option(
      '--target-coverage',
      'search in rounds of 50 schedules, each drawing only fault kinds with unvisited coverage cells',
    )
    .option(
      '--seeds <n>',
      'with --scenario: run it over N seeds (from --seed) and print the spread of its times',
    )
    .option(
      '--outside-assumptions',
      'search also draws steps outside the documented assumptions (run and counted, not held against the property)',
    )
    .option('--workers <n>', 'search over N worker threads; same result as one (default 1)')
    .option('--shards <k>', 'run one shard of K of the search (a pod of `export --to k8s-job`); needs --seed')
    .option('--shard-index <i>', 'which shard (default: JOB_COMPLETION_INDEX)')
    .option('--results-dir <dir>', 'with --shards: also write the shard JSON to DIR/shard-<i>.json')
    .option('--merge <paths...>', 'merge shard JSON files (or directories of them) into one search report')
    .option('--reports-dir <dir>', 'root of the report store (reports/<scenario>/<timestamp>/)', 'reports')
    .option('--no-report', 'write no report directory')
    .action(async (flags: SimFlags) => {
      const a = parseSimFlags(flags);
      if (a.scenario !== null && a.seeds !== null) return runSeedsMode(a, setExit);
      if (a.scenario !== null) return runScenarioMode(a, setExit);
      if (a.checkDeterminism) return runDeterminismMode(a, setExit);
      if (a.parallel.merge !== null) return runMergeMode(a, setExit);
      return runSearchMode(a, setExit);
    });
}
