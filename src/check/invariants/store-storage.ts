/**
 * `store-storage-bounded`: the lease store's storage does not grow without bound. Every lease
 * request leaves a replay-protection nonce in the lease object's storage (src/worker/nonces.ts);
 * the design keeps it only while a copy could still pass the freshness check and prunes it
 * after (spec.ts nonceHeldMs). So at any reading the nonce entries the store holds (`nonce:`
 * keys, and their `nexp:` index) are at most the lease requests sent within that span before
 * the store's last request — a store that forgets to prune, or prunes the wrong keys, holds
 * every nonce it ever saw and runs into Durable Object storage limits, costs and ever slower
 * listings in production.
 *
 * The reading (`store-storage` events) comes from the storage itself, not from the Worker's
 * code: the simulator's in-memory storage at each new high of its nonce count and at the end;
 * on real runs the Durable Objects' SQLite files at the end (the runner's own polls' nonces
 * counted apart, src/runner/store-storage.ts).
 * The yardstick is the design's (skew window S, grace G, prune interval I), never the
 * Worker's constants, and counts requests from the history's `lease` sent events. The span is
 * in the store's clock: it is stretched for the slowest rate the store's clock ran at (its ρ,
 * or a drift fault) and by every wall-clock step in the run (a store clock set back keeps
 * nonces longer and stalls its pruning; a caller set ahead signs timestamps that live longer).
 */

import type { HistoryEvent, StoreStorageEvent } from '../../contracts/history.ts';
import { nonceHeldMs } from '../../contracts/spec.ts';
import { eventsOfKind, type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

/** The lease store's process in clock events (the simulator's and the topology's name). */
const STORE_NODE = 'worker';

/** Global ms after its send that a request's nonce may still be held (Infinity: a stopped clock). */
export function nonceHeldWindowMs(events: readonly HistoryEvent[], maxClockDriftRate: number): number {
  let slowest = -maxClockDriftRate;
  let stepsMs = 0;
  for (const e of events) {
    if (e.kind !== 'clock') continue;
    if (e.op !== 'drift') stepsMs += Math.abs(e.value);
    else if (e.node === STORE_NODE && e.value < slowest) slowest = e.value;
  }
  if (slowest <= -1) return Number.POSITIVE_INFINITY;
  return Math.ceil((nonceHeldMs() + stepsMs) / (1 + slowest));
}

/** Index of the first element of sorted `ts` greater than `t`. */
function upperBound(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function judge(r: StoreStorageEvent, sentTs: readonly number[], windowMs: number): Violation | null {
  const asOf = r.afterRequestT ?? r.t;
  // requests sent up to the reading itself: one sent after the store's last request and not
  // served only loosens the bound
  const sent = upperBound(sentTs, r.t) - upperBound(sentTs, asOf - windowMs);
  const held = Math.max(r.nonceKeys, r.nonceIndexKeys);
  if (held <= sent) return null;
  return {
    invariant: 'store-storage-bounded',
    at: r.t,
    detail: `the lease store's object "${r.object}" held ${r.nonceKeys} nonce keys and ${r.nonceIndexKeys} index keys (${r.keys} keys in all${r.executorNonceKeys !== undefined ? `, ${r.executorNonceKeys} nonces of the executor's own polls left out` : ''}) after its request at t=${fmtS(asOf)}, but only ${sent} lease requests were sent in the ${fmtS(windowMs)} before it (the design's nonce retention + prune interval): its storage grows without bound`,
    events: [r.seq],
  };
}

export function checkStoreStorageBounded(f: Facts): CheckOutcome {
  const name = 'store-storage-bounded';
  // the history's per-kind index: no walk over every event (a run has thousands)
  const readings = eventsOfKind(f, 'store-storage');
  if (readings.length === 0)
    return outcome(name, 'safety', [], 'no reading of the lease store storage in this history', false);
  const sentTs: number[] = [];
  for (const e of eventsOfKind(f, 'lease')) if (e.phase === 'sent') sentTs.push(e.t);
  const windowMs = nonceHeldWindowMs(eventsOfKind(f, 'clock'), f.spec?.maxClockDriftRate ?? 0);
  const violations: Violation[] = [];
  let peak = readings[0]!;
  for (const r of readings) {
    const v = judge(r, sentTs, windowMs);
    if (v) violations.push(v);
    if (r.nonceKeys > peak.nonceKeys) peak = r;
  }
  return outcome(
    name,
    'safety',
    violations,
    `${readings.length} reading(s) of the lease store's storage, at most ${peak.nonceKeys} nonce keys (t=${fmtS(peak.t)}), each within the lease requests sent in the ${fmtS(windowMs)} before it`,
  );
}
