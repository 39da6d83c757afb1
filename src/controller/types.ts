/**
 * Public contract of the pure decision core (shaped like etcd-io/raft's Ready loop):
 *
 *   const next = step(state, input)   // pure: no I/O, no clock, no randomness
 *   perform(next.actions)             // the caller (agent / simulator / harness) does the I/O
 *   feed results back as inputs       // e.g. {type:'lease-result', ...}
 *   call step(state, {type:'tick'}) again no later than next.wakeAtMs
 *
 * Every input carries `nowMs`: the caller's *monotonic local clock* in ms. The core never
 * compares its local time with any other node's time; the lease is measured from the local
 * *send* time of the last successful renewal (`sentAtMs` echoed back in the result).
 *
 * This file is types only. Implementation: src/controller/core.ts. Imports allowed in
 * src/controller: only each other (no node:*, no packages) — enforced by review and lint.
 */

import type { RegionId, Role, WitnessVerdict } from '../contracts/history.ts';

export type { RegionId, Role, WitnessVerdict };

export type Mode = 'automatic' | 'semi-automatic' | 'manual';
/** How a witness timeout/error is counted. 'abstain' (safe default) = unknown, never unreachable. */
export type UnknownWitnessPolicy = 'abstain' | 'count-unreachable';

export interface ControllerConfig {
  region: RegionId;
  peerRegion: RegionId;
  /** witness ids in a stable order, e.g. ["w1","w2","w3"] */
  witnesses: string[];
  /** unreachable votes needed to promote (default 2 of 3) */
  witnessQuorum: number;
  unknownWitnessPolicy: UnknownWitnessPolicy;
  mode: Mode;
  /** lease TTL T as granted by the Worker (default 30 000) */
  leaseTtlMs: number;
  /** renewal period H (default 10 000) */
  heartbeatMs: number;
  /** ρ: max clock drift rate between any two clocks involved (e.g. 0.001 = 1000 ppm) */
  maxClockDriftRate: number;
  /** p: max process pause between a local validity check and the act taking effect */
  maxPauseMs: number;
  /** d: max delay for a holder-issued action to reach the protected resource */
  maxDelayMs: number;
  /** peer health probe period while standby (default 1/3 of heartbeat) */
  peerCheckIntervalMs: number;
  /** consecutive failed peer probes before asking witnesses (default 3) */
  peerFailureThreshold: number;
  /** standby poll of lease status (default = heartbeat) */
  leaseStatusPollMs: number;
  /** how long to wait for a round of witness answers before counting missing ones as unknown */
  witnessRoundTimeoutMs: number;
  /** min time between promotions after a demotion (anti-flapping hold-down) */
  promotionHoldDownMs: number;
  /** (added) candidate: pause between acquire attempts; primary: retry delay after a failed renewal (default H/4) */
  acquireRetryMs?: number;
  /** (added) a lease request with no result after this long is abandoned and may be re-sent (default H/2) */
  leaseRequestTimeoutMs?: number;
  /** (added) a candidate that is not granted the lease within this long gives up (default T + H) */
  candidateTimeoutMs?: number;
}

/** (added) Why a controller tried to become primary. */
export type PromotionBasis = 'failover' | 'vacant-lease' | 'bootstrap' | 'operator';

/** Inputs fed to step(). `nowMs` is the local monotonic clock when the input is delivered. */
export type ControllerInput =
  | { type: 'tick'; nowMs: number }
  | {
      type: 'lease-result';
      nowMs: number;
      op: 'acquire' | 'renew' | 'release' | 'status';
      /** local time the request was *sent* (copied from the action's sentAtMs) */
      sentAtMs: number;
      /** transport-level success (a reply arrived and was authentic) */
      ok: boolean;
      /** for acquire/renew: was the lease granted to us */
      granted: boolean;
      holder: RegionId | null;
      epoch: number | null;
      ttlMs: number | null;
      error?: string;
      /** (added, optional) Worker-clock expiry and Worker time of the reply: a lease whose
       *  expiresAt <= serverTime is vacant even if `holder` still names the old holder. */
      expiresAt?: number | null;
      serverTime?: number | null;
    }
  | {
      type: 'witness-result';
      nowMs: number;
      round: number;
      witness: string;
      verdict: WitnessVerdict;
      detail?: string;
    }
  | { type: 'peer-result'; nowMs: number; ok: boolean; detail?: string }
  /**
   * Outcome of a promote/extend/demote action at the resource. `action` (added, optional)
   * defaults to 'promote'. A successful 'demote' result is what allows a pending release.
   */
  | {
      type: 'promote-result';
      nowMs: number;
      epoch: number;
      ok: boolean;
      error?: string;
      action?: 'promote' | 'extend' | 'demote';
    }
  | { type: 'publish-result'; nowMs: number; epoch: number; ok: boolean; error?: string }
  /** operator approval for semi-automatic mode, or a manual command */
  | { type: 'operator'; nowMs: number; command: 'approve' | 'reject' | 'promote' | 'demote' }
  | { type: 'shutdown'; nowMs: number };

/** Side effects the caller must perform. Every effect carries the epoch it acts under. */
export type ControllerAction =
  | { type: 'lease-acquire'; sentAtMs: number }
  /** `safeUntilMs` (added, on acting actions): end of the safe window L when emitted, local ms */
  | { type: 'lease-renew'; epoch: number; sentAtMs: number; safeUntilMs?: number }
  | { type: 'lease-release'; epoch: number; sentAtMs: number }
  | { type: 'lease-status'; sentAtMs: number }
  | { type: 'witness-query'; round: number; target: RegionId }
  | { type: 'peer-probe' }
  /**
   * Hand write authority to the local resource for `validityMs` (measured by the resource
   * from receipt on its own clock). Re-sent as 'extend' after each renewal.
   */
  | { type: 'promote'; epoch: number; validityMs: number; safeUntilMs?: number }
  | { type: 'extend'; epoch: number; validityMs: number; safeUntilMs?: number }
  | { type: 'demote'; epoch: number; reason: string }
  | { type: 'publish'; epoch: number; activeRegion: RegionId; safeUntilMs?: number }
  | { type: 'await-approval'; epoch: number | null; reason: string }
  /** Everything the core tells the outside world for logs, metrics and histories. */
  | { type: 'event'; event: ControllerEvent };

export type ControllerEvent =
  | { kind: 'role'; from: Role; to: Role; reason: string; epoch: number | null }
  | {
      kind: 'promotion-evidence';
      epoch: number;
      peerFailures: number;
      votes: Record<string, WitnessVerdict>;
      unreachableVotes: number;
      quorum: number;
      approvedBy: 'automatic' | 'operator';
      /** (added) which gate let this promotion through; see docs/controller.md */
      basis?: PromotionBasis;
    }
  | { kind: 'witness'; witness: string; verdict: WitnessVerdict; detail?: string }
  | { kind: 'peer'; ok: boolean; consecutiveFailures: number }
  | {
      kind: 'lease';
      op: 'acquire' | 'renew' | 'release' | 'status';
      ok: boolean;
      epoch: number | null;
      holder: RegionId | null;
      error?: string;
    }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

/** Read-only view for metrics (/metrics) and admin endpoints. */
export interface ControllerView {
  region: RegionId;
  role: Role;
  /** highest epoch ever seen */
  highestEpochSeen: number;
  /** epoch we currently hold (primary/candidate with grant), else null */
  heldEpoch: number | null;
  /** local ms at which the safe window ends, if holding */
  safeUntilMs: number | null;
  leaseHolder: RegionId | null;
  witnessVerdicts: Record<string, WitnessVerdict>;
  peerConsecutiveFailures: number;
  /** local ms of the last promotion of this region, if any */
  lastFailoverAtMs: number | null;
  awaitingApproval: boolean;
  demotionsTotal: number;
  /** (added) sub-phase for humans, e.g. "standby/witness-round", "candidate/acquiring" */
  phase?: string;
  /** (added) L in ms, as configured */
  safeWindowMs?: number;
  /** (added) true once shutdown finished (demoted and, if possible, released) */
  shutdownComplete?: boolean;
  /** (added) lease TTL the store last reported, ms; null before any reply */
  storeLeaseTtlMs?: number | null;
  /** (added) grants/renewals refused because the store's TTL was shorter than leaseTtlMs */
  leaseTtlRefusalsTotal?: number;
}

export interface StepResult<S> {
  state: S;
  actions: ControllerAction[];
  /** the latest local time by which the caller must deliver a tick */
  wakeAtMs: number;
}
