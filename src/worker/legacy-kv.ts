/**
 * Lease Worker, `legacy-kv` variant. KNOWN UNSAFE: it can grant the lease to two regions at
 * once. It exists so the harness can show that it catches the split brain of the original
 * design (OpenOva failover-controller README + handbook SPEC-SPLIT-BRAIN-PROTECTION), and
 * so that proof is not vacuous. Never deploy it; wrangler.toml deploys durable.ts only.
 *
 * Faithful to the design's logic:
 * - KV get-then-put, no compare-and-set (two concurrent acquires can both see "free").
 * - The value is the bare region string: no expiry, no epoch in it.
 * - expirationTtl: the design's 30 s is rejected by KV ("Invalid expiration_ttl of 30.
 *   Expiration TTL must be at least 60."), so it is raised to KV's 60 s minimum, doubling
 *   the lease the controllers think they have.
 * - acquire: `if (!current) put`; renew (handbook): `if (current === region || current ===
 *   null) put`; release: `if (current === region) delete` (get-then-delete).
 * - `epoch` is the server timestamp (ms) of the grant: NOT a fencing token (two grants can
 *   carry any order of timestamps; nothing rejects the older holder). A granted renew
 *   echoes the epoch the caller presented: the design's renew hands out no new token, so
 *   the caller keeps the one it has. 0 when nothing was granted by this request (the KV
 *   value holds no grant time to report).
 * - Each region is served by its own KV location, derived from the authenticated region,
 *   with per-location read caching (kv-locations.ts): the cross-location staleness that
 *   lets region b read "free" while region a holds the lease.
 * Deviations, for the harness: the same signed HTTP API as the durable variant (the design
 * trusted an unauthenticated X-Region header, so anyone could take the lease), replay
 * protection through a per-lease NonceGuard object, and `x-fl-unsafe: legacy-kv` on every
 * response.
 *
 * Bindings: LEASE_KV (KV namespace), NONCES (Durable Object namespace → NonceGuard),
 * LEASE_SECRETS, LEASE_TTL_MS (the design TTL, default 30000), KV_CACHE_TTL_MS (default
 * 60000), KV_MIN_EXPIRATION_TTL_MS (KV's minimum, default 60000; time-scalable for CI).
 */
import type {
  DurableObjectNamespace,
  DurableObjectState,
  ExecutionContext,
  KVNamespace,
} from './cf-types.ts';
import {
  DEFAULT_KV_CACHE_TTL_MS,
  DEFAULT_KV_MIN_EXPIRATION_TTL_MS,
  DEFAULT_LEASE_TTL_MS,
  UNSAFE_HEADERS,
} from './config.ts';
import { type Backend, type BackendResult, handleLeaseRequest, internalError, jsonResponse } from './http.ts';
import { LocationKv } from './kv-locations.ts';
import { decideLegacy, kvExpirationMs, legacyKey, locationOf } from './legacy-kv-rules.ts';
import {
  maybePrune,
  type NonceClaim,
  nonceEntries,
  nonceKey,
  nonceVerdict,
  PruneSchedule,
} from './nonces.ts';
import { intVar } from './protocol.ts';

interface LegacyEnv {
  LEASE_KV: KVNamespace;
  NONCES: DurableObjectNamespace;
  LEASE_SECRETS: unknown;
  LEASE_TTL_MS?: string;
  KV_CACHE_TTL_MS?: string;
  KV_MIN_EXPIRATION_TTL_MS?: string;
}

console.warn('failover-lab: legacy-kv lease Worker loaded: KNOWN UNSAFE (can grant the lease twice)');

/** Strongly consistent replay memory for a lease (KV could not provide it). */
export class NonceGuard {
  private readonly prune = new PruneSchedule();
  constructor(private readonly ctx: DurableObjectState) {}

  async fetch(request: Request): Promise<Response> {
    const claim = (await request.json()) as NonceClaim;
    const storage = this.ctx.storage;
    const key = nonceKey(claim.nonce);
    const seen = await storage.get([key]);
    const nowMs = Date.now();
    const verdict = nonceVerdict(seen.has(key), claim, nowMs);
    if (verdict === 'ok') await storage.put(nonceEntries(claim));
    await maybePrune(storage, this.prune, nowMs);
    return jsonResponse(200, { verdict });
  }
}

function legacyBackend(env: LegacyEnv): Backend {
  const designTtlMs = intVar(env.LEASE_TTL_MS, DEFAULT_LEASE_TTL_MS, 'LEASE_TTL_MS');
  // 0 disables the location cache (a strongly consistent KV), for experiments.
  const cacheTtlMs = intVar(env.KV_CACHE_TTL_MS, DEFAULT_KV_CACHE_TTL_MS, 'KV_CACHE_TTL_MS', 0);
  const minExpirationMs = intVar(
    env.KV_MIN_EXPIRATION_TTL_MS,
    DEFAULT_KV_MIN_EXPIRATION_TTL_MS,
    'KV_MIN_EXPIRATION_TTL_MS',
  );
  const expirationMs = kvExpirationMs(designTtlMs, minExpirationMs);

  return {
    variant: 'legacy-kv',
    async execute(request, auth): Promise<BackendResult> {
      const guard = env.NONCES.get(env.NONCES.idFromName(request.lease));
      const claim: NonceClaim = { nonce: auth.nonce, timestampMs: auth.timestampMs };
      const res = await guard.fetch('https://nonce-guard/claim', {
        method: 'POST',
        body: JSON.stringify(claim),
      });
      if (!res.ok) throw new Error(`nonce guard answered ${res.status}: ${await res.text()}`);
      const { verdict } = (await res.json()) as { verdict: 'ok' | 'replay' | 'stale' };
      if (verdict !== 'ok') return { kind: verdict };

      const kv = new LocationKv(env.LEASE_KV, {
        location: locationOf(auth.region),
        cacheTtlMs,
        expirationMs,
      });
      const key = legacyKey(request.lease);
      // get-then-put: nothing stops another request between these awaits (the design's flaw)
      const current = request.peek ? await kv.peek(key) : await kv.get(key);
      const decision = decideLegacy(request.op, auth.region, request.epoch, current, expirationMs);
      let expiresAt: number | null = null;
      if (decision.write?.kind === 'put') expiresAt = await kv.put(key, decision.write.value);
      else if (decision.write?.kind === 'delete') await kv.delete(key);
      return { kind: 'ok', body: decision.finish(expiresAt, Date.now()).body };
    },
  };
}

export default {
  async fetch(request: Request, env: LegacyEnv, _ctx: ExecutionContext): Promise<Response> {
    try {
      return await handleLeaseRequest(request, env.LEASE_SECRETS, legacyBackend(env), UNSAFE_HEADERS);
    } catch (err) {
      const res = internalError(err, 'legacy-kv');
      res.headers.set('x-fl-unsafe', 'legacy-kv');
      return res;
    }
  },
};
