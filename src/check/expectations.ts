/**
 * Scenario expectations (docs/invariants.md, "Scenario expectations"). Each records its premise
 * (some fault had an observable effect); a pass that rests on a fault without effect is
 * `not-exercised`, not ok.
 */
import type { Expectation } from '../scenario/schema.ts';
import { authoritativeDisagreements, disagreementMs } from './disagreement.ts';
import { type Facts, type FaultSpan, firstPromotion, fmtS, primaryOf } from './facts.ts';
import { anyFaultEffect } from './premises.ts';
import type { CheckOutcome, Measurements } from './verdict.ts';

function expectationName(e: Expectation): string {
  return Object.keys(e)[0] ?? 'expectation';
}

function firstFault(f: Facts): FaultSpan | null {
  return f.faults[0] ?? null;
}

export function checkExpectation(
  e: Expectation,
  f: Facts,
  invariants: CheckOutcome[],
  m: Measurements,
): CheckOutcome {
  const name = expectationName(e);
  const effect = anyFaultEffect(f);
  const result = (ok: boolean, detail: string, at: number, events: number[] = []): CheckOutcome => ({
    name,
    kind: 'expectation',
    category: 'expectation',
    ok,
    detail,
    violations: ok ? [] : [{ invariant: name, at, detail, events }],
    evaluated: true,
    premise: effect.statement,
    exercised: effect.observed,
  });
  /** A pass (or a miss) that only happened because the fault never took effect. */
  const notExercised = (what: string): CheckOutcome => ({
    name,
    kind: 'expectation',
    category: 'expectation',
    ok: true,
    detail: `not exercised: ${what} — ${effect.evidence}`,
    violations: [],
    evaluated: false,
    premise: effect.statement,
    exercised: false,
    status: 'not-exercised',
  });
  if ('failover-within' in e) {
    const within = e['failover-within'];
    const fault = firstFault(f);
    if (!fault) return result(false, 'no fault was injected, so no failover could be measured', f.endT);
    const before = primaryOf(f.rolesAtFault.get(fault.id)) ?? f.meta?.initialPrimary ?? null;
    const promo = firstPromotion(f, before ?? '', fault.start, fault.start + within);
    if (promo) {
      const took = promo.t - fault.start;
      // not failoverMs: that one counts from the region loss and is judged against the bound
      m.failoverFromFirstFaultMs = took;
      return result(
        true,
        `failover to ${promo.region} took ${fmtS(took)} (expected within ${fmtS(within)})`,
        promo.t,
      );
    }
    if (!effect.observed) return notExercised(`no failover, but no fault had an observable effect`);
    return result(
      false,
      `no failover away from ${before ?? '(none)'} within ${fmtS(within)} of the first fault (t=${fmtS(fault.start)})`,
      fault.start + within,
      [fault.startSeq],
    );
  }
  if ('no-failover' in e) {
    const initial = f.meta?.initialPrimary ?? f.roles.find((r) => r.to === 'primary')?.region;
    const other = f.roles.find((r) => r.to === 'primary' && r.region !== initial);
    if (other)
      return result(false, `region ${other.region} became primary at t=${fmtS(other.t)}`, other.t, [
        other.seq,
      ]);
    if (!effect.observed) return notExercised(`only ${initial ?? '(none)'} was ever primary`);
    return result(true, `only ${initial ?? '(none)'} was ever primary (${effect.evidence})`, f.endT);
  }
  if ('demoted-within' in e) {
    const { region, within } = e['demoted-within'];
    const fault = firstFault(f);
    if (!fault) return result(false, 'no fault was injected', f.endT);
    if (f.rolesAtFault.get(fault.id)?.get(region) !== 'primary') {
      return notExercised(`region ${region} was not primary when the first fault started`);
    }
    const demotion = f.roles.find(
      (r) => r.region === region && r.from === 'primary' && r.to !== 'primary' && r.t >= fault.start,
    );
    if (demotion && demotion.t <= fault.start + within) {
      return result(
        true,
        `region ${region} demoted ${fmtS(demotion.t - fault.start)} after the first fault (expected within ${fmtS(within)})`,
        demotion.t,
      );
    }
    if (!effect.observed) return notExercised(`region ${region} stayed primary`);
    return result(
      false,
      `region ${region} was still primary ${fmtS(within)} after the first fault (t=${fmtS(fault.start)})`,
      fault.start + within,
      [fault.startSeq],
    );
  }
  if ('primary-at-end' in e) {
    const want = e['primary-at-end'];
    const primaries = [...f.finalRoles].filter(([, role]) => role === 'primary').map(([r]) => r);
    const ok = primaries.length === 1 && primaries[0] === want;
    if (ok && !effect.observed) return notExercised(`region ${want} is primary at the end`);
    return result(
      ok,
      ok
        ? `region ${want} is primary at the end`
        : `expected ${want} primary at the end, found ${primaries.length > 0 ? primaries.join(', ') : 'no primary'}`,
      f.endT,
    );
  }
  if ('authoritatives-disagree' in e) {
    // from the first fault on: before it, a booting authoritative's first answers are random
    const fromT = firstFault(f)?.start ?? f.endT;
    const spans = authoritativeDisagreements(f)
      .filter((x) => x.to > fromT)
      .map((x) => ({ ...x, from: Math.max(x.from, fromT) }));
    const first = spans[0];
    if (!first) {
      if (!effect.observed) return notExercised('the authoritatives never answered differently');
      return result(
        false,
        'after the first fault the DNS observer never saw two authoritatives answer different regions',
        f.endT,
      );
    }
    const who = Object.entries(first.answers)
      .map(([auth, region]) => `${auth} → ${region}`)
      .join(', ');
    return result(
      true,
      `the authoritatives disagreed ${spans.length} time(s), ${fmtS(disagreementMs(spans))} in all; first at t=${fmtS(first.from)} (${who})`,
      first.from,
      first.seqs,
    );
  }
  const wanted = e['violation-detected'];
  const inv = invariants.find((o) => o.name === wanted);
  if (!inv) return result(false, `unknown invariant "${wanted}"`, f.endT);
  return inv.ok
    ? result(false, `expected a violation of ${wanted}, found none`, f.endT)
    : result(
        true,
        `violation of ${wanted} detected as expected: ${inv.detail}`,
        inv.violations[0]?.at ?? f.endT,
      );
}
