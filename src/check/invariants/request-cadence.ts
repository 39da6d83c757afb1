/**
 * `lease-request-cadence` (docs/invariants.md, Liveness): a controller asks the lease store one
 * request at a time, at the design's cadence — never two acquires or renewals closer together
 * than the retry interval. Judged on the lease store's own log, against the design's numbers.
 */

import type { LeaseStoreEvent, RegionId } from '../../contracts/history.ts';
import type { DesignSpec } from '../../contracts/spec.ts';
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
/**
 * A fault that could give `region` a failover candidacy (its peer probes failing: its own
 * controller, the other region or its controller, or its probe link) or hide a reply from it
 * (its controller, its path to the store).
 */
function mayFailOver(x: FaultSpan, region: RegionId, regions: readonly RegionId[]): boolean {
  const ctl = `ctl-${region}`;
  if (touchesLeaseStore(x, region) || x.links.includes(`${ctl}->peer`)) return true;
  return regions.some((r) => x.target === r || x.target === `ctl-${r}` || x.components.includes(`ctl-${r}`));
}

/**
 * Statement (2): docs/controller.md §2, a vacant-lease or bootstrap candidate whose acquire the
 * store refused because another region holds the lease stands by at once — only a failover
 * candidate (its peer gone) keeps asking until the lease expires, and an operator's promote
 * until its timeout. So when nothing could have made the region a failover candidate since a
 * candidacy could have begun (the candidate timeout T + H and the detection before it back, or
 * the run's start when an operator's approval may have kept it waiting), no operator promoted
 * it, and nothing hid the refusal from it, its next acquire comes only once that lease is gone
 * (released, expired or superseded in the store's log, or past its expiry at the store).
 */
function refusedStandsDown(f: Facts, spec: DesignSpec): { violations: Violation[]; judged: number } {
  const violations: Violation[] = [];
  let judged = 0;
  const detectMs =
    spec.leaseTtlMs +
    spec.heartbeatMs +
    (spec.peerFailureThreshold + 1) * spec.peerCheckIntervalMs +
    spec.witnessRoundTimeoutMs +
    2 * spec.maxDelayMs;
  const refused = new Map<RegionId, LeaseStoreEvent>();
  const gone = new Set<number>();
  let lastGrant = 0;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(ev)) continue;
    if (ev.op === 'release' || ev.op === 'expire') gone.add(ev.epoch);
    const supersededBelow = lastGrant;
    if (ev.op === 'grant') lastGrant = Math.max(lastGrant, ev.epoch);
    const region = ev.region;
    if (region === undefined || !((ev.op === 'refuse' && ev.requested === 'acquire') || ev.op === 'grant'))
      continue;
    const prev = refused.get(region);
    refused.delete(region);
    if (ev.op === 'refuse' && ev.holder !== null && ev.holder !== region && ev.expiresAt !== null) {
      if (ev.storeNowMs === undefined || ev.expiresAt > ev.storeNowMs) refused.set(region, ev);
    }
    if (prev === undefined) continue;
    const ended =
      gone.has(prev.epoch) ||
      supersededBelow > prev.epoch ||
      (ev.op === 'grant' && ev.epoch > prev.epoch) ||
      (ev.storeNowMs !== undefined && ev.storeNowMs >= (prev.expiresAt ?? 0));
    const cmds = operatorCommands(f).filter((c) => c.region === region && c.t <= ev.t);
    const from = cmds.some((c) => c.t <= prev.t) ? 0 : prev.t - detectMs;
    if (
      cmds.some((c) => c.command === 'promote' && c.t >= from) ||
      f.faults.some(
        (x) =>
          mayFailOver(x, region, f.regions) &&
          x.start <= ev.t &&
          (x.end >= from || (x.fault === 'latency' && x.links.includes(`ctl-${region}->worker`))),
      ) ||
      processEventBetween(f, (c) => c === `ctl-${region}` || c === 'worker', from, ev.t, NEW_INCARNATION)
    )
      continue;
    judged++;
    if (ended) continue;
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail: `ctl-${region}'s acquire was refused at t=${fmtS(prev.t)} because ${prev.holder} held epoch ${prev.epoch}, and nothing could have made it a failover candidate; yet it asked again at t=${fmtS(ev.t)} while ${prev.holder} still held it: a vacant-lease or bootstrap candidate stands by when another region holds the lease`,
      events: [prev.seq, ev.seq],
    });
  }
  return { violations, judged };
}

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
  const refusals = refusedStandsDown(f, spec);
  violations.push(...refusals.violations);
  return outcome(
    NAME,
    'liveness',
    violations,
    judged + refusals.judged > 0
      ? `${judged} consecutive acquire/renew requests, each at least the retry interval after the last${refusals.judged > 0 ? `; ${refusals.judged} acquire(s) after one refused for another region's lease, each once that lease was gone` : ''}`
      : 'no two acquire/renew requests of one region to judge',
    judged + refusals.judged > 0,
  );
}
