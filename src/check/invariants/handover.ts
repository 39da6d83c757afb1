/**
 * `stop-releases-lease`: a controller stopped gracefully (SIGTERM: a deploy, the `stop` fault)
 * hands its lease over at once. Once its app confirmed the demotion — the app revoked the
 * epoch while the controller was stopping — nothing can still write under that epoch, so the
 * controller releases it and the next primary need not wait a whole TTL. Judged on the app's
 * and the store's observations: after such a revoke of epoch e by region R, the lease store
 * must log R's release of e (or e ending otherwise) within H/2 + d — the release leaves as
 * the confirmation arrives, and H/2 is the lease request's own timeout.
 *
 * Not judged when something in the way is faulted meanwhile: the Worker, R's controller or
 * its link to the Worker (the release may be lost; the lease then expires, as designed).
 */

import type { AppAuthorityEvent, HistoryEvent, RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, fmtS, isStoreLogEntry, outcome, touchesLeaseStore } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';
import { isDemotion } from './demotion.ts';

/**
 * [stop, exit) spans of each controller's graceful stops, from its process events. A graceful
 * stop waits up to the app request's timeout (H/2) for the demote's answer, so a span reaches
 * at least H/2 − d past the stop: an app that revoked by then answered a controller that was
 * still bound to be waiting — one that had exited already gave up on its app too early.
 */
function stopSpans(f: Facts, waitMs: number): Map<string, Array<{ from: number; to: number }>> {
  const out = new Map<string, Array<{ from: number; to: number }>>();
  for (const ev of eventsOfKind(f, 'process')) {
    if (!ev.component.startsWith('ctl-')) continue;
    const spans = out.get(ev.component) ?? [];
    out.set(ev.component, spans);
    if (ev.op === 'stop') spans.push({ from: ev.t, to: Number.POSITIVE_INFINITY });
    else if ((ev.op === 'exit' || ev.op === 'crash') && spans.length > 0) {
      const last = spans[spans.length - 1]!;
      if (last.to === Number.POSITIVE_INFINITY) last.to = Math.max(ev.t, last.from + waitMs);
    }
  }
  return out;
}

/** The store held e for `region` when the app revoked it (the store's log, up to the revoke). */
function heldAt(f: Facts, region: RegionId, epoch: number, t: number): boolean {
  let held = false;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.t > t) break;
    if (!isStoreLogEntry(ev) || ev.op === 'refuse') continue;
    held = ev.holder === region && ev.epoch === epoch && (ev.op === 'grant' || ev.op === 'renew');
  }
  return held;
}

/** The store's log ends e (release, expiry, or a later epoch) within [from, to]. */
function endedWithin(f: Facts, epoch: number, from: number, to: number): HistoryEvent | null {
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.t > to) break;
    if (ev.t < from || !isStoreLogEntry(ev)) continue;
    if ((ev.op === 'release' || ev.op === 'expire') && ev.epoch === epoch) return ev;
    if (ev.op === 'grant' && ev.epoch > epoch) return ev;
  }
  return null;
}

/** Something between R's controller and the store was faulted during [from, to]. */
function releasePathFaulted(f: Facts, region: RegionId, from: number, to: number): boolean {
  const ctl = `ctl-${region}`;
  const appLink = `${ctl}->app-${region}`;
  return f.faults.some(
    (x) =>
      x.start <= to &&
      x.end >= from &&
      x.fault !== 'stop' &&
      (touchesLeaseStore(x, region) ||
        x.components.includes(ctl) ||
        x.target === region ||
        // the demote's answer may be lost (a latency within d is waited out)
        (x.fault !== 'latency' && x.links.includes(appLink))),
  );
}

export function checkStopReleasesLease(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const spec = f.spec;
  if (!spec) return outcome('stop-releases-lease', 'liveness', [], 'no meta: bound unknown', false);
  const boundMs = spec.heartbeatMs / 2 + spec.maxDelayMs;
  const stops = stopSpans(f, spec.heartbeatMs / 2 - spec.maxDelayMs);
  let judged = 0;
  for (const ev of f.events) {
    if (ev.kind !== 'app-authority' || ev.op !== 'revoke' || !isDemotion(ev.reason)) continue;
    const spans = stops.get(`ctl-${ev.region}`) ?? [];
    if (!spans.some((s) => ev.t >= s.from && ev.t <= s.to)) continue;
    if (!heldAt(f, ev.region, ev.epoch, ev.t)) continue;
    const deadline = ev.t + boundMs;
    if (deadline > f.endT || releasePathFaulted(f, ev.region, ev.t, deadline)) continue;
    judged++;
    if (endedWithin(f, ev.epoch, ev.t, deadline) === null) violations.push(violation(ev, deadline, boundMs));
  }
  return outcome(
    'stop-releases-lease',
    'liveness',
    violations,
    judged > 0
      ? `${judged} graceful stop(s) of a holder: each released its lease within ${fmtS(boundMs)} of its app's demotion`
      : 'no graceful stop of a lease holder whose app confirmed the demotion',
    judged > 0,
  );
}

function violation(ev: AppAuthorityEvent, deadline: number, boundMs: number): Violation {
  return {
    invariant: 'stop-releases-lease',
    at: deadline,
    detail: `ctl-${ev.region} was stopped gracefully and app-${ev.region} dropped epoch ${ev.epoch} at t=${fmtS(ev.t)}, but the lease store did not see epoch ${ev.epoch} released within ${fmtS(boundMs)}: the next primary waits for the lease to expire`,
    events: [ev.seq],
  };
}
