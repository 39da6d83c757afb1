/**
 * `demotion-final`: once an app was demoted under epoch e (its fence revoked e on a demote
 * call), it never gets write authority under e again. A controller acts under an epoch only
 * while it holds that lease; after it demoted, every later promotion is a new grant of the
 * store, under a new epoch. So a promote or extend under e that reaches the app after e's
 * demote is a call that overtook the demote or was sent after it: the region writes again
 * under a lease it gave up (and, after a release, one the store may already have handed on).
 * Judged on the apps' own decisions (app-authority events); revokes for other reasons (a
 * crash, a clock change ending the window) are not demotions.
 */

import type { RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

/** The fence's decision text for a demote call (src/topology/app/fence.ts `demote`). */
export const isDemotion = (reason: string | undefined): boolean => reason?.startsWith('demote') === true;

export function checkDemotionFinal(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  /** region → epoch → seq of its demote */
  const demoted = new Map<RegionId, Map<number, number>>();
  let demotions = 0;
  for (const ev of eventsOfKind(f, 'app-authority')) {
    const mine = demoted.get(ev.region) ?? new Map<number, number>();
    demoted.set(ev.region, mine);
    if (ev.op === 'revoke' && isDemotion(ev.reason)) {
      if (!mine.has(ev.epoch)) demotions++;
      mine.set(ev.epoch, ev.seq);
    } else if (ev.op === 'grant' && mine.has(ev.epoch)) {
      violations.push({
        invariant: 'demotion-final',
        at: ev.t,
        detail: `app-${ev.region} was granted write authority under epoch ${ev.epoch} (${ev.reason ?? 'grant'}) at t=${fmtS(ev.t)}, after it had been demoted from that epoch`,
        events: [mine.get(ev.epoch)!, ev.seq],
      });
    }
  }
  return outcome(
    'demotion-final',
    'safety',
    violations,
    `${demotions} demotion(s), none followed by authority under the same epoch`,
    demotions > 0,
  );
}
