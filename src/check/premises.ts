/**
 * Vacuous-pass detection: did a fault have an effect the history shows? A pass of
 * `no-failover` under a link cut that no probe ever noticed proves nothing; such outcomes
 * are reported `not-exercised` (docs/invariants.md, "Premises").
 *
 * An effect is an observation made outside the fault injector: a failing peer probe, a failed
 * lease request, a witness answer other than "reachable", a client resolution failure, an
 * authoritative's answer changing, a process crash/pause or a clock change recorded by the
 * executor. Each link maps to the observations that travel over it.
 */

import type { HistoryEvent } from '../contracts/history.ts';
import { type Facts, type FaultSpan, firstIndexAtOrAfter, type Premise, regionOfEndpoint } from './facts.ts';

const LINK_FAULTS: ReadonlySet<string> = new Set(['partition', 'flap', 'isolate', 'loss', 'latency']);

/** Global ms after a fault's end during which its consequences still count as its effect. */
function lagMs(f: Facts): number {
  return f.spec?.heartbeatMs ?? 10_000;
}

function inWindow(f: Facts, fault: FaultSpan, ev: HistoryEvent): boolean {
  const end = Number.isFinite(fault.end) ? fault.end : f.endT;
  return ev.t >= fault.start && ev.t <= end + lagMs(f);
}

/** Does this observation show traffic over `link` failing (or, for latency, flowing at all)? */
function showsLink(link: string, ev: HistoryEvent, latency: boolean, f: Facts): boolean {
  const [from = '', to = ''] = link.split('->');
  const fromRegion = regionOfEndpoint(from, f.regions);
  switch (ev.kind) {
    case 'peer-probe':
      return to === 'peer' && ev.region === fromRegion && (latency || !ev.ok);
    case 'lease':
      return (
        to === 'worker' && ev.region === fromRegion && ev.phase === 'result' && (latency || ev.ok === false)
      );
    case 'witness':
      if (from.startsWith('ctl-') && ev.region === fromRegion && ev.witness === to)
        return latency || ev.verdict === 'unknown';
      // a witness cut from an authoritative answers from the other one, or fails
      if (ev.witness === from && to.startsWith('auth-')) return latency || ev.verdict !== 'reachable';
      // a health check cut makes the authoritative answer the tombstone for that app
      if (from.startsWith('auth-') && to.startsWith('app-'))
        return ev.target === to.slice(4) && ev.verdict !== 'reachable';
      return false;
    case 'dns-answer':
      // an authoritative whose health check of an app is cut stops answering that app
      if (ev.observer === 'dns-observer')
        return (
          from.startsWith('auth-') &&
          ev.resolver === from &&
          to.startsWith('app-') &&
          !ev.answers.includes(to)
        );
      if (from.startsWith('client')) return latency || ev.rcode !== 'NOERROR' || ev.region === null;
      return ev.resolver === from && ev.rcode !== 'NOERROR';
    case 'app-authority':
      return (
        from.startsWith('ctl-') && to === `app-${fromRegion}` && ev.region === fromRegion && ev.op !== 'grant'
      );
    case 'app-write':
      return from.startsWith('client') && to === `app-${ev.region}` && (latency || !ev.accepted);
    default:
      return false;
  }
}

function showsComponent(fault: FaultSpan, ev: HistoryEvent, f: Facts): boolean {
  const comps = fault.components.length > 0 ? fault.components : [fault.target];
  const hit = (c: string) =>
    comps.includes(c) ||
    (f.regions.includes(fault.target) && regionOfEndpoint(c, f.regions) === fault.target);
  switch (fault.fault) {
    case 'crash':
      return ev.kind === 'process' && (ev.op === 'crash' || ev.op === 'exit') && hit(ev.component);
    case 'pause':
      return ev.kind === 'process' && ev.op === 'pause' && hit(ev.component);
    case 'stop':
      // the process exited on its own after SIGTERM
      return ev.kind === 'process' && ev.op === 'exit' && hit(ev.component);
    case 'clock-offset':
    case 'clock-drift':
    case 'clock-jump':
      return ev.kind === 'clock' && hit(ev.node);
    case 'witness-down':
    case 'witness-stale':
      return (
        (ev.kind === 'witness' && comps.includes(ev.witness) && ev.verdict !== 'reachable') ||
        (ev.kind === 'dns-answer' && comps.includes(ev.resolver) && ev.rcode !== 'NOERROR')
      );
    case 'kv-staleness':
      // stale location views show as lease-store events from more than one location
      return ev.kind === 'lease-store' && ev.location !== undefined;
    case 'stale-instance':
      // a request that reached the old instance after the takeover fails (its write threw)
      return ev.kind === 'lease' && ev.phase === 'result' && ev.ok === false;
    default:
      return false;
  }
}

/** Whether the history shows an effect of `fault`, and the first observation that does. */
export function faultEffect(f: Facts, fault: FaultSpan): Premise & { atSeq: number | null } {
  const statement = `${fault.fault} ${fault.target} had an observable effect`;
  const latency = fault.fault === 'latency';
  const events = f.events;
  // the history is in time order: start at the fault, not at the first event
  for (let i = firstIndexAtOrAfter(events, fault.start); i < events.length; i++) {
    const ev = events[i]!;
    if (!inWindow(f, fault, ev)) {
      if (ev.t > fault.start) break;
      continue;
    }
    const seen =
      LINK_FAULTS.has(fault.fault) && fault.links.length > 0
        ? fault.links.some((l) => showsLink(l, ev, latency, f))
        : showsComponent(fault, ev, f);
    if (seen)
      return {
        statement,
        observed: true,
        evidence: `first seen in event #${ev.seq} (${ev.kind})`,
        atSeq: ev.seq,
      };
  }
  return {
    statement,
    observed: false,
    evidence: `no probe, lease, witness, DNS or process observation shows ${fault.fault} ${fault.target} (t=${(fault.start / 1000).toFixed(3)} s) having any effect`,
    atSeq: null,
  };
}

/** Some fault of the schedule had an observable effect (the premise of no-failover and friends). */
export function anyFaultEffect(f: Facts): Premise {
  // A calm run is its own premise: "nothing fails over without a fault" is not vacuous.
  if (f.faults.length === 0)
    return { statement: 'a calm run (no faults)', observed: true, evidence: 'the schedule has no faults' };
  const effects = f.faults.map((x) => faultEffect(f, x));
  const seen = effects.find((e) => e.observed);
  return seen
    ? {
        statement: 'some fault had an observable effect',
        observed: true,
        evidence: `${seen.statement}, ${seen.evidence}`,
      }
    : {
        statement: 'some fault had an observable effect',
        observed: false,
        evidence: effects.map((e) => e.evidence).join('; '),
      };
}
