/**
 * Liveness invariants (docs/invariants.md, Liveness): failover happens within the spec's bound,
 * not spuriously, and not back and forth. Bounds come from the spec (src/contracts/spec.ts).
 */

import type { RegionId, RoleEvent } from '../../contracts/history.ts';
import {
  CUT_FAULTS,
  type Facts,
  firstPromotion,
  fmtS,
  inHoldDown,
  isInterRegionLink,
  othersOverlap,
  outcome,
  primaryOf,
  REGION_LOSS_FAULTS,
  regionOfEndpoint,
} from '../facts.ts';
import { faultEffect } from '../premises.ts';
import type { CheckOutcome, Measurements, Violation } from '../verdict.ts';

export function checkFailoverLiveness(f: Facts, m: Measurements): CheckOutcome {
  const violations: Violation[] = [];
  const bound = f.spec?.bounds.failoverBoundMs;
  let evaluated = 0;
  let lossesSeen = 0;
  const skipped: string[] = [];
  if (bound === undefined)
    return outcome('failover-liveness', 'liveness', [], 'no meta: bound unknown', false);
  for (const fault of f.faults) {
    if (!REGION_LOSS_FAULTS.has(fault.fault) || !f.regions.includes(fault.target)) continue;
    const lost = fault.target;
    const before = f.rolesAtFault.get(fault.id);
    if (primaryOf(before) !== lost) continue;
    const deadline = fault.start + bound;
    if (fault.end < deadline || f.endT < deadline) continue; // lost for less than the bound
    // The bound is a promise for a region loss alone; say why a loss was not judged.
    if (othersOverlap(f, fault, fault.start, deadline)) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: other faults overlap`);
      continue;
    }
    const dr = f.regions.filter((r) => r !== lost);
    if (dr.some((r) => inHoldDown(f, r, fault.start))) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: DR region in hold-down`);
      continue;
    }
    evaluated++;
    if (faultEffect(f, fault).observed) lossesSeen++;
    const promo = firstPromotion(f, lost, fault.start, deadline);
    if (promo) {
      if (m.failoverMs === undefined) m.failoverMs = promo.t - fault.start;
    } else {
      violations.push({
        invariant: 'failover-liveness',
        at: deadline,
        detail: `region ${lost} lost (${fault.fault} at t=${fmtS(fault.start)}) but no other region was primary within the bound ${fmtS(bound)}`,
        events: [fault.startSeq],
      });
    }
  }
  return outcome(
    'failover-liveness',
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} primary-region losses, each failed over within ${fmtS(bound)}`
      : skipped.length > 0
        ? `bound not applied: ${skipped.join('; ')}`
        : 'no primary-region loss long enough to require a failover',
    evaluated > 0,
    evaluated > 0
      ? {
          statement: 'the region loss was observed (crash recorded, or probes/leases failing)',
          observed: lossesSeen > 0,
          evidence: `${lossesSeen} of ${evaluated} losses observed`,
        }
      : undefined,
  );
}

export function checkNoSpuriousFailover(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const bound = f.spec?.bounds.failoverBoundMs ?? 0;
  let evaluated = 0;
  let cutsSeen = 0;
  for (const fault of f.faults) {
    if (!CUT_FAULTS.has(fault.fault) || fault.links.length === 0) continue;
    if (!fault.links.every((l) => isInterRegionLink(l, f.regions))) continue;
    const primary = primaryOf(f.rolesAtFault.get(fault.id));
    if (primary === null) continue;
    const until = Math.min(fault.end + bound, f.endT);
    if (othersOverlap(f, fault, fault.start, until)) continue;
    evaluated++;
    const cutEnd = Math.min(fault.end, f.endT);
    if (f.events.some((e) => e.kind === 'peer-probe' && !e.ok && e.t >= fault.start && e.t <= cutEnd))
      cutsSeen++;
    const promo = firstPromotion(f, primary, fault.start, until);
    if (promo) {
      violations.push({
        invariant: 'no-spurious-failover',
        at: promo.t,
        detail: `region ${promo.region} became primary while only inter-region links were cut (${fault.target}) and ${primary} was healthy`,
        events: [fault.startSeq, promo.seq],
      });
    }
  }
  return outcome(
    'no-spurious-failover',
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} inter-region-only partitions, no failover`
      : 'no partition of only inter-region links',
    evaluated > 0,
    evaluated > 0
      ? {
          statement: 'peer probes were observed failing during the cut',
          observed: cutsSeen > 0,
          evidence: `${cutsSeen} of ${evaluated} cuts showed a failing peer probe`,
        }
      : undefined,
  );
}

export function checkBoundedFlapping(f: Facts): CheckOutcome {
  const hold = f.spec?.promotionHoldDownMs;
  if (hold === undefined) return outcome('bounded-flapping', 'liveness', [], 'hold-down not recorded', false);
  const rho = f.spec?.maxClockDriftRate ?? 0;
  // the hold-down runs on the controller's clock, which may run fast by ρ
  const minGapMs = hold / (1 + rho) - 1;
  const violations: Violation[] = [];
  const lastDemotion = new Map<RegionId, RoleEvent>();
  let promotions = 0;
  for (const ev of f.events) {
    if (ev.kind === 'process' && (ev.op === 'crash' || ev.op === 'restart' || ev.op === 'start')) {
      const r = regionOfEndpoint(ev.component, f.regions);
      if (r !== null && ev.component.startsWith('ctl-')) lastDemotion.delete(r); // state (and hold-down) lost
      continue;
    }
    if (ev.kind !== 'role') continue;
    if (ev.from === 'primary' && ev.to !== 'primary') lastDemotion.set(ev.region, ev);
    if (ev.to === 'primary') {
      promotions++;
      const d = lastDemotion.get(ev.region);
      if (d && ev.t - d.t < minGapMs) {
        violations.push({
          invariant: 'bounded-flapping',
          at: ev.t,
          detail: `ctl-${ev.region} became primary again ${fmtS(ev.t - d.t)} after demoting (hold-down ${fmtS(hold)})`,
          events: [d.seq, ev.seq],
        });
      }
    }
  }
  return outcome(
    'bounded-flapping',
    'liveness',
    violations,
    `${promotions} promotions, none inside a hold-down of ${fmtS(hold)}`,
    promotions > 0,
  );
}
