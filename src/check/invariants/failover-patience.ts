/**
 * `failover-patience` (docs/invariants.md, Liveness): a region asks for a lease the other
 * region holds only after its peer has been unreachable long enough to fail N probes in a row
 * (docs/controller.md §4: N = peerFailureThreshold failed probes, one every probe interval I,
 * then the witness round). Judged on the lease store's own log — an acquire it refused because
 * the other region held the lease — against the design's N and I and the start of the fault
 * that made the peer unreachable.
 *
 * The bound: the probes that fail are sent at least I apart on the region's clock (fast by ρ at
 * most), and the first one that a fault can fail left at most I (its timeout) before the fault
 * began. So the N-th failure, and the acquire after it, come no sooner than
 * t0 − I + (N − 1)·I/(1 + ρ). A controller that starts the witness round on fewer failures (a
 * wrong threshold, a count that is not reset by a success, a round started on any failure) asks
 * sooner. Only acquires while the other region held the lease throughout the last two status
 * polls are judged: those cannot be a vacancy fill, which needs two polls that saw no holder.
 *
 * The same acquires need evidence: a quorum (from the spec) of distinct witnesses that the
 * region heard say its peer is down (a tombstone answer) within one candidacy before it —
 * the candidate timeout (T + H, on a clock slow by ρ at most) plus the witness round and a
 * round trip. A candidacy on votes that did not see the peer down (a miscount, an "unknown"
 * counted against the peer) never promotes while the peer holds the lease, so
 * promotion-evidence cannot see it; the store's refusal shows it asked.
 *
 * Not judged: inside a span the peer could be unreachable for a reason without a fault (the
 * run's boot), across an operator's command to the region (a promote needs no failures), or
 * with a clock fault on the region's controller (a fast clock shortens its intervals).
 */

import type { LeaseStoreEvent, RegionId, WitnessEvent } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, type FaultSpan, fmtS, isStoreLogEntry, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';
import { operatorCommands } from './operator.ts';
import { isUnreachableAnswer } from './promotion-evidence.ts';

const NAME = 'failover-patience';

/** [from, to] in global ms. */
type Span = [number, number];

/** A fault that can fail `region`'s probes of its peer `peer` (their link, or the peer's controller). */
function failsPeerProbes(x: FaultSpan, region: RegionId, peer: RegionId): boolean {
  // an operator's command or a clock fault on the peer leaves its /healthz answering
  if (x.fault === 'operator' || x.fault === 'clock') return false;
  const peerCtl = `ctl-${peer}`;
  return (
    x.links.includes(`ctl-${region}->peer`) ||
    x.target === peerCtl ||
    x.components.includes(peerCtl) ||
    x.target === peer
  );
}

/**
 * When `region`'s probes of `peer` can fail: each fault that can fail them, until one probe
 * interval (the probe's timeout) and a delivery after it ends; and the run's boot, until the
 * peer's controller first started and a probe interval passed. Merged where they overlap.
 */
function peerLostSpans(f: Facts, region: RegionId, peer: RegionId, probeMs: number, dMs: number): Span[] {
  const spans: Span[] = [];
  const firstStart = eventsOfKind(f, 'process').find(
    (e) => e.component === `ctl-${peer}` && e.op === 'start',
  );
  spans.push([0, (firstStart?.t ?? 0) + probeMs + dMs]);
  for (const x of f.faults)
    if (failsPeerProbes(x, region, peer)) spans.push([x.start, x.end + probeMs + dMs]);
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged;
}

/** Global time at which a store log entry's lease runs out (its store clock mapped onto `t`). */
function expiresAtT(e: LeaseStoreEvent): number {
  if (e.expiresAt === null || e.storeNowMs === undefined) return e.t;
  return e.t + (e.expiresAt - e.storeNowMs);
}

/** The store's log shows `holder` holding the lease throughout [from, to]. */
function heldThroughout(
  log: readonly LeaseStoreEvent[],
  holder: RegionId,
  from: number,
  to: number,
): boolean {
  let i = log.length - 1;
  while (i >= 0 && log[i]!.t > from) i--;
  if (i < 0) return false;
  for (let k = i; k < log.length && log[k]!.t <= to; k++) {
    const e = log[k]!;
    if (e.holder !== holder) return false;
    const nextT = k + 1 < log.length ? Math.min(log[k + 1]!.t, to) : to;
    if (expiresAtT(e) < nextT) return false;
  }
  return true;
}

/** The answers `region` heard that said `peer` is down, in time order. */
function downAnswers(f: Facts, region: RegionId, peer: RegionId): WitnessEvent[] {
  return eventsOfKind(f, 'witness').filter(
    (w) => w.region === region && w.target === peer && isUnreachableAnswer(w),
  );
}

/**
 * Null when a quorum of distinct witnesses among `answers` (downAnswers) said the peer is down
 * in [from, to]; otherwise what was heard.
 */
function missingEvidence(
  f: Facts,
  answers: readonly WitnessEvent[],
  peer: RegionId,
  from: number,
  to: number,
): string | null {
  const down = new Set<string>();
  for (const w of answers) if (w.t >= from && w.t <= to) down.add(w.witness);
  const quorum = f.spec!.witnessQuorum;
  if (down.size >= quorum) return null;
  return `${down.size} witness(es) said ${peer} is down since t=${fmtS(from)}, spec quorum ${quorum}`;
}

export function checkFailoverPatience(f: Facts): CheckOutcome {
  const spec = f.spec;
  if (!spec || f.regions.length !== 2)
    return outcome(NAME, 'liveness', [], 'no spec or not two regions', false);
  const probeMs = spec.peerCheckIntervalMs;
  const d = spec.maxDelayMs;
  const rho = spec.maxClockDriftRate;
  const n = spec.peerFailureThreshold;
  const earliestAfterT0Ms = -probeMs + ((n - 1) * probeMs) / (1 + rho) - 1;
  // two status polls and an acquire retry before the acquire: a vacancy fill saw no holder there
  const vacancyLookbackMs = 2 * spec.leaseStatusPollMs + spec.acquireRetryMs + 3 * d;
  const candidacySpanMs =
    Math.ceil((spec.leaseTtlMs + spec.heartbeatMs) * (1 + rho)) + spec.witnessRoundTimeoutMs + 3 * d;
  const log = eventsOfKind(f, 'lease-store').filter(isStoreLogEntry);
  const violations: Violation[] = [];
  let judged = 0;
  for (const region of f.regions) {
    const peer = f.regions.find((r) => r !== region)!;
    const spans = peerLostSpans(f, region, peer, probeMs, d);
    const answers = downAnswers(f, region, peer);
    for (const ev of log) {
      if (ev.region !== region || ev.op !== 'refuse' || ev.requested !== 'acquire' || ev.holder !== peer)
        continue;
      const span = spans.find(([from, to]) => from <= ev.t && ev.t <= to);
      // outside every span the peer answered: no failover candidacy can ask then; the boot span
      // (from 0) has no fault to date the first failure from
      if (span === undefined || span[0] === 0) continue;
      const t0 = span[0];
      if (!heldThroughout(log, peer, ev.t - vacancyLookbackMs, ev.t)) continue;
      if (operatorCommands(f).some((c) => c.region === region && c.t >= t0 - probeMs && c.t <= ev.t))
        continue;
      const ctl = `ctl-${region}`;
      const clocked = f.faults.some(
        (x) =>
          x.fault === 'clock' &&
          (x.target === ctl || x.components.includes(ctl)) &&
          x.start <= ev.t &&
          x.end >= t0 - probeMs,
      );
      if (clocked) continue;
      judged++;
      const missing = missingEvidence(f, answers, peer, Math.max(0, ev.t - candidacySpanMs), ev.t);
      if (missing !== null) {
        violations.push({
          invariant: NAME,
          at: ev.t,
          detail: `ctl-${region} asked for the lease ctl-${peer} held without a witness quorum: ${missing}`,
          events: [ev.seq],
        });
      }
      if (ev.t - t0 >= earliestAfterT0Ms) continue;
      violations.push({
        invariant: NAME,
        at: ev.t,
        detail: `ctl-${region} asked for the lease ctl-${peer} held ${fmtS(ev.t - t0)} after its peer became unreachable (t=${fmtS(t0)}): ${n} failed probes ${fmtS(probeMs)} apart take at least ${fmtS(earliestAfterT0Ms + 1)}`,
        events: [ev.seq],
      });
    }
  }
  return outcome(
    NAME,
    'liveness',
    violations,
    `${judged} failover acquire(s) judged, each after ${n} probe intervals of the peer's loss and a witness quorum`,
    judged > 0,
  );
}
