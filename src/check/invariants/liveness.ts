/**
 * Liveness invariants (docs/invariants.md, Liveness): failover happens within the spec's bound,
 * not spuriously, and not back and forth. Bounds come from the spec (src/contracts/spec.ts).
 */

import type { AppAuthorityEvent, LeaseStoreEvent, RegionId, RoleEvent } from '../../contracts/history.ts';
import { failoverDeadlineMs } from '../../contracts/spec.ts';
import {
  CUT_FAULTS,
  eventsOfKind,
  eventsOfKinds,
  type Facts,
  type FaultSpan,
  firstPromotion,
  fmtS,
  inHoldDown,
  isInterRegionLink,
  othersOverlap,
  outcome,
  primaryOf,
  processEventBetween,
  REGION_LOSS_FAULTS,
  regionOfEndpoint,
} from '../facts.ts';
import { faultEffect } from '../premises.ts';
import type { CheckOutcome, Measurements, Violation } from '../verdict.ts';
import { isDemotion } from './demotion.ts';
import { approvalShift, operatorCommands } from './operator.ts';

export function checkFailoverLiveness(f: Facts, m: Measurements): CheckOutcome {
  const violations: Violation[] = [];
  const bound = f.spec?.bounds.failoverBoundMs;
  let evaluated = 0;
  let lossesSeen = 0;
  let afterHoldDown = 0;
  const skipped: string[] = [];
  if (bound === undefined)
    return outcome('failover-liveness', 'liveness', [], 'no meta: bound unknown', false);
  if (f.spec?.controllerMode === 'manual')
    return outcome('failover-liveness', 'liveness', [], "manual mode: a failover is the operator's", false);
  for (const fault of f.faults) {
    if (!REGION_LOSS_FAULTS.has(fault.fault) || !f.regions.includes(fault.target)) continue;
    const lost = fault.target;
    const before = f.rolesAtFault.get(fault.id);
    if (primaryOf(before) !== lost) continue;
    // semi-automatic: the takeover waits for the operator's approval; from it, one acquire
    // (a retry interval, its round trip, the promote's delivery) remains
    const shift = approvalShift(f, lost, fault.start);
    if (shift === null) {
      skipped.push(
        `${fault.fault} of ${lost} at t=${fmtS(fault.start)}: nobody answers approval requests (the scenario's commands decide)`,
      );
      continue;
    }
    const dr = f.regions.filter((r) => r !== lost);
    const ready = readyAfterHoldDown(f, dr, fault.start);
    if (ready === null) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: DR region in hold-down`);
      continue;
    }
    const deadline = Math.max(
      ready > fault.start ? failoverDeadlineMs(f.spec!, fault.start, ready) : fault.start + bound,
      afterApproval(f, shift.startsAt),
    );
    if (fault.end < deadline || f.endT < deadline) continue; // lost for less than the bound
    // The bound is a promise for a region loss alone; say why a loss was not judged.
    if (othersOverlap(f, fault, fault.start, deadline)) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: other faults overlap`);
      continue;
    }
    evaluated++;
    if (ready > fault.start) afterHoldDown++;
    if (faultEffect(f, fault).observed) lossesSeen++;
    const promo = firstPromotion(f, lost, fault.start, deadline);
    if (promo) {
      if (m.failoverMs === undefined) m.failoverMs = promo.t - fault.start;
    } else {
      violations.push({
        invariant: 'failover-liveness',
        at: deadline,
        detail:
          ready > fault.start
            ? `region ${lost} lost (${fault.fault} at t=${fmtS(fault.start)}) but no other region was primary by t=${fmtS(deadline)} (the DR region's hold-down over by t=${fmtS(ready)}, then detection, the lease gone and one acquire)`
            : `region ${lost} lost (${fault.fault} at t=${fmtS(fault.start)}) but no other region was primary within the bound ${fmtS(bound)}`,
        events: [fault.startSeq],
      });
    }
  }
  return outcome(
    'failover-liveness',
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} primary-region losses, each failed over within ${fmtS(bound)}` +
          (afterHoldDown > 0 ? ` (${afterHoldDown} counted from the end of the DR region's hold-down)` : '')
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

/** Demotions after which the controller stands by for the promotion hold-down H_d. */
const plainHoldDown = (reason: string | undefined): boolean =>
  isDemotion(reason) && !reason!.includes('resource-failed') && !reason!.includes('shutdown');

/**
 * When the DR regions can act on a loss at `lostAt`: at once (lostAt), or — for a region that
 * demoted inside the hold-down before it — once that hold-down is over (null: not known). The
 * end is read off the region's app: its revoke of the demoted epoch comes after the demotion,
 * so the hold-down (H_d on the controller's clock, slow by ρ at most) is over by revoke +
 * H_d/(1−ρ). A longer hold-down (after a resource failure), a fault on the region's controller
 * process meanwhile (a pause, a clock fault, a restart), or a demotion its app never saw leaves
 * the end unknown.
 */
function readyAfterHoldDown(f: Facts, dr: RegionId[], lostAt: number): number | null {
  const spec = f.spec!;
  const holdMaxMs = Math.ceil(spec.promotionHoldDownMs / (1 - spec.maxClockDriftRate)) + 1;
  let ready = lostAt;
  for (const r of dr) {
    if (!inHoldDown(f, r, lostAt)) continue;
    let revoke: AppAuthorityEvent | null = null;
    for (const ev of eventsOfKind(f, 'app-authority')) {
      if (ev.t > lostAt) break;
      if (ev.region === r && ev.op === 'revoke' && isDemotion(ev.reason)) revoke = ev;
    }
    if (revoke === null || !plainHoldDown(revoke.reason) || revoke.t + holdMaxMs <= lostAt) return null;
    // the hold-down runs on the controller's clock, in its process: a cut link leaves it be
    const ctl = `ctl-${r}`;
    const touched = f.faults.some(
      (x) => x.start <= lostAt && x.end >= revoke.t && (x.target === ctl || x.components.includes(ctl)),
    );
    if (touched || processEventBetween(f, (c) => c === ctl, revoke.t, lostAt)) return null;
    ready = Math.max(ready, revoke.t + holdMaxMs);
  }
  return ready;
}

/** The latest a takeover approved at `t` is primary: one acquire retry, its round trip, the promote. */
export function afterApproval(f: Facts, t: number): number {
  const s = f.spec;
  return s ? t + s.acquireRetryMs + 3 * s.maxDelayMs : t;
}

/**
 * Could this fault keep `holder` from renewing, or make it step down by design? Anything in
 * its region (the region, its controller, app, authoritative), the lease store, any
 * authoritative (a primary's publish failures count as resource failures), or a link with one
 * of those at an end. A target left unresolved (a glob) counts.
 */
function mayCostLease(x: FaultSpan, holder: RegionId, regions: RegionId[]): boolean {
  const resolved = x.links.length > 0 || x.components.length > 0;
  const ends = [...(resolved ? [] : [x.target]), ...x.components, ...x.links.flatMap((l) => l.split('->'))];
  return ends.some(
    (e) =>
      e === holder ||
      e === 'worker' ||
      e.includes('*') ||
      e.startsWith('auth-') ||
      regionOfEndpoint(e, regions) === holder,
  );
}

const PATH_FAULTS: ReadonlySet<string> = new Set(['partition', 'flap', 'loss', 'latency']);

/**
 * A fault that only delays or cuts the holder's own path to the store (its controller's links
 * to the Worker, or a pause of its controller): the design retries through it. Anything else
 * that may cost the lease (a crash or restart, a clock fault, the app or an authoritative
 * failing, the Worker itself) may end the tenure by design, and voids the judgement.
 */
function onlyDelaysRenewal(x: FaultSpan, holder: RegionId): boolean {
  const ctl = `ctl-${holder}`;
  if (x.fault === 'pause') return x.components.length > 0 && x.components.every((c) => c === ctl);
  if (!PATH_FAULTS.has(x.fault) || x.links.length === 0) return false;
  return x.links.every((l) => l === `${ctl}->worker` || l === `worker->${ctl}`);
}

/** A process of the holder's region or of the Worker crashed, started or restarted in [from, to]. */
function restartedBetween(f: Facts, holder: RegionId, from: number, to: number): boolean {
  return processEventBetween(f, (c) => c === 'worker' || regionOfEndpoint(c, f.regions) === holder, from, to);
}

/** Length of the longest stretch of [from, to] that none of `faults` covers. */
function longestFree(faults: FaultSpan[], from: number, to: number): number {
  const cuts = faults.filter((x) => x.start < to && x.end > from).sort((a, b) => a.start - b.start);
  let free = from;
  let longest = 0;
  for (const x of cuts) {
    longest = Math.max(longest, x.start - free);
    free = Math.max(free, x.end);
  }
  return Math.max(longest, to - free);
}

/**
 * The lease left a holder that could renew it (the second half of `no-spurious-failover`,
 * docs/invariants.md). By the design a primary renews H after its last renewal's send and,
 * while a request is lost or refused, again at least every H/2 (the request timeout; a refused
 * request is retried after H/4); a renewal takes at most 2d and extends the safe window L from
 * its send. Take the holder's last renewal at the store (tR) and the one before it (tP, whose
 * reply arrived: nothing that may cost the lease from a TTL before tP until tP + d), with
 * nothing but faults on its own path to the store (onlyDelaysRenewal) after that. If tR's reply
 * arrived, the next attempts fall in [tR + H, tR + L − d]; if a fault may have eaten it, in
 * [tR, tP + L − d]. A stretch of H/2 + 2d free of faults inside every window that applies means
 * the holder renews: its grant must not expire at the store. Judged on exact store
 * observations (op) of a store whose TTL is the design's T.
 */
function unexplainedLeaseLapses(f: Facts): { judged: number; violations: Violation[] } {
  const spec = f.spec;
  const violations: Violation[] = [];
  if (!spec) return { judged: 0, violations };
  const T = spec.leaseTtlMs;
  const H = spec.heartbeatMs;
  const d = spec.maxDelayMs;
  const L = spec.bounds.safeWindowMs;
  // every clock may run off by ρ; 1 ms for rounding
  const need = (H / 2 + 2 * d) * (1 + spec.maxClockDriftRate) + spec.maxClockDriftRate * T + 1;
  const renewals = new Map<RegionId, LeaseStoreEvent[]>();
  let judged = 0;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.op === undefined) continue;
    if ((ev.op === 'grant' || ev.op === 'renew') && ev.holder !== null) {
      const mine = renewals.get(ev.holder) ?? [];
      renewals.set(ev.holder, [...mine.filter((x) => x.epoch === ev.epoch).slice(-1), ev]);
    }
    if (ev.op !== 'expire' || ev.region === undefined) continue;
    const h = ev.region;
    const mine = (renewals.get(h) ?? []).filter((x) => x.epoch === ev.epoch);
    const r = mine[mine.length - 1];
    if (!r || r.expiresAt === null || r.storeNowMs === undefined) continue;
    if (r.expiresAt - r.storeNowMs < T) continue; // a store with a shorter TTL: not the design's lease
    const costly = f.faults.filter(
      (x) => mayCostLease(x, h, f.regions) && x.start <= ev.t && x.end > r.t - 2 * T,
    );
    const replyMayBeLost = costly.some((x) => x.start <= r.t + d && x.end >= r.t - d);
    const p = replyMayBeLost ? mine[mine.length - 2] : r;
    if (!p) continue; // a grant whose reply may be lost: the candidate's path, not a renewal
    // p's reply arrived (so the window was at least sendP + L), and nothing after p that may
    // end the tenure by design
    if (costly.some((x) => x.start <= p.t + d && x.end > p.t - T)) continue;
    if (costly.some((x) => !onlyDelaysRenewal(x, h)) || restartedBetween(f, h, p.t - T, ev.t)) continue;
    judged++;
    const longest = Math.min(
      longestFree(costly, r.t + H, r.t + L - d),
      replyMayBeLost ? longestFree(costly, r.t, p.t + L - d) : Number.POSITIVE_INFINITY,
    );
    if (longest < need) continue;
    violations.push({
      invariant: 'no-spurious-failover',
      at: ev.t,
      detail: `the store let ${h}'s lease (epoch ${ev.epoch}) expire at t=${fmtS(ev.t)}, though after its renewal at t=${fmtS(r.t)} nothing kept ${h} from renewing for ${fmtS(longest)} inside its safe window (a renewal needs at most H/2 + 2d = ${fmtS(need)})`,
      events: [r.seq, ev.seq],
    });
  }
  return { judged, violations };
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
    if (eventsOfKind(f, 'peer-probe').some((e) => !e.ok && e.t >= fault.start && e.t <= cutEnd)) cutsSeen++;
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
  const lapses = unexplainedLeaseLapses(f);
  violations.push(...lapses.violations);
  return outcome(
    'no-spurious-failover',
    'liveness',
    violations,
    (evaluated > 0
      ? `${evaluated} inter-region-only partitions, no failover`
      : 'no partition of only inter-region links') +
      (lapses.judged > 0
        ? `; ${lapses.judged} lease expiries judged, ${lapses.violations.length} with no fault to explain them`
        : ''),
    evaluated > 0 || lapses.judged > 0,
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
  const promotes = operatorCommands(f).filter((c) => c.command === 'promote');
  const lastPromotion = new Map<RegionId, number>();
  let promotions = 0;
  for (const ev of eventsOfKinds(f, 'process', 'role')) {
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
      // an operator's promote overrides the hold-down by design (docs/controller.md); one taken
      // since the region's previous promotion (a promote reaching a primary is ignored)
      const since = lastPromotion.get(ev.region) ?? Number.NEGATIVE_INFINITY;
      const byOperator = promotes.some(
        (c) => c.region === ev.region && c.takenAt !== null && c.takenAt >= since && c.takenAt <= ev.t,
      );
      if (d && ev.t - d.t < minGapMs && !byOperator) {
        violations.push({
          invariant: 'bounded-flapping',
          at: ev.t,
          detail: `ctl-${ev.region} became primary again ${fmtS(ev.t - d.t)} after demoting (hold-down ${fmtS(hold)})`,
          events: [d.seq, ev.seq],
        });
      }
      lastPromotion.set(ev.region, ev.t);
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
