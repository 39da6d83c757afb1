/**
 * The lease Worker behind `worker`, in both variants, judged by the Worker's own clock.
 *
 * durable: the real pure state machine of the Durable Object (src/worker/lease-state.ts),
 *   applied atomically per request — exactly what src/worker/durable.ts does inside its
 *   storage read-modify-write. State survives a Worker crash (it is in DO storage).
 * kv (legacy-kv, KNOWN UNSAFE): mirrors src/worker/legacy-kv.ts + kv-locations.ts line by
 *   line (those files use Date.now() and module-global caches, so they cannot run here):
 *   get-then-put without compare-and-set; value = bare region string; expiry raised to KV's
 *   60 s minimum; each region served by its own location `loc-<region>` whose reads —
 *   including negative lookups — are cached for cacheTtl (60 s); writes are visible at the
 *   writing location at once; epoch = the grant's server timestamp (not a fencing token),
 *   echoed unchanged by a granted renew.
 *   A `kv-staleness` fault raises cacheTtl.
 */

import type { LeaseState } from '../../src/worker/lease-state.ts';
import * as lease from '../../src/worker/lease-state.ts';
import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import { type Call, Proc, type Server } from '../net.ts';

export interface LeaseRequest {
  op: 'acquire' | 'renew' | 'release' | 'status';
  region: string;
  epoch?: number;
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

export type LeaseBackend = 'durable' | 'kv';

interface CentralEntry {
  value: string;
  expiresAtMs: number;
}
interface CacheEntry {
  value: string | null;
  valueExpiresAtMs: number | null;
  cachedUntilMs: number;
}

export class LeaseStoreModel implements Server {
  readonly proc: Proc;
  // durable
  private state: LeaseState = lease.INITIAL_LEASE_STATE;
  // kv
  private central: CentralEntry | null = null;
  private readonly caches = new Map<string, CacheEntry>();
  /** extra cacheTtl from active kv-staleness faults (the largest wins) */
  private readonly staleOverrides: number[] = [];

  constructor(
    private readonly sim: SimContext,
    readonly backend: LeaseBackend,
    readonly leaseTtlMs: number,
    clock: NodeClock,
  ) {
    this.proc = new Proc('worker', clock);
  }

  private nowMs(): number {
    return this.proc.clock.read(this.sim.engine.now);
  }

  serve(call: Call): void {
    const req = call.req as LeaseRequest;
    const reply = this.backend === 'durable' ? this.durable(req) : this.legacyKv(req);
    this.sim.net.reply(call, reply);
  }

  // ------------------------------------------------------------------ durable

  private durable(req: LeaseRequest): LeaseReply {
    const now = this.nowMs();
    const ttl = this.leaseTtlMs;
    let t: lease.Transition<LeaseReply>;
    switch (req.op) {
      case 'acquire':
        t = lease.acquire(this.state, req.region, now, ttl);
        break;
      case 'renew':
        t = lease.renew(this.state, req.region, req.epoch ?? -1, now, ttl);
        break;
      case 'release':
        t = lease.release(this.state, req.region, req.epoch ?? -1, now, ttl);
        break;
      case 'status':
        return { granted: false, ...lease.status(this.state, now, ttl) };
    }
    if (t.changed) {
      this.state = t.state;
      this.sim.rec.emit({
        kind: 'lease-store',
        t: this.sim.engine.now,
        holder: t.state.holder,
        epoch: t.state.epoch,
        expiresAt: t.state.expiresAt,
      });
    }
    return t.response;
  }

  // ------------------------------------------------------------------ legacy-kv

  private cacheTtlMs(): number {
    let ttl = this.sim.timings.kvCacheTtlMs;
    for (const s of this.staleOverrides) if (s > ttl) ttl = s;
    return ttl;
  }

  private expirationMs(): number {
    return Math.max(this.sim.timings.kvDesignTtlMs, this.sim.timings.kvMinExpirationMs);
  }

  /** LocationKv.get */
  private kvGet(location: string, now: number): string | null {
    const hit = this.caches.get(location);
    if (hit && now < hit.cachedUntilMs) return live(hit, now);
    const c = this.central;
    const entry: CacheEntry = {
      value: c !== null && now < c.expiresAtMs ? c.value : null,
      valueExpiresAtMs: c?.expiresAtMs ?? null,
      cachedUntilMs: now + this.cacheTtlMs(),
    };
    this.caches.set(location, entry);
    return live(entry, now);
  }

  /** LocationKv.put: central write (last write wins) + the writer's location sees it at once */
  private kvPut(location: string, value: string, now: number, epoch: number): number {
    const expiresAtMs = now + this.expirationMs();
    this.central = { value, expiresAtMs };
    this.caches.set(location, {
      value,
      valueExpiresAtMs: expiresAtMs,
      cachedUntilMs: now + this.cacheTtlMs(),
    });
    this.sim.rec.emit({
      kind: 'lease-store',
      t: this.sim.engine.now,
      holder: value,
      epoch,
      expiresAt: expiresAtMs,
      location,
    });
    return expiresAtMs;
  }

  private kvDelete(location: string, now: number): void {
    this.central = null;
    this.caches.set(location, {
      value: null,
      valueExpiresAtMs: null,
      cachedUntilMs: now + this.cacheTtlMs(),
    });
    this.sim.rec.emit({
      kind: 'lease-store',
      t: this.sim.engine.now,
      holder: null,
      epoch: 0,
      expiresAt: null,
      location,
    });
  }

  private legacyKv(req: LeaseRequest): LeaseReply {
    const now = this.nowMs();
    const location = `loc-${req.region}`;
    const ttlMs = this.expirationMs();
    const answer = (
      granted: boolean,
      holder: string | null,
      epoch: number,
      expiresAt: number | null,
    ): LeaseReply => ({
      granted,
      holder,
      epoch,
      ttlMs,
      expiresAt,
      serverTime: now,
    });
    const current = this.kvGet(location, now);
    switch (req.op) {
      case 'acquire':
        if (!current) return answer(true, req.region, now, this.kvPut(location, req.region, now, now));
        return answer(false, current, 0, null);
      case 'renew':
        // handbook: renew also when nobody holds it, ignoring the presented epoch
        if (current === req.region || current === null) {
          // no new token: the caller keeps the epoch it presented (src/worker/legacy-kv.ts)
          const epoch = req.epoch ?? 0;
          return answer(true, req.region, epoch, this.kvPut(location, req.region, now, epoch));
        }
        return answer(false, current, 0, null);
      case 'release':
        if (current === req.region) {
          this.kvDelete(location, now);
          return { ...answer(false, null, 0, null), released: true };
        }
        return { ...answer(false, current, 0, null), released: false };
      case 'status':
        return answer(false, current, 0, null);
    }
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

function live(entry: CacheEntry, nowMs: number): string | null {
  if (entry.value !== null && entry.valueExpiresAtMs !== null && nowMs >= entry.valueExpiresAtMs) return null;
  return entry.value;
}
