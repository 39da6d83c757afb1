/**
 * `operator-approval` (docs/invariants.md, Safety): in semi-automatic mode a region's app is
 * promoted only after the operator approved that region's candidacy — the one exception is the
 * preferred region's bootstrap (the initial primary taking a lease never granted before).
 * Judged on what the apps observed (their promote grants) against what the operator recorded
 * (`note` events from source `operator`), never on the controller's own `approvedBy`.
 */

import type { RegionId } from '../../contracts/history.ts';
import { type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

const NAME = 'operator-approval';

/** The region an operator note approved, or null for any other note. */
function approvedRegion(ev: Facts['events'][number]): RegionId | null {
  if (ev.kind !== 'note' || ev.source !== 'operator') return null;
  const d = ev.data;
  return d && d['command'] === 'approve' && typeof d['region'] === 'string' ? d['region'] : null;
}

export function checkOperatorApproval(f: Facts): CheckOutcome {
  if (f.spec?.controllerMode !== 'semi-automatic')
    return outcome(NAME, 'safety', [], 'not semi-automatic mode: no approval required', false);
  const violations: Violation[] = [];
  /** approvals per region since its last promotion */
  const pending = new Map<RegionId, number>();
  const promoted = new Set<string>();
  let judged = 0;
  for (const ev of f.events) {
    const approved = approvedRegion(ev);
    if (approved !== null) {
      pending.set(approved, (pending.get(approved) ?? 0) + 1);
      continue;
    }
    if (ev.kind !== 'app-authority' || ev.op !== 'grant' || ev.reason !== 'promote') continue;
    const key = `${ev.region}/${ev.epoch}`;
    if (promoted.has(key)) continue; // the same term promoted again (a retry)
    promoted.add(key);
    // the preferred bootstrap: the initial primary taking a lease never granted before is the
    // history's first promotion (any later one follows an earlier grant)
    if (promoted.size === 1 && ev.region === f.meta?.initialPrimary) continue;
    judged++;
    if ((pending.get(ev.region) ?? 0) > 0) {
      pending.set(ev.region, 0);
      continue;
    }
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail: `app-${ev.region} was promoted under epoch ${ev.epoch} at t=${fmtS(ev.t)} in semi-automatic mode, but the operator approved no candidacy of ${ev.region} since its last promotion`,
      events: [ev.seq],
    });
  }
  return outcome(
    NAME,
    'safety',
    violations,
    judged > 0
      ? `${judged} promotion(s) in semi-automatic mode, each after the operator's approval`
      : 'no promotion that needed the operator',
    judged > 0,
  );
}
