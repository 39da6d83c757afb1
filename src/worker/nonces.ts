/**
 * Replay protection: remembering nonces in Durable Object storage.
 *
 * Where the nonces live, and why there: a replayed request is a byte-identical copy of a
 * signed one, and the signature covers the path, query and body, hence the lease name. So
 * every replay of a request lands on the *same* lease Durable Object as the original. The
 * durable variant therefore keeps the nonces inside the lease object and consumes the
 * nonce in the same storage transaction as the lease change: a request is either rejected
 * as a replay with the state untouched, or both its nonce and its effect are stored. A DO
 * has one instance worldwide, so this store is strongly consistent (an in-isolate Map or
 * KV would not be: isolates come and go, and KV is eventually consistent across locations,
 * which would let a replay through at another location). The legacy-kv variant has no lease
 * object and uses a small per-lease NonceGuard object with the same keys.
 *
 * Storage layout (per object):
 *   nonce:<nonce>                    → keepUntilMs (number)
 *   nexp:<keepUntilMs, 13 digits>:<n> → 1   (ordered index so pruning lists only expired keys)
 *
 * A nonce must be remembered while a copy could still pass the freshness check, i.e. until
 * timestamp + MAX_CLOCK_SKEW_MS by the Worker's clock. The object re-checks freshness with
 * its own clock, so a nonce pruned after `keepUntilMs` can never be accepted again.
 */
import type { DurableObjectStorage } from './cf-types.ts';
import { MAX_CLOCK_SKEW_MS } from './signing.ts';

/** Extra retention beyond the skew window, so pruning never races the freshness check. */
export const NONCE_GRACE_MS = 1000;
/** Pruning is amortised: at most one pass per object per this interval. */
export const NONCE_PRUNE_INTERVAL_MS = 5000;
/**
 * Nonces pruned per pass: bounds one request's extra work, and keeps each delete() within
 * the storage API's 128-keys-per-call limit (two keys per nonce).
 */
export const NONCE_PRUNE_BATCH = 64;

const NONCE_PREFIX = 'nonce:';
const INDEX_PREFIX = 'nexp:';

export interface NonceClaim {
  nonce: string;
  /** the signed x-fl-timestamp of the request */
  timestampMs: number;
}

export function nonceKey(nonce: string): string {
  return NONCE_PREFIX + nonce;
}

function indexKey(keepUntilMs: number, nonce: string): string {
  return `${INDEX_PREFIX}${String(keepUntilMs).padStart(13, '0')}:${nonce}`;
}

export function keepUntilMs(claim: NonceClaim): number {
  return claim.timestampMs + MAX_CLOCK_SKEW_MS + NONCE_GRACE_MS;
}

/** True when the signed timestamp is outside the skew window by the object's own clock. */
export function isStale(claim: NonceClaim, nowMs: number): boolean {
  return Math.abs(nowMs - claim.timestampMs) > MAX_CLOCK_SKEW_MS;
}

/** The replay rule: a nonce seen before is a replay; else a stale timestamp is refused. */
export function nonceVerdict(seen: boolean, claim: NonceClaim, nowMs: number): 'ok' | 'replay' | 'stale' {
  if (seen) return 'replay';
  if (isStale(claim, nowMs)) return 'stale';
  return 'ok';
}

/**
 * Adds the entries that consume the nonce to `writes`, the request's one put (the lease
 * object's, with its effect). A Map, not an object: both key names are new on every request,
 * and an object keeps its keys as interned strings in a dictionary; building and walking one
 * cost 3-4x what a Map does, which made this the simulator's costliest function (issue #18).
 */
export function addNonceEntries(writes: Map<string, unknown>, claim: NonceClaim): Map<string, unknown> {
  const until = keepUntilMs(claim);
  writes.set(nonceKey(claim.nonce), until);
  writes.set(indexKey(until, claim.nonce), 1);
  return writes;
}

/** The same entries as the object storage.put takes, to consume the nonce alone (NonceGuard). */
export function nonceEntries(claim: NonceClaim): Record<string, unknown> {
  return Object.fromEntries(addNonceEntries(new Map(), claim));
}

/** The storage listing that finds nonces whose retention ended before `nowMs` (one batch). */
export function expiredNonceListing(nowMs: number): { prefix: string; end: string; limit: number } {
  return {
    prefix: INDEX_PREFIX,
    end: `${INDEX_PREFIX}${String(nowMs).padStart(13, '0')}`,
    limit: NONCE_PRUNE_BATCH,
  };
}

/** Keys to delete for the listed index keys: each index key and the nonce it indexes. */
export function keysToPrune(indexKeys: Iterable<string>): string[] {
  const keys: string[] = [];
  for (const key of indexKeys) keys.push(key, NONCE_PREFIX + key.slice(INDEX_PREFIX.length + 14));
  return keys;
}

/** Deletes nonces whose retention ended before `nowMs`. Returns how many were removed. */
export async function pruneNonces(storage: DurableObjectStorage, nowMs: number): Promise<number> {
  const expired = await storage.list(expiredNonceListing(nowMs));
  if (expired.size === 0) return 0;
  await storage.delete(keysToPrune(expired.keys()));
  return expired.size;
}

/**
 * Per-object throttle for pruneNonces; in memory only, losing it on eviction is harmless.
 * After a full batch the next request prunes again, so pruning keeps up with any rate.
 */
export class PruneSchedule {
  private nextAtMs = 0;
  due(nowMs: number): boolean {
    if (nowMs < this.nextAtMs) return false;
    this.nextAtMs = nowMs + NONCE_PRUNE_INTERVAL_MS;
    return true;
  }
  /** Call with the result of pruneNonces. */
  pruned(count: number): void {
    if (count >= NONCE_PRUNE_BATCH) this.nextAtMs = 0;
  }
}

/** Prunes if due; never throws (a failed prune only delays cleanup). */
export async function maybePrune(
  storage: DurableObjectStorage,
  schedule: PruneSchedule,
  nowMs: number,
): Promise<void> {
  if (!schedule.due(nowMs)) return;
  try {
    schedule.pruned(await pruneNonces(storage, nowMs));
  } catch (err) {
    console.error(`nonce prune failed: ${String(err)}`);
  }
}
