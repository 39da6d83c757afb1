/**
 * Public API of the simulator (importers: src/cli/commands/sim.ts, reports, game days,
 * tests). Everything here is deterministic: same inputs, same history.
 *
 *   simulateScenario(scenario, { seed })  → { history, verdict, ... }   one run
 *   runSimulation({ runs, seed, leaseBackend, durationMs, property }) → search + shrink
 *   checkDeterminism({ seed, count, durationMs, leaseBackend })       → mismatching cases
 */
export { counterexampleScenario, type ReplayArgs, replayCommand } from './counterexample.ts';
export type { Coverage } from './coverage.ts';
export { coverageSummary, mergeCoverage, newCoverage } from './coverage.ts';
export { runSeeds, type SeedsResult, type Spread } from './distribution.ts';
export {
  caseArb,
  caseToScenario,
  checkDeterminism,
  type ExploreCase,
  type ExploreFailure,
  type ExploreOptions,
  type ExploreResult,
  type Finding,
  faultStepArb,
  type PropertyKind,
  runCoverageGuided,
  runExploration as runSimulation,
  type SearchMode,
  SIM_ONLY_KINDS,
  simOnlyParts,
} from './explore.ts';
export type { LeaseBackend } from './models/lease-store.ts';
export { type SimulateOptions, type SimulationResult, simulateScenario } from './simulate.ts';
