/**
 * Cloudflare KV as seen from one "location" (colo), for the legacy-kv variant. UNSAFE by
 * design: it reproduces KV's documented eventual consistency, which miniflare does not
 * (its KV is strongly consistent locally).
 *
 * Modelled (cloudflare-docs kv/concepts/how-kv-works, kv/api/read-key-value-pairs):
 * - Writes go to the central store (the real KV binding) and are visible at the writing
 *   location immediately ("usually immediately visible in the location at which they are
 *   made").
 * - Every read at a location is served from that location's cache while the cached copy
 *   is younger than cacheTtl (default and minimum 60 s); otherwise it reads the central
 *   store and caches the answer. Negative lookups (key absent) are cached too.
 * - Expiration takes precedence over cacheTtl: a cached value past its expiry reads as absent.
 * - Expiry: KV rejects expirationTtl below 60 s (the design's 30 s fails with "Invalid
 *   expiration_ttl of 30. Expiration TTL must be at least 60."), so the TTL is raised to the
 *   minimum. To let CI time-scale the minimum, the simulated expiry is kept in the entry's
 *   metadata and enforced here; the real binding gets max(60 s, that) so it never expires first.
 *
 * The caches live in isolate memory, one Map per location. In workerd (miniflare) the
 * Worker runs in a single isolate, so each location's cache is shared by all its requests.
 */
import type { KVNamespace } from './cf-types.ts';

/** KV's documented minimum for expirationTtl, in seconds. */
export const KV_MIN_EXPIRATION_TTL_S = 60;

interface CentralMeta {
  expiresAtMs: number;
}

/** One location's cached copy of a key (a negative lookup caches value null). */
export interface CacheEntry {
  value: string | null;
  valueExpiresAtMs: number | null;
  cachedUntilMs: number;
}

const caches = new Map<string, Map<string, CacheEntry>>();

function cacheOf(location: string): Map<string, CacheEntry> {
  let cache = caches.get(location);
  if (!cache) {
    cache = new Map();
    caches.set(location, cache);
  }
  return cache;
}

// ---- the caching rules, pure (also used by the simulator's KV, simulator/models/kv.ts) ----

/** Expiration takes precedence over cacheTtl: a cached value past its expiry reads as absent. */
export function liveValue(entry: CacheEntry, nowMs: number): string | null {
  if (entry.value !== null && entry.valueExpiresAtMs !== null && nowMs >= entry.valueExpiresAtMs) return null;
  return entry.value;
}

/** A read served by the location's cache, or undefined when the cache must be refilled. */
export function cachedRead(hit: CacheEntry | undefined, nowMs: number): { value: string | null } | undefined {
  if (hit && nowMs < hit.cachedUntilMs) return { value: liveValue(hit, nowMs) };
  return undefined;
}

/** The central store's value as of `nowMs` (an expired value is absent). */
export function centralValue(value: string | null, expiresAtMs: number | null, nowMs: number): string | null {
  return value !== null && (expiresAtMs === null || nowMs < expiresAtMs) ? value : null;
}

/** What a cache miss stores: the central answer, absent or not, for cacheTtl. */
export function filledEntry(
  value: string | null,
  expiresAtMs: number | null,
  nowMs: number,
  cacheTtlMs: number,
): CacheEntry {
  return {
    value: centralValue(value, expiresAtMs, nowMs),
    valueExpiresAtMs: expiresAtMs,
    cachedUntilMs: nowMs + cacheTtlMs,
  };
}

/** A write is visible at the writing location at once (a delete caches "absent"). */
export function writtenEntry(
  value: string | null,
  expiresAtMs: number | null,
  nowMs: number,
  cacheTtlMs: number,
) {
  return { value, valueExpiresAtMs: expiresAtMs, cachedUntilMs: nowMs + cacheTtlMs } satisfies CacheEntry;
}

/** expirationTtl in whole seconds as KV takes it, never under its documented minimum. */
export function expirationTtlSeconds(expirationMs: number): number {
  return Math.max(KV_MIN_EXPIRATION_TTL_S, Math.ceil(expirationMs / 1000));
}

export interface LocationKvOptions {
  location: string;
  cacheTtlMs: number;
  /** effective lifetime of a written value (already raised to the KV minimum) */
  expirationMs: number;
}

export class LocationKv {
  constructor(
    private readonly kv: KVNamespace,
    private readonly opts: LocationKvOptions,
  ) {}

  async get(key: string): Promise<string | null> {
    const cache = cacheOf(this.opts.location);
    const hit = cachedRead(cache.get(key), Date.now());
    if (hit) return hit.value;
    const { value, metadata } = await this.kv.getWithMetadata<CentralMeta>(key);
    const nowMs = Date.now();
    const entry = filledEntry(value, expiresAtOf(metadata), nowMs, this.opts.cacheTtlMs);
    cache.set(key, entry);
    return liveValue(entry, nowMs);
  }

  /**
   * What get() would answer, without filling the cache on a miss: an observer that reads
   * this way cannot move the location's cache refreshes and so cannot change what the
   * region served by this location sees.
   */
  async peek(key: string): Promise<string | null> {
    const hit = cachedRead(cacheOf(this.opts.location).get(key), Date.now());
    if (hit) return hit.value;
    const { value, metadata } = await this.kv.getWithMetadata<CentralMeta>(key);
    return centralValue(value, expiresAtOf(metadata), Date.now());
  }

  /** Returns the simulated expiry (Worker-clock ms) of the written value. */
  async put(key: string, value: string): Promise<number> {
    const expiresAtMs = Date.now() + this.opts.expirationMs;
    const expirationTtl = expirationTtlSeconds(this.opts.expirationMs);
    await this.kv.put(key, value, { expirationTtl, metadata: { expiresAtMs } satisfies CentralMeta });
    cacheOf(this.opts.location).set(key, writtenEntry(value, expiresAtMs, Date.now(), this.opts.cacheTtlMs));
    return expiresAtMs;
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
    cacheOf(this.opts.location).set(key, writtenEntry(null, null, Date.now(), this.opts.cacheTtlMs));
  }
}

function expiresAtOf(metadata: CentralMeta | null): number | null {
  return typeof metadata?.expiresAtMs === 'number' ? metadata.expiresAtMs : null;
}
