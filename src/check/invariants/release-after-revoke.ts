/**
 * `release-after-revoke`: the lease store frees epoch e only once the holder's app no longer
 * writes under e. The design releases a lease in two cases only: after the app confirmed the
 * demote of e (a graceful stop; the driver's hook ordering makes that confirmation mean the app
 * dropped e), or when e was never handed to the app (an unused or orphaned grant). Either way no
 * write window under e is open when the release lands; a release while one is open lets the
 * store grant e + 1 to another region while app-R still accepts writes under e.
 *
 * Judged on the store's log (`release` entries: who asked, which epoch) against the apps' own
 * `app-authority` events: at a release of e asked by R, app-R's latest grant must not be under
 * e, still unrevoked and running more than d past the release (d: the history's timestamps
 * of two components may differ by a message delay in the real runner). A release the store
 * refuses is logged as `refuse` and not judged here.
 *
 * Second statement: a region asks to release only a lease the store granted it — its own grant,
 * heard or lost, or its previous incarnation's. A release request (the store's `release`, or a
 * `refuse` of a `release`) from a region the store's log never granted anything asks to free
 * another region's lease: only the store's holder check stands between it and a second primary.
 */

import type { RegionId } from '../../contracts/history.ts';
import { eventsOfKinds, type Facts, fmtS, isStoreLogEntry, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

interface Term {
  epoch: number;
  untilT: number;
  seq: number;
  ended: boolean;
}

export function checkReleaseAfterRevoke(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const slackMs = f.spec?.maxDelayMs ?? 0;
  const terms = new Map<RegionId, Term>();
  let releases = 0;
  const everGranted = new Set<RegionId>();
  for (const ev of eventsOfKinds(f, 'app-authority', 'lease-store')) {
    if (ev.kind === 'app-authority') {
      const term = terms.get(ev.region);
      if (ev.op === 'grant')
        terms.set(ev.region, { epoch: ev.epoch, untilT: ev.untilT ?? ev.t, seq: ev.seq, ended: false });
      else if (ev.op === 'revoke' && term) term.ended = true;
      continue;
    }
    if (!isStoreLogEntry(ev) || ev.region === undefined) continue;
    if (ev.op === 'grant') everGranted.add(ev.region);
    const asksRelease = ev.op === 'release' || (ev.op === 'refuse' && ev.requested === 'release');
    if (asksRelease && !everGranted.has(ev.region)) {
      violations.push({
        invariant: 'release-after-revoke',
        at: ev.t,
        detail: `${ev.region} asked the lease store to release a lease at t=${fmtS(ev.t)} (${ev.op === 'release' ? 'released' : 'refused'}; ${ev.holder ?? 'nobody'} held epoch ${ev.epoch}), but the store had never granted ${ev.region} a lease`,
        events: [ev.seq],
      });
    }
    if (ev.op !== 'release') continue;
    releases++;
    const term = terms.get(ev.region);
    if (term && !term.ended && term.epoch === ev.epoch && ev.t + slackMs < term.untilT) {
      violations.push({
        invariant: 'release-after-revoke',
        at: ev.t,
        detail: `the lease store released epoch ${ev.epoch} (asked by ${ev.region}) at t=${fmtS(ev.t)} while app-${ev.region} held authority under it until t=${fmtS(term.untilT)}`,
        events: [term.seq, ev.seq],
      });
    }
  }
  return outcome(
    'release-after-revoke',
    'safety',
    violations,
    `${releases} release(s) logged by the store, none while the holder's app wrote under the epoch`,
    releases > 0,
  );
}
