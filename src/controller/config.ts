/**
 * Controller configuration: defaults, validation and the two derived timing numbers every
 * executor and report quotes — the safe window L (lease safety condition) and the failover
 * bound (liveness). Pure arithmetic; see docs/controller.md for the derivations.
 */
import type { MetaEvent } from '../contracts/history.ts';
import type { ControllerConfig } from './types.ts';

/**
 * Defaults are fractions of the lease TTL T so that a time-scaled run (e.g. T = 600 ms)
 * keeps the same shape as production (T = 30 s): H = T/3 (10 s), p = T/15 (2 s),
 * d = T/60 (0.5 s), peer probe every H/3, hold-down = T.
 */
export function defaultControllerConfig(
  p: Partial<ControllerConfig> & { region: string; peerRegion: string; witnesses: string[] },
): ControllerConfig {
  const leaseTtlMs = p.leaseTtlMs ?? 30_000;
  const heartbeatMs = p.heartbeatMs ?? Math.round(leaseTtlMs / 3);
  const witnessCount = p.witnesses.length;
  // Stryker disable next-line LogicalOperator: equivalent for every config an executor builds — with the field unset, acquireRetryMsOf computes this same default
  const acquireRetryMs = p.acquireRetryMs ?? Math.max(1, Math.round(heartbeatMs / 4));
  const base: ControllerConfig = {
    region: p.region,
    peerRegion: p.peerRegion,
    witnesses: [...p.witnesses],
    // majority of the configured witnesses: 2 of 3
    witnessQuorum: p.witnessQuorum ?? Math.floor(witnessCount / 2) + 1,
    unknownWitnessPolicy: p.unknownWitnessPolicy ?? 'abstain',
    mode: p.mode ?? 'automatic',
    leaseTtlMs,
    heartbeatMs,
    maxClockDriftRate: p.maxClockDriftRate ?? 0.001,
    maxPauseMs: p.maxPauseMs ?? Math.round(leaseTtlMs / 15),
    maxDelayMs: p.maxDelayMs ?? Math.round(leaseTtlMs / 60),
    peerCheckIntervalMs: p.peerCheckIntervalMs ?? Math.max(1, Math.round(heartbeatMs / 3)),
    peerFailureThreshold: p.peerFailureThreshold ?? 3,
    leaseStatusPollMs: p.leaseStatusPollMs ?? heartbeatMs,
    witnessRoundTimeoutMs: p.witnessRoundTimeoutMs ?? Math.max(1, Math.round(heartbeatMs / 5)),
    promotionHoldDownMs: p.promotionHoldDownMs ?? leaseTtlMs,
    acquireRetryMs,
    // Stryker disable next-line LogicalOperator: equivalent — with the field unset, leaseRequestTimeoutMsOf computes this same default
    leaseRequestTimeoutMs: p.leaseRequestTimeoutMs ?? Math.max(1, Math.round(heartbeatMs / 2)),
    // Stryker disable next-line LogicalOperator: equivalent — with the field unset, candidateTimeoutMsOf computes this same default
    candidateTimeoutMs: p.candidateTimeoutMs ?? leaseTtlMs + heartbeatMs,
  };
  return base;
}

/**
 * Optional knobs with their derived fallbacks, for configs built by hand without defaults.
 * Every executor builds its configs with defaultControllerConfig, which sets all three, so the
 * fallbacks never run in a simulated or real controller (hence the directives: a mutant of a
 * fallback changes nothing any executor runs).
 */
// Stryker disable all: the fallbacks serve hand-built configs only (above)
export function acquireRetryMsOf(c: ControllerConfig): number {
  return c.acquireRetryMs ?? Math.max(1, Math.round(c.heartbeatMs / 4));
}
export function leaseRequestTimeoutMsOf(c: ControllerConfig): number {
  return c.leaseRequestTimeoutMs ?? Math.max(1, Math.round(c.heartbeatMs / 2));
}
export function candidateTimeoutMsOf(c: ControllerConfig): number {
  return c.candidateTimeoutMs ?? c.leaseTtlMs + c.heartbeatMs;
}
// Stryker restore all

/**
 * L = (1−ρ)·(T/(1+ρ) − p − d), reference §3.4: the longest the holder may act after the
 * *send* time of its last successful renewal such that every act (including the write
 * window it hands to the resource) ends before the Worker can possibly re-grant the lease.
 * Floored to whole ms so rounding never widens it.
 */
export function safeWindowMs(c: ControllerConfig): number {
  const rho = c.maxClockDriftRate;
  return Math.floor((1 - rho) * (c.leaseTtlMs / (1 + rho) - c.maxPauseMs - c.maxDelayMs));
}

/**
 * Hold-down after stepping down because the local resource failed (its app refused or missed
 * N hand-overs). The region's controller still answers peer probes, so the healthy peer can
 * only fill the vacancy (docs/controller.md §9): the lease, renewed at latest now, must first
 * be gone at the Worker (T, plus a leg and drift: within a request timeout), then the peer
 * needs two vacant status polls and one acquire. With only the ordinary hold-down (T) both
 * regions reach the vacant lease together, and the one whose app is dead wins as often as not.
 */
export function resourceFailedHoldDownMsOf(c: ControllerConfig): number {
  const peerFillsMs = c.leaseTtlMs + 2 * c.leaseStatusPollMs + leaseRequestTimeoutMsOf(c);
  return Math.max(c.promotionHoldDownMs, peerFillsMs);
}

/**
 * Local time by which a lease whose holder vanished is surely gone at the Worker: the
 * Worker measures T on its own clock, which may run slow by ρ.
 */
export function leaseGoneBoundMs(c: ControllerConfig): number {
  return Math.ceil(c.leaseTtlMs / (1 - c.maxClockDriftRate));
}

/**
 * Documented liveness bound, automatic mode: a DR controller is primary at most this long
 * after the primary region is lost, provided the Worker and a witness quorum answer, peer
 * probes answer within peerCheckIntervalMs, and no hold-down is running.
 *   detect   = (N+1)·probe interval (first failing probe can start one interval late) + witness round
 *   gone     = T/(1−ρ) + d            (the dead holder's lease expires at the Worker)
 *   bound    = max(detect, gone) + acquire retry + 2·d (one more acquire round trip)
 *
 * Reports and the agent's status quote it; the checker never does: it judges failovers against
 * the design's bound (src/contracts/spec.ts), so a mutant here survives by design, and the
 * mutation run excludes it (docs/simulator.md "Mutation score").
 */
// Stryker disable all: quoted by reports and /status only; the checker's bound is the design spec's
export function failoverBoundMs(c: ControllerConfig): number {
  const detectMs = (c.peerFailureThreshold + 1) * c.peerCheckIntervalMs + c.witnessRoundTimeoutMs;
  const goneMs = leaseGoneBoundMs(c) + c.maxDelayMs;
  return Math.max(detectMs, goneMs) + acquireRetryMsOf(c) + 2 * c.maxDelayMs;
}
// Stryker restore all

// Validation: every simulated controller runs a config the design accepts, so a mutant that
// rejects one is killed (createControllerState throws) and one that lets a bad config through
// changes no simulated run. Bad configs are judged where they enter: the scenario loader, the
// agent's environment and the CLI (test/reliability/bad-input.test.ts, test/controller/).
// Stryker disable all: validation of configs no simulated run builds (above)

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}
function isFiniteNonNegative(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}

/** Human-readable problems, [] when the config is usable. */
export function validateControllerConfig(c: ControllerConfig): string[] {
  const problems: string[] = [];
  if (!c.region) problems.push('region must be a non-empty string');
  if (!c.peerRegion) problems.push('peerRegion must be a non-empty string');
  if (c.region && c.region === c.peerRegion)
    problems.push(`region and peerRegion must differ (both "${c.region}")`);
  if (c.witnesses.length === 0) problems.push('at least one witness is required');
  if (new Set(c.witnesses).size !== c.witnesses.length) problems.push('witness ids must be unique');
  if (!Number.isInteger(c.witnessQuorum) || c.witnessQuorum < 1 || c.witnessQuorum > c.witnesses.length) {
    problems.push(`witnessQuorum must be an integer in 1..${c.witnesses.length} (got ${c.witnessQuorum})`);
  }
  if (c.unknownWitnessPolicy !== 'abstain' && c.unknownWitnessPolicy !== 'count-unreachable') {
    problems.push(`unknownWitnessPolicy must be 'abstain' or 'count-unreachable'`);
  }
  if (c.mode !== 'automatic' && c.mode !== 'semi-automatic' && c.mode !== 'manual') {
    problems.push(`mode must be automatic, semi-automatic or manual`);
  }
  const positive: [string, number][] = [
    ['leaseTtlMs', c.leaseTtlMs],
    ['heartbeatMs', c.heartbeatMs],
    ['peerCheckIntervalMs', c.peerCheckIntervalMs],
    ['peerFailureThreshold', c.peerFailureThreshold],
    ['leaseStatusPollMs', c.leaseStatusPollMs],
    ['witnessRoundTimeoutMs', c.witnessRoundTimeoutMs],
    ['acquireRetryMs', acquireRetryMsOf(c)],
    ['leaseRequestTimeoutMs', leaseRequestTimeoutMsOf(c)],
    ['candidateTimeoutMs', candidateTimeoutMsOf(c)],
  ];
  for (const [name, v] of positive) {
    if (!isPositiveInt(v)) problems.push(`${name} must be a positive integer (got ${v})`);
  }
  const nonNegative: [string, number][] = [
    ['maxPauseMs', c.maxPauseMs],
    ['maxDelayMs', c.maxDelayMs],
    ['promotionHoldDownMs', c.promotionHoldDownMs],
  ];
  for (const [name, v] of nonNegative) {
    if (!isFiniteNonNegative(v)) problems.push(`${name} must be a finite number >= 0 (got ${v})`);
  }
  if (!(Number.isFinite(c.maxClockDriftRate) && c.maxClockDriftRate >= 0 && c.maxClockDriftRate < 0.5)) {
    problems.push(`maxClockDriftRate must be in [0, 0.5) (got ${c.maxClockDriftRate})`);
  }
  if (problems.length > 0) return problems;

  const L = safeWindowMs(c);
  if (L <= 0) {
    problems.push(
      `safe window L = (1-ρ)(T/(1+ρ) - p - d) = ${L} ms must be > 0: lease TTL ${c.leaseTtlMs} ms is too short for maxPauseMs ${c.maxPauseMs} + maxDelayMs ${c.maxDelayMs}`,
    );
    return problems;
  }
  // Liveness: a renewal sent one heartbeat after the last success must complete (round trip
  // 2·d) inside L, or a healthy primary demotes itself.
  if (c.heartbeatMs + 2 * c.maxDelayMs >= L) {
    problems.push(
      `heartbeatMs + 2*maxDelayMs (${c.heartbeatMs + 2 * c.maxDelayMs} ms) must be < safe window L (${L} ms)`,
    );
  }
  // A renewal that times out must leave room for a retry before L.
  if (c.heartbeatMs + leaseRequestTimeoutMsOf(c) >= L) {
    problems.push(
      `heartbeatMs + leaseRequestTimeoutMs (${c.heartbeatMs + leaseRequestTimeoutMsOf(c)} ms) must be < safe window L (${L} ms)`,
    );
  }
  // A candidate must keep trying at least until a dead holder's lease is gone at the Worker.
  const minCandidateMs = leaseGoneBoundMs(c) + acquireRetryMsOf(c) + 3 * c.maxDelayMs;
  if (candidateTimeoutMsOf(c) < minCandidateMs) {
    problems.push(
      `candidateTimeoutMs (${candidateTimeoutMsOf(c)} ms) must be >= T/(1-ρ) + acquireRetryMs + 3*maxDelayMs (${minCandidateMs} ms)`,
    );
  }
  return problems;
}

// Stryker restore all

/**
 * The controller timing a history's meta event records. One shape for the simulator, real
 * runs and game days, so the checker sees the same numbers (bounds, hold-down) whichever
 * executor wrote the history. Informational: the checker reads the design spec, never these
 * (a mutant here survives by design; the run excludes it).
 */
// Stryker disable all: informational timing in the meta event; the checker judges against the design spec
export function historyTiming(c: ControllerConfig): MetaEvent['timing'] {
  return {
    leaseTtlMs: c.leaseTtlMs,
    heartbeatMs: c.heartbeatMs,
    safeWindowMs: safeWindowMs(c),
    peerCheckIntervalMs: c.peerCheckIntervalMs,
    peerFailureThreshold: c.peerFailureThreshold,
    witnessQuorum: c.witnessQuorum,
    failoverBoundMs: failoverBoundMs(c),
    maxClockDriftRate: c.maxClockDriftRate,
    promotionHoldDownMs: c.promotionHoldDownMs,
  };
}
