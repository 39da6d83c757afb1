/**
 * `demote-fencing`: an app's fence decides a demote call by the fencing token, as the
 * reference's §3.4 fencing rule asks of every holder-issued action — the resource refuses an
 * epoch lower than the term it holds, and only that:
 * (1) a demote naming the epoch of the app's latest grant, or a newer one, is honoured: a
 *     fence that refuses it leaves the app writing after its holder stood down (and a graceful
 *     stop then waits for the lease to expire instead of releasing it);
 * (2) a demote naming an older epoch does not end a newer term still in force: a late demote
 *     from an earlier incarnation must not revoke authority the store granted since.
 * Judged on the apps' own decisions (app-authority events): the demote's epoch is the one the
 * app recorded with its reject or revoke; the term in force is the latest grant, until a revoke
 * (any reason) or its `untilT`.
 */

import type { RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';
import { isDemotion } from './demotion.ts';

interface Term {
  epoch: number;
  untilT: number;
  seq: number;
  /** revoked since (crash, clock change, demote) */
  ended: boolean;
}

export function checkDemoteFencing(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const terms = new Map<RegionId, Term>();
  let demotes = 0;
  for (const ev of eventsOfKind(f, 'app-authority')) {
    const term = terms.get(ev.region);
    if (ev.op === 'grant') {
      terms.set(ev.region, { epoch: ev.epoch, untilT: ev.untilT ?? ev.t, seq: ev.seq, ended: false });
      continue;
    }
    if (!isDemotion(ev.reason)) {
      if (ev.op === 'revoke' && term) term.ended = true;
      continue;
    }
    demotes++;
    if (ev.op === 'reject' && (term === undefined || ev.epoch >= term.epoch)) {
      violations.push({
        invariant: 'demote-fencing',
        at: ev.t,
        detail: `app-${ev.region} refused a demote under epoch ${ev.epoch} at t=${fmtS(ev.t)}, ${term ? `not older than its latest grant (epoch ${term.epoch})` : 'with no grant before it'}`,
        events: term ? [term.seq, ev.seq] : [ev.seq],
      });
    } else if (ev.op === 'revoke' && term && !term.ended && ev.epoch < term.epoch && ev.t < term.untilT) {
      violations.push({
        invariant: 'demote-fencing',
        at: ev.t,
        detail: `app-${ev.region} let a demote under epoch ${ev.epoch} end its authority under the newer epoch ${term.epoch} at t=${fmtS(ev.t)} (granted until t=${fmtS(term.untilT)})`,
        events: [term.seq, ev.seq],
      });
    }
    if (ev.op === 'revoke' && term) term.ended = true;
  }
  return outcome(
    'demote-fencing',
    'safety',
    violations,
    `${demotes} demote call(s), each decided by its epoch against the app's term`,
    demotes > 0,
  );
}
