/**
 * One deterministic run: (scenario, seed) → history + verdict. The same seed and scenario
 * always give the same history (see --check-determinism).
 */
import { checkHistory } from '../src/check/checker.ts';
import type { Verdict } from '../src/check/verdict.ts';
import type { HistoryEvent, MetaEvent } from '../src/contracts/history.ts';
import { assessSchedule } from '../src/scenario/assumptions.ts';
import type { Scenario } from '../src/scenario/schema.ts';
import { bootSteps } from '../src/scenario/validate.ts';
import type { Coverage } from './coverage.ts';
import { scheduleFaults } from './faults.ts';
import type { LeaseBackend } from './models/lease-store.ts';
import { type ControllerConfigOverrides, World } from './world.ts';

export interface SimulateOptions {
  seed: number;
  /** overrides scenario.topology.leaseBackend */
  leaseBackend?: LeaseBackend;
  /** stop at the first overlap of write authority (exploration: shrinking re-runs failures) */
  stopOnViolation?: boolean;
  /** compute trace hashes for the determinism check */
  trace?: boolean;
  /** fast-check replay coordinates, recorded in meta */
  path?: string;
  runId?: string;
  /**
   * Test seam: controller config fields set apart from the scenario. The meta's spec stays the
   * design's, so a controller configured weaker than the design is judged by the design.
   */
  controllerOverrides?: ControllerConfigOverrides;
  /**
   * The time scale of the real run this one models (default: the scenario's topology.timeScale,
   * what `run FILE` uses): host latencies such as a process's wake after SIGCONT are real ms,
   * so in production ms they grow as the scale shrinks.
   */
  hostTimeScale?: number;
  /**
   * The simulated operator's approval delay in semi-automatic mode (default: drawn per seed
   * from simulator/boot.ts OPERATOR_DELAY_RANGE_MS)
   */
  operatorDelayMs?: number;
}

export interface SimulationResult {
  history: HistoryEvent[];
  verdict: Verdict;
  withinAssumptions: boolean;
  assumptionNotes: string[];
  coverage: Coverage;
  stats: {
    /** engine events run */
    events: number;
    /** simulated ms actually run (less than the duration when stopped early) */
    simMs: number;
    stoppedEarly: boolean;
    prngDraws: number;
    /** calls of the controller core's step() */
    coreSteps: number;
    /** FNV-1a of the engine's (time, seq) stream, the PRNG draw count and the history; only with trace */
    traceHash: string | null;
  };
}

export function simulateScenario(scenario: Scenario, opts: SimulateOptions): SimulationResult {
  const backend = opts.leaseBackend ?? scenario.topology.leaseBackend;
  const world = new World(scenario, opts.seed, backend, {
    stopOnViolation: opts.stopOnViolation ?? false,
    trace: opts.trace ?? false,
    ...(opts.controllerOverrides ? { controllerOverrides: opts.controllerOverrides } : {}),
    ...(opts.hostTimeScale !== undefined ? { hostTimeScale: opts.hostTimeScale } : {}),
    ...(opts.operatorDelayMs !== undefined ? { operatorDelayMs: opts.operatorDelayMs } : {}),
  });
  const ctl = world.configs.get(world.spec.regions[0]!)!;
  // The assumptions are the design's (ρ, p, d of the spec), not whatever the controller was given.
  const design = world.designSpec();
  // Boot latencies (Scenario.boot) are steps at 0 until the end, after the scenario's own steps
  // so those keep their ids (f0..).
  const steps = [...scenario.steps, ...bootSteps(scenario)];
  const assessment = assessSchedule(
    steps,
    {
      ...ctl,
      maxClockDriftRate: design.maxClockDriftRate,
      maxPauseMs: design.maxPauseMs,
      maxDelayMs: design.maxDelayMs,
    },
    world.spec,
    world.wakeRange.max,
  );
  const notes = [...assessment.notes];
  if (backend === 'kv') {
    notes.push('lease backend legacy-kv is not linearizable (KNOWN UNSAFE): safety is not expected to hold');
  }
  const meta: MetaEvent = {
    kind: 'meta',
    seq: 0,
    t: 0,
    runId: opts.runId ?? `sim-${scenario.name}-${opts.seed}`,
    scenario: scenario.name,
    executor: 'sim',
    seed: opts.seed,
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    leaseBackend: backend,
    regions: [...world.spec.regions],
    initialPrimary: scenario.topology.initialPrimary,
    witnesses: [...world.spec.witnesses],
    timing: world.timing(),
    spec: design,
    configured: world.configured(),
    withinAssumptions: assessment.withinAssumptions,
    ...(notes.length > 0 ? { assumptionNotes: notes } : {}),
    timeScale: 1,
  };
  world.rec.emit(meta);
  if (!assessment.withinAssumptions) world.coverage.outsideAssumptionRuns++;

  // Faults first: a fault at t=0 is in force before any process takes its first step.
  scheduleFaults(world, steps);
  world.engine.at(0, () => world.start());
  world.engine.run(scenario.duration);
  // how much the lease store's storage holds at the end (store-storage-bounded reads it)
  world.store.recordStorageAtEnd();
  const stoppedEarly = world.engine.stopped;
  if (stoppedEarly) world.coverage.earlyStops++;
  for (const l of world.links.values()) {
    world.coverage.messagesSent += l.sent;
    world.coverage.messagesDropped += l.dropped;
  }

  const history = world.rec.events;
  const verdict = checkHistory(history, { expectations: stoppedEarly ? [] : scenario.expect });
  let traceHash: string | null = null;
  if (world.engine.trace) {
    const h = world.engine.trace;
    h.number(world.prng.draws).number(history.length);
    for (const ev of history) h.string(JSON.stringify(ev));
    traceHash = h.hex();
  }
  return {
    history,
    verdict,
    withinAssumptions: assessment.withinAssumptions,
    assumptionNotes: notes,
    coverage: world.coverage,
    stats: {
      events: world.engine.processed,
      simMs: world.engine.now,
      stoppedEarly,
      prngDraws: world.prng.draws,
      coreSteps: world.controllers.reduce((n, c) => n + c.steps, 0),
      traceHash,
    },
  };
}
