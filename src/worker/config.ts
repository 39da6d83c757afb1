/**
 * Worker vars and their defaults, in one place. Entry modules (durable.ts, legacy-kv.ts)
 * may export only handlers and Durable Object classes: workerd rejects any other export.
 * Runtime-neutral.
 */

/** LEASE_TTL_MS default: the design's 30 s lease. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** KV_CACHE_TTL_MS default: KV's default (and documented minimum) cacheTtl, 60 s. */
export const DEFAULT_KV_CACHE_TTL_MS = 60_000;
/** KV_MIN_EXPIRATION_TTL_MS default: KV's documented expirationTtl minimum, 60 s. */
export const DEFAULT_KV_MIN_EXPIRATION_TTL_MS = 60_000;
/** Marks every legacy-kv response, so no one mistakes it for the safe variant. */
export const UNSAFE_HEADERS = { 'x-fl-unsafe': 'legacy-kv' } as const;
