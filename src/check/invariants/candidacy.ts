/**
 * `candidacy-hold-down` (docs/invariants.md, Liveness): a failed candidacy is followed by the
 * promotion hold-down before the region asks for the lease again. Judged on the lease store's
 * own log of acquire requests (refused or granted), against the design's numbers.
 */

import type { LeaseStoreEvent, RegionId } from '../../contracts/history.ts';
import {
  eventsOfKind,
  type Facts,
  type FaultSpan,
  fmtS,
  isStoreLogEntry,
  outcome,
  processEventBetween,
  touchesLeaseStore,
} from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';
import { operatorCommands } from './operator.ts';

const NAME = 'candidacy-hold-down';

/** A cut that keeps every peer probe of `region` from being answered while it lasts. */
function cutsPeerProbes(x: FaultSpan, region: RegionId): boolean {
  return (x.fault === 'partition' || x.fault === 'isolate') && x.links.includes(`ctl-${region}->peer`);
}

/**
 * A fault that could stretch the region's retry gaps or shorten its hold-down: anything on its
 * path to the store, the Worker itself, or its controller (pause, crash, stop, clock).
 */
function disturbsCandidate(x: FaultSpan, region: RegionId): boolean {
  const ctl = `ctl-${region}`;
  return (
    touchesLeaseStore(x, region) ||
    x.target === ctl ||
    x.components.includes(ctl) ||
    (x.target === region && x.fault !== 'isolate')
  );
}

/** The span [from, to] is judged: the peer link cut throughout, nothing else touching the candidate. */
function judgeable(f: Facts, region: RegionId, from: number, to: number): boolean {
  const cut = f.faults.find((x) => cutsPeerProbes(x, region) && x.start <= from && x.end >= to);
  if (!cut) return false;
  // a candidacy that waited for the operator's approval (or promote) may have begun, on another
  // basis, before the cut: whether it owed a hold-down the store's log cannot tell
  if (operatorCommands(f).some((c) => c.region === region && c.t >= cut.start && c.t <= to)) return false;
  if (f.faults.some((x) => disturbsCandidate(x, region) && x.start <= to && x.end >= from)) return false;
  // a controller that restarted forgot its hold-down (it is process memory)
  return !processEventBetween(f, (c) => c === `ctl-${region}` || c === 'worker', from, to);
}

/**
 * Every acquire of a candidacy follows the previous one's reply by the retry interval: within
 * one candidacy, consecutive acquires reach the store at most d + retry·(1+ρ) + d apart. A
 * longer gap means the candidacy ended. With its peer's probes all cut, a failover candidacy
 * can end only by its timeout or a rejection, both followed by the hold-down: the next acquire
 * is sent at least H_d (its clock, fast by ρ at most) after the last one, so it reaches the
 * store no sooner than H_d/(1+ρ) − d after it.
 */
/**
 * Statement (2): docs/controller.md §3, a grant whose TTL is shorter than T is not acted on and
 * the candidate returns to standby with the hold-down, so the region's next acquire is sent at
 * least H_d after that grant's reply came (its clock, fast by ρ at most): it reaches the store no
 * sooner than H_d/(1+ρ) − d after the grant. Not judged across anything that could shorten the
 * hold-down or bring an older request in late: a new incarnation of the controller or the
 * Worker, a fault on the controller or its path to the store (latency, from its start to the
 * end of the run), or an operator's command for the region (a promote overrides the hold-down).
 */
function shortGrantHoldDown(f: Facts, holdDownMinMs: number): { violations: Violation[]; judged: number } {
  const spec = f.spec!;
  const violations: Violation[] = [];
  let judged = 0;
  const short = new Map<RegionId, LeaseStoreEvent>();
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(ev) || ev.region === undefined) continue;
    if (!((ev.op === 'refuse' && ev.requested === 'acquire') || ev.op === 'grant')) continue;
    const region = ev.region;
    const prev = short.get(region);
    short.delete(region);
    const ttl = ev.expiresAt !== null && ev.storeNowMs !== undefined ? ev.expiresAt - ev.storeNowMs : null;
    if (ev.op === 'grant' && ttl !== null && ttl < spec.leaseTtlMs - 1) short.set(region, ev);
    if (prev === undefined) continue;
    const disturbed = f.faults.some(
      (x) =>
        disturbsCandidate(x, region) &&
        x.start <= ev.t &&
        (x.end >= prev.t || (x.fault === 'latency' && touchesLeaseStore(x, region))),
    );
    if (
      disturbed ||
      operatorCommands(f).some((c) => c.region === region && c.t >= prev.t && c.t <= ev.t) ||
      processEventBetween(f, (c) => c === `ctl-${region}` || c === 'worker', prev.t, ev.t)
    )
      continue;
    judged++;
    const gap = ev.t - prev.t;
    if (gap >= holdDownMinMs) continue;
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail: `the lease store granted ctl-${region} epoch ${prev.epoch} for ${fmtS(prev.expiresAt! - prev.storeNowMs!)}, shorter than T = ${fmtS(spec.leaseTtlMs)}, so it was not to be acted on; yet ctl-${region} asked for the lease again ${fmtS(gap)} later, inside the hold-down of ${fmtS(spec.promotionHoldDownMs)}`,
      events: [prev.seq, ev.seq],
    });
  }
  return { violations, judged };
}

export function checkCandidacyHoldDown(f: Facts): CheckOutcome {
  const spec = f.spec;
  if (!spec) return outcome(NAME, 'liveness', [], 'no spec: hold-down unknown', false);
  const d = spec.maxDelayMs;
  const rho = spec.maxClockDriftRate;
  const sameCandidacyMaxMs = 2 * d + spec.acquireRetryMs * (1 + rho) + 1;
  const holdDownMinMs = spec.promotionHoldDownMs / (1 + rho) - d - 1;
  const violations: Violation[] = [];
  let judged = 0;
  const last = new Map<RegionId, LeaseStoreEvent>();
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(ev) || ev.region === undefined) continue;
    const isAcquire = (ev.op === 'refuse' && ev.requested === 'acquire') || ev.op === 'grant';
    if (!isAcquire) continue;
    const region = ev.region;
    const prev = last.get(region);
    last.set(region, ev);
    if (prev?.op !== 'refuse') continue;
    const gap = ev.t - prev.t;
    if (gap <= sameCandidacyMaxMs || !judgeable(f, region, prev.t - d, ev.t)) continue;
    judged++;
    if (gap >= holdDownMinMs) continue;
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail: `ctl-${region}'s candidacy ended (its acquire at t=${fmtS(prev.t)} refused, its peer's probes all cut), yet it asked for the lease again ${fmtS(gap)} later, inside the hold-down of ${fmtS(spec.promotionHoldDownMs)}`,
      events: [prev.seq, ev.seq],
    });
  }
  const short = shortGrantHoldDown(f, holdDownMinMs);
  violations.push(...short.violations);
  return outcome(
    NAME,
    'liveness',
    violations,
    judged + short.judged > 0
      ? `${judged} failed candidacies${short.judged > 0 ? ` and ${short.judged} grant(s) shorter than T` : ''}, each followed by the hold-down before the next acquire`
      : 'no failed candidacy followed by another while the peer was cut',
    judged + short.judged > 0,
  );
}
