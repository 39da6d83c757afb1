/**
 * One request inside the lease Durable Object, as a pure function of what storage held:
 * (stored values, command, nowMs, ttlMs) → (result, the one batch of writes, what the store
 * observed). The Durable Object (durable.ts) wraps it in a single storage.get and a single
 * storage.put, so the read-modify-write stays atomic under the input/output gates; the
 * simulator (simulator/models/lease-store.ts) applies the same function to its in-memory
 * storage. The lease rules themselves are lease-state.ts; the replay rule is nonces.ts.
 *
 * Observation log (the checker's evidence, issue #12): every grant, renewal, release,
 * refusal and expiry is appended under `obs:<seq, 12 digits>` in the same put as the
 * change, so a lost write loses both and an observed grant is always a durable one. An
 * expiry has no request of its own: it is noted by the first request after it (with the
 * time it happened, expiresAt), or earlier by a caller that knows the time (the simulator's
 * timer, through noteExpiry). `obsmeta` remembers the sequence and the last epoch whose
 * expiry was noted, so none is reported twice.
 */

import * as lease from './lease-state.ts';
import { INITIAL_LEASE_STATE, type LeaseState } from './lease-state.ts';
import { addNonceEntries, type NonceClaim, nonceKey, nonceVerdict } from './nonces.ts';
import {
  type LeaseObservation,
  type LeaseOp,
  type LeaseRequest,
  type LeaseResponse,
  MAX_OBSERVATIONS_PER_PAGE,
  type ObservationsResponse,
} from './protocol.ts';
import type { AuthContext, BackendResult } from './request.ts';

export const STATE_KEY = 'lease';
export const OBS_META_KEY = 'obsmeta';
export const OBS_PREFIX = 'obs:';
/** Observations kept per lease; older ones are pruned (a harness polls far more often). */
export const OBS_KEEP = 10_000;

/** What the front Worker sends to the object (internal; never exposed to clients). */
export interface ObjectCommand {
  op: LeaseOp;
  region: string;
  epoch?: number;
  since?: number;
  claim: NonceClaim;
  /** GET /status?peek=1: an observer's read (the stale-instance fault routes it to the new instance) */
  peek?: boolean;
}

/**
 * What the front Worker asks the lease object for an authenticated request: the op, the
 * region the signature proved (never a region the body names) and the nonce to record. One
 * definition for workerd (durable.ts) and the simulator's Worker model.
 */
export function objectCommandOf(request: LeaseRequest, auth: AuthContext): ObjectCommand {
  const cmd: ObjectCommand = {
    op: request.op,
    region: auth.region,
    claim: { nonce: auth.nonce, timestampMs: auth.timestampMs },
  };
  if (request.epoch !== undefined) cmd.epoch = request.epoch;
  if (request.since !== undefined) cmd.since = request.since;
  if (request.peek === true) cmd.peek = true;
  return cmd;
}

/** Where the front Worker sends an authenticated request: the object's name and the command. */
export interface ObjectCall {
  name: string;
  command: ObjectCommand;
}

/**
 * The Durable Object of a request is named after the lease it asks about, never after the
 * caller: every region's requests for one lease must meet in one object, whose input gate
 * serialises them; an object per caller would be a lease per region. One definition for
 * workerd (durable.ts: idFromName) and the simulator's Worker model (one storage per name).
 */
export function objectCallOf(request: LeaseRequest, auth: AuthContext): ObjectCall {
  return {
    name: request.lease,
    command: objectCommandOf(request, auth),
  };
}

export interface ObsMeta {
  /** seq of the last observation written; 0 = none */
  seq: number;
  /** highest epoch whose expiry was noted */
  expiredEpoch: number;
}

const INITIAL_META: ObsMeta = Object.freeze({ seq: 0, expiredEpoch: 0 });

export type NewObservation = Omit<LeaseObservation, 'seq'>;

export interface ObjectOutcome {
  result: BackendResult;
  /**
   * everything to write in one put, in order (storage.put takes it as an object:
   * Object.fromEntries; a Map here because its keys are new per request, nonces.ts says why);
   * null when nothing changes (replay, stale)
   */
  writes: Map<string, unknown> | null;
  /** in order, with their seq */
  observations: LeaseObservation[];
  /** the lease after the request */
  state: LeaseState;
  /** set for GET /observations: the caller lists the log after `since` */
  listSince?: number;
}

/**
 * When the object runs its amortised nonce pruning: after a command that wrote. A replayed or
 * stale request changes nothing, so it leaves the prune schedule as it was. durable.ts and the
 * simulator's store model both ask this; they drifted apart when each kept its own copy.
 */
export function prunesAfter(out: ObjectOutcome): boolean {
  return out.writes !== null;
}

export function observationKey(seq: number): string {
  return OBS_PREFIX + String(seq).padStart(12, '0');
}

/** The storage listing of one page of observations after `since`. */
export function observationListing(since: number): { prefix: string; start: string; limit: number } {
  return { prefix: OBS_PREFIX, start: observationKey(since + 1), limit: MAX_OBSERVATIONS_PER_PAGE };
}

/** Listing of log entries old enough to prune, given the newest seq. */
export function prunableObservations(seq: number): { prefix: string; end: string; limit: number } | null {
  if (seq <= OBS_KEEP) return null;
  return { prefix: OBS_PREFIX, end: observationKey(seq - OBS_KEEP), limit: 128 };
}

export function observationsBody(
  listed: Iterable<unknown>,
  since: number,
  nowMs: number,
): ObservationsResponse {
  const observations = [...listed].filter(isObservation).filter((o) => o.seq > since);
  const last = observations.at(-1);
  return { observations, next: last ? last.seq : since, serverTime: nowMs };
}

function isObservation(v: unknown): v is LeaseObservation {
  return typeof v === 'object' && v !== null && Number.isSafeInteger((v as { seq?: unknown }).seq);
}

export function objectReadKeys(cmd: ObjectCommand): string[] {
  return [STATE_KEY, OBS_META_KEY, nonceKey(cmd.claim.nonce)];
}

function readState(raw: unknown): LeaseState {
  if (raw === undefined) return INITIAL_LEASE_STATE;
  // Corrupt state must never be "repaired" to epoch 0: that would reuse epochs.
  if (!lease.isLeaseState(raw)) throw new Error(`corrupt lease state in storage: ${JSON.stringify(raw)}`);
  return raw;
}

function readMeta(raw: unknown): ObsMeta {
  if (raw === undefined) return INITIAL_META;
  const m = raw as Partial<ObsMeta>;
  if (!Number.isSafeInteger(m.seq) || !Number.isSafeInteger(m.expiredEpoch)) {
    throw new Error(`corrupt observation meta in storage: ${JSON.stringify(raw)}`);
  }
  return m as ObsMeta;
}

/** The expiry of the current grant, if it has run out by `nowMs` and was not noted yet. */
export function pendingExpiry(s: LeaseState, meta: ObsMeta, nowMs: number): NewObservation | null {
  if (s.holder === null || s.expiresAt === null || nowMs < s.expiresAt) return null;
  if (meta.expiredEpoch >= s.epoch) return null;
  return {
    op: 'expire',
    region: s.holder,
    holder: null,
    epoch: s.epoch,
    expiresAt: s.expiresAt,
    storeMs: s.expiresAt,
  };
}

/** Appends observations to the log: the entries to write and the new meta. */
function appendLog(
  meta: ObsMeta,
  fresh: NewObservation[],
  writes: Map<string, unknown>,
): { meta: ObsMeta; logged: LeaseObservation[] } {
  let seq = meta.seq;
  let expiredEpoch = meta.expiredEpoch;
  const logged: LeaseObservation[] = [];
  for (const o of fresh) {
    seq++;
    const entry: LeaseObservation = { seq, ...o };
    writes.set(observationKey(seq), entry);
    logged.push(entry);
    if (o.op === 'expire') expiredEpoch = Math.max(expiredEpoch, o.epoch);
  }
  const next = { seq, expiredEpoch };
  if (logged.length > 0) writes.set(OBS_META_KEY, next);
  return { meta: next, logged };
}

/**
 * Notes an expiry at the moment it happens (for a caller with a timer, the simulator):
 * the writes and the observation, or null when there is nothing to note.
 */
export function noteExpiry(
  stored: ReadonlyMap<string, unknown>,
  nowMs: number,
): { writes: Map<string, unknown>; observation: LeaseObservation } | null {
  const state = readState(stored.get(STATE_KEY));
  const meta = readMeta(stored.get(OBS_META_KEY));
  const expiry = pendingExpiry(state, meta, nowMs);
  if (!expiry) return null;
  const writes = new Map<string, unknown>();
  const { logged } = appendLog(meta, [expiry], writes);
  return { writes, observation: logged[0] as LeaseObservation };
}

function observe(op: LeaseOp, region: string, t: lease.Transition<LeaseResponse>, nowMs: number) {
  if (op !== 'acquire' && op !== 'renew' && op !== 'release') return null;
  const r = t.response;
  const after = { region, holder: r.holder, epoch: r.epoch, expiresAt: r.expiresAt, storeMs: nowMs };
  if (!t.changed) return { op: 'refuse', requested: op, ...after } satisfies NewObservation;
  const kind = op === 'acquire' ? 'grant' : op;
  return { op: kind, ...after } satisfies NewObservation;
}

function transition(cmd: ObjectCommand, state: LeaseState, nowMs: number, ttlMs: number) {
  switch (cmd.op) {
    case 'acquire':
      return lease.acquire(state, cmd.region, nowMs, ttlMs);
    case 'renew':
      return lease.renew(state, cmd.region, cmd.epoch ?? -1, nowMs, ttlMs);
    case 'release':
      return lease.release(state, cmd.region, cmd.epoch ?? -1, nowMs, ttlMs);
    default:
      return null;
  }
}

/** One request, start to end. Throws on corrupt storage (the Worker answers 500). */
export function executeObjectCommand(
  stored: ReadonlyMap<string, unknown>,
  cmd: ObjectCommand,
  nowMs: number,
  ttlMs: number,
): ObjectOutcome {
  const state = readState(stored.get(STATE_KEY));
  const verdict = nonceVerdict(stored.has(nonceKey(cmd.claim.nonce)), cmd.claim, nowMs);
  if (verdict !== 'ok') return { result: { kind: verdict }, writes: null, observations: [], state };

  // One put: the consumed nonce, the lease change (if any) and what the store observed.
  const writes = addNonceEntries(new Map(), cmd.claim);
  const fresh: NewObservation[] = [];
  const expiry = pendingExpiry(state, readMeta(stored.get(OBS_META_KEY)), nowMs);
  if (expiry) fresh.push(expiry);
  const t = transition(cmd, state, nowMs, ttlMs);
  let next = state;
  let result: BackendResult;
  if (t) {
    next = t.state;
    if (t.changed) writes.set(STATE_KEY, next);
    const o = observe(cmd.op, cmd.region, t, nowMs);
    if (o) fresh.push(o);
    result = { kind: 'ok', body: t.response };
  } else if (cmd.op === 'status') {
    result = { kind: 'ok', body: lease.status(state, nowMs, ttlMs) };
  } else {
    result = { kind: 'ok', body: { observations: [], next: cmd.since ?? 0, serverTime: nowMs } };
  }
  const { logged } = appendLog(readMeta(stored.get(OBS_META_KEY)), fresh, writes);
  const out: ObjectOutcome = { result, writes, observations: logged, state: next };
  if (cmd.op === 'observations') out.listSince = cmd.since ?? 0;
  return out;
}
