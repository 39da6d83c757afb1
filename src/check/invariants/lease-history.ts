/**
 * `lease-history`: write authority never outlives the lease that backs it. Every app-authority
 * grant under epoch e (a promote or an extend, with its `untilT`) must end before the lease
 * store could grant e+1 *as the store's own observations stood when the grant was made*:
 *
 *   regrantT(o) = tLow(o) + (o.expiresAt − storeNow(o)) / (1+ρ)
 *
 * for o the store's latest observation of e at the grant (its grant or latest renewal), or
 * earlier when the store was seen releasing e or granting a later epoch. tLow(o) is the earliest
 * global time the store can have been in that state: the event's `t` when recorded at the
 * store's transition (simulator, the Worker's observation log), the send time of the status
 * request when polled (`observedSinceT`). storeNow(o) is the store's clock for the view
 * (`storeNowMs`; without it a grant or renewal sets the expiry T ahead, so expiresAt − T).
 *
 * A grant judged by a renewal that has not happened yet would be judged by luck: a controller
 * whose safe window L is too long (L = T, or without the p/d margins) hands out authority that
 * outlives the lease it holds, and is caught at the first extend that a delay or pause (within
 * the assumptions) stretches, with no second primary needed.
 */

import type { AppAuthorityEvent, LeaseStoreEvent, RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

const tLow = (o: LeaseStoreEvent): number => o.observedSinceT ?? o.t;

interface EpochState {
  holder: RegionId;
  /** regrant bound of the latest observation so far */
  regrantT: number;
  /** set once the store was seen releasing e or granting a later epoch */
  endedT: number;
  lastSeq: number;
}

/** How far past a grant a polled observation of its backing renewal may arrive. */
function pollSlackMs(f: Facts): number {
  const obs = f.spec?.leaseStore;
  return !obs || obs.precision === 'exact' ? 0 : obs.intervalMs + (f.spec?.heartbeatMs ?? 0) / 2;
}

function regrantOf(o: LeaseStoreEvent, ttlMs: number, rho: number): number {
  if (o.expiresAt === null) return Number.POSITIVE_INFINITY;
  const storeNow = o.storeNowMs ?? o.expiresAt - ttlMs;
  return tLow(o) + (o.expiresAt - storeNow) / (1 + rho);
}

/** Store observations (durable: one store) in the order the checker applies them. */
function storeViews(f: Facts): LeaseStoreEvent[] {
  return eventsOfKind(f, 'lease-store').filter((e) => e.location === undefined && e.op !== 'refuse');
}

function judgeGrant(g: AppAuthorityEvent, s: EpochState | undefined, storeSeen: boolean): Violation | null {
  const untilT = g.untilT ?? Number.POSITIVE_INFINITY;
  if (!s) {
    return storeSeen
      ? {
          invariant: 'lease-history',
          at: g.t,
          detail: `app-${g.region} was granted write authority under epoch ${g.epoch}, which the lease store was never observed granting`,
          events: [g.seq],
        }
      : null;
  }
  if (s.holder !== g.region) {
    return {
      invariant: 'lease-history',
      at: g.t,
      detail: `app-${g.region} was granted write authority under epoch ${g.epoch}, which the lease store granted to ${s.holder}`,
      events: [s.lastSeq, g.seq],
    };
  }
  const bound = Math.min(s.regrantT, s.endedT);
  if (untilT > bound) {
    return {
      invariant: 'lease-history',
      at: bound,
      detail: `app-${g.region} was granted write authority under epoch ${g.epoch} until t=${fmtS(untilT)}, ${fmtS(untilT - bound)} after the lease store could grant the next epoch (t=${fmtS(bound)}, from its observation #${s.lastSeq})`,
      events: [s.lastSeq, g.seq],
    };
  }
  return null;
}

/**
 * Was the store polled, in any state, by a request sent after the grant and within the slack?
 * Such a poll shows the store after the renewal that backs the grant (the controller heard the
 * renewal's reply before granting), or shows the lease gone — either way the grant can be judged.
 */
function polledAfter(views: LeaseStoreEvent[], g: AppAuthorityEvent, slackMs: number): boolean {
  return views.some((o) => tLow(o) >= g.t && tLow(o) <= g.t + slackMs);
}

export function checkLeaseHistory(f: Facts): CheckOutcome {
  const rho = f.spec?.maxClockDriftRate ?? 0;
  const ttlMs = f.spec?.leaseTtlMs ?? 0;
  const views = storeViews(f);
  const storeSeen = views.length > 0;
  const slackMs = pollSlackMs(f);
  const grants = eventsOfKind(f, 'app-authority').filter((e) => e.op === 'grant');
  const epochs = new Map<number, EpochState>();
  let current: number | null = null;
  let vi = 0;
  const violations: Violation[] = [];
  for (const g of grants) {
    // apply every store observation the grant may rest on
    while (vi < views.length && tLow(views[vi]!) <= g.t + slackMs) {
      const o = views[vi++]!;
      const cur = current === null ? undefined : epochs.get(current);
      if (cur && (o.holder === null || o.epoch !== current)) cur.endedT = Math.min(cur.endedT, tLow(o));
      if (o.holder === null) {
        current = null;
        continue;
      }
      const s = epochs.get(o.epoch) ?? {
        holder: o.holder,
        regrantT: Number.NEGATIVE_INFINITY,
        endedT: Number.POSITIVE_INFINITY,
        lastSeq: o.seq,
      };
      s.regrantT = Math.max(s.regrantT, regrantOf(o, ttlMs, rho));
      s.lastSeq = o.seq;
      epochs.set(o.epoch, s);
      current = o.epoch;
    }
    // A polled store not polled between the grant and the slack may have renewed unseen (e.g.
    // the Worker was SIGKILLed right after granting the renewal, before the next poll): such a
    // grant is not judged, rather than judged against an older view. A poll in that window
    // that shows another epoch or no holder still judges it (authority past the lease's end).
    if (slackMs > 0 && !polledAfter(views, g, slackMs)) continue;
    const bad = judgeGrant(g, epochs.get(g.epoch), storeSeen);
    if (bad) violations.push(bad);
  }
  violations.sort((a, b) => a.at - b.at);
  return outcome(
    'lease-history',
    'safety',
    violations,
    `${grants.length} write-authority grants, each ending before the lease store could grant the next epoch (${epochs.size} epochs observed, ρ=${rho})`,
    storeSeen && grants.length > 0,
  );
}
