/**
 * failover-lab's programmatic API: what `import … from 'failover-lab'` gives a team writing
 * its own partition tests (docs/api.md). Four jobs, each a thin call into the module that
 * owns it, so the API can never disagree with the CLI:
 *
 *   loadScenario(fileOrName)            a scenario from a YAML file or the bundled catalog
 *   simulateScenario / runScenario      run it in the simulator / on the real local topology
 *   runSearch(options)                  property-based search for a counterexample (simulator)
 *   checkHistory(events)                the checker: history → verdict
 *   renderReport(input, { reportsRoot }) result.json, junit.xml, summary.md, timeline.html
 *
 * Importing this module loads neither the real topology (miniflare, PowerDNS launchers) nor
 * Docker clients: runScenario imports them when it is called.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ExploreFailure,
  type ExploreResult,
  type LeaseBackend,
  type PropertyKind,
  runSimulation,
  type SimulateOptions,
  type SimulationResult,
  simulateScenario as simulateScenarioImpl,
} from '../simulator/index.ts';
import type { ReportInput } from './report/model.ts';
import { CATALOG_DIR, catalogFiles } from './runner/catalog.ts';
import type { RunOptions, RunResult } from './runner/execute.ts';
import { loadScenarioFile, type Scenario } from './scenario/loader.ts';
import { parseDurationMs } from './scenario/schema.ts';

export type { CheckOptions, InvariantName } from './check/checker.ts';
export {
  checkHistory,
  INVARIANTS,
  LIVENESS_INVARIANTS,
  SAFETY_INVARIANTS,
} from './check/checker.ts';
export type { CheckOutcome, Measurements, RunJson, Verdict, Violation } from './check/verdict.ts';
export type { HistoryEvent } from './contracts/history.ts';
export {
  BadInputError,
  EXIT_BAD_INPUT,
  EXIT_INFRA,
  EXIT_OK,
  EXIT_VIOLATION,
  InfraError,
} from './errors.ts';
export { PACKAGE_ROOT } from './package-root.ts';
export { parseHistory, serializeHistory } from './report/history-io.ts';
export type { ReportInput, ResultJson } from './report/model.ts';
export type { RunOptions, RunResult } from './runner/execute.ts';
export { parseScenario, type Scenario } from './scenario/loader.ts';
export type { ExploreFailure, ExploreResult, LeaseBackend, PropertyKind, SimulationResult };

/** Names of the bundled scenario catalog (scenarios/*.yaml), sorted. */
export function catalogScenarios(): string[] {
  return catalogFiles().map((f) => (f.split('/').pop() ?? f).replace(/\.ya?ml$/, ''));
}

/** The file a scenario argument names: an existing path, else a catalog scenario's name. */
export function resolveScenarioFile(fileOrName: string): string {
  if (existsSync(fileOrName)) return fileOrName;
  for (const ext of ['.yaml', '.yml']) {
    const inCatalog = join(CATALOG_DIR, `${fileOrName}${ext}`);
    if (existsSync(inCatalog)) return inCatalog;
  }
  return fileOrName; // loadScenarioFile reports the missing file as bad input
}

/** Loads and validates a scenario. Throws BadInputError (file:line:col) on a bad file. */
export function loadScenario(fileOrName: string): Promise<Scenario> {
  return loadScenarioFile(resolveScenarioFile(fileOrName));
}

/** One deterministic simulated run: same scenario and seed, same history and verdict. */
export function simulateScenario(scenario: Scenario, opts: SimulateOptions): SimulationResult {
  return simulateScenarioImpl(scenario, opts);
}

/**
 * One run on the real local topology (workerd, PowerDNS, unbound, proxies, two controllers).
 * Needs the Debian packages that `npm run setup` installs; takes tens of seconds.
 */
export async function runScenario(
  scenarioOrFile: Scenario | string,
  opts: RunOptions = {},
): Promise<RunResult> {
  const file = typeof scenarioOrFile === 'string' ? resolveScenarioFile(scenarioOrFile) : '<api>';
  const scenario = typeof scenarioOrFile === 'string' ? await loadScenario(file) : scenarioOrFile;
  const { runScenario: runReal } = await import('./runner/execute.ts');
  return runReal(scenario, file, opts);
}

export interface SearchOptions {
  /** schedules to try (default 100) */
  runs?: number;
  /** search seed (default 1); the same seed finds the same counterexample */
  seed?: number;
  /** 'durable' (the production Worker, default) or 'kv' (the known-unsafe design) */
  leaseBackend?: LeaseBackend;
  /** simulated length of each schedule: ms or a duration string such as '10m' (default 10m) */
  duration?: number | string;
  /** which invariants the search tries to break (default 'safety') */
  property?: PropertyKind;
  /** called after each schedule */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Property-based search over fault schedules in the simulator. `result.ok` is false when a
 * counterexample was found; `result.failure` then holds it shrunk, with replay coordinates.
 */
export function runSearch(opts: SearchOptions = {}): ExploreResult {
  const duration = opts.duration ?? '10m';
  return runSimulation({
    runs: opts.runs ?? 100,
    seed: opts.seed ?? 1,
    leaseBackend: opts.leaseBackend ?? 'durable',
    durationMs: parseDurationMs(duration),
    property: opts.property ?? 'safety',
    wallClockMs: () => performance.now(),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

/**
 * Writes a run's report directory <reportsRoot>/<scenario>/<timestamp>/ (result.json,
 * history.jsonl, junit.xml, summary.md, timeline.html) and moves its `latest` link.
 */
export async function renderReport(
  input: ReportInput,
  opts: { reportsRoot?: string } = {},
): Promise<{ dir: string }> {
  const { writeRunReport } = await import('./report/store.ts');
  return writeRunReport(input, opts);
}

/** A simulated run as report input (executor 'sim'), for renderReport. */
export function simulationReportInput(
  scenario: Scenario,
  result: SimulationResult,
  startedAt: Date = new Date(),
): ReportInput {
  return {
    scenario: scenario.name,
    executor: 'sim',
    history: result.history,
    verdict: result.verdict,
    startedAt,
  };
}

/** Exit code the CLI would give this verdict: 0 ok, 1 an invariant was violated. */
export function exitCodeOfVerdict(verdict: { ok: boolean }): 0 | 1 {
  return verdict.ok ? 0 : 1;
}
