/**
 * `dns-follows-lease`: what the authoritatives answer for the service name follows the lease.
 * Observations: `dns-answer` events with observer 'dns-observer' (one per authoritative answer
 * change: the simulator's authoritative models, the real runner's observer querying both
 * PowerDNS authoritatives). Holders: the lease store's observations.
 *
 * (1) From B after a lease holder h takes an epoch until the holder changes, every
 *     authoritative answers h's region (not judged during, and B after, a fault touching that
 *     authoritative, h's controller/app, the Worker or h's link to it; and from a crash of h's
 *     controller, or from its last renewal while such a fault excused it, until the epoch
 *     expires). (2) No authoritative points at a region without
 *     write authority while another region has it for longer than B (not judged during, and B
 *     after, a fault touching that authoritative or any controller/app). B = spec.bounds.dnsConvergeMs.
 */

import type { RegionId } from '../../contracts/history.ts';
import { eventsOfKind, type Facts, type FaultSpan, fmtS, outcome, touchesLeaseStore } from '../facts.ts';
import { intersect, type Span, subtract } from '../intervals.ts';
import type { CheckOutcome, Measurements, Violation } from '../verdict.ts';

interface HolderSpan extends Span {
  holder: RegionId;
  epoch: number;
}

interface AnswerSpan extends Span {
  region: RegionId | null;
  seq: number;
}

/** Lease holder spans from the durable store's observations: grant → release / next epoch. */
function holderSpans(f: Facts): HolderSpan[] {
  const out: HolderSpan[] = [];
  let cur: HolderSpan | null = null;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.location !== undefined) continue;
    if (cur && (ev.holder === null || ev.epoch !== cur.epoch)) {
      cur.to = ev.t;
      out.push(cur);
      cur = null;
    }
    if (ev.holder !== null && !cur) cur = { holder: ev.holder, epoch: ev.epoch, from: ev.t, to: f.endT };
  }
  if (cur) out.push(cur);
  return out;
}

/** Each observed authoritative's answer as a step function. */
function answerSpans(f: Facts): Map<string, AnswerSpan[]> {
  const byAuth = new Map<string, AnswerSpan[]>();
  for (const ev of eventsOfKind(f, 'dns-answer')) {
    if (ev.observer !== 'dns-observer') continue;
    const list = byAuth.get(ev.resolver) ?? [];
    const last = list[list.length - 1];
    if (last) last.to = ev.t;
    list.push({ from: ev.t, to: f.endT, region: ev.region ?? null, seq: ev.seq });
    byAuth.set(ev.resolver, list);
  }
  return byAuth;
}

function touches(fault: FaultSpan, ids: string[], region: RegionId | null): boolean {
  if (region !== null && fault.target === region) return true;
  const hit = (s: string) => ids.some((id) => s === id || s.split('->').includes(id));
  return fault.links.some(hit) || fault.components.some(hit) || hit(fault.target);
}

/** A fault's span, held on to B after it ends (a fault still in force at the end: to the end + B). */
function withBound(f: Facts, x: FaultSpan, boundMs: number): Span {
  return { from: x.start, to: (Number.isFinite(x.end) ? x.end : f.endT) + boundMs };
}

function excused(f: Facts, ids: string[], region: RegionId | null, boundMs: number): Span[] {
  return f.faults.filter((x) => touches(x, ids, region)).map((x) => withBound(f, x, boundMs));
}

/**
 * Faults on the lease service as the holder sees it (the Worker itself, or the holder's link
 * to it): a holder that cannot hear the Worker may hold a grant it never learned of (the reply
 * was lost) and cannot act on it or release it, so DNS cannot follow it until B after the
 * fault ends (design: the liveness bounds assume the Worker answers).
 */
function leaseServiceFaults(f: Facts, holder: RegionId, boundMs: number): Span[] {
  return f.faults.filter((x) => touchesLeaseStore(x, holder)).map((x) => withBound(f, x, boundMs));
}

/**
 * A holder whose controller crashed (or exited: a graceful stop) while it held the epoch, or
 * while the acquire that won it was in flight: the restarted process cannot prove its safe
 * window for a lease its previous incarnation asked for, so it never acts on it (nor releases
 * it: the old incarnation's app may still hold write authority), and nobody can publish for
 * that epoch until the store ends it (expiry, or a release). Excused from the crash to the
 * end of the holder's span, as the store observed it.
 */
function crashedHolder(f: Facts, h: HolderSpan): Span[] {
  const ctl = `ctl-${h.holder}`;
  // the holder's last acquire sent before the grant: its process may have died since
  let askedT = h.from;
  for (const ev of eventsOfKind(f, 'lease')) {
    if (ev.t > h.from) break;
    if (ev.op === 'acquire' && ev.phase === 'sent' && ev.region === h.holder) askedT = ev.t;
  }
  const crash = eventsOfKind(f, 'process').find(
    (ev) => (ev.op === 'crash' || ev.op === 'exit') && ev.component === ctl && ev.t >= askedT && ev.t < h.to,
  );
  return crash ? [{ from: Math.max(crash.t, h.from), to: h.to }] : [];
}

/**
 * A holder that stopped renewing under a fault on it, and whose epoch then ran out at the
 * store: its controller demoted itself (its app failed the hand-over N times, its safe window
 * ran out cut off from the Worker), and an involuntary demotion never releases
 * (docs/controller.md section 8: the app may still hold authority from the last extend), so
 * nobody publishes for that epoch until the store ends it, up to T after the holder's last
 * renewal — which can be more than B after the fault's end. Read off the store (its log, or
 * its polled expiry moving on), not the controller's role: excused from the epoch's last grant
 * or renewal to its expiry, when a fault on the holder's controller, app or lease path was in
 * force before its next renewal was due (H on its clock) and timed out (H/2 + d). An epoch
 * released, or one whose renewals stopped with no fault in force, is still judged.
 */
function abandonedHolder(f: Facts, h: HolderSpan): Span[] {
  // the store's log (a grant, a renewal) or its polled state (the expiry moved on) alike
  let lastT: number | null = null;
  let lastExpiresAt = Number.NEGATIVE_INFINITY;
  let expired = false;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.t > h.to) break;
    if (ev.location !== undefined || ev.epoch !== h.epoch || ev.op === 'refuse') continue;
    if (ev.holder === h.holder && ev.expiresAt !== null && ev.expiresAt > lastExpiresAt) {
      lastT = ev.t;
      lastExpiresAt = ev.expiresAt;
    } else if (ev.holder === null) {
      // ran out, rather than released early: the store's own clock had reached the expiry
      expired = ev.op === 'expire' || (ev.storeNowMs !== undefined && ev.storeNowMs >= lastExpiresAt);
      break;
    }
  }
  const spec = f.spec;
  if (lastT === null || !expired || !spec) return [];
  // it gave up by the next renewal (H later), or that renewal's or an extend's timeout (H/2)
  const from = lastT;
  const to = lastT + spec.heartbeatMs * (1 + spec.maxClockDriftRate) + spec.heartbeatMs / 2 + spec.maxDelayMs;
  const ids = [`ctl-${h.holder}`, `app-${h.holder}`];
  const gaveUpUnderFault = f.faults.some(
    (x) => x.start <= to && x.end >= from && (touches(x, ids, h.holder) || touchesLeaseStore(x, h.holder)),
  );
  return gaveUpUnderFault ? [{ from, to: h.to }] : [];
}

export function checkDnsFollowsLease(f: Facts, m: Measurements): CheckOutcome {
  const name = 'dns-follows-lease';
  const boundMs = f.spec?.bounds.dnsConvergeMs;
  const answers = answerSpans(f);
  if (boundMs === undefined || answers.size === 0)
    return outcome(name, 'liveness', [], 'no DNS observer in this history', false);
  m.dnsConvergeBoundMs = boundMs;
  const holders = holderSpans(f);
  const violations: Violation[] = [];
  const authority = new Map<RegionId, Span[]>();
  for (const w of f.windows)
    authority.set(w.region, [...(authority.get(w.region) ?? []), { from: w.start, to: w.end }]);
  // the same for every authoritative (each walks the history): worked out once
  // spans in which nobody can publish for the epoch (its holder crashed, or gave up under a fault)
  const unpublishable = holders.map((h) => [...crashedHolder(f, h), ...abandonedHolder(f, h)]);
  for (const [auth, spans] of answers) {
    // (1) converge on the holder
    for (const [i, h] of holders.entries()) {
      const judged = subtract(
        [{ from: h.from + boundMs, to: h.to }],
        [
          ...excused(f, [auth, `ctl-${h.holder}`, `app-${h.holder}`], h.holder, boundMs),
          ...leaseServiceFaults(f, h.holder, boundMs),
          ...unpublishable[i]!,
        ],
      );
      const wrong = spans.filter((s) => s.region !== h.holder);
      const bad = intersect(judged, wrong)[0];
      if (bad) {
        const s = wrong.find((x) => x.from < bad.to && x.to > bad.from)!;
        violations.push({
          invariant: name,
          at: bad.from,
          detail: `${auth} answered ${s.region === null ? 'nothing' : `region ${s.region}`} at t=${fmtS(bad.from)} while ${h.holder} had held the lease (epoch ${h.epoch}) since t=${fmtS(h.from)} (bound ${fmtS(boundMs)})`,
          events: [s.seq],
        });
      }
    }
    // (2) never point at a region without write authority while another region has it, for
    // longer than the bound (a demoted controller's late publish), unless a fault on this
    // authoritative explains it (publishes could not reach it)
    // (a fault on any controller or app explains it: a paused or cut primary's app fails its
    // health check and the authoritative rightly answers the other one; a late publish after
    // such a fault is caught by (1), whose excuses are narrower)
    const everyRegion = f.regions.flatMap((r) => [`ctl-${r}`, `app-${r}`]);
    const judged = subtract(
      [{ from: boundMs, to: f.endT }],
      f.regions.flatMap((r) => excused(f, [auth, ...everyRegion], r, boundMs)),
    );
    for (const s of spans) {
      if (s.region === null) continue;
      const others = f.regions.filter((r) => r !== s.region).flatMap((r) => authority.get(r) ?? []);
      const stale = intersect(subtract([s], authority.get(s.region) ?? []), others);
      const long = intersect(stale, judged).find((x) => x.to - x.from > boundMs);
      if (long) {
        violations.push({
          invariant: name,
          at: long.from + boundMs,
          detail: `${auth} pointed at region ${s.region} for ${fmtS(long.to - long.from)} from t=${fmtS(long.from)} while another region held write authority and app-${s.region} did not (bound ${fmtS(boundMs)})`,
          events: [s.seq],
        });
        break;
      }
    }
  }
  violations.sort((a, b) => a.at - b.at);
  return outcome(
    name,
    'liveness',
    violations,
    `${answers.size} authoritatives observed; each followed ${holders.length} lease holder(s) within ${fmtS(boundMs)}`,
    holders.length > 0,
  );
}
