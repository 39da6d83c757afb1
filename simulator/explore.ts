/**
 * Property-based search for schedules that break an invariant (FoundationDB / VOPR style,
 * with fast-check doing generation, shrinking and replay).
 *
 * A case is PLAIN DATA: { seed, steps } where steps are scenario FaultSteps. So a case
 * prints, shrinks (fewer steps, earlier times, shorter durations, simpler targets) and
 * becomes a scenario file that `failover-lab run` can execute. fast-check's (seed, path)
 * pair replays the exact shrunk case.
 *
 * The property: simulate the case; if its schedule is within the documented assumptions,
 * none of the target invariants may be violated. Schedules outside the assumptions are run,
 * counted and reported, never held against the property.
 */
import fc from 'fast-check';
import { INVARIANTS, LIVENESS_INVARIANTS, SAFETY_INVARIANTS } from '../src/check/checker.ts';
import type { Violation } from '../src/check/verdict.ts';
import { defaultControllerConfig } from '../src/controller/core.ts';
import {
  ANCHOR_EVENTS,
  type Anchor,
  type AnchorEvent,
  FAULT_KINDS,
  type FaultKind,
  type FaultStep,
  Scenario,
  SIM_ONLY_FAULTS,
} from '../src/scenario/schema.ts';
import { describeTopology } from '../src/scenario/topology-description.ts';
import { assessSchedule } from './assumptions.ts';
import { allCells, type Coverage, mergeCoverage, newCoverage } from './coverage.ts';
import type { LeaseBackend } from './models/lease-store.ts';
import { type SimulationResult, simulateScenario } from './simulate.ts';
import type { ControllerConfigOverrides } from './world.ts';

export type PropertyKind = 'safety' | 'liveness' | 'all';

export interface ExploreCase {
  /** the simulator's PRNG seed */
  seed: number;
  steps: FaultStep[];
}

const SPEC = describeTopology();
const LINK_IDS = SPEC.links.map((l) => l.id);
/** Selectors that mean something to a human (and shrink to something readable). */
const CURATED_SELECTORS: Array<string | string[]> = [
  // explicit lists: the glob "ctl-a->w*" would also match ctl-a->worker
  ['ctl-a->w1', 'ctl-a->w2', 'ctl-a->w3'],
  ['ctl-b->w1', 'ctl-b->w2', 'ctl-b->w3'],
  'ctl-a->worker',
  'ctl-b->worker',
  'ctl-b->peer',
  'ctl-a->peer',
  'ctl-*->peer',
  'w*->auth-a',
  'w*->auth-b',
  'w*->auth-*',
  'auth-*->app-a',
  'auth-*->app-b',
  'ctl-a->app-a',
  'ctl-b->app-b',
  'ctl-a->auth-*',
  'ctl-b->auth-*',
  'client->app-*',
  'auth-a->app-b',
  'auth-b->app-a',
];
const COMPONENTS = SPEC.components.map((c) => c.id);
const CLOCK_TARGETS = ['ctl-a', 'ctl-b', 'app-a', 'app-b', 'worker'];

/** Kinds the real executor cannot inject (src/faults refuses them); counterexamples using them are marked. */
export const SIM_ONLY_KINDS: FaultKind[] = [...SIM_ONLY_FAULTS, 'kv-staleness'];

/** What in a schedule `failover-lab run` cannot reproduce (it fakes controller clocks only). */
export function simOnlyParts(steps: FaultStep[]): string[] {
  const out = new Set<string>();
  for (const st of steps) {
    const targets = Array.isArray(st.target) ? st.target : [st.target];
    if (SIM_ONLY_KINDS.includes(st.fault)) out.add(st.fault);
    if (st.fault.startsWith('clock-'))
      for (const t of targets) if (!t.startsWith('ctl-')) out.add(`${st.fault} on ${t}`);
  }
  return [...out];
}

/** 100 ms granularity keeps printed schedules readable. */
const ms100 = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((v) => v * 100);

function linkTarget(): fc.Arbitrary<string | string[]> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...CURATED_SELECTORS) },
    { weight: 1, arbitrary: fc.subarray(LINK_IDS, { minLength: 2, maxLength: 4 }) },
  );
}

/**
 * An anchor near the instants a lease's safety hangs on (renew send/reply, expiry) more
 * often than the others; offsets at millisecond resolution, shrinking toward 0.
 */
const anchorArb: fc.Arbitrary<Anchor> = fc
  .record({
    on: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<AnchorEvent>('renew-send', 'renew-reply', 'lease-expiry') },
      { weight: 1, arbitrary: fc.constantFrom<AnchorEvent>(...ANCHOR_EVENTS) },
    ),
    region: fc.option(fc.constantFrom(...SPEC.regions), { nil: undefined, freq: 3 }),
    offset: fc.integer({ min: -3000, max: 3000 }),
  })
  .map((a) => (a.region === undefined ? { on: a.on, offset: a.offset } : a));

/** Arbitrary fault steps over a run of `durationMs`; drift bounds relative to ρ; only `kinds`. */
export function faultStepArb(
  durationMs: number,
  maxClockDriftRate: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): fc.Arbitrary<FaultStep> {
  const lastAt = Math.max(0, Math.floor((durationMs - 1) / 100));
  // Most trouble starts early (and shrinks there); anywhere in the run is possible too.
  const at = fc.oneof(ms100(0, Math.min(lastAt, 600)), ms100(0, lastAt));
  const forMs = fc.option(ms100(10, 3000), { nil: undefined, freq: 6 });
  // anchored steps are short and precise: windows around a renewal are ~1 s wide
  const anchoredFor = fc.option(fc.integer({ min: 1, max: 15_000 }), { nil: undefined, freq: 8 });
  const ppm = Math.max(1, Math.floor(maxClockDriftRate * 1e6));
  const step = (
    fault: FaultKind,
    target: fc.Arbitrary<string | string[]>,
    params: fc.Arbitrary<FaultStep['params']>,
  ): fc.Arbitrary<FaultStep> =>
    fc
      .oneof(
        {
          weight: 1,
          arbitrary: fc.record({ at, for: forMs, target, params, anchor: fc.constant(undefined) }),
        },
        { weight: 1, arbitrary: fc.record({ at, for: anchoredFor, target, params, anchor: anchorArb }) },
      )
      .map((r) => {
        const s: FaultStep = { at: r.at, fault, target: r.target, params: r.params };
        if (r.anchor !== undefined) s.anchor = r.anchor;
        if (r.for !== undefined) s.for = r.for;
        return s;
      });
  const none = fc.constant({} as FaultStep['params']);
  const all: Array<[FaultKind, fc.Arbitrary<FaultStep>]> = [
    ['isolate', step('isolate', fc.constantFrom(...SPEC.regions), none)],
    [
      'partition',
      step(
        'partition',
        linkTarget(),
        fc
          .record({ oneway: fc.boolean(), drop: fc.boolean() })
          .map(({ oneway, drop }): FaultStep['params'] => ({
            ...(oneway ? { oneway: true } : {}),
            ...(drop ? { mode: 'drop' } : {}),
          })),
      ),
    ],
    [
      'latency',
      step(
        'latency',
        linkTarget(),
        fc
          .record({ latency: ms100(1, 30), jitter: ms100(0, 10) })
          .map((p) => ({ latency: `${p.latency}ms`, jitter: `${p.jitter}ms` })),
      ),
    ],
    [
      'loss',
      step(
        'loss',
        linkTarget(),
        fc.integer({ min: 1, max: 10 }).map((n) => ({ probability: n / 10 })),
      ),
    ],
    ['pause', step('pause', fc.constantFrom(...COMPONENTS), none)],
    ['crash', step('crash', fc.constantFrom(...SPEC.regions, ...COMPONENTS), none)],
    [
      'clock-offset',
      step(
        'clock-offset',
        fc.constantFrom('ctl-a', 'ctl-b'),
        ms100(-100, 100).map((o) => ({ offset: `${o}ms` })),
      ),
    ],
    [
      'clock-drift',
      step(
        'clock-drift',
        fc.constantFrom(...CLOCK_TARGETS),
        fc
          .oneof(
            { weight: 3, arbitrary: fc.integer({ min: -ppm, max: ppm }) },
            { weight: 1, arbitrary: fc.integer({ min: -20 * ppm, max: 20 * ppm }) },
          )
          .map((p) => ({ rate: p / 1e6 })),
      ),
    ],
    [
      'clock-jump',
      step(
        'clock-jump',
        fc.constantFrom(...CLOCK_TARGETS),
        fc
          .oneof({ weight: 4, arbitrary: ms100(0, 600) }, { weight: 1, arbitrary: ms100(-100, -1) })
          .map((j) => ({ jump: `${j}ms` })),
      ),
    ],
    ['witness-down', step('witness-down', fc.constantFrom(...SPEC.witnesses), none)],
    [
      'witness-stale',
      step(
        'witness-stale',
        fc.constantFrom(...SPEC.witnesses),
        ms100(10, 1200).map((s) => ({ stale: `${s}ms` })),
      ),
    ],
    [
      'kv-staleness',
      step(
        'kv-staleness',
        fc.constant('worker'),
        ms100(600, 1800).map((s) => ({ stale: `${s}ms` })),
      ),
    ],
    [
      'flap',
      step(
        'flap',
        linkTarget(),
        ms100(5, 300).map((p) => ({ period: `${p}ms` })),
      ),
    ],
  ];
  const enabled = all.filter(([k]) => kinds.includes(k)).map(([, a]) => a);
  return fc.oneof(...(enabled.length > 0 ? enabled : all.map(([, a]) => a)));
}

/** Kinds a search draws from (kv-staleness only means something on the KV backend). */
export function searchKinds(leaseBackend: LeaseBackend): FaultKind[] {
  // stale-instance is a scenario fault (issue #15 item 5), not drawn by the search yet
  return FAULT_KINDS.filter((k) => k !== 'stale-instance' && (leaseBackend === 'kv' || k !== 'kv-staleness'));
}

/**
 * Swarm testing (FoundationDB, TigerBeetle): each case first draws which fault kinds it may
 * use, then up to `maxSteps` steps of those kinds only — so some schedules hammer one
 * mechanism and others mix. With `withinAssumptions`, steps outside the documented
 * assumptions (simulator/assumptions.ts) are left out of the case.
 */
export function caseArb(
  durationMs: number,
  maxClockDriftRate: number,
  maxSteps = 8,
  opts: { kinds?: readonly FaultKind[]; withinAssumptions?: boolean } = {},
): fc.Arbitrary<ExploreCase> {
  const kinds = opts.kinds ?? FAULT_KINDS;
  const config = defaultControllerConfig({ region: 'a', peerRegion: 'b', witnesses: SPEC.witnesses });
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      steps: fc
        .subarray([...kinds], { minLength: 1 })
        .chain((enabled) =>
          fc.array(faultStepArb(durationMs, maxClockDriftRate, enabled), { maxLength: maxSteps }),
        ),
    })
    .map((c) =>
      opts.withinAssumptions
        ? { seed: c.seed, steps: c.steps.filter((s) => assessSchedule([s], config, SPEC).withinAssumptions) }
        : c,
    );
}

export function caseToScenario(
  c: ExploreCase,
  opts: { durationMs: number; leaseBackend: LeaseBackend; name?: string },
): Scenario {
  return Scenario.parse({
    name: opts.name ?? 'sim-explore',
    description: '',
    duration: opts.durationMs,
    topology: { leaseBackend: opts.leaseBackend },
    steps: c.steps,
  });
}

export interface ExploreOptions {
  runs: number;
  /** fast-check seed of the search */
  seed: number;
  /** fast-check replay path (with seed): run exactly that case */
  path?: string;
  leaseBackend: LeaseBackend;
  durationMs: number;
  property: PropertyKind;
  /** also draw steps outside the documented assumptions (run and counted, never held against the property) */
  outsideAssumptions?: boolean;
  /** most fault steps per schedule (default 8) */
  maxSteps?: number;
  /** fault kinds to draw from (default: every kind of the backend) */
  kinds?: FaultKind[];
  /** wall clock for statistics, injected (the simulator itself never reads time) */
  wallClockMs?: () => number;
  onProgress?: (done: number, total: number) => void;
  /** test seam: a controller configured apart from the design (simulateScenario's controllerOverrides) */
  controllerOverrides?: ControllerConfigOverrides;
}

export interface Finding {
  invariants: string[];
  case: ExploreCase;
  violations: Array<Pick<Violation, 'invariant' | 'at' | 'detail'>>;
}

export interface ExploreFailure {
  invariant: string;
  case: ExploreCase;
  scenario: Scenario;
  result: SimulationResult;
  /** fast-check coordinates that replay the shrunk case */
  seed: number;
  path: string;
  shrinks: number;
  /** property runs until the first failing case (before shrinking) */
  foundAfterRuns: number;
  /** wall ms from the start of the search to the first failing case */
  foundAfterWallMs: number | null;
  /** steps in the first failing case, before shrinking */
  originalSteps: number;
  /** parts of the schedule the real executor cannot inject */
  simOnlyFaults: string[];
}

export interface ExploreResult {
  ok: boolean;
  property: PropertyKind;
  failure: ExploreFailure | null;
  /** error thrown by the simulator itself (a harness bug), if any */
  error: string | null;
  /** within-assumption violations of invariants outside the property (reported, not shrunk) */
  otherFindings: { count: number; examples: Finding[] };
  outsideAssumptions: { runs: number; withViolations: number; examples: Finding[] };
  stats: {
    runs: number;
    shrinkRuns: number;
    events: number;
    simSeconds: number;
    wallSeconds: number;
  };
  coverage: Coverage;
}

function targetInvariants(kind: PropertyKind): Set<string> {
  if (kind === 'safety') return new Set(SAFETY_INVARIANTS);
  if (kind === 'liveness') return new Set(LIVENESS_INVARIANTS);
  return new Set(INVARIANTS);
}

function violatedInvariants(r: SimulationResult): string[] {
  const bad = new Set(r.verdict.outcomes.filter((o) => o.kind === 'invariant' && !o.ok).map((o) => o.name));
  return INVARIANTS.filter((n) => bad.has(n)); // priority order: safety first
}

function finding(c: ExploreCase, r: SimulationResult, invariants: string[]): Finding {
  return {
    invariants,
    case: c,
    violations: r.verdict.outcomes
      .filter((o) => invariants.includes(o.name))
      .flatMap((o) => o.violations.slice(0, 1))
      .map((v) => ({ invariant: v.invariant, at: v.at, detail: v.detail })),
  };
}

export function runExploration(opts: ExploreOptions): ExploreResult {
  const wall = opts.wallClockMs ?? (() => 0);
  const started = wall();
  const rho = defaultControllerConfig({
    region: 'a',
    peerRegion: 'b',
    witnesses: SPEC.witnesses,
  }).maxClockDriftRate;
  const targets = targetInvariants(opts.property);
  const coverage = newCoverage();
  const stats = { runs: 0, shrinkRuns: 0, events: 0, simSeconds: 0, wallSeconds: 0 };
  const other = { count: 0, examples: [] as Finding[] };
  const outside = { runs: 0, withViolations: 0, examples: [] as Finding[] };
  let locked: string | null = null;
  let firstFail: { runs: number; wallMs: number; steps: number } | null = null;
  let lastFailing: { c: ExploreCase; r: SimulationResult } | null = null;

  const arb = caseArb(opts.durationMs, rho, opts.maxSteps ?? 8, {
    kinds: opts.kinds ?? searchKinds(opts.leaseBackend),
    withinAssumptions: !(opts.outsideAssumptions ?? false),
  });
  const property = fc.property(arb, (c) => {
    const shrinking = locked !== null;
    const r = simulateScenario(caseToScenario(c, opts), {
      seed: c.seed,
      leaseBackend: opts.leaseBackend,
      ...(opts.controllerOverrides ? { controllerOverrides: opts.controllerOverrides } : {}),
      stopOnViolation: opts.property !== 'liveness',
    });
    stats.events += r.stats.events;
    stats.simSeconds += r.stats.simMs / 1000;
    if (shrinking) stats.shrinkRuns++;
    else {
      stats.runs++;
      mergeCoverage(coverage, r.coverage);
      opts.onProgress?.(stats.runs, opts.runs);
    }
    const violated = violatedInvariants(r);
    if (!r.withinAssumptions) {
      if (!shrinking) {
        outside.runs++;
        if (violated.length > 0) {
          outside.withViolations++;
          if (outside.examples.length < 3) outside.examples.push(finding(c, r, violated));
        }
      }
      return true;
    }
    if (locked === null) {
      const hit = violated.filter((n) => targets.has(n));
      const rest = violated.filter((n) => !targets.has(n));
      if (rest.length > 0) {
        other.count++;
        if (other.examples.length < 3) other.examples.push(finding(c, r, rest));
      }
      if (hit.length === 0) return true;
      // Shrink towards a smaller case that violates the *same* invariant.
      locked = hit[0]!;
      firstFail = { runs: stats.runs, wallMs: wall() - started, steps: c.steps.length };
      lastFailing = { c, r };
      return false;
    }
    if (violated.includes(locked)) {
      lastFailing = { c, r };
      return false;
    }
    return true;
  });

  const params: fc.Parameters<[ExploreCase]> = { numRuns: opts.runs, seed: opts.seed };
  if (opts.path !== undefined) params.path = opts.path;
  const details = fc.check(property, params);
  stats.wallSeconds = (wall() - started) / 1000;

  let failure: ExploreFailure | null = null;
  let error: string | null = null;
  if (details.failed && details.counterexample && locked !== null) {
    const shrunk = details.counterexample[0];
    // Re-run the shrunk case in full (no early stop) so the history is complete up to the end.
    const scenario = caseToScenario(shrunk, { ...opts, name: 'sim-counterexample' });
    const result = simulateScenario(scenario, {
      ...(opts.controllerOverrides ? { controllerOverrides: opts.controllerOverrides } : {}),
      seed: shrunk.seed,
      leaseBackend: opts.leaseBackend,
      path: details.counterexamplePath ?? '',
    });
    const simOnly = simOnlyParts(shrunk.steps);
    failure = {
      invariant: locked,
      case: shrunk,
      scenario,
      result: violatedInvariants(result).includes(locked)
        ? result
        : ((lastFailing as { r: SimulationResult } | null)?.r ?? result),
      seed: details.seed,
      path: details.counterexamplePath ?? '',
      shrinks: details.numShrinks,
      foundAfterRuns: (firstFail as { runs: number } | null)?.runs ?? 0,
      foundAfterWallMs: opts.wallClockMs ? ((firstFail as { wallMs: number } | null)?.wallMs ?? null) : null,
      originalSteps: (firstFail as { steps: number } | null)?.steps ?? shrunk.steps.length,
      simOnlyFaults: simOnly,
    };
  } else if (details.failed) {
    error =
      details.errorInstance instanceof Error
        ? (details.errorInstance.stack ?? details.errorInstance.message)
        : String(details.errorInstance ?? 'property failed');
  }
  return {
    ok: !details.failed && other.count === 0,
    property: opts.property,
    failure,
    error,
    otherFindings: other,
    outsideAssumptions: outside,
    stats,
    coverage,
  };
}

/**
 * `--target-coverage`: the search in rounds of `roundRuns` schedules; each round draws only
 * from the fault kinds that still have unvisited coverage cells (simulator/coverage.ts), with
 * its own fast-check seed (seed + round). A finding stops it like a plain search; its replay
 * is the counterexample file (`sim --scenario FILE --seed S`), since a round's kind subset
 * depends on what the earlier rounds visited.
 */
export function runCoverageGuided(opts: ExploreOptions & { roundRuns?: number }): ExploreResult & {
  rounds: number;
} {
  const cells = allCells(SPEC);
  const roundRuns = opts.roundRuns ?? 50;
  const coverage = newCoverage();
  const stats = { runs: 0, shrinkRuns: 0, events: 0, simSeconds: 0, wallSeconds: 0 };
  const other = { count: 0, examples: [] as Finding[] };
  const outside = { runs: 0, withViolations: 0, examples: [] as Finding[] };
  let last: ExploreResult | null = null;
  let round = 0;
  while (stats.runs < opts.runs) {
    const seen = new Set(Object.keys(coverage.cells));
    const open = searchKinds(opts.leaseBackend).filter((k) =>
      cells.some((c) => c.startsWith(`${k}|`) && !seen.has(c)),
    );
    const r = runExploration({
      ...opts,
      runs: Math.min(roundRuns, opts.runs - stats.runs),
      seed: (opts.seed + round) | 0,
      ...(open.length > 0 ? { kinds: open } : {}),
    });
    round++;
    mergeCoverage(coverage, r.coverage);
    for (const k of ['runs', 'shrinkRuns', 'events', 'simSeconds', 'wallSeconds'] as const)
      stats[k] += r.stats[k];
    other.count += r.otherFindings.count;
    other.examples.push(...r.otherFindings.examples.slice(0, 3 - other.examples.length));
    outside.runs += r.outsideAssumptions.runs;
    outside.withViolations += r.outsideAssumptions.withViolations;
    last = r;
    if (r.failure || r.error || r.stats.runs === 0) break;
  }
  return {
    ok: (last?.ok ?? true) && other.count === 0,
    property: opts.property,
    failure: last?.failure ?? null,
    error: last?.error ?? null,
    otherFindings: other,
    outsideAssumptions: outside,
    stats,
    coverage,
    rounds: round,
  };
}

/**
 * Runs `count` generated cases twice each (seeds derived from `seed`) and compares trace
 * hashes. Returns the cases whose two runs differed (empty = deterministic).
 */
export function checkDeterminism(opts: {
  seed: number;
  count: number;
  durationMs: number;
  leaseBackend: LeaseBackend;
}): {
  checked: number;
  mismatches: Array<{ case: ExploreCase; hashes: [string, string] }>;
  events: number;
  simSeconds: number;
} {
  const rho = defaultControllerConfig({
    region: 'a',
    peerRegion: 'b',
    witnesses: SPEC.witnesses,
  }).maxClockDriftRate;
  const cases = fc.sample(caseArb(opts.durationMs, rho), { seed: opts.seed, numRuns: opts.count });
  const mismatches: Array<{ case: ExploreCase; hashes: [string, string] }> = [];
  let events = 0;
  let simSeconds = 0;
  for (const c of cases) {
    const scenario = caseToScenario(c, opts);
    const a = simulateScenario(scenario, { seed: c.seed, leaseBackend: opts.leaseBackend, trace: true });
    const b = simulateScenario(scenario, { seed: c.seed, leaseBackend: opts.leaseBackend, trace: true });
    events += a.stats.events + b.stats.events;
    simSeconds += (a.stats.simMs + b.stats.simMs) / 1000;
    if (a.stats.traceHash !== b.stats.traceHash) {
      mismatches.push({ case: c, hashes: [a.stats.traceHash ?? '', b.stats.traceHash ?? ''] });
    }
  }
  return { checked: cases.length, mismatches, events, simSeconds };
}
