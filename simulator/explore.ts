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
import type { ControllerConfig } from '../src/controller/types.ts';
import { assessSchedule } from '../src/scenario/assumptions.ts';
import {
  ANCHOR_EVENTS,
  type Anchor,
  type AnchorEvent,
  DEFAULT_TIME_SCALE,
  FAULT_KINDS,
  type FaultKind,
  type FaultStep,
  MAX_DURATION_MS,
  MAX_SCENARIO_STEPS,
  OPERATOR_COMMANDS,
  Scenario,
  SIM_ONLY_FAULTS,
} from '../src/scenario/schema.ts';
import { describeTopology } from '../src/scenario/topology-description.ts';
import { wakeRangeMs } from './boot.ts';
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
 * An anchor near the instants a lease's safety hangs on (renew and acquire send/reply, expiry) more
 * often than the others; offsets at millisecond resolution, shrinking toward 0.
 */
const anchorArb: fc.Arbitrary<Anchor> = fc
  .record({
    on: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom<AnchorEvent>(
          'renew-send',
          'renew-reply',
          'lease-expiry',
          'acquire-send',
          'acquire-reply',
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom<AnchorEvent>(...ANCHOR_EVENTS) },
    ),
    region: fc.option(fc.constantFrom(...SPEC.regions), { nil: undefined, freq: 3 }),
    offset: fc.integer({ min: -3000, max: 3000 }),
  })
  .map((a) => (a.region === undefined ? { on: a.on, offset: a.offset } : a));

/** Every kind but the operator's commands: what a search of the automatic mode draws from. */
const FAULT_KINDS_NO_OPERATOR: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'operator');

/** Arbitrary fault steps over a run of `durationMs`; drift bounds relative to ρ; only `kinds`. */
export function faultStepArb(
  durationMs: number,
  maxClockDriftRate: number,
  kinds: readonly FaultKind[] = FAULT_KINDS_NO_OPERATOR,
): fc.Arbitrary<FaultStep> {
  return oneOfKinds(stepArbsByKind(durationMs, maxClockDriftRate), kinds);
}

type StepArbs = Array<[FaultKind, fc.Arbitrary<FaultStep>]>;

/** The step arbitrary of `kinds` (of every kind when none of them has one). */
function oneOfKinds(all: StepArbs, kinds: readonly FaultKind[]): fc.Arbitrary<FaultStep> {
  const enabled = all.filter(([k]) => kinds.includes(k)).map(([, a]) => a);
  return fc.oneof(...(enabled.length > 0 ? enabled : all.map(([, a]) => a)));
}

/**
 * One step arbitrary per fault kind. Arbitraries are immutable descriptions, so a search builds
 * these once (caseArb) rather than for every drawn case: that was ~1.5 % of a search (issue #18).
 */
function stepArbsByKind(durationMs: number, maxClockDriftRate: number): StepArbs {
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
    ['stop', step('stop', fc.constantFrom(...SPEC.regions.map((r) => `ctl-${r}`)), none)],
    // instantaneous: an operator command takes no `for` (dropped here, so shrinking keeps it valid)
    [
      'operator',
      step(
        'operator',
        fc.constantFrom(...SPEC.regions.map((r) => `ctl-${r}`)),
        fc.constantFrom(...OPERATOR_COMMANDS).map((command) => ({ command })),
      ).map(({ for: _for, ...rest }) => rest),
    ],
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
  return all;
}

/** The controllers' operating mode a search runs them in (docs/controller.md). */
export type SearchMode = 'automatic' | 'semi-automatic' | 'manual';

/**
 * Kinds a search draws from (kv-staleness only means something on the KV backend; operator
 * commands only where the operator has a part: semi-automatic and manual modes).
 */
export function searchKinds(leaseBackend: LeaseBackend, mode: SearchMode = 'automatic'): FaultKind[] {
  // stale-instance is a scenario fault (issue #15 item 5), not drawn by the search yet
  return FAULT_KINDS.filter(
    (k) =>
      k !== 'stale-instance' &&
      (leaseBackend === 'kv' || k !== 'kv-staleness') &&
      (mode !== 'automatic' || k !== 'operator'),
  );
}

/**
 * Swarm testing (FoundationDB, TigerBeetle): each case first draws which fault kinds it may
 * use, then up to `maxSteps` steps of those kinds only — so some schedules hammer one
 * mechanism and others mix. With `withinAssumptions`, steps outside the documented
 * assumptions (src/scenario/assumptions.ts) are left out of the case.
 */
export function caseArb(
  durationMs: number,
  maxClockDriftRate: number,
  maxSteps = 8,
  opts: { kinds?: readonly FaultKind[]; withinAssumptions?: boolean } = {},
): fc.Arbitrary<ExploreCase> {
  const kinds = opts.kinds ?? FAULT_KINDS_NO_OPERATOR;
  const config = defaultControllerConfig({ region: 'a', peerRegion: 'b', witnesses: SPEC.witnesses });
  // generated scenarios run at the default time scale, whose host wake latency counts too
  const wakeMaxMs = wakeRangeMs(DEFAULT_TIME_SCALE).max;
  const byKind = stepArbsByKind(durationMs, maxClockDriftRate);
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      steps: fc
        .subarray([...kinds], { minLength: 1 })
        .chain((enabled) => fc.array(oneOfKinds(byKind, enabled), { maxLength: maxSteps })),
    })
    .map((c) =>
      opts.withinAssumptions ? { seed: c.seed, steps: keptWithin(c.steps, config, wakeMaxMs) } : c,
    );
}

/**
 * The drawn steps in order, each kept if the schedule so far stays inside the assumptions:
 * most rules judge one step, the wall-clock skew sums the clock steps of a schedule.
 */
function keptWithin(steps: FaultStep[], config: ControllerConfig, wakeMaxMs: number): FaultStep[] {
  const kept: FaultStep[] = [];
  for (const s of steps) {
    kept.push(s);
    if (!assessSchedule(kept, config, SPEC, wakeMaxMs).withinAssumptions) kept.pop();
  }
  return kept;
}

export function caseToScenario(
  c: ExploreCase,
  opts: { durationMs: number; leaseBackend: LeaseBackend; name?: string; mode?: SearchMode },
): Scenario {
  const mode = opts.mode !== undefined && opts.mode !== 'automatic' ? opts.mode : undefined;
  const input = {
    name: opts.name ?? 'sim-explore',
    description: '',
    duration: opts.durationMs,
    topology: { leaseBackend: opts.leaseBackend, ...(mode ? { controller: { mode } } : {}) },
    steps: c.steps,
  };
  return drawnScenario(input) ?? Scenario.parse(input);
}

const SCENARIO_NAME = /^[a-z0-9][a-z0-9-]*$/;
const KINDS = new Set<string>(FAULT_KINDS);
const ANCHORS = new Set<string>(ANCHOR_EVENTS);
const STEP_KEYS = new Set(['at', 'anchor', 'for', 'fault', 'target', 'params']);
const ANCHOR_KEYS = new Set(['on', 'region', 'offset']);

const isMs = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DURATION_MS;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1;
const onlyKeys = (o: object, allowed: Set<string>): boolean => {
  for (const k in o) if (!allowed.has(k) || (o as Record<string, unknown>)[k] === undefined) return false;
  return isPlain(o);
};
/** an object literal, or a record as fast-check draws it (no prototype) */
const isPlain = (o: object): boolean => {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
};

/**
 * What Scenario.parse returns for a case as the search draws it (numbers in ms, no extra keys),
 * built without zod: a zod parse per case was a measurable part of a short search's start-up
 * (issue #18). Same object, same key order (the schema's). null for anything else, which then
 * goes through Scenario.parse, so its errors and transforms stay the schema's.
 */
function drawnScenario(input: {
  name: string;
  duration: number;
  topology: { leaseBackend: LeaseBackend; controller?: { mode: SearchMode } };
  steps: FaultStep[];
}): Scenario | null {
  if (!SCENARIO_NAME.test(input.name) || !isMs(input.duration) || input.steps.length > MAX_SCENARIO_STEPS)
    return null;
  if (input.topology.leaseBackend !== 'durable' && input.topology.leaseBackend !== 'kv') return null;
  const steps: FaultStep[] = [];
  for (const st of input.steps) {
    const step = drawnStep(st);
    if (step === null) return null;
    steps.push(step);
  }
  return {
    name: input.name,
    description: '',
    duration: input.duration,
    topology: {
      leaseBackend: input.topology.leaseBackend,
      timeScale: DEFAULT_TIME_SCALE,
      initialPrimary: 'a',
      controller: input.topology.controller ? { mode: input.topology.controller.mode } : {},
    },
    workload: { clients: 1, writeInterval: 1000 },
    steps,
    expect: [],
  };
}

function drawnStep(st: FaultStep): FaultStep | null {
  if (typeof st !== 'object' || st === null || !onlyKeys(st, STEP_KEYS)) return null;
  if (!isMs(st.at) || !KINDS.has(st.fault) || (st.for !== undefined && !isMs(st.for))) return null;
  const target = st.target;
  if (Array.isArray(target) ? target.length === 0 || !target.every(isName) : !isName(target)) return null;
  const params = st.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return null;
  if (!isPlain(params)) return null;
  if (Object.getOwnPropertySymbols(params).length > 0) return null;
  const outParams: FaultStep['params'] = {};
  for (const k of Object.keys(params)) {
    if (k === '__proto__') return null;
    const v = params[k];
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v)))
      return null;
    outParams[k] = v;
  }
  const out = { at: st.at } as FaultStep;
  if (st.anchor !== undefined) {
    const a = st.anchor;
    if (typeof a !== 'object' || a === null || !onlyKeys(a, ANCHOR_KEYS) || !ANCHORS.has(a.on)) return null;
    if (a.region !== undefined && typeof a.region !== 'string') return null;
    if (typeof a.offset !== 'number' || !Number.isFinite(a.offset)) return null;
    out.anchor =
      a.region === undefined
        ? { on: a.on, offset: a.offset }
        : { on: a.on, region: a.region, offset: a.offset };
  }
  if (st.for !== undefined) out.for = st.for;
  out.fault = st.fault;
  out.target = Array.isArray(target) ? [...target] : target;
  out.params = outParams;
  return out;
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
  /** fault kinds to draw from (default: every kind of the backend and mode) */
  kinds?: FaultKind[];
  /** the controllers' operating mode (default automatic; operator steps are drawn in the others) */
  mode?: SearchMode;
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

/**
 * What a search has counted so far: plain data, so a range of schedules can be tallied in a
 * worker thread or a pod and the tallies merged in schedule order (simulator/parallel.ts).
 * Merging in order keeps even the key order of the coverage counters equal to one run's.
 */
export interface SearchTally {
  runs: number;
  shrinkRuns: number;
  events: number;
  simSeconds: number;
  coverage: Coverage;
  other: { count: number; examples: Finding[] };
  outside: { runs: number; withViolations: number; examples: Finding[] };
}

export function newTally(): SearchTally {
  return {
    runs: 0,
    shrinkRuns: 0,
    events: 0,
    simSeconds: 0,
    coverage: newCoverage(),
    other: { count: 0, examples: [] },
    outside: { runs: 0, withViolations: 0, examples: [] },
  };
}

/** `from` counted after `into` (schedule order): examples keep the first three by index. */
export function mergeTally(into: SearchTally, from: SearchTally): void {
  into.runs += from.runs;
  into.shrinkRuns += from.shrinkRuns;
  into.events += from.events;
  into.simSeconds += from.simSeconds;
  mergeCoverage(into.coverage, from.coverage);
  into.other.count += from.other.count;
  into.other.examples.push(...from.other.examples.slice(0, 3 - into.other.examples.length));
  into.outside.runs += from.outside.runs;
  into.outside.withViolations += from.outside.withViolations;
  into.outside.examples.push(...from.outside.examples.slice(0, 3 - into.outside.examples.length));
}

/** One schedule simulated, before it is counted. */
interface CaseOutcome {
  c: ExploreCase;
  r: SimulationResult;
  violated: string[];
}

/**
 * The search property's state: which invariant is locked for shrinking, where the first
 * failure was. `evaluate` simulates a case; `account` counts it exactly as one sequential
 * search does; `stops` says whether a not-yet-locked search would stop at it (a target
 * invariant violated within the assumptions).
 */
export class SearchProperty {
  locked: string | null = null;
  firstFail: { runs: number; wallMs: number; steps: number } | null = null;
  lastFailing: { c: ExploreCase; r: SimulationResult } | null = null;
  private readonly targets: Set<string>;

  constructor(
    private readonly opts: ExploreOptions,
    readonly tally: SearchTally,
    private readonly wall: () => number,
    private readonly started: number,
  ) {
    this.targets = targetInvariants(opts.property);
  }

  evaluate(c: ExploreCase): CaseOutcome {
    const r = simulateScenario(caseToScenario(c, this.opts), {
      seed: c.seed,
      leaseBackend: this.opts.leaseBackend,
      ...(this.opts.controllerOverrides ? { controllerOverrides: this.opts.controllerOverrides } : {}),
      stopOnViolation: this.opts.property !== 'liveness',
    });
    return { c, r, violated: violatedInvariants(r) };
  }

  stops(o: CaseOutcome): boolean {
    return o.r.withinAssumptions && o.violated.some((n) => this.targets.has(n));
  }

  /** Counts the case; false = the property fails on it (fast-check shrinks from there). */
  account({ c, r, violated }: CaseOutcome): boolean {
    const t = this.tally;
    const shrinking = this.locked !== null;
    t.events += r.stats.events;
    t.simSeconds += r.stats.simMs / 1000;
    if (shrinking) t.shrinkRuns++;
    else {
      t.runs++;
      mergeCoverage(t.coverage, r.coverage);
      this.opts.onProgress?.(t.runs, this.opts.runs);
    }
    if (!r.withinAssumptions) {
      if (!shrinking) {
        t.outside.runs++;
        if (violated.length > 0) {
          t.outside.withViolations++;
          if (t.outside.examples.length < 3) t.outside.examples.push(finding(c, r, violated));
        }
      }
      return true;
    }
    if (this.locked === null) {
      const hit = violated.filter((n) => this.targets.has(n));
      const rest = violated.filter((n) => !this.targets.has(n));
      if (rest.length > 0) {
        t.other.count++;
        if (t.other.examples.length < 3) t.other.examples.push(finding(c, r, rest));
      }
      if (hit.length === 0) return true;
      // Shrink towards a smaller case that violates the *same* invariant.
      this.locked = hit[0]!;
      this.firstFail = { runs: t.runs, wallMs: this.wall() - this.started, steps: c.steps.length };
      this.lastFailing = { c, r };
      return false;
    }
    if (violated.includes(this.locked)) {
      this.lastFailing = { c, r };
      return false;
    }
    return true;
  }
}

function searchArb(opts: ExploreOptions): fc.Arbitrary<ExploreCase> {
  const rho = defaultControllerConfig({
    region: 'a',
    peerRegion: 'b',
    witnesses: SPEC.witnesses,
  }).maxClockDriftRate;
  return caseArb(opts.durationMs, rho, opts.maxSteps ?? 8, {
    kinds: opts.kinds ?? searchKinds(opts.leaseBackend, opts.mode),
    withinAssumptions: !(opts.outsideAssumptions ?? false),
  });
}

export function runExploration(opts: ExploreOptions): ExploreResult {
  return runSearchFrom(opts, newTally(), opts.path);
}

/**
 * The search by fast-check from `path` (none: from schedule 0) with `tally` already holding
 * what came before — a parallel search replays its first stopping schedule this way, with the
 * tally of the schedules before it, and so shrinks and counts exactly as one sequential run.
 */
export function runSearchFrom(opts: ExploreOptions, tally: SearchTally, path?: string): ExploreResult {
  const wall = opts.wallClockMs ?? (() => 0);
  const started = wall();
  const prop = new SearchProperty(opts, tally, wall, started);
  const property = fc.property(searchArb(opts), (c) => prop.account(prop.evaluate(c)));
  const params: fc.Parameters<[ExploreCase]> = { numRuns: opts.runs, seed: opts.seed };
  if (path !== undefined) params.path = path;
  const details = fc.check(property, params);
  const wallSeconds = (wall() - started) / 1000;

  let failure: ExploreFailure | null = null;
  let error: string | null = null;
  if (details.failed && details.counterexample && prop.locked !== null) {
    failure = shrunkFailure(opts, prop, details.counterexample[0], details);
  } else if (details.failed) {
    error =
      details.errorInstance instanceof Error
        ? (details.errorInstance.stack ?? details.errorInstance.message)
        : String(details.errorInstance ?? 'property failed');
  }
  return {
    ok: !details.failed && tally.other.count === 0,
    property: opts.property,
    failure,
    error,
    otherFindings: tally.other,
    outsideAssumptions: tally.outside,
    stats: {
      runs: tally.runs,
      shrinkRuns: tally.shrinkRuns,
      events: tally.events,
      simSeconds: tally.simSeconds,
      wallSeconds,
    },
    coverage: tally.coverage,
  };
}

function shrunkFailure(
  opts: ExploreOptions,
  prop: SearchProperty,
  shrunk: ExploreCase,
  details: fc.RunDetails<[ExploreCase]>,
): ExploreFailure {
  // Re-run the shrunk case in full (no early stop) so the history is complete up to the end.
  const scenario = caseToScenario(shrunk, { ...opts, name: 'sim-counterexample' });
  const result = simulateScenario(scenario, {
    ...(opts.controllerOverrides ? { controllerOverrides: opts.controllerOverrides } : {}),
    seed: shrunk.seed,
    leaseBackend: opts.leaseBackend,
    path: details.counterexamplePath ?? '',
  });
  const locked = prop.locked!;
  return {
    invariant: locked,
    case: shrunk,
    scenario,
    result: violatedInvariants(result).includes(locked) ? result : (prop.lastFailing?.r ?? result),
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    shrinks: details.numShrinks,
    foundAfterRuns: prop.firstFail?.runs ?? 0,
    foundAfterWallMs: opts.wallClockMs ? (prop.firstFail?.wallMs ?? null) : null,
    originalSteps: prop.firstFail?.steps ?? shrunk.steps.length,
    simOnlyFaults: simOnlyParts(shrunk.steps),
  };
}

/**
 * One arbitrary per search for all the ranges a worker runs: a fresh one per range made V8
 * optimise the generators again each time (stateless, so sharing it changes no value).
 */
const rangeArbs = new Map<string, fc.Arbitrary<[ExploreCase]>>();
function rangeArb(opts: ExploreOptions): fc.Arbitrary<[ExploreCase]> {
  const key = JSON.stringify([
    opts.durationMs,
    opts.maxSteps,
    opts.kinds,
    opts.leaseBackend,
    opts.outsideAssumptions,
  ]);
  let arb = rangeArbs.get(key);
  if (!arb) {
    arb = fc.tuple(searchArb(opts));
    rangeArbs.clear(); // one search at a time in a worker: keep only the current one
    rangeArbs.set(key, arb);
  }
  return arb;
}

/** Where a range of schedules stopped: the first one a sequential search would stop at. */
export interface RangeTally {
  from: number;
  /** exclusive; the schedules counted are from..(stop ?? to)-1 */
  to: number;
  tally: SearchTally;
  /** index of the first schedule violating a target invariant, or throwing */
  stop: number | null;
}

/**
 * Schedules from..to-1 of the search (fast-check's own stream, the very cases a sequential
 * search draws at those indices), counted up to the first one it would stop at. Pure: the
 * same range gives the same tally wherever it runs.
 */
export function tallyRange(opts: ExploreOptions, from: number, to: number): RangeTally {
  const tally = newTally();
  const prop = new SearchProperty({ ...opts, onProgress: undefined }, tally, () => 0, 0);
  // fc.property draws a 1-tuple with the run index's bias: sampling fc.tuple gives the same
  // values (sampling the property object itself would apply the bias twice)
  const values =
    to > from ? fc.sample(rangeArb(opts), { seed: opts.seed, path: String(from), numRuns: to - from }) : [];
  for (let i = 0; i < values.length; i++) {
    let o: CaseOutcome;
    try {
      o = prop.evaluate(values[i]![0]);
    } catch {
      return { from, to, tally, stop: from + i }; // the replay meets the error again and reports it
    }
    if (prop.stops(o)) return { from, to, tally, stop: from + i };
    prop.account(o);
  }
  return { from, to, tally, stop: null };
}

/**
 * Range tallies (any order) → the search result one sequential run gives: tallies merged in
 * schedule order up to the first stopping schedule, which is then replayed (and shrunk) by
 * fast-check from its index. Throws unless the ranges cover 0..runs-1 up to that stop.
 */
export function concludeRanges(opts: ExploreOptions, ranges: RangeTally[]): ExploreResult {
  const sorted = [...ranges].sort((x, y) => x.from - y.from);
  const tally = newTally();
  let next = 0;
  for (const r of sorted) {
    if (r.from > next) break;
    if (r.from < next) throw new Error(`schedule ranges overlap at ${r.from}`);
    mergeTally(tally, r.tally);
    if (r.stop !== null) return runSearchFrom(opts, tally, String(r.stop));
    next = r.to;
  }
  if (next < opts.runs) throw new Error(`schedules ${next}..${opts.runs - 1} were not searched`);
  return {
    ok: tally.other.count === 0,
    property: opts.property,
    failure: null,
    error: null,
    otherFindings: tally.other,
    outsideAssumptions: tally.outside,
    stats: {
      runs: tally.runs,
      shrinkRuns: tally.shrinkRuns,
      events: tally.events,
      simSeconds: tally.simSeconds,
      wallSeconds: 0,
    },
    coverage: tally.coverage,
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
    const open = searchKinds(opts.leaseBackend, opts.mode).filter((k) =>
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
