/**
 * `lease-store-log`: the lease store's own log of what it did (its grant, renew, release,
 * refuse and expire observations — the simulator's store, the real Worker's GET /observations)
 * is a history the lease protocol allows. Every other check trusts this log as the truth about
 * the lease; this one judges the store itself, transition by transition:
 *
 * - grant: only of a lease that is not live at the store's clock, to the asker, under the next
 *   epoch, for the store's TTL (the same span on every grant and renewal);
 * - renew: only of a live lease, by its holder, under its epoch, for the TTL from now;
 * - release: only by the holder (or, a no-op, by the holder of an epoch that just expired),
 *   under its epoch, leaving no holder;
 * - refuse: changes nothing (epoch and expiry as before);
 * - expire: once per epoch, of the holder's grant, at its expiry.
 *
 * A store that re-grants a live lease, mints an epoch out of turn, lets a renewal extend from
 * the old expiry, logs a refusal that changed the lease, or an expiry twice, is caught here
 * even when the controllers happen to stay safe. (An entry without `region`, who asked, is
 * judged on the lease it leaves alone.) Polled views (no `op`) and per-location KV
 * views (`location`: the legacy design, known unsafe) are not such a log and are skipped.
 */

import type { LeaseStoreEvent } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, fmtS, isStoreLogEntry, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

interface StoreState {
  holder: string | null;
  /** who held `epoch`, also after it expired (its late release is a no-op, not a wrong one) */
  epochHolder: string | null;
  epoch: number;
  expiresAt: number | null;
  seq: number;
}

const live = (s: StoreState, storeNowMs: number): boolean =>
  s.holder !== null && s.expiresAt !== null && s.expiresAt > storeNowMs;

/** The store's TTL, learned from its first grant or renewal: every later one must match it. */
class TtlWitness {
  private ttlMs: number | null = null;
  check(e: LeaseStoreEvent, storeNowMs: number): string | null {
    if (e.expiresAt === null) return `${e.op} of epoch ${e.epoch} left no expiry`;
    const span = e.expiresAt - storeNowMs;
    if (this.ttlMs === null) this.ttlMs = span;
    return span === this.ttlMs
      ? null
      : `${e.op} of epoch ${e.epoch} runs ${span} ms from the store's now, not its TTL ${this.ttlMs} ms`;
  }
}

function judgeGrant(prev: StoreState, e: LeaseStoreEvent, now: number, ttl: TtlWitness): string | null {
  if (live(prev, now))
    return `granted epoch ${e.epoch} to ${e.region} while ${prev.holder}'s epoch ${prev.epoch} was live until store ms ${prev.expiresAt}`;
  if (e.epoch !== prev.epoch + 1)
    return `granted epoch ${e.epoch} after epoch ${prev.epoch}, not the next one`;
  if (e.region !== undefined && e.holder !== e.region)
    return `granted epoch ${e.epoch} asked by ${e.region} to ${e.holder}`;
  return ttl.check(e, now);
}

function judgeRenew(prev: StoreState, e: LeaseStoreEvent, now: number, ttl: TtlWitness): string | null {
  if (!live(prev, now)) return `renewed epoch ${e.epoch} for ${e.region} after it had ended`;
  const asker = e.region ?? e.holder;
  if (prev.holder !== asker || e.holder !== asker)
    return `renewed ${prev.holder}'s lease for ${asker} (holder after: ${e.holder})`;
  if (e.epoch !== prev.epoch) return `renewal changed the epoch ${prev.epoch} → ${e.epoch}`;
  return ttl.check(e, now);
}

function judge(prev: StoreState, e: LeaseStoreEvent, expired: Set<number>, ttl: TtlWitness): string | null {
  const now = e.storeNowMs ?? null;
  if (now === null) return null; // an old history without the store's clock: nothing to judge by
  switch (e.op) {
    case 'grant':
      return judgeGrant(prev, e, now, ttl);
    case 'renew':
      return judgeRenew(prev, e, now, ttl);
    case 'release':
      if (e.region !== undefined && prev.epochHolder !== e.region)
        return `released ${prev.epochHolder}'s lease at ${e.region}'s request`;
      if (e.epoch !== prev.epoch || e.holder !== null)
        return `release of epoch ${prev.epoch} left holder ${e.holder}, epoch ${e.epoch}`;
      return null;
    case 'refuse':
      // a refusal may show a lease that ran out meanwhile as free, never a live one
      if (e.epoch !== prev.epoch || (e.holder === null ? live(prev, now) : e.expiresAt !== prev.expiresAt))
        return `a refused ${e.requested ?? 'request'} of ${e.region} changed the lease (epoch ${prev.epoch} → ${e.epoch}, expiry ${prev.expiresAt} → ${e.expiresAt})`;
      return null;
    case 'expire':
      if (expired.has(e.epoch)) return `epoch ${e.epoch} expired a second time`;
      if (e.epoch !== prev.epoch || prev.expiresAt !== now)
        return `expiry of epoch ${e.epoch} at store ms ${now}, but the lease was epoch ${prev.epoch} until ${prev.expiresAt}`;
      return null;
    default:
      return null;
  }
}

/** The state after `e`: a refusal or expiry leaves the lease as it was (an expiry ends it). */
function after(prev: StoreState, e: LeaseStoreEvent): StoreState {
  if (e.op === 'refuse') return prev;
  if (e.op === 'expire') return { ...prev, holder: null, seq: e.seq };
  const epochHolder = e.op === 'release' ? prev.epochHolder : e.holder;
  return { holder: e.holder, epochHolder, epoch: e.epoch, expiresAt: e.expiresAt, seq: e.seq };
}

export function checkLeaseStoreLog(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const expired = new Set<number>();
  const ttl = new TtlWitness();
  let prev: StoreState = { holder: null, epochHolder: null, epoch: 0, expiresAt: null, seq: -1 };
  let judged = 0;
  for (const e of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(e)) continue;
    judged++;
    const wrong = judge(prev, e, expired, ttl);
    if (wrong !== null) {
      violations.push({
        invariant: 'lease-store-log',
        at: e.t,
        detail: `the lease store ${wrong} (t=${fmtS(e.t)})`,
        events: prev.seq >= 0 ? [prev.seq, e.seq] : [e.seq],
      });
    }
    if (e.op === 'expire') expired.add(e.epoch);
    prev = after(prev, e);
  }
  return outcome(
    'lease-store-log',
    'safety',
    violations,
    judged > 0
      ? `${judged} lease-store log entries, each a transition the lease protocol allows`
      : 'no lease-store log in this history (polled views or the legacy KV design only)',
    judged > 0,
  );
}
