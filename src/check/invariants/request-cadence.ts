/**
 * `lease-request-cadence` (docs/invariants.md, Liveness): a controller asks the lease store one
 * request at a time, at the design's cadence — never two acquires or renewals closer together
 * than the retry interval. Judged on the lease store's own log, against the design's numbers.
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
} from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';
import { operatorCommands } from './operator.ts';

const NAME = 'lease-request-cadence';

/** An acquire (granted or refused) or a renewal (granted or refused) asked by `ev.region`. */
function isAcquireOrRenew(ev: LeaseStoreEvent): boolean {
  if (ev.op === 'grant' || ev.op === 'renew') return true;
  return ev.op === 'refuse' && (ev.requested === 'acquire' || ev.requested === 'renew');
}

/**
 * A fault that voids the bound between two of the region's requests: a clock fault on its
 * controller (a step or a fast clock shortens its intervals), one on the Worker (a restarted
 * or stale instance), added latency on the controller's link to the Worker (the assumptions
 * bound delay by d only on the holder's links to its app: a lease request may take longer,
 * so one the controller abandoned can reach the store just before its retry), or — outside
 * the assumptions — any fault on that link. A pause or a graceful stop does not: the
 * controller's clock runs on through both, and a stop sends a release, not a renewal.
 */
function voidsCadence(x: FaultSpan, region: RegionId, outside: boolean): boolean {
  const ctl = `ctl-${region}`;
  if (x.fault.startsWith('clock') && (x.target === ctl || x.components.includes(ctl))) return true;
  if (x.target === 'worker' || x.components.includes('worker')) return true;
  const onLink = x.links.includes(`${ctl}->worker`);
  return onLink && (outside || x.fault === 'latency');
}

/**
 * Until when a fault can still bend the cadence: its end, except for latency, whose last
 * delayed request arrives after the fault is gone by an amount the history does not record.
 */
const voidsUntil = (x: FaultSpan): number => (x.fault === 'latency' ? Number.POSITIVE_INFINITY : x.end);

/** A process (re)start or crash of the controller or the Worker: a new incarnation starts afresh. */
const NEW_INCARNATION: ReadonlySet<string> = new Set(['start', 'restart', 'crash']);

/** What the entry answered: the request as the controller sent it. */
const asked = (e: LeaseStoreEvent): string => e.requested ?? (e.op === 'grant' ? 'acquire' : 'renew');

function judgeable(f: Facts, region: RegionId, from: number, to: number, outside: boolean): boolean {
  if (f.faults.some((x) => voidsCadence(x, region, outside) && x.start <= to && voidsUntil(x) >= from))
    return false;
  // an operator's command may start a candidacy at once
  if (operatorCommands(f).some((c) => c.region === region && c.t >= from && c.t <= to)) return false;
  return !processEventBetween(f, (c) => c === `ctl-${region}` || c === 'worker', from, to, NEW_INCARNATION);
}

/**
 * docs/controller.md §2: a candidate sends its acquires one at a time, every retry interval R
 * (H/4) after the last reply; a primary renews H after its last renewal's send, retries a
 * failed one R after its send, and abandons one in flight only after the request timeout H/2.
 * So two of a region's acquire/renew requests leave at least R apart on its clock (fast by ρ
 * at most) and, each delayed by at most d, reach the store no sooner than R/(1+ρ) − d apart.
 * A controller that keeps a second request in flight, or ignores the retry interval, asks
 * sooner: a load the design does not put on the store, and a sign its in-flight bookkeeping
 * is wrong (mutation testing found both unjudged, docs/simulator.md "Mutation score").
 */
export function checkLeaseRequestCadence(f: Facts): CheckOutcome {
  const spec = f.spec;
  if (!spec) return outcome(NAME, 'liveness', [], 'no spec: retry interval unknown', false);
  const d = spec.maxDelayMs;
  const minGapMs = spec.acquireRetryMs / (1 + spec.maxClockDriftRate) - d - 1;
  const outside = f.meta?.withinAssumptions === false;
  const violations: Violation[] = [];
  let judged = 0;
  const last = new Map<RegionId, LeaseStoreEvent>();
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(ev) || ev.region === undefined || !isAcquireOrRenew(ev)) continue;
    const region = ev.region;
    const prev = last.get(region);
    last.set(region, ev);
    if (prev === undefined || !judgeable(f, region, prev.t - spec.acquireRetryMs - d, ev.t, outside))
      continue;
    judged++;
    const gap = ev.t - prev.t;
    if (gap >= minGapMs) continue;
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail: `ctl-${region}'s ${asked(ev)} reached the store ${fmtS(gap)} after its ${asked(prev)} at t=${fmtS(prev.t)}: the design sends one request at a time, ${fmtS(spec.acquireRetryMs)} apart at least`,
      events: [prev.seq, ev.seq],
    });
  }
  return outcome(
    NAME,
    'liveness',
    violations,
    judged > 0
      ? `${judged} consecutive acquire/renew requests, each at least the retry interval after the last`
      : 'no two acquire/renew requests of one region to judge',
    judged > 0,
  );
}
