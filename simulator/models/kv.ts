/**
 * Cloudflare Workers KV as the simulator's legacy-kv Worker sees it, behaving as Cloudflare
 * documents (cloudflare-docs kv/concepts/how-kv-works, kv/api/write-key-value-pairs,
 * kv/api/read-key-value-pairs; /work/shared/reference/failover-design-leases-powerdns.md):
 * - one central store, last write wins; a value written with an expiration disappears then;
 * - a write whose expiration is under KV's minimum (60 s, time-scalable here like the real
 *   topology's KV_MIN_EXPIRATION_TTL_MS) is refused, as the API refuses expirationTtl < 60;
 * - every location (colo) caches what it read, absent keys included, for cacheTtl; a write
 *   is visible at once at the location that made it, elsewhere only after their cached
 *   copy ages out; expiration still wins over a cached value.
 * The caching rules are the production ones (src/worker/kv-locations.ts); this file only
 * keeps the stores. All times are the Worker's clock, ms. Synchronous (virtual time).
 */
import {
  type CacheEntry,
  cachedRead,
  centralValue,
  filledEntry,
  liveValue,
  writtenEntry,
} from '../../src/worker/kv-locations.ts';

interface CentralEntry {
  value: string;
  expiresAtMs: number;
}

export class SimKv {
  private readonly central = new Map<string, CentralEntry>();
  private readonly caches = new Map<string, Map<string, CacheEntry>>();

  constructor(private readonly minExpirationMs: number) {}

  private cacheOf(location: string): Map<string, CacheEntry> {
    let cache = this.caches.get(location);
    if (!cache) {
      cache = new Map();
      this.caches.set(location, cache);
    }
    return cache;
  }

  /** A read at `location`: its cache while fresh, else the central value (then cached). */
  get(location: string, key: string, nowMs: number, cacheTtlMs: number): string | null {
    const cache = this.cacheOf(location);
    const hit = cachedRead(cache.get(key), nowMs);
    if (hit) return hit.value;
    const c = this.central.get(key);
    const entry = filledEntry(c?.value ?? null, c?.expiresAtMs ?? null, nowMs, cacheTtlMs);
    cache.set(key, entry);
    return liveValue(entry, nowMs);
  }

  /** What get() would answer, without filling the cache on a miss (observers). */
  peek(location: string, key: string, nowMs: number): string | null {
    const hit = cachedRead(this.cacheOf(location).get(key), nowMs);
    if (hit) return hit.value;
    const c = this.central.get(key);
    return centralValue(c?.value ?? null, c?.expiresAtMs ?? null, nowMs);
  }

  /** Returns the value's expiry. Throws, as KV does, below the minimum expiration. */
  put(
    location: string,
    key: string,
    value: string,
    expirationMs: number,
    nowMs: number,
    cacheTtlMs: number,
  ): number {
    if (expirationMs < this.minExpirationMs) {
      throw new Error(
        `KV: invalid expiration of ${expirationMs} ms; expiration TTL must be at least ${this.minExpirationMs} ms`,
      );
    }
    const expiresAtMs = nowMs + expirationMs;
    this.central.set(key, { value, expiresAtMs });
    this.cacheOf(location).set(key, writtenEntry(value, expiresAtMs, nowMs, cacheTtlMs));
    return expiresAtMs;
  }

  delete(location: string, key: string, nowMs: number, cacheTtlMs: number): void {
    this.central.delete(key);
    this.cacheOf(location).set(key, writtenEntry(null, null, nowMs, cacheTtlMs));
  }

  /** The central entry (for expiry observation), or null. */
  centralEntry(key: string): Readonly<CentralEntry> | null {
    return this.central.get(key) ?? null;
  }
}
