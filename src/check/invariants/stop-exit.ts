/**
 * `stop-exits`: a controller stopped gracefully (SIGTERM: a deploy, the `stop` fault) exits
 * once its stop is done, not when its cap runs out. The stop's work is what the app and the
 * lease store observe of it — the app dropping the region's epoch, the store logging the
 * region's release (or any last request) — and the answers to calls already in flight. So,
 * judged on observations: the process `exit` must come within H/2 + d of the stop, or of the
 * last thing the app or the store logged from that region since, whichever is later (H/2 is the
 * design's longest wait for one answer, the request timeout; d the delivery bound). A stop
 * that hangs until its cap (H + 1 s with the design's timeouts) — a stop that never noticed it
 * was done, or waited on a call that had already answered — keeps a deploy waiting for
 * nothing, and the restart after it late.
 *
 * Judged only when nothing else is faulted while the stop runs: a faulted link or component
 * can hold an answer until its timeout, and the cap exists for that.
 */

import type { RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, type FaultSpan, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

interface Stop {
  region: RegionId;
  stopT: number;
  stopSeq: number;
  /** the exit (or crash) that ended it; null when the run ended first */
  endT: number | null;
  endOp: 'exit' | 'crash' | null;
}

/** Each controller's graceful stops, from its process events. */
function stopsOf(f: Facts): Stop[] {
  const open = new Map<string, Stop>();
  const out: Stop[] = [];
  for (const ev of eventsOfKind(f, 'process')) {
    if (!ev.component.startsWith('ctl-')) continue;
    const s = open.get(ev.component);
    if (ev.op === 'stop' && s === undefined) {
      const stop: Stop = {
        region: ev.component.slice(4),
        stopT: ev.t,
        stopSeq: ev.seq,
        endT: null,
        endOp: null,
      };
      open.set(ev.component, stop);
      out.push(stop);
    } else if ((ev.op === 'exit' || ev.op === 'crash') && s !== undefined) {
      s.endT = ev.t;
      s.endOp = ev.op;
      open.delete(ev.component);
    }
  }
  return out;
}

/** The last thing the app or the store logged from `region` in [from, to]. */
function lastObservedFrom(f: Facts, region: RegionId, from: number, to: number): number {
  let last = from;
  for (const ev of f.events) {
    if (ev.t > to) break;
    if (ev.t < from) continue;
    const fromRegion =
      (ev.kind === 'app-authority' && ev.region === region) ||
      (ev.kind === 'lease-store' && ev.op !== undefined && ev.op !== 'expire' && ev.region === region);
    if (fromRegion) last = ev.t;
  }
  return last;
}

/** Another fault (not this stop itself) was in force during [from, to]. */
function otherFaultDuring(faults: FaultSpan[], stop: Stop, to: number): boolean {
  const ctl = `ctl-${stop.region}`;
  return faults.some(
    (x) =>
      x.start <= to &&
      x.end >= stop.stopT &&
      !(x.fault === 'stop' && x.components.includes(ctl) && x.start <= stop.stopT),
  );
}

export function checkStopExits(f: Facts): CheckOutcome {
  const spec = f.spec;
  if (!spec) return outcome('stop-exits', 'liveness', [], 'no meta: bound unknown', false);
  const waitMs = spec.heartbeatMs / 2 + spec.maxDelayMs;
  const violations: Violation[] = [];
  let judged = 0;
  for (const stop of stopsOf(f)) {
    if (stop.endOp === 'crash') continue; // killed while stopping: a fault of its own
    const seenUntil = stop.endT ?? f.endT;
    const deadline = lastObservedFrom(f, stop.region, stop.stopT, seenUntil) + waitMs;
    if (stop.endT === null && deadline > f.endT) continue; // the run ended before it was due
    if (otherFaultDuring(f.faults, stop, Math.min(seenUntil, deadline))) continue;
    judged++;
    if (stop.endT === null || stop.endT > deadline) violations.push(violation(stop, deadline, waitMs));
  }
  return outcome(
    'stop-exits',
    'liveness',
    violations,
    judged > 0
      ? `${judged} graceful stop(s) with nothing else faulted: each exited within ${fmtS(waitMs)} of its last request the app or the store saw`
      : 'no graceful stop with nothing else faulted',
    judged > 0,
  );
}

function violation(stop: Stop, deadline: number, waitMs: number): Violation {
  const when =
    stop.endT === null ? 'had not exited when the run ended' : `exited only at t=${fmtS(stop.endT)}`;
  return {
    invariant: 'stop-exits',
    at: deadline,
    detail: `ctl-${stop.region} was stopped gracefully at t=${fmtS(stop.stopT)} with nothing else faulted, and ${when}: more than ${fmtS(waitMs)} after its last request the app or the lease store saw (t=${fmtS(deadline - waitMs)}), so it waited for nothing`,
    events: [stop.stopSeq],
  };
}
