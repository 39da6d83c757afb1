/**
 * The design specification a history is judged against, kept apart from the controller's
 * configuration. The executor writes both into the meta event: `spec` (the design's numbers,
 * from the scenario and the topology, with bounds derived *here*) and `configured` (what the
 * controller under test was actually given). Every check reads the spec; a controller
 * configured weaker than the spec is a finding of its own (`config-meets-spec`).
 *
 * The derivations restate the design (docs/controller.md, reference §3.4) on purpose: they must
 * not import the controller's config module, or a wrong formula there would move the yardstick
 * together with the thing it measures.
 *
 * Imports allowed here: types only. Pure arithmetic.
 */

/**
 * The lease requests are signed with the sender's wall clock; the Worker refuses a timestamp
 * further than this from its own (src/worker/signing.ts). The design so assumes wall clocks
 * kept within it of each other (NTP).
 */
export const SIGNATURE_CLOCK_SKEW_MS = 30_000;

/**
 * Replay protection (docs/worker.md): the store keeps a request's nonce until its timestamp +
 * the skew window + this grace, and prunes expired nonces at most once per
 * DESIGN_NONCE_PRUNE_INTERVAL_MS, on a request. Restated here, not read from
 * src/worker/nonces.ts: the bound on the store's storage (`store-storage-bounded`) must not
 * move with the code it judges.
 */
export const DESIGN_NONCE_GRACE_MS = 1000;
export const DESIGN_NONCE_PRUNE_INTERVAL_MS = 5000;

/**
 * How long after a request was sent its nonce may still be held, in the store's clock ms (the
 * caller's wall clock runs with the store's, as the design assumes of NTP-disciplined clocks):
 * its timestamp may lead the store's clock by the skew window and is kept the window + grace
 * past it (2S + G); the pass that removes it comes at most one prune interval later while
 * requests come; and one more interval covers a pass that hit its batch limit, which the
 * next request resumes.
 */
export function nonceHeldMs(): number {
  return 2 * SIGNATURE_CLOCK_SKEW_MS + DESIGN_NONCE_GRACE_MS + 2 * DESIGN_NONCE_PRUNE_INTERVAL_MS;
}

/** The design's inputs (all ms unless named otherwise). */
export interface SpecInput {
  witnessCount: number;
  leaseTtlMs: number;
  heartbeatMs: number;
  /** ρ: bound on every clock's rate error */
  maxClockDriftRate: number;
  /** p: bound on a pause between a validity check and its effect */
  maxPauseMs: number;
  /** d: bound on a holder's message reaching its app (and one lease round-trip leg) */
  maxDelayMs: number;
  peerCheckIntervalMs: number;
  peerFailureThreshold: number;
  witnessRoundTimeoutMs: number;
  acquireRetryMs: number;
  promotionHoldDownMs: number;
  /** how often a controller not holding the lease polls the store's status */
  leaseStatusPollMs: number;
  /**
   * The operating mode the scenario runs the controllers in (absent: automatic). In manual
   * mode only an operator moves the lease, so no failover bound applies.
   */
  controllerMode?: 'automatic' | 'semi-automatic' | 'manual';
  /** authoritative health-check interval (PowerDNS lua-health-checks-interval) */
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
}

/** How exactly an executor observes the lease store (docs/invariants.md, "precision"). */
export interface LeaseStoreObservation {
  /** exact: recorded at the store's own transition; polled: GET /status every intervalMs */
  precision: 'exact' | 'polled';
  intervalMs: number;
}

export interface DesignSpec extends SpecInput {
  /** majority of the witnesses: the design's quorum, whatever the controller is configured with */
  witnessQuorum: number;
  bounds: SpecBounds;
  leaseStore?: LeaseStoreObservation;
  /** where the numbers came from, for reports (e.g. "scenario + simulated topology") */
  source: string;
}

export interface SpecBounds {
  /** L = (1−ρ)(T/(1+ρ) − p − d): the holder's safe window after the send of its last renewal */
  safeWindowMs: number;
  /** T/(1−ρ): by then a vanished holder's lease is surely gone at the store */
  leaseGoneMs: number;
  /** DR region primary at most this long after the primary region is lost */
  failoverBoundMs: number;
  /**
   * DR region's app holds write authority at most this long after the primary's app alone is
   * lost (its controller lives). Absent from histories recorded before it existed.
   */
  appLossFailoverBoundMs?: number;
  /** both authoritatives answer for the lease holder at most this long after it changed */
  dnsConvergeMs: number;
  /** longest stretch without a writable primary that no fault explains */
  unavailabilityMs: number;
}

/** The controller's configured numbers as the executor handed them over. */
export interface ConfiguredNumbers {
  witnessCount: number;
  witnessQuorum: number;
  leaseTtlMs: number;
  heartbeatMs: number;
  maxClockDriftRate: number;
  maxPauseMs: number;
  maxDelayMs: number;
  /** L as the configured numbers give it (by the spec's formula) */
  safeWindowMs: number;
  unknownWitnessPolicy?: string;
}

/** Design defaults as fractions of T (docs/controller.md): H = T/3, p = T/15, d = T/60, ρ = 0.1 %. */
export function designInput(p: Partial<SpecInput> & { witnessCount: number; leaseTtlMs: number }): SpecInput {
  const T = p.leaseTtlMs;
  const heartbeatMs = p.heartbeatMs ?? Math.round(T / 3);
  return {
    witnessCount: p.witnessCount,
    leaseTtlMs: T,
    heartbeatMs,
    maxClockDriftRate: p.maxClockDriftRate ?? 0.001,
    maxPauseMs: p.maxPauseMs ?? Math.round(T / 15),
    maxDelayMs: p.maxDelayMs ?? Math.round(T / 60),
    peerCheckIntervalMs: p.peerCheckIntervalMs ?? Math.max(1, Math.round(heartbeatMs / 3)),
    peerFailureThreshold: p.peerFailureThreshold ?? 3,
    witnessRoundTimeoutMs: p.witnessRoundTimeoutMs ?? Math.max(1, Math.round(heartbeatMs / 5)),
    acquireRetryMs: p.acquireRetryMs ?? Math.max(1, Math.round(heartbeatMs / 4)),
    promotionHoldDownMs: p.promotionHoldDownMs ?? T,
    leaseStatusPollMs: p.leaseStatusPollMs ?? heartbeatMs,
    ...(p.controllerMode !== undefined ? { controllerMode: p.controllerMode } : {}),
    healthCheckIntervalMs: p.healthCheckIntervalMs ?? 5000,
    healthCheckTimeoutMs: p.healthCheckTimeoutMs ?? 1000,
  };
}

/** L = (1−ρ)(T/(1+ρ) − p − d), floored to whole ms. */
export function specSafeWindowMs(
  i: Pick<SpecInput, 'leaseTtlMs' | 'maxClockDriftRate' | 'maxPauseMs' | 'maxDelayMs'>,
): number {
  const rho = i.maxClockDriftRate;
  return Math.floor((1 - rho) * (i.leaseTtlMs / (1 + rho) - i.maxPauseMs - i.maxDelayMs));
}

/**
 * The primary's app dies while its controller lives (docs/controller.md §9). The controller
 * sees N hand-overs fail — one per renewal, each renewal's reply within 2d, each app call
 * within H/2 — and steps down without releasing. Its last renewal was sent no later, so the
 * lease is gone at the store by leaseGone + d. The peer, whose probes of that controller
 * still succeed, fills the vacancy: two vacant status polls (+ d), one acquire retry and a
 * round trip, and the promote reaching its app (d).
 */
function appLossFailoverBoundMs(i: SpecInput, leaseGoneMs: number): number {
  const H = i.heartbeatMs;
  const d = i.maxDelayMs;
  const stepDownMs = i.peerFailureThreshold * H + 2 * d + Math.round(H / 2);
  const peerFillsMs = 2 * i.leaseStatusPollMs + d + i.acquireRetryMs + 3 * d;
  return stepDownMs + leaseGoneMs + d + peerFillsMs;
}

/**
 * The latest a DR region is primary after the primary region was lost at `lostAtMs`.
 * Detection: N+1 probe intervals (the first failing probe may start one interval late) + a
 * witness round; the dead holder's lease must also be gone at the store; then one acquire
 * retry and a round trip. A DR region standing by in a promotion hold-down until `readyAtMs`
 * detects only from then: the hold-down gates the witness round, and a region leaving it
 * counts its peer's probe failures afresh (docs/controller.md §9).
 */
export function failoverDeadlineMs(i: SpecInput, lostAtMs: number, readyAtMs = lostAtMs): number {
  const leaseGoneMs = Math.ceil(i.leaseTtlMs / (1 - i.maxClockDriftRate));
  const detectMs = (i.peerFailureThreshold + 1) * i.peerCheckIntervalMs + i.witnessRoundTimeoutMs;
  return (
    Math.max(Math.max(readyAtMs, lostAtMs) + detectMs, lostAtMs + leaseGoneMs + i.maxDelayMs) +
    i.acquireRetryMs +
    2 * i.maxDelayMs
  );
}

export function deriveBounds(i: SpecInput): SpecBounds {
  const leaseGoneMs = Math.ceil(i.leaseTtlMs / (1 - i.maxClockDriftRate));
  const failoverBoundMs = failoverDeadlineMs(i, 0);
  // after a grant: promote the app (≤ H/2), publish to both authoritatives (≤ H), then one
  // health-check cycle (interval + timeout) before the new target counts as up everywhere.
  const dnsConvergeMs =
    Math.round(i.heartbeatMs / 2) +
    i.heartbeatMs +
    i.healthCheckIntervalMs +
    i.healthCheckTimeoutMs +
    2 * i.maxDelayMs;
  return {
    safeWindowMs: specSafeWindowMs(i),
    leaseGoneMs,
    failoverBoundMs,
    appLossFailoverBoundMs: appLossFailoverBoundMs(i, leaseGoneMs),
    dnsConvergeMs,
    // restoring a writable primary is what a failover does: the design promises no longer gap
    unavailabilityMs: failoverBoundMs,
  };
}

export function designSpec(input: SpecInput, source: string, leaseStore?: LeaseStoreObservation): DesignSpec {
  return {
    ...input,
    witnessQuorum: Math.floor(input.witnessCount / 2) + 1,
    bounds: deriveBounds(input),
    ...(leaseStore ? { leaseStore } : {}),
    source,
  };
}

/** The configured numbers of a controller config (structural: any object with these fields). */
export function configuredNumbers(c: {
  witnesses: string[];
  witnessQuorum: number;
  leaseTtlMs: number;
  heartbeatMs: number;
  maxClockDriftRate: number;
  maxPauseMs: number;
  maxDelayMs: number;
  unknownWitnessPolicy?: string;
}): ConfiguredNumbers {
  return {
    witnessCount: c.witnesses.length,
    witnessQuorum: c.witnessQuorum,
    leaseTtlMs: c.leaseTtlMs,
    heartbeatMs: c.heartbeatMs,
    maxClockDriftRate: c.maxClockDriftRate,
    maxPauseMs: c.maxPauseMs,
    maxDelayMs: c.maxDelayMs,
    safeWindowMs: specSafeWindowMs(c),
    ...(c.unknownWitnessPolicy !== undefined ? { unknownWitnessPolicy: c.unknownWitnessPolicy } : {}),
  };
}

/** Ways the configured controller is weaker than the spec; [] when it meets it. */
export function weakerThanSpec(spec: DesignSpec, c: ConfiguredNumbers): string[] {
  const out: string[] = [];
  if (c.witnessQuorum < spec.witnessQuorum)
    out.push(
      `witness quorum ${c.witnessQuorum} of ${c.witnessCount} is below the spec's ${spec.witnessQuorum} of ${spec.witnessCount}`,
    );
  if (c.leaseTtlMs > spec.leaseTtlMs)
    out.push(`lease TTL ${c.leaseTtlMs} ms is longer than the spec's ${spec.leaseTtlMs} ms`);
  if (c.heartbeatMs > spec.heartbeatMs)
    out.push(`heartbeat ${c.heartbeatMs} ms is longer than the spec's ${spec.heartbeatMs} ms`);
  if (c.maxClockDriftRate < spec.maxClockDriftRate)
    out.push(`clock drift bound ρ ${c.maxClockDriftRate} is below the spec's ${spec.maxClockDriftRate}`);
  if (c.maxPauseMs < spec.maxPauseMs)
    out.push(`pause bound p ${c.maxPauseMs} ms is below the spec's ${spec.maxPauseMs} ms`);
  if (c.maxDelayMs < spec.maxDelayMs)
    out.push(`delay bound d ${c.maxDelayMs} ms is below the spec's ${spec.maxDelayMs} ms`);
  if (c.safeWindowMs > spec.bounds.safeWindowMs)
    out.push(`safe window L ${c.safeWindowMs} ms is longer than the spec's ${spec.bounds.safeWindowMs} ms`);
  if (c.unknownWitnessPolicy === 'count-unreachable')
    out.push(`unknown witness answers are counted as "unreachable"`);
  return out;
}
