/**
 * Checker output, shared by the sim/run/gameday CLIs and the report renderers.
 * The checker reads only a history; reports read only the history and this verdict.
 */

export interface Violation {
  /** invariant or expectation name, e.g. "single-primary" */
  invariant: string;
  /** global ms of the first violating instant */
  at: number;
  detail: string;
  /** seq numbers of the events that show the violation */
  events: number[];
}

export interface CheckOutcome {
  name: string;
  kind: 'invariant' | 'expectation';
  ok: boolean;
  /** one-line human summary, e.g. "failover took 4.1 s (bound 6.0 s)" */
  detail: string;
  violations: Violation[];
  /** false when the check could not be evaluated (e.g. no relevant events) */
  evaluated?: boolean;
  /** (added) 'safety' (never two primaries...), 'liveness' (failover happens / does not happen spuriously) or 'expectation' */
  category?: 'safety' | 'liveness' | 'expectation';
  /** (added) true when this invariant was expected to be violated (scenario `violation-detected`) */
  expectedViolation?: boolean;
  /** (added) what the history must show for this outcome to mean anything, e.g. "failing peer probes during the cut" */
  premise?: string;
  /** (added) whether the history shows the premise happened */
  exercised?: boolean;
  /**
   * (added) 'not-exercised': the premise never happened (the fault had no observable effect), so
   * a pass would be vacuous. Such an outcome is ok but not evaluated; a scenario whose
   * expectations are all not-exercised fails (outcome `scenario-exercised`).
   */
  status?: 'not-exercised';
}

export interface Measurements {
  /** ms from the primary being lost to the DR region being primary, if a failover happened */
  failoverMs?: number;
  /** documented theoretical bound for failoverMs */
  failoverBoundMs?: number;
  /**
   * ms from the first fault to the first promotion of another region (the failover-within
   * expectation). Not comparable with failoverBoundMs, which counts from the region loss:
   * a scenario may inject other faults first.
   */
  failoverFromFirstFaultMs?: number;
  roleTransitions?: number;
  acceptedWrites?: number;
  rejectedWrites?: number;
  /** (added) accepted / app-write attempts that reached an app (0..1) */
  availability?: number;
  /** (added) longest stretch with no region holding write authority (global ms) */
  longestUnavailableMs?: number;
  /** (added) longest such stretch that no fault explains, and its bound from the spec */
  longestUnexplainedUnavailableMs?: number;
  unavailabilityBoundMs?: number;
  /** (added) the DNS convergence bound from the spec */
  dnsConvergeBoundMs?: number;
  [key: string]: number | undefined;
}

export interface Verdict {
  ok: boolean;
  outcomes: CheckOutcome[];
  violations: Violation[];
  withinAssumptions: boolean;
  measurements: Measurements;
}

/** The one JSON object `sim --json` and `run --json` print. */
export interface RunJson {
  ok: boolean;
  violations: Array<Pick<Violation, 'invariant' | 'at' | 'detail'>>;
  counterexample: unknown | null;
  replay: string | null;
  stats: { runs: number; events: number; simSeconds: number; wallSeconds: number };
  [extra: string]: unknown;
}

/** The failover time to show: from the region loss when the checker measured it, else from the first fault. */
export function shownFailoverMs(m: Measurements): number | undefined {
  return m.failoverMs ?? m.failoverFromFirstFaultMs;
}
