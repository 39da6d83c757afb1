/**
 * `unused-lease-released` (docs/invariants.md, Liveness): a lease the store holds in a region's
 * name under an epoch that region never acted on is released as soon as the region hears of it
 * — from the grant's own reply (a candidate that went back to standby while its acquire was in
 * flight), or from a refused acquire that names it as the holder (a grant whose reply was lost).
 * Kept, it blocks both regions until it expires: a whole TTL with no primary. Judged on the lease
 * store's own log and the apps' grants, against the design's numbers.
 */

import type { LeaseStoreEvent, RegionId } from '../../contracts/history.ts';
import type { DesignSpec } from '../../contracts/spec.ts';
import { eventsOfKind, type Facts, type FaultSpan, fmtS, isStoreLogEntry, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

const NAME = 'unused-lease-released';

type StoreEntry = LeaseStoreEvent & { op: NonNullable<LeaseStoreEvent['op']> };

/** A process event that ends or begins an incarnation of a controller. */
const INCARNATION_OPS: ReadonlySet<string> = new Set(['start', 'restart', 'crash', 'stop', 'exit']);

/** History events only the region's controller records. */
const CONTROLLER_RECORDS: ReadonlySet<string> = new Set(['lease', 'role', 'act', 'peer-probe', 'witness']);

/**
 * A fault that may keep the region from hearing the store, from answering it, or from acting on
 * a grant where the history shows it: anything on its controller (pause, crash, stop, clock) or
 * its app, on the Worker, or on a link from the controller to the Worker or to its app.
 */
function inTheWay(x: FaultSpan, region: RegionId): boolean {
  const ctl = `ctl-${region}`;
  const app = `app-${region}`;
  if (x.target === region || x.target === ctl || x.target === app || x.target === 'worker') return true;
  if (x.components.some((c) => c === ctl || c === app || c === 'worker')) return true;
  return x.links.includes(`${ctl}->worker`) || x.links.includes(`${ctl}->${app}`);
}

/**
 * Some fault in the way was active in [from, to] — or, for latency on the controller's link to
 * the Worker, began before `to` at all: a request it delayed arrives after the fault is gone by
 * an amount the history does not record.
 */
function faultedWithin(f: Facts, region: RegionId, from: number, to: number): boolean {
  const link = `ctl-${region}->worker`;
  return f.faults.some(
    (x) =>
      inTheWay(x, region) &&
      x.start <= to &&
      (x.end >= from || (x.fault === 'latency' && x.links.includes(link))),
  );
}

/**
 * When the controller's incarnation alive at `t` began, no earlier than the executor says: its
 * last start or restart, else its first record in the history (a process runs before it writes).
 * Null when it crashed, stopped or exited since and did not come back.
 */
function incarnationStart(f: Facts, region: RegionId, t: number): number | null {
  const ctl = `ctl-${region}`;
  let start: number | null = null;
  let seenProcess = false;
  for (const ev of eventsOfKind(f, 'process')) {
    if (ev.t > t) break;
    if (ev.component !== ctl || !INCARNATION_OPS.has(ev.op)) continue;
    seenProcess = true;
    start = ev.op === 'start' || ev.op === 'restart' ? ev.t : null;
  }
  if (seenProcess) return start;
  const first = f.events.find((e) => CONTROLLER_RECORDS.has(e.kind) && 'region' in e && e.region === region);
  return first === undefined || first.t > t ? null : first.t;
}

/** The region's app was granted authority under `epoch` at or before `t`: the region acted on it. */
function actedOn(f: Facts, region: RegionId, epoch: number, t: number): boolean {
  return eventsOfKind(f, 'app-authority').some(
    (e) => e.region === region && e.epoch === epoch && e.op === 'grant' && e.t <= t,
  );
}

/** The store's log shows `epoch` released (or ended otherwise) within [from, to]. */
function endedWithin(f: Facts, epoch: number, from: number, to: number): boolean {
  return eventsOfKind(f, 'lease-store').some(
    (e) =>
      isStoreLogEntry(e) &&
      e.t >= from &&
      e.t <= to &&
      (((e.op === 'release' || e.op === 'expire') && e.epoch === epoch) ||
        (e.op === 'grant' && e.epoch > epoch)),
  );
}

interface Trigger {
  /** the store's grant of the epoch */
  grant: StoreEntry;
  /** the store's answer the region heard it from: the grant itself, or a refused acquire */
  heard: StoreEntry;
}

/**
 * Each grant of the design's TTL, and each refused acquire that names its asker as the holder,
 * with the grant of that epoch. A grant of a shorter TTL is refused by the design (issue #20)
 * and left to expire, so it is not one of them.
 */
function triggers(f: Facts, spec: DesignSpec): Trigger[] {
  const out: Trigger[] = [];
  const grants = new Map<number, StoreEntry>();
  for (const e of eventsOfKind(f, 'lease-store')) {
    if (!isStoreLogEntry(e) || e.region === undefined) continue;
    if (e.op === 'grant' && e.holder === e.region) {
      const ttl = e.expiresAt !== null && e.storeNowMs !== undefined ? e.expiresAt - e.storeNowMs : 0;
      if (ttl < spec.leaseTtlMs - 1) continue;
      grants.set(e.epoch, e);
      out.push({ grant: e, heard: e });
    } else if (e.op === 'refuse' && e.requested === 'acquire' && e.holder === e.region) {
      const g = grants.get(e.epoch);
      if (g !== undefined && g.region === e.region) out.push({ grant: g, heard: e });
    }
  }
  return out;
}

/**
 * Whether the region must have released the epoch by `deadline`, from what the history shows
 * around the answer it heard. The grant's reply: the request left after the incarnation began,
 * and nothing delayed it or the reply (then both legs took at most d, well inside the request's
 * timeout H/2). A refused acquire: the incarnation is older than T/(1−ρ) + d — before that the
 * lease in its name may be its previous incarnation's, whose app may still write under it, and
 * the design keeps it — and nothing since the grant, or since the acquire could have left (H/2
 * before its answer), could have hidden the answer or an act on it, or lost a release.
 */
function judgeable(f: Facts, spec: DesignSpec, t: Trigger, deadline: number): boolean {
  const region = t.grant.region!;
  const d = spec.maxDelayMs;
  if (t.heard === t.grant) {
    const from = t.grant.t - spec.heartbeatMs / 2 - d;
    const start = incarnationStart(f, region, deadline);
    return start !== null && start < from && !faultedWithin(f, region, from, deadline);
  }
  const start = incarnationStart(f, region, deadline);
  if (start === null || t.heard.t - start < spec.bounds.leaseGoneMs + d) return false;
  // the refused acquire left at most H/2 before its answer, or the controller had given up on
  // it: a fault in the way since then (a Worker paused with the request queued) may have kept
  // the answer from the controller altogether
  const from = Math.min(t.grant.t, t.heard.t - spec.heartbeatMs / 2 - d);
  return !faultedWithin(f, region, from, deadline);
}

/**
 * The design (src/controller/core.ts releaseUnusedGrant, releaseOrphanedLease): a grant the
 * controller will not act on is released when its reply comes; a refused acquire that says "held
 * by you" under an epoch it never acted on is released at once. Either answer reaches the
 * controller within d and its release reaches the store within d; one more d lets the store's and
 * the app's timestamps differ (real runs). A grant the controller does act on reaches its app
 * within the same 2d.
 */
export function checkUnusedLeaseReleased(f: Facts): CheckOutcome {
  const spec = f.spec;
  // the store's own log only (a polled view has no `op`, so none is judged there)
  if (!spec) return outcome(NAME, 'liveness', [], 'no spec: bound unknown', false);
  const boundMs = 3 * spec.maxDelayMs;
  const violations: Violation[] = [];
  let judged = 0;
  const done = new Set<number>();
  for (const t of triggers(f, spec)) {
    const region = t.grant.region!;
    const epoch = t.grant.epoch;
    const deadline = t.heard.t + boundMs;
    if (done.has(epoch) || deadline > f.endT || !judgeable(f, spec, t, deadline)) continue;
    if (actedOn(f, region, epoch, deadline) || endedWithin(f, epoch, t.grant.t, deadline)) {
      judged++;
      continue;
    }
    judged++;
    done.add(epoch);
    const how =
      t.heard === t.grant
        ? 'granted it'
        : `refused its acquire at t=${fmtS(t.heard.t)} as already held by ${region}`;
    violations.push({
      invariant: NAME,
      at: deadline,
      detail: `the lease store granted epoch ${epoch} to ${region} at t=${fmtS(t.grant.t)} and ${how}, but app-${region} never got authority under it and the store did not see it released within ${fmtS(boundMs)}: nobody can take the lease until it expires`,
      events: [t.grant.seq, t.heard.seq],
    });
  }
  return outcome(
    NAME,
    'liveness',
    violations,
    judged > 0
      ? `${judged} grant(s) heard by their region: each acted on or released within ${fmtS(boundMs)}`
      : 'no grant heard by its region with nothing in the way',
    judged > 0,
  );
}
