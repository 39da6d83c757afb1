/**
 * The one checker for every executor (simulator, real topology, game days): reads a history
 * (src/contracts/history.ts) and nothing else, and returns a Verdict (src/check/verdict.ts).
 * Pure and deterministic: no clock, no I/O. docs/invariants.md states each invariant, the
 * observation it reads and who produced it.
 *
 * Yardsticks (quorum, bounds, ρ) come from the design spec in the meta (src/contracts/spec.ts),
 * never from the controller's configured numbers. Time: every comparison across regions uses
 * the global `t`; `localMs` is only compared with the same controller's own `safeUntilLocalMs`.
 */

import type { HistoryEvent } from '../contracts/history.ts';
import type { Expectation } from '../scenario/schema.ts';
import { checkExpectation } from './expectations.ts';
import { collectFacts, type Facts, isOrdered } from './facts.ts';
import { checkAppLossFailover } from './invariants/app-loss.ts';
import { checkWriteAvailability } from './invariants/availability.ts';
import { checkCandidacyHoldDown } from './invariants/candidacy.ts';
import { checkConfigMeetsSpec } from './invariants/config.ts';
import { checkDemoteFencing } from './invariants/demote-fencing.ts';
import { checkDemotionFinal } from './invariants/demotion.ts';
import { checkDnsFollowsLease } from './invariants/dns.ts';
import { checkFailoverPatience } from './invariants/failover-patience.ts';
import { checkStopReleasesLease } from './invariants/handover.ts';
import { checkLeaseHistory } from './invariants/lease-history.ts';
import {
  checkBoundedFlapping,
  checkFailoverLiveness,
  checkNoSpuriousFailover,
} from './invariants/liveness.ts';
import { checkOperatorApproval, checkOperatorDemote } from './invariants/operator.ts';
import { checkPromotionEvidence } from './invariants/promotion-evidence.ts';
import { checkReleaseAfterRevoke } from './invariants/release-after-revoke.ts';
import { checkLeaseRequestCadence } from './invariants/request-cadence.ts';
import {
  checkActWithinSafeWindow,
  checkEpochMonotonic,
  checkNoInternalError,
  checkNoStaleWrite,
  checkSinglePrimary,
} from './invariants/safety.ts';
import { checkStopExits } from './invariants/stop-exit.ts';
import { checkLeaseStoreLog } from './invariants/store-log.ts';
import { checkStoreStorageBounded } from './invariants/store-storage.ts';
import { checkUnusedLeaseReleased } from './invariants/unused-lease.ts';
import type { CheckOutcome, Measurements, Verdict } from './verdict.ts';

export {
  CONFIG_INVARIANTS,
  INVARIANTS,
  type InvariantName,
  LIVENESS_INVARIANTS,
  SAFETY_INVARIANTS,
} from '../scenario/invariant-names.ts';
export { type AuthorityWindow, authorityWindows, isInterRegionLink } from './facts.ts';

export interface CheckOptions {
  /** scenario expectations to evaluate besides the invariants */
  expectations?: Expectation[];
}

function checkInvariants(facts: Facts, m: Measurements): CheckOutcome[] {
  return [
    checkSinglePrimary(facts),
    checkLeaseHistory(facts),
    checkActWithinSafeWindow(facts),
    checkEpochMonotonic(facts),
    checkLeaseStoreLog(facts),
    checkStoreStorageBounded(facts),
    checkNoStaleWrite(facts),
    checkDemotionFinal(facts),
    checkDemoteFencing(facts),
    checkReleaseAfterRevoke(facts),
    checkPromotionEvidence(facts),
    checkOperatorApproval(facts),
    checkOperatorDemote(facts),
    checkConfigMeetsSpec(facts),
    checkNoInternalError(facts),
    checkFailoverLiveness(facts, m),
    checkNoSpuriousFailover(facts),
    checkFailoverPatience(facts),
    checkBoundedFlapping(facts),
    checkDnsFollowsLease(facts, m),
    checkWriteAvailability(facts, m),
    checkStopReleasesLease(facts),
    checkStopExits(facts),
    checkAppLossFailover(facts, m),
    checkCandidacyHoldDown(facts),
    checkLeaseRequestCadence(facts),
    checkUnusedLeaseReleased(facts),
  ];
}

/** A scenario whose expectations all rest on faults without effect proves nothing: it fails. */
function exercisedOutcome(expectations: CheckOutcome[], endT: number): CheckOutcome | null {
  if (expectations.length === 0 || expectations.some((o) => o.status !== 'not-exercised')) return null;
  const detail = `none of the scenario's ${expectations.length} expectation(s) was exercised: ${expectations[0]!.detail}`;
  return {
    name: 'scenario-exercised',
    kind: 'expectation',
    category: 'expectation',
    ok: false,
    detail,
    violations: [{ invariant: 'scenario-exercised', at: endT, detail, events: [] }],
    evaluated: true,
  };
}

export function checkHistory(events: HistoryEvent[], opts: CheckOptions = {}): Verdict {
  const ordered = isOrdered(events) ? events : [...events].sort((a, b) => a.t - b.t || a.seq - b.seq);
  const facts = collectFacts(ordered);
  const measurements: Measurements = {};
  const outcomes = checkInvariants(facts, measurements);
  const expectedViolated = new Set<string>();
  for (const e of opts.expectations ?? []) {
    if ('violation-detected' in e) expectedViolated.add(e['violation-detected']);
  }
  // A scenario that expects a safety violation declares its configuration unsafe (e.g. the
  // legacy-kv lease, or a controller configured weaker than the spec): the other safety
  // invariants it breaks as a consequence are reported, not failed. Liveness invariants and
  // every other expectation still count.
  const declaredUnsafe = outcomes.some((o) => expectedViolated.has(o.name) && o.category === 'safety');
  for (const o of outcomes) {
    if (expectedViolated.has(o.name) || (declaredUnsafe && o.category === 'safety'))
      o.expectedViolation = true;
  }
  const expectations = (opts.expectations ?? []).map((e) =>
    checkExpectation(e, facts, outcomes, measurements),
  );
  outcomes.push(...expectations);
  const exercised = exercisedOutcome(expectations, facts.endT);
  if (exercised) outcomes.push(exercised);

  let accepted = 0;
  let rejected = 0;
  for (const ev of ordered) {
    if (ev.kind === 'app-write') {
      if (ev.accepted) accepted++;
      else rejected++;
    }
  }
  measurements.acceptedWrites = accepted;
  measurements.rejectedWrites = rejected;
  measurements.roleTransitions = facts.roles.length;
  if (facts.spec) measurements.failoverBoundMs = facts.spec.bounds.failoverBoundMs;

  const counted = outcomes.filter((o) => !o.ok && !o.expectedViolation);
  return {
    ok: counted.length === 0,
    outcomes,
    violations: counted.flatMap((o) =>
      o.violations.length > 0
        ? o.violations
        : [{ invariant: o.name, at: facts.endT, detail: o.detail, events: [] }],
    ),
    withinAssumptions: facts.meta?.withinAssumptions ?? true,
    measurements,
  };
}
