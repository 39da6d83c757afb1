/**
 * The legacy-kv Worker's lease rules (KNOWN UNSAFE, see legacy-kv.ts), pure: given what
 * the region's KV location read, decide the one write and build the reply. legacy-kv.ts
 * runs them against Cloudflare KV seen through kv-locations.ts; the simulator runs them
 * against its simulated KV (simulator/models/kv.ts). The read → decide → write → reply
 * order is the design's get-then-put with no compare-and-set: the split brain lives in the
 * gap between the read and the write, which each caller keeps.
 *
 * The design's rules: acquire `if (!current) put`; renew (handbook) `if (current === region
 * || current === null) put`, echoing the presented epoch (the design hands out no new
 * token); release `if (current === region) delete`. The epoch of a grant is its server
 * timestamp: NOT a fencing token.
 */
import type { NewObservation } from './lease-object.ts';
import type { LeaseOp, LeaseResponse, LeaseStatusResponse, ObservationsResponse } from './protocol.ts';

/** The handbook's key layout: lease:${domain}:active-region */
export function legacyKey(lease: string): string {
  return `lease:${lease}:active-region`;
}

/** Each region is served by its own KV location. */
export function locationOf(region: string): string {
  return `loc-${region}`;
}

/** The design asks for designTtlMs; KV refuses anything under its minimum, so it is raised. */
export function kvExpirationMs(designTtlMs: number, minExpirationMs: number): number {
  return Math.max(designTtlMs, minExpirationMs);
}

export type LegacyWrite = { kind: 'put'; value: string } | { kind: 'delete' } | null;

export interface LegacyOutcome {
  body: LeaseResponse | LeaseStatusResponse | ObservationsResponse;
  observation: NewObservation | null;
}

export interface LegacyDecision {
  write: LegacyWrite;
  /** the reply once the write is done; `expiresAt` is the put's expiry (null otherwise) */
  finish(expiresAt: number | null, serverTimeMs: number): LegacyOutcome;
}

export function decideLegacy(
  op: LeaseOp,
  region: string,
  presentedEpoch: number | undefined,
  current: string | null,
  ttlMs: number,
): LegacyDecision {
  const answer = (
    granted: boolean,
    holder: string | null,
    epoch: number,
    expiresAt: number | null,
    now: number,
  ) => ({ granted, holder, epoch, ttlMs, expiresAt, serverTime: now }) satisfies LeaseResponse;
  const refuse = (requested: 'acquire' | 'renew' | 'release', released?: boolean): LegacyDecision => ({
    write: null,
    finish: (_e, now) => {
      const body: LeaseResponse = answer(false, current, 0, null, now);
      if (released !== undefined) body.released = released;
      return {
        body,
        observation: {
          op: 'refuse',
          requested,
          region,
          holder: current,
          epoch: 0,
          expiresAt: null,
          storeMs: now,
        },
      };
    },
  });
  switch (op) {
    case 'acquire':
      if (current) return refuse('acquire');
      return {
        write: { kind: 'put', value: region },
        finish: (expiresAt, now) => ({
          // the grant's timestamp: not a fencing token
          body: answer(true, region, now, expiresAt, now),
          observation: { op: 'grant', region, holder: region, epoch: now, expiresAt, storeMs: now },
        }),
      };
    case 'renew':
      if (current !== region && current !== null) return refuse('renew');
      return {
        write: { kind: 'put', value: region },
        finish: (expiresAt, now) => ({
          body: answer(true, region, presentedEpoch ?? 0, expiresAt, now),
          observation: {
            op: current === null ? 'grant' : 'renew',
            region,
            holder: region,
            epoch: presentedEpoch ?? 0,
            expiresAt,
            storeMs: now,
          },
        }),
      };
    case 'release':
      if (current !== region) return refuse('release', false);
      return {
        write: { kind: 'delete' },
        finish: (_e, now) => ({
          body: { ...answer(false, null, 0, null, now), released: true },
          observation: { op: 'release', region, holder: null, epoch: 0, expiresAt: null, storeMs: now },
        }),
      };
    case 'status':
      return {
        write: null,
        finish: (_e, now) => {
          const { granted: _granted, ...status } = answer(false, current, 0, null, now);
          return { body: status, observation: null };
        },
      };
    case 'observations':
      // The legacy variant keeps no observation log (it has no strongly consistent store
      // to keep it in); the simulator records its observations directly.
      return {
        write: null,
        finish: (_e, now) => ({ body: { observations: [], next: 0, serverTime: now }, observation: null }),
      };
  }
}
