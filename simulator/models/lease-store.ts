/**
 * The lease Worker behind `worker`, in both variants: a thin adapter that runs the
 * production request handling on virtual time. Nothing of the Worker is restated here:
 * - src/worker/request.ts: the request procedure (signature check on the raw bytes,
 *   parse, backend, replay/stale answers), driven synchronously with the simulator's MAC (simMac);
 * - durable: src/worker/lease-object.ts (the object's name, nonce cache, lease-state.ts
 *   transitions and the store's observations) applied to this model's in-memory Durable
 *   Object storage, one per object name, which survives a Worker crash like DO storage does;
 * - kv (legacy-kv, KNOWN UNSAFE): src/worker/legacy-kv-rules.ts against the simulated KV
 *   (./kv.ts: 60 s minimum expiration, per-location read caches with cacheTtl), with the
 *   nonce guard's rule from src/worker/nonces.ts. A `kv-staleness` fault raises cacheTtl.
 * All times are the Worker's own (drifting) clock.
 *
 * Requests come in two shapes: a signed HTTP request (`SignedLeaseRequest`, built with
 * signLeaseRequest by the caller on its own clock, answered with status and body), or the
 * plain `LeaseRequest`, which this adapter signs on arrival as the region's client would
 * (counter nonces, the Worker's clock) and answers with the 200 body as a LeaseReply.
 *
 * What the store observes (grants, renewals, releases, refusals, expiries) becomes
 * `lease-store` history events when it happens; expiries are timed on the Worker's clock.
 * The legacy-kv variant reports no refusals (it has no epoch to report for them) and no
 * expiries (KV expires values without the Worker noticing).
 */
import { leaseHttpRequest } from '../../src/agent/lease-client.ts';
import type { LeaseStoreEvent, StoreStorageEvent } from '../../src/contracts/history.ts';
import {
  executeObjectCommand,
  noteExpiry,
  OBS_META_KEY,
  type ObjectCommand,
  type ObsMeta,
  objectCallOf,
  objectReadKeys,
  prunesAfter,
  STATE_KEY,
} from '../../src/worker/lease-object.ts';
import type { LeaseState } from '../../src/worker/lease-state.ts';
import { decideLegacy, kvExpirationMs, legacyKey, locationOf } from '../../src/worker/legacy-kv-rules.ts';
import {
  addNonceEntries,
  expiredNonceListing,
  keysToPrune,
  nonceKey,
  nonceVerdict,
  PruneSchedule,
} from '../../src/worker/nonces.ts';
import type {
  LeaseObservation,
  LeaseResponse,
  LeaseStatusResponse,
  LeaseRequest as WireRequest,
} from '../../src/worker/protocol.ts';
import {
  type AuthContext,
  type BackendResult,
  type CallReply,
  leaseCallSteps,
  routeCall,
  runCallSync,
  type SecretsTable,
} from '../../src/worker/request.ts';
import { canonicalString, MAX_CLOCK_SKEW_MS, type SIGNATURE_HEADERS } from '../../src/worker/signing.ts';
import {
  executeOnStale,
  forkStaleInstance,
  newInstanceTouchesStorage,
  runsOnStale,
  type StaleInstance,
  StaleInstanceError,
  type StaleInstanceReport,
  staleReport,
} from '../../src/worker/stale-instance.ts';
import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import { Fnv1a } from '../hash.ts';
import { type Call, Proc, type Server } from '../net.ts';
import { SimKv } from './kv.ts';

/**
 * The Worker reads a wall clock (Date.now), and its signature check takes timestamps as
 * unsigned wall-clock ms: a simulated clock starting at 0 would go negative under a
 * backwards clock fault and be refused as malformed. So the Worker's simulated clock is
 * presented on a wall-clock scale, starting at 2026-01-01T00:00:00Z; everything that reads
 * its times (core, checker) uses differences only. A caller that signs its own requests
 * (signLeaseRequest) adds this to its clock too.
 */
export const SIM_WALL_EPOCH_MS = 1_767_225_600_000;

/** The prefix of the nonce index keys (src/worker/nonces.ts), as its pruning lists them. */
const NONCE_INDEX_PREFIX = expiredNonceListing(0).prefix;
/** The prefix of the nonce keys themselves. */
const NONCE_KEY_PREFIX = nonceKey('');

/** The lease every simulated controller asks for. */
export const SIM_LEASE_NAME = 'svc';

export interface LeaseRequest {
  op: 'acquire' | 'renew' | 'release' | 'status';
  region: string;
  epoch?: number;
  /**
   * When the caller sent it (global ms) and how far its wall clock was stepped by clock faults
   * then: the signature's timestamp is the caller's Date.now at send, as src/agent/lease-client.ts
   * signs. Absent: signed on the Worker's clock at arrival (callers without a clock, e.g. tests).
   */
  sentAtT?: number;
  wallStepMs?: number;
  /**
   * The request a controller's lease client built (src/agent/lease-client.ts
   * leaseHttpRequest), signed here on its behalf; absent: built here the same way (tests,
   * observers).
   */
  http?: { method: 'GET' | 'POST'; pathWithQuery: string; body: string };
}

export interface LeaseReply {
  granted: boolean;
  holder: string | null;
  epoch: number;
  ttlMs: number;
  expiresAt: number | null;
  serverTime: number;
  released?: boolean;
}

/** A signed HTTP request as the controller's lease client sends it. */
export interface SignedLeaseRequest {
  signed: {
    method: 'GET' | 'POST';
    pathname: string;
    search: string;
    headers: Record<string, string>;
    body: string;
  };
}

export type LeaseBackend = 'durable' | 'kv';

/** A lease-store event with what the store observed (the fields src/contracts/history.ts adds). */
type StoreObservationEvent = Omit<LeaseStoreEvent, 'seq'> & {
  op: LeaseObservation['op'];
  region: string;
  requested?: LeaseObservation['requested'];
  storeNowMs?: number;
};

/** Each region's MAC secret in the simulator (deterministic; the real ones are random). */
export function simLeaseSecret(region: string): string {
  return `sim-lease-secret-${region}`;
}

/**
 * The simulator's MAC: keyed FNV-1a, not HMAC-SHA256. The request procedure takes its MAC as
 * a port (src/worker/request.ts runCallSync), and in the simulator both ends of every signed
 * request are this adapter, so the production check still compares what the client signed
 * with what the Worker expects, over the same canonical string; the simulator has no forger
 * for a cryptographic MAC to stop. node:crypto's HMAC was 7 % of a search's CPU (issue #18).
 */
function simMac(secret: string, message: string): string {
  // Both ends MAC the same canonical string, one right after the other (the adapter signs,
  // the procedure verifies): the last result is kept, compared by value, never by identity.
  if (message === lastMac.message && secret === lastMac.secret) return lastMac.hex;
  const hex = new Fnv1a().string(secret).string(message).hex();
  lastMac.secret = secret;
  lastMac.message = message;
  lastMac.hex = hex;
  return hex;
}
const lastMac = { secret: '', message: '', hex: '' };

/** `<length of region, hex><region's bytes, hex>`: the region's part of its counter nonces */
const noncePrefixes = new Map<string, string>();
function noncePrefix(region: string): string {
  let p = noncePrefixes.get(region);
  if (p === undefined) {
    p = `${region.length.toString(16)}${Buffer.from(region).toString('hex')}`;
    noncePrefixes.set(region, p);
  }
  return p;
}

/**
 * Signs a lease request on the caller's clock: the request a controller's lease client built
 * (`req.http`), or, for callers without one (tests, observers), the one that client builds
 * (leaseHttpRequest), so the request's shape exists only there.
 */
export function signLeaseRequest(
  req: LeaseRequest,
  timestampMs: number,
  nonceSeq: number,
  lease = SIM_LEASE_NAME,
): SignedLeaseRequest {
  const nonce = noncePrefix(req.region).concat(nonceSeq.toString(16).padStart(16, '0')).slice(-128);
  const http = req.http ?? leaseHttpRequest(req.op, req.epoch ?? null, lease);
  const q = http.pathWithQuery.indexOf('?');
  const pathname = q < 0 ? http.pathWithQuery : http.pathWithQuery.slice(0, q);
  const search = q < 0 ? '' : http.pathWithQuery.slice(q);
  const signature = simMac(
    simLeaseSecret(req.region),
    canonicalString(http.method, http.pathWithQuery, timestampMs, nonce, http.body),
  );
  return {
    signed: {
      method: http.method,
      pathname,
      search,
      body: http.body,
      // the names written out (SIGNATURE_HEADERS' values, checked below): a literal with
      // computed keys is built key by key at run time, one per signed request
      headers: {
        'x-fl-region': req.region,
        'x-fl-timestamp': String(timestampMs),
        'x-fl-nonce': nonce,
        'x-fl-signature': signature,
      } satisfies Record<(typeof SIGNATURE_HEADERS)[keyof typeof SIGNATURE_HEADERS], string>,
    },
  };
}

/** A signed request's headers as the procedure reads them (lower-case names, as sent). */
class HeaderView {
  h: Record<string, string> = {};
  get(name: string): string | null {
    // the procedure asks by the lower-case names it signs with: no case folding for those
    const h = this.h;
    if (Object.hasOwn(h, name)) return h[name] ?? null;
    const k = name.toLowerCase();
    return Object.hasOwn(h, k) ? (h[k] ?? null) : null;
  }
}

/**
 * One Durable Object, as workerd keeps one per name: its storage, which survives Worker
 * crashes, and what its instance keeps beside it (the nonce prune schedule, the model's expiry
 * timer, the stale-instance fault's old instance).
 */
class SimDurableObject {
  readonly storage = new Map<string, unknown>();
  /** the storage keys under the nonce index's prefix (what pruning lists) */
  readonly nonceIndexKeys = new Set<string>();
  /**
   * The same keys in storage.list order (ascending), so a listing of the expired ones reads
   * only those: a nonce's index key starts with its retention end, and requests arrive
   * almost in that order, so each insertion moves at most a few keys. Pruning is due on
   * nearly every request, and it walked and sorted every live key (issue #18).
   */
  private readonly nonceIndexSorted: string[] = [];
  /** how many `nonce:` keys storage holds: counted as keys come and go, never by a scan */
  nonceKeys = 0;
  /** the nonce count at which the next high-water reading is recorded (×1.5 each time) */
  nextHighWater = 16;
  /** global time of the last request this object served */
  lastRequestT = 0;
  readonly prune = new PruneSchedule();

  constructor(readonly name: string) {}
  /** when this object's expiry timer fires (global ms), if one is armed */
  expiryArmedAtT: number | null = null;
  /** the stale-instance fault: an old instance of this object still serving (durable only) */
  stale: StaleInstance | null = null;

  write(entries: ReadonlyMap<string, unknown>): void {
    for (const [k, v] of entries) {
      const size = this.storage.size;
      this.storage.set(k, v);
      if (k.startsWith(NONCE_INDEX_PREFIX)) this.addIndexKey(k);
      else if (this.storage.size > size && k.startsWith(NONCE_KEY_PREFIX)) this.nonceKeys++;
    }
  }

  private addIndexKey(k: string): void {
    if (this.nonceIndexKeys.has(k)) return;
    this.nonceIndexKeys.add(k);
    const sorted = this.nonceIndexSorted;
    let i = sorted.length;
    sorted.push(k);
    while (i > 0 && sorted[i - 1]! > k) {
      sorted[i] = sorted[i - 1]!;
      i--;
    }
    sorted[i] = k;
  }

  /**
   * The Durable Object's amortised nonce pruning, over the in-memory storage: what
   * storage.list({ prefix, end, limit }) returns (keys under the prefix, below `end`, in
   * order, at most `limit`), then storage.delete of keysToPrune's keys.
   */
  pruneNonces(nowMs: number): void {
    if (!this.prune.due(nowMs)) return;
    const { prefix, end, limit } = expiredNonceListing(nowMs);
    const batch: string[] = [];
    for (const k of this.nonceIndexSorted) {
      if (batch.length >= limit) break;
      if (k.startsWith(prefix) && k < end) batch.push(k);
      // every index key starts with the prefix it is listed by: the rest are all >= end
      else if (prefix === NONCE_INDEX_PREFIX) break;
    }
    if (batch.length > 0) {
      for (const k of keysToPrune(batch)) {
        // the storage's own count: a key that was not there is not removed (delete says which)
        if (this.storage.delete(k) && k.startsWith(NONCE_KEY_PREFIX)) this.nonceKeys--;
        this.nonceIndexKeys.delete(k);
      }
      this.dropPrunedIndexKeys();
    }
    this.prune.pruned(batch.length);
  }

  /** Drops from the sorted index the keys pruning deleted (normally its first few). */
  private dropPrunedIndexKeys(): void {
    const sorted = this.nonceIndexSorted;
    let n = 0;
    while (n < sorted.length && !this.nonceIndexKeys.has(sorted[n]!)) n++;
    if (n > 0) sorted.splice(0, n);
    if (sorted.length !== this.nonceIndexKeys.size) {
      const kept = sorted.filter((k) => this.nonceIndexKeys.has(k));
      sorted.length = 0;
      sorted.push(...kept);
    }
  }
}

export class LeaseStoreModel implements Server {
  readonly proc: Proc;
  /**
   * The Durable Objects by name, each made at its first request as workerd makes them. The
   * front Worker names them (objectCallOf, shared with durable.ts): every simulated controller
   * asks for SIM_LEASE_NAME, so a Worker that names them by lease uses one object, and one
   * that names them otherwise gets a lease per name.
   */
  private readonly objects = new Map<string, SimDurableObject>();
  /** the object of SIM_LEASE_NAME: the stale-instance fault's, and the kv variant's nonce guard */
  private readonly leaseObject: SimDurableObject;
  private readonly kv: SimKv;
  private readonly secrets: Record<string, string>;
  private readonly nonceSeq = new Map<string, number>();
  /** extra cacheTtl from active kv-staleness faults (the largest wins) */
  private readonly staleOverrides: number[] = [];
  /** steps of the Worker's wall clock by clock faults so far (see callerWallMs) */
  private wallStepMs = 0;
  private readonly headerView = new HeaderView();
  private readonly secretsTable: SecretsTable;
  private readonly port = {
    mac: simMac,
    backend: (r: WireRequest, a: AuthContext): BackendResult =>
      this.backend === 'durable' ? this.durable(r, a) : this.legacyKv(r, a),
  };

  constructor(
    private readonly sim: SimContext,
    readonly backend: LeaseBackend,
    readonly leaseTtlMs: number,
    clock: NodeClock,
  ) {
    this.proc = new Proc('worker', clock);
    this.kv = new SimKv(sim.timings.kvMinExpirationMs);
    this.secrets = Object.fromEntries(sim.spec.regions.map((r) => [r, simLeaseSecret(r)]));
    this.secretsTable = { ok: true, table: this.secrets };
    this.leaseObject = this.objectNamed(SIM_LEASE_NAME);
  }

  private objectNamed(name: string): SimDurableObject {
    let o = this.objects.get(name);
    if (o === undefined) {
      o = new SimDurableObject(name);
      this.objects.set(name, o);
    }
    return o;
  }

  /** A clock fault steps the Worker's wall clock by `deltaMs` (its NodeClock is stepped too). */
  stepWallClock(deltaMs: number): void {
    this.wallStepMs += deltaMs;
  }

  /**
   * The caller's Date.now when it sent `req`. Wall clocks are NTP-disciplined, so apart from the
   * steps clock faults inject, the caller's reads the Worker's time (back by the transit); a
   * drifting monotonic clock (ρ) does not carry into the wall clock here.
   */
  private callerWallMs(req: LeaseRequest, nowMs: number): number {
    if (req.sentAtT === undefined) return nowMs;
    const transitMs = this.sim.engine.now - req.sentAtT;
    return nowMs - transitMs + (req.wallStepMs ?? 0) - this.wallStepMs;
  }

  /** The Worker's Date.now(): its simulated clock on a wall-clock scale (see SIM_WALL_EPOCH_MS). */
  private nowMs(): number {
    return SIM_WALL_EPOCH_MS + this.proc.clock.read(this.sim.engine.now);
  }

  serve(call: Call): void {
    const req = call.req as LeaseRequest | SignedLeaseRequest;
    if ('signed' in req) {
      this.sim.net.reply(call, this.handle(req));
      return;
    }
    const seq = (this.nonceSeq.get(req.region) ?? 0) + 1;
    this.nonceSeq.set(req.region, seq);
    const nowMs = this.nowMs();
    const signedAtMs = this.callerWallMs(req, nowMs);
    const reply = this.handle(signLeaseRequest(req, signedAtMs, seq));
    if (reply.status === 500) {
      // an old instance's storage write threw (stale-instance): the client sees a failed call
      this.sim.net.fail(call, `HTTP 500 ${JSON.stringify(reply.body)}`);
      return;
    }
    if (reply.status === 401 && Math.abs(nowMs - signedAtMs) > MAX_CLOCK_SKEW_MS) {
      // the caller's wall clock really is off by more than the Worker accepts (a clock fault):
      // refused as stale, as the real Worker refuses it. Any other refusal is a Worker bug. The
      // skew test is restated here on purpose, not taken from signing.ts: it is the yardstick
      // that tells a Worker whose own test is wrong from a caller whose clock is.
      this.sim.net.fail(call, `HTTP 401 ${JSON.stringify(reply.body)}`);
      return;
    }
    // any other refusal of a request the lease client built and this model signed validly is
    // a bug in the Worker's request path or in the client's request (leaseHttpRequest): a
    // finding, reported as the run's error rather than left to surface as failed renewals
    if (reply.status !== 200) {
      const what =
        `${req.http?.method ?? ''} ${req.http?.pathWithQuery ?? `/${req.op}`} ${req.http?.body ?? ''}`.trim();
      throw new Error(
        `simulator: the lease Worker refused ctl-${req.region}'s ${req.op} (${what}): ${JSON.stringify(reply)} — a bug in the Worker's request path or in the lease client's request`,
      );
    }
    const body = reply.body as LeaseResponse | LeaseStatusResponse;
    this.sim.net.reply(call, ('granted' in body ? body : { granted: false, ...body }) satisfies LeaseReply);
  }

  /** The production request procedure, with synchronous effects. */
  private handle({ signed }: SignedLeaseRequest): CallReply {
    const route = routeCall(signed.method, signed.pathname);
    if (!route.ok) return route.reply;
    // one header view and one port per model, not closures per request: the procedure runs
    // to its end inside runCallSync, so nothing keeps them past this call
    this.headerView.h = signed.headers;
    const steps = leaseCallSteps(
      {
        method: signed.method,
        pathname: signed.pathname,
        search: signed.search,
        body: signed.body,
        headers: this.headerView,
      },
      route.op,
      this.secretsTable,
      this.nowMs(),
    );
    try {
      return runCallSync(steps, this.port);
    } catch (err) {
      // the old instance's storage write threw: the front Worker answers 500, as in workerd
      if (err instanceof StaleInstanceError) return { status: 500, body: { error: 'internal error' } };
      throw err;
    }
  }

  // ------------------------------------------------------------------ durable

  private durable(req: WireRequest, auth: AuthContext): BackendResult {
    const now = this.nowMs();
    // the front Worker's forwarding and the object's naming and routing, as workerd runs
    // them (durable.ts)
    const { name, command: cmd } = objectCallOf(req, auth);
    const obj = this.objectNamed(name);
    if (runsOnStale(obj.stale, cmd)) return this.durableOnStale(obj, obj.stale, cmd, now);
    newInstanceTouchesStorage(obj.stale);
    const out = executeObjectCommand(this.read(obj, objectReadKeys(cmd)), cmd, now, this.leaseTtlMs);
    if (out.writes) obj.write(out.writes);
    for (const o of out.observations) this.record(o);
    this.armExpiry(obj);
    // the object's own rule (lease-object.ts prunesAfter), as durable.ts asks it
    if (prunesAfter(out)) obj.pruneNonces(now);
    this.servedBy(obj);
    return out.result;
  }

  /** A request on the old instance (src/worker/stale-instance.ts), as the lease object runs it. */
  private durableOnStale(
    obj: SimDurableObject,
    stale: StaleInstance,
    cmd: ObjectCommand,
    now: number,
  ): BackendResult {
    const { outcome, commit } = executeOnStale(stale, cmd, now, this.leaseTtlMs);
    if (commit) obj.write(commit);
    for (const o of outcome.observations) this.record(o);
    this.armExpiry(obj);
    this.servedBy(obj);
    return outcome.result;
  }

  /** stale-instance fault: fork the lease object's old instance from storage as it is now. */
  startStaleInstance(region: string): StaleInstanceReport {
    const obj = this.leaseObject;
    obj.stale = forkStaleInstance(region, obj.storage);
    return staleReport(obj.stale);
  }

  /** stale-instance fault ends: what the old instance did. */
  stopStaleInstance(): StaleInstanceReport {
    const report = staleReport(this.leaseObject.stale);
    this.leaseObject.stale = null;
    return report;
  }

  /**
   * The values of `keys` as one storage.get returns them. One map, refilled per read: both
   * readers (executeObjectCommand, noteExpiry) are done with it before they return.
   */
  private read(obj: SimDurableObject, keys: string[]): ReadonlyMap<string, unknown> {
    const stored = this.readBuffer;
    stored.clear();
    for (const k of keys) if (obj.storage.has(k)) stored.set(k, obj.storage.get(k));
    return stored;
  }
  private readonly readBuffer = new Map<string, unknown>();

  /** A timer at the grant's expiry on the Worker's clock, so the expiry is seen when it happens. */
  private armExpiry(obj: SimDurableObject, notBeforeT = this.sim.engine.now): void {
    if (this.backend !== 'durable') return;
    const s = obj.storage.get(STATE_KEY) as LeaseState | undefined;
    if (!s || s.holder === null || s.expiresAt === null) return;
    const meta = obj.storage.get(OBS_META_KEY) as ObsMeta | undefined;
    if (meta && meta.expiredEpoch >= s.epoch) return; // this grant's expiry is already noted
    const at = this.proc.clock.globalAt(s.expiresAt - SIM_WALL_EPOCH_MS, notBeforeT);
    if (obj.expiryArmedAtT !== null && obj.expiryArmedAtT <= at) return;
    obj.expiryArmedAtT = at;
    const incarnation = this.proc.incarnation;
    this.sim.engine.at(at, () => {
      if (obj.expiryArmedAtT === at) obj.expiryArmedAtT = null;
      this.proc.run(() => this.onExpiryTimer(obj), undefined, incarnation);
    });
  }

  private onExpiryTimer(obj: SimDurableObject): void {
    const noted = noteExpiry(this.read(obj, [STATE_KEY, OBS_META_KEY]), this.nowMs());
    if (noted) {
      obj.write(noted.writes);
      this.record(noted.observation);
      return;
    }
    // Renewed meanwhile, or the clock moved (or rounding left it 1 ms short): wait again,
    // never at the same instant, so a timer cannot spin.
    this.armExpiry(obj, this.sim.engine.now + 1);
  }

  onRestart(): void {
    this.rearmExpiries();
  }

  onClockChange(): void {
    this.rearmExpiries();
  }

  /** The Worker restarted or its clock moved: every object's expiry timer is armed anew. */
  private rearmExpiries(): void {
    for (const obj of this.objects.values()) {
      obj.expiryArmedAtT = null;
      this.armExpiry(obj);
    }
  }

  /**
   * After a request on `obj`: its storage is read (a `store-storage` event) when its nonce
   * entries reach a new high, ×1.5 apart, so a run records a handful, not one per request.
   */
  private servedBy(obj: SimDurableObject): void {
    obj.lastRequestT = this.sim.engine.now;
    if (obj.nonceKeys < obj.nextHighWater) return;
    obj.nextHighWater = Math.ceil(obj.nonceKeys * 1.5);
    this.recordStorage(obj, 'high-water');
  }

  /**
   * The end of the run: every object's storage as its last request left it, stamped with the
   * history's last time (or that request's), so the reading does not stretch the history the
   * other checks judge.
   */
  recordStorageAtEnd(): void {
    let t = this.sim.rec.events.at(-1)?.t ?? 0;
    for (const obj of this.objects.values()) t = Math.max(t, obj.lastRequestT);
    for (const obj of this.objects.values()) this.recordStorage(obj, 'end', t);
  }

  private recordStorage(
    obj: SimDurableObject,
    reason: StoreStorageEvent['reason'],
    t = this.sim.engine.now,
  ): void {
    const ev: Omit<StoreStorageEvent, 'seq'> = {
      kind: 'store-storage',
      t,
      object: obj.name,
      keys: obj.storage.size,
      nonceKeys: obj.nonceKeys,
      nonceIndexKeys: obj.nonceIndexKeys.size,
      reason,
    };
    if (reason === 'end') ev.afterRequestT = obj.lastRequestT;
    this.sim.rec.emit(ev);
  }

  private record(o: LeaseObservation, location?: string): void {
    const ev: StoreObservationEvent = {
      kind: 'lease-store',
      t: this.sim.engine.now,
      holder: o.holder,
      epoch: o.epoch,
      expiresAt: o.expiresAt,
      op: o.op,
      region: o.region,
      storeNowMs: o.storeMs,
    };
    if (o.requested) ev.requested = o.requested;
    if (location !== undefined) ev.location = location;
    this.sim.rec.emit(ev);
  }

  // ------------------------------------------------------------------ legacy-kv

  private cacheTtlMs(): number {
    let ttl = this.sim.timings.kvCacheTtlMs;
    for (const s of this.staleOverrides) if (s > ttl) ttl = s;
    return ttl;
  }

  private legacyKv(req: WireRequest, auth: AuthContext): BackendResult {
    const now = this.nowMs();
    // the per-lease NonceGuard object
    const claim = { nonce: auth.nonce, timestampMs: auth.timestampMs };
    const guard = this.leaseObject;
    const verdict = nonceVerdict(guard.storage.has(nonceKey(claim.nonce)), claim, now);
    if (verdict === 'ok') guard.write(addNonceEntries(new Map(), claim));
    // legacy-kv.ts's NonceGuard prunes after every claim, a refused one too
    guard.pruneNonces(now);
    this.servedBy(guard);
    if (verdict !== 'ok') return { kind: verdict };

    const { kvDesignTtlMs, kvMinExpirationMs } = this.sim.timings;
    const expirationMs = kvExpirationMs(kvDesignTtlMs, kvMinExpirationMs);
    const location = locationOf(auth.region);
    const key = legacyKey(req.lease);
    const ttl = this.cacheTtlMs();
    // get-then-put, as the Worker does it (without its awaits nothing can interleave here;
    // the race lives across locations' caches and the network)
    const current = req.peek ? this.kv.peek(location, key, now) : this.kv.get(location, key, now, ttl);
    const decision = decideLegacy(req.op, auth.region, req.epoch, current, expirationMs);
    let expiresAt: number | null = null;
    if (decision.write?.kind === 'put') {
      expiresAt = this.kv.put(location, key, decision.write.value, expirationMs, now, ttl);
    } else if (decision.write?.kind === 'delete') {
      this.kv.delete(location, key, now, ttl);
    }
    const out = decision.finish(expiresAt, now);
    if (out.observation && out.observation.op !== 'refuse') {
      this.record({ seq: 0, ...out.observation }, location);
    }
    return { kind: 'ok', body: out.body };
  }

  /** kv-staleness fault: location caches live `staleMs` instead of 60 s while active. */
  addStaleness(staleMs: number): void {
    this.staleOverrides.push(staleMs);
  }

  removeStaleness(staleMs: number): void {
    const i = this.staleOverrides.indexOf(staleMs);
    if (i >= 0) this.staleOverrides.splice(i, 1);
  }
}
