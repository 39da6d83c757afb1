/**
 * `app-loss-failover` (docs/invariants.md, Liveness): when the primary's app alone dies — its
 * controller lives and keeps answering the peer's probes — the other region's app must hold
 * write authority within the spec's bound. Judged on what the apps observed (their authority
 * grants), never on a controller's role.
 */

import type { RegionId } from '../../contracts/history.ts';
import {
  eventsOfKind,
  type Facts,
  type FaultSpan,
  fmtS,
  inHoldDown,
  othersOverlap,
  outcome,
} from '../facts.ts';
import { faultEffect } from '../premises.ts';
import type { CheckOutcome, Measurements, Violation } from '../verdict.ts';
import { afterApproval } from './liveness.ts';
import { approvalShift } from './operator.ts';

const NAME = 'app-loss-failover';

/** The region whose app (and nothing else) this crash takes down, or null. */
function lostAppRegion(f: Facts, fault: FaultSpan): RegionId | null {
  if (fault.fault !== 'crash') return null;
  const comps = fault.components.length > 0 ? fault.components : [fault.target];
  if (comps.length !== 1) return null;
  const r = comps[0]!.startsWith('app-') ? comps[0]!.slice(4) : null;
  return r !== null && f.regions.includes(r) ? r : null;
}

/**
 * Did app-r itself hold write authority just before `t`? Its write-authority window (the
 * facts' windows, from its grants and revokes) was open then; the crash's own revoke at `t`
 * closes it at `t`.
 */
function appHeldAuthority(f: Facts, r: RegionId, t: number): boolean {
  return f.windows.some((w) => w.region === r && w.start < t && w.end >= t);
}

/** First authority grant an app of another region observed in (from, to]. */
function otherAppGrant(f: Facts, lost: RegionId, from: number, to: number): number | null {
  for (const ev of eventsOfKind(f, 'app-authority')) {
    if (ev.t <= from) continue;
    if (ev.t > to) break;
    if (ev.op === 'grant' && ev.region !== lost) return ev.t;
  }
  return null;
}

/**
 * The lease store's log of `region`'s renewals in (from, to]. The design steps a region down
 * after N (the spec's peerFailureThreshold) failed hand-offs to its app, one per renewal, so
 * after its app died it renews at most N times: a renewal already on its way counts among
 * them, since its hand-off fails too.
 */
function renewalsLogged(f: Facts, region: RegionId, from: number, to: number): number {
  let n = 0;
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.t <= from) continue;
    if (ev.t > to) break;
    if (ev.op === 'renew' && ev.region === region) n++;
  }
  return n;
}

/** `m.failoverMs`, when no region loss measured it, is the first app loss's takeover time. */
export function checkAppLossFailover(f: Facts, m: Measurements): CheckOutcome {
  const bound = f.spec?.bounds.appLossFailoverBoundMs;
  if (bound === undefined) return outcome(NAME, 'liveness', [], 'bound not recorded in the spec', false);
  if (f.spec?.controllerMode === 'manual')
    return outcome(NAME, 'liveness', [], "manual mode: a takeover is the operator's", false);
  const violations: Violation[] = [];
  const skipped: string[] = [];
  let evaluated = 0;
  let observed = 0;
  for (const fault of f.faults) {
    const lost = lostAppRegion(f, fault);
    if (lost === null || !appHeldAuthority(f, lost, fault.start)) continue;
    const what = `crash of app-${lost} at t=${fmtS(fault.start)}`;
    // semi-automatic: the takeover waits for the operator's approval (as failover-liveness)
    const shift = approvalShift(f, lost, fault.start);
    if (shift === null) {
      skipped.push(`${what}: nobody answers approval requests (the scenario's commands decide)`);
      continue;
    }
    const deadline = Math.max(fault.start + bound, afterApproval(f, shift.startsAt));
    if (fault.end < deadline || f.endT < deadline) continue; // down for less than the bound
    // the bound assumes the Worker, the peer and the probes all work: another fault voids it
    if (othersOverlap(f, fault, fault.start, deadline)) {
      skipped.push(`${what}: other faults overlap`);
      continue;
    }
    if (f.regions.some((r) => r !== lost && inHoldDown(f, r, fault.start))) {
      skipped.push(`${what}: the other region in hold-down`);
      continue;
    }
    evaluated++;
    if (faultEffect(f, fault).observed) observed++;
    const N = f.spec!.peerFailureThreshold;
    const renewed = renewalsLogged(f, lost, fault.start, deadline);
    if (renewed > N)
      violations.push({
        invariant: NAME,
        at: fault.start,
        detail: `app-${lost} died (${what}), but the lease store logged ${renewed} renewals by region ${lost} after it: a region whose app cannot take authority steps down after N = ${N} failed hand-offs, one per renewal`,
        events: [fault.startSeq],
      });
    const takenAt = otherAppGrant(f, lost, fault.start, deadline);
    if (takenAt !== null) {
      if (m.failoverMs === undefined) m.failoverMs = takenAt - fault.start;
      continue;
    }
    violations.push({
      invariant: NAME,
      at: deadline,
      detail: `app-${lost} held write authority and died (${what}), its controller alive, but no other region's app was granted authority within the bound ${fmtS(bound)}`,
      events: [fault.startSeq],
    });
  }
  return outcome(
    NAME,
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} loss(es) of the primary's app, each taken over within ${fmtS(bound)}`
      : skipped.length > 0
        ? `bound not applied: ${skipped.join('; ')}`
        : "no loss of the primary's app long enough to require a takeover",
    evaluated > 0,
    evaluated > 0
      ? {
          statement: 'the app crash was observed (its process recorded crashed)',
          observed: observed > 0,
          evidence: `${observed} of ${evaluated} app losses observed`,
        }
      : undefined,
  );
}
