import { describe, expect, it } from 'vitest';
import { checkHistory, isInterRegionLink } from '../../src/check/checker.ts';
import type { Verdict } from '../../src/check/verdict.ts';
import type { HistoryEvent, MetaEvent, NewEvent } from '../../src/contracts/history.ts';

/** Builds a history in order; `seq` follows insertion. */
function history(
  build: (h: (e: NewEvent) => void) => void,
  metaOver: Partial<MetaEvent> = {},
): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  const meta: MetaEvent = {
    seq: 0,
    t: 0,
    kind: 'meta',
    runId: 'test',
    scenario: 'test',
    executor: 'sim',
    regions: ['a', 'b'],
    initialPrimary: 'a',
    witnesses: ['w1', 'w2', 'w3'],
    timing: {
      leaseTtlMs: 30_000,
      heartbeatMs: 10_000,
      safeWindowMs: 27_000,
      peerCheckIntervalMs: 3_333,
      peerFailureThreshold: 3,
      witnessQuorum: 2,
      failoverBoundMs: 34_000,
      maxClockDriftRate: 0.001,
      promotionHoldDownMs: 30_000,
    },
    withinAssumptions: true,
    ...metaOver,
  };
  out.push(meta);
  build((e) => out.push({ ...e, seq: out.length } as HistoryEvent));
  return out;
}

const outcome = (v: Verdict, name: string) => v.outcomes.find((o) => o.name === name)!;

/** A region's normal promotion: evidence, role change, lease grant, app grant. */
function promote(
  h: (e: NewEvent) => void,
  region: string,
  t: number,
  epoch: number,
  untilT: number,
  evidence: Partial<{
    votes: Record<string, 'reachable' | 'unreachable' | 'unknown'>;
    basis: 'failover' | 'bootstrap' | 'vacant-lease';
    leaseGranted: boolean;
  }> = {},
): void {
  const votes = evidence.votes ?? { w1: 'unreachable', w2: 'unreachable', w3: 'unknown' };
  if ((evidence.basis ?? 'failover') === 'failover') {
    // what the witness path carried during this candidate's round, then the candidacy
    for (const [witness, verdict] of Object.entries(votes)) {
      h({
        kind: 'witness',
        t: t - 600,
        region,
        witness,
        target: region === 'a' ? 'b' : 'a',
        verdict,
        detail:
          verdict === 'unreachable'
            ? 'NOERROR tombstone'
            : verdict === 'reachable'
              ? 'NOERROR app'
              : 'timeout',
      });
    }
    h({
      kind: 'role',
      t: t - 500,
      region,
      from: 'standby',
      to: 'candidate',
      reason: 'peer failed',
      epoch: null,
      localMs: t - 500,
    });
  }
  if (evidence.leaseGranted !== false)
    h({ kind: 'lease-store', t, holder: region, epoch, expiresAt: t + 30_000 });
  h({
    kind: 'promotion-evidence',
    t,
    region,
    epoch,
    peerFailures: 3,
    votes,
    unreachableVotes: 2,
    quorum: 2,
    leaseGranted: evidence.leaseGranted ?? true,
    approvedBy: 'automatic',
    basis: evidence.basis ?? 'failover',
  });
  h({
    kind: 'role',
    t,
    region,
    from: 'candidate',
    to: 'primary',
    reason: 'lease-granted',
    epoch,
    localMs: t,
  });
  h({
    kind: 'act',
    t,
    region,
    action: 'promote',
    epoch,
    localMs: t,
    safeUntilLocalMs: t + 27_000,
    validityMs: 27_000,
  });
  h({ kind: 'app-authority', t: t + 1, region, op: 'grant', epoch, untilT });
}

function demote(h: (e: NewEvent) => void, region: string, t: number, epoch: number): void {
  h({
    kind: 'role',
    t,
    region,
    from: 'primary',
    to: 'fenced',
    reason: 'safe-window-elapsed',
    epoch,
    localMs: t,
  });
  h({ kind: 'app-authority', t: t + 1, region, op: 'revoke', epoch, reason: 'demote' });
}

/** A clean failover: a primary, a lost (isolated), b takes over after a's window ended. */
function cleanFailover(): HistoryEvent[] {
  return history((h) => {
    promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
    h({ kind: 'app-write', t: 5_000, region: 'a', client: 'client-0', epoch: 1, accepted: true });
    h({
      kind: 'fault',
      t: 10_000,
      phase: 'start',
      id: 'f0',
      fault: 'isolate',
      target: 'a',
      verified: true,
      links: ['ctl-a->worker', 'ctl-b->peer'],
    });
    // what shows the isolation: b's peer probes fail
    for (const t of [11_000, 12_000, 13_000])
      h({ kind: 'peer-probe', t, region: 'b', ok: false, consecutiveFailures: (t - 10_000) / 1000 });
    demote(h, 'a', 27_000, 1);
    promote(h, 'b', 40_100, 2, 67_100);
    h({ kind: 'app-write', t: 41_000, region: 'b', client: 'client-0', epoch: 2, accepted: true });
    h({ kind: 'fault', t: 100_000, phase: 'end', id: 'f0', fault: 'isolate', target: 'a', verified: true });
    h({ kind: 'note', t: 120_000, source: 'test', message: 'end' });
  });
}

describe('checkHistory on a clean failover', () => {
  it('passes every invariant and measures the failover', () => {
    const v = checkHistory(cleanFailover());
    expect(v.violations).toEqual([]);
    expect(v.ok).toBe(true);
    expect(outcome(v, 'failover-liveness').evaluated).toBe(true);
    expect(v.measurements.failoverMs).toBe(30_100);
    expect(v.measurements.acceptedWrites).toBe(2);
  });

  it('is insensitive to event order in the input array (sorts by t, seq)', () => {
    const h = cleanFailover();
    const shuffled = [...h].reverse();
    expect(checkHistory(shuffled).ok).toBe(true);
  });
});

describe('single-primary', () => {
  it('detects overlapping write-authority windows across regions', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        promote(h, 'b', 20_000, 2, 47_000);
      }),
    );
    const o = outcome(v, 'single-primary');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.at).toBe(20_001);
    expect(o.violations[0]!.detail).toContain('both accepted writes for 7.099 s');
  });

  it('treats a revoke as the end of the window (no overlap after an early demote)', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({ kind: 'app-authority', t: 15_000, region: 'a', op: 'revoke', epoch: 1 });
        promote(h, 'b', 20_000, 2, 47_000);
      }),
    );
    expect(outcome(v, 'single-primary').ok).toBe(true);
  });

  it('a re-grant while open moves the end (extend)', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({ kind: 'app-authority', t: 10_000, region: 'a', op: 'grant', epoch: 1, untilT: 37_000 });
        promote(h, 'b', 30_000, 2, 57_000);
      }),
    );
    expect(outcome(v, 'single-primary').ok).toBe(false);
  });
});

describe('act-within-safe-window', () => {
  it('flags an act at or after safeUntilLocalMs, and an act without a lease', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({
          kind: 'act',
          t: 27_200,
          region: 'a',
          action: 'extend',
          epoch: 1,
          localMs: 27_200,
          safeUntilLocalMs: 27_100,
        });
        h({
          kind: 'act',
          t: 27_300,
          region: 'a',
          action: 'publish',
          epoch: 1,
          localMs: 27_300,
          safeUntilLocalMs: null,
        });
      }),
    );
    const o = outcome(v, 'act-within-safe-window');
    expect(o.violations.map((x) => x.at)).toEqual([27_200, 27_300]);
    expect(o.violations[1]!.detail).toContain('without holding a lease');
  });

  it('flags a validity that outlives the window, accepts a demote after it', () => {
    const v = checkHistory(
      history((h) => {
        h({
          kind: 'act',
          t: 100,
          region: 'a',
          action: 'extend',
          epoch: 1,
          localMs: 100,
          safeUntilLocalMs: 1_000,
          validityMs: 2_000,
        });
        h({
          kind: 'act',
          t: 5_000,
          region: 'a',
          action: 'demote',
          epoch: 1,
          localMs: 5_000,
          safeUntilLocalMs: null,
        });
      }),
    );
    const o = outcome(v, 'act-within-safe-window');
    expect(o.violations).toHaveLength(1);
    expect(o.violations[0]!.detail).toContain('outlives');
  });
});

describe('epoch-monotonic', () => {
  it('flags a store grant that does not raise the epoch', () => {
    const v = checkHistory(
      history((h) => {
        h({ kind: 'lease-store', t: 100, holder: 'a', epoch: 5, expiresAt: 30_100 });
        h({ kind: 'lease-store', t: 10_000, holder: 'a', epoch: 5, expiresAt: 40_000 }); // renewal: fine
        h({ kind: 'lease-store', t: 50_000, holder: 'b', epoch: 5, expiresAt: 80_000 }); // new holder, same epoch
      }),
    );
    const o = outcome(v, 'epoch-monotonic');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.at).toBe(50_000);
  });

  it('flags a promotion under a lower epoch than another region promoted before', () => {
    const v = checkHistory(
      history((h) => {
        h({
          kind: 'act',
          t: 100,
          region: 'a',
          action: 'promote',
          epoch: 3,
          localMs: 100,
          safeUntilLocalMs: 27_100,
        });
        h({
          kind: 'act',
          t: 40_000,
          region: 'b',
          action: 'promote',
          epoch: 2,
          localMs: 40_000,
          safeUntilLocalMs: 67_000,
        });
      }),
    );
    expect(outcome(v, 'epoch-monotonic').ok).toBe(false);
  });
});

describe('no-stale-write', () => {
  it('flags a write accepted under an epoch the store already superseded', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 60_000, { basis: 'bootstrap', votes: {} });
        h({ kind: 'lease-store', t: 40_000, holder: 'b', epoch: 2, expiresAt: 70_000 });
        h({ kind: 'app-write', t: 45_000, region: 'a', client: 'client-0', epoch: 1, accepted: true });
      }),
    );
    const o = outcome(v, 'no-stale-write');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.detail).toContain('granted epoch 2 to b');
  });

  it('does not flag rejected stale writes', () => {
    const v = checkHistory(
      history((h) => {
        h({ kind: 'lease-store', t: 40_000, holder: 'b', epoch: 2, expiresAt: 70_000 });
        h({ kind: 'app-write', t: 45_000, region: 'a', client: 'client-0', epoch: 1, accepted: false });
      }),
    );
    expect(outcome(v, 'no-stale-write').ok).toBe(true);
  });
});

describe('promotion-evidence', () => {
  it('flags a failover without a witness quorum', () => {
    const v = checkHistory(
      history((h) =>
        promote(h, 'b', 100, 2, 27_000, { votes: { w1: 'unreachable', w2: 'reachable', w3: 'unknown' } }),
      ),
    );
    const o = outcome(v, 'promotion-evidence');
    expect(o.ok).toBe(false);
    expect(o.detail).toContain('backed by 1 witness(es) observed saying "unreachable"');
    expect(o.detail).toContain('spec quorum 2');
  });

  it('flags a promotion without the lease, and one with no evidence at all', () => {
    const v = checkHistory(
      history((h) => {
        h({ kind: 'lease-store', t: 50, holder: 'a', epoch: 1, expiresAt: 30_050 });
        promote(h, 'b', 100, 2, 27_000, { leaseGranted: false });
        h({
          kind: 'role',
          t: 50_000,
          region: 'a',
          from: 'candidate',
          to: 'primary',
          reason: 'x',
          epoch: 3,
          localMs: 1,
        });
      }),
    );
    const o = outcome(v, 'promotion-evidence');
    expect(o.violations.map((x) => x.detail)).toEqual([
      expect.stringContaining(
        'ctl-b became primary (epoch 2) but the lease store was never observed granting it',
      ),
      expect.stringContaining(
        'ctl-a became primary (epoch 3) but the lease store was never observed granting it',
      ),
    ]);
  });

  it('accepts a bootstrap promotion with the lease and no votes', () => {
    const v = checkHistory(
      history((h) => promote(h, 'a', 100, 1, 27_000, { basis: 'bootstrap', votes: {} })),
    );
    expect(outcome(v, 'promotion-evidence').ok).toBe(true);
  });
});

describe('no-internal-error', () => {
  it('flags a component that failed by an exception', () => {
    const v = checkHistory(
      history((h) =>
        h({
          kind: 'process',
          t: 5,
          component: 'ctl-a',
          op: 'crash',
          error: 'controller invariant violated: x',
        }),
      ),
    );
    expect(outcome(v, 'no-internal-error').ok).toBe(false);
  });
});

describe('failover-liveness', () => {
  it('flags a primary region lost for longer than the bound with no failover', () => {
    const v = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({
          kind: 'fault',
          t: 10_000,
          phase: 'start',
          id: 'f0',
          fault: 'crash',
          target: 'a',
          verified: true,
        });
        h({ kind: 'fault', t: 100_000, phase: 'end', id: 'f0', fault: 'crash', target: 'a', verified: true });
      }),
    );
    const o = outcome(v, 'failover-liveness');
    expect(o.ok).toBe(false);
    // the bound is the spec's (derived from T = 30 s, ρ = 0.001), not the meta's timing
    expect(o.violations[0]!.at).toBe(10_000 + 34_031);
  });

  it('is not evaluated when the loss is shorter than the bound or overlaps another fault', () => {
    const short = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({
          kind: 'fault',
          t: 10_000,
          phase: 'start',
          id: 'f0',
          fault: 'isolate',
          target: 'a',
          verified: true,
        });
        h({
          kind: 'fault',
          t: 20_000,
          phase: 'end',
          id: 'f0',
          fault: 'isolate',
          target: 'a',
          verified: true,
        });
        h({ kind: 'note', t: 200_000, source: 't', message: 'end' });
      }),
    );
    expect(outcome(short, 'failover-liveness')).toMatchObject({ ok: true, evaluated: false });
    const overlapping = checkHistory(
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        h({
          kind: 'fault',
          t: 10_000,
          phase: 'start',
          id: 'f0',
          fault: 'isolate',
          target: 'a',
          verified: true,
        });
        h({
          kind: 'fault',
          t: 12_000,
          phase: 'start',
          id: 'f1',
          fault: 'crash',
          target: 'ctl-b',
          verified: true,
        });
        h({ kind: 'note', t: 200_000, source: 't', message: 'end' });
      }),
    );
    expect(outcome(overlapping, 'failover-liveness')).toMatchObject({ ok: true, evaluated: false });
  });
});

describe('no-spurious-failover', () => {
  const partitionRun = (promoteB: boolean) =>
    history((h) => {
      promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
      h({
        kind: 'fault',
        t: 10_000,
        phase: 'start',
        id: 'f0',
        fault: 'partition',
        target: 'ctl-*->peer',
        verified: true,
        links: ['ctl-a->peer', 'ctl-b->peer'],
      });
      h({ kind: 'peer-probe', t: 11_000, region: 'b', ok: false, consecutiveFailures: 1 });
      if (promoteB) promote(h, 'b', 30_000, 2, 57_000);
      h({
        kind: 'fault',
        t: 60_000,
        phase: 'end',
        id: 'f0',
        fault: 'partition',
        target: 'ctl-*->peer',
        verified: true,
      });
      h({ kind: 'note', t: 200_000, source: 't', message: 'end' });
    });

  it('flags a failover while only inter-region links are cut', () => {
    const o = outcome(checkHistory(partitionRun(true)), 'no-spurious-failover');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.at).toBe(30_000);
  });

  it('passes when the primary stays', () => {
    expect(outcome(checkHistory(partitionRun(false)), 'no-spurious-failover')).toMatchObject({
      ok: true,
      evaluated: true,
    });
  });

  it("flags a holder's lease expiring at the store though nothing kept it from renewing", () => {
    // a holds epoch 1 (renewed at t=10.1 s), then its renewals stop; `cut` is a fault on its
    // path to the store from t=19 s until `cutEnd`
    const lapse = (cutEnd: number | null) =>
      history((h) => {
        const store = (t: number, op: 'grant' | 'renew' | 'expire') =>
          h({
            kind: 'lease-store',
            t,
            op,
            region: 'a',
            holder: op === 'expire' ? null : 'a',
            epoch: 1,
            expiresAt: op === 'expire' ? null : t + 30_000,
            storeNowMs: t,
          });
        store(100, 'grant');
        store(10_100, 'renew');
        if (cutEnd !== null) {
          const f = {
            kind: 'fault',
            id: 'f0',
            fault: 'partition',
            target: 'ctl-a->worker',
            verified: true,
          } as const;
          h({ ...f, t: 19_000, phase: 'start', links: ['ctl-a->worker'] });
          h({ ...f, t: cutEnd, phase: 'end' });
        }
        store(40_100, 'expire');
        h({ kind: 'note', t: 60_000, source: 't', message: 'end' });
      });
    const noCut = outcome(checkHistory(lapse(null)), 'no-spurious-failover');
    expect(noCut.ok).toBe(false);
    expect(noCut.violations[0]!.at).toBe(40_100);
    // a short cut leaves 15 s to renew in the safe window: still unexplained
    expect(outcome(checkHistory(lapse(22_000)), 'no-spurious-failover').ok).toBe(false);
    // cut until after the safe window: explained
    expect(outcome(checkHistory(lapse(40_000)), 'no-spurious-failover')).toMatchObject({ ok: true });
  });

  it('classifies links by region', () => {
    expect(isInterRegionLink('ctl-a->peer', ['a', 'b'])).toBe(true);
    expect(isInterRegionLink('auth-b->app-a', ['a', 'b'])).toBe(true);
    expect(isInterRegionLink('ctl-a->app-a', ['a', 'b'])).toBe(false);
    expect(isInterRegionLink('ctl-a->worker', ['a', 'b'])).toBe(false);
    expect(isInterRegionLink('w1->auth-a', ['a', 'b'])).toBe(false);
  });
});

describe('bounded-flapping', () => {
  it('flags a re-promotion inside the hold-down, unless the controller restarted', () => {
    const flap = (restart: boolean) =>
      history((h) => {
        promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
        demote(h, 'a', 10_000, 1);
        if (restart) h({ kind: 'process', t: 12_000, component: 'ctl-a', op: 'restart' });
        promote(h, 'a', 20_000, 2, 47_000, { basis: 'vacant-lease', votes: {} });
      });
    expect(outcome(checkHistory(flap(false)), 'bounded-flapping').ok).toBe(false);
    expect(outcome(checkHistory(flap(true)), 'bounded-flapping').ok).toBe(true);
  });
});

describe('expectations', () => {
  it('failover-within passes inside the limit and fails outside it', () => {
    expect(
      outcome(
        checkHistory(cleanFailover(), { expectations: [{ 'failover-within': 40_000 }] }),
        'failover-within',
      ).ok,
    ).toBe(true);
    const v = checkHistory(cleanFailover(), { expectations: [{ 'failover-within': 20_000 }] });
    expect(v.ok).toBe(false);
    expect(v.violations[0]!.invariant).toBe('failover-within');
  });

  it('failover-within counts from the first fault; failoverMs stays the region-loss time judged by the bound', () => {
    // A fault before the region loss (as in one-witness-down): the expectation measures from
    // it, but that number must not replace the liveness measurement the report judges.
    const h = cleanFailover();
    const early: HistoryEvent = {
      kind: 'fault',
      t: 9_000,
      phase: 'start',
      id: 'fw',
      fault: 'witness-down',
      target: 'w1',
      verified: true,
      components: ['w1'],
      seq: 0,
    };
    const withEarly = [...h.slice(0, 1), early, ...h.slice(1)].map((e, i) => ({ ...e, seq: i }));
    const v = checkHistory(withEarly as HistoryEvent[], { expectations: [{ 'failover-within': 40_000 }] });
    expect(outcome(v, 'failover-within').ok).toBe(true);
    expect(v.measurements.failoverFromFirstFaultMs).toBe(40_100 - 9_000);
    expect(v.measurements.failoverMs).not.toBe(40_100 - 9_000);
    // the liveness bound is not applied to a loss that overlaps other faults, and says so
    expect(outcome(v, 'failover-liveness')).toMatchObject({ evaluated: false, ok: true });
    expect(outcome(v, 'failover-liveness').detail).toMatch(
      /bound not applied: isolate of a at .*other faults overlap/,
    );
    // and on a single fault both agree
    const single = checkHistory(cleanFailover(), { expectations: [{ 'failover-within': 40_000 }] });
    expect(single.measurements).toMatchObject({ failoverMs: 30_100, failoverFromFirstFaultMs: 30_100 });
  });

  it('no-failover, demoted-within and primary-at-end', () => {
    const v = checkHistory(cleanFailover(), {
      expectations: [
        { 'no-failover': true },
        { 'demoted-within': { region: 'a', within: 20_000 } },
        { 'demoted-within': { region: 'a', within: 10_000 } },
        { 'primary-at-end': 'b' },
        { 'primary-at-end': 'a' },
      ],
    });
    expect(v.outcomes.filter((o) => o.kind === 'expectation').map((o) => o.ok)).toEqual([
      false,
      true,
      false,
      true,
      false,
    ]);
  });

  it('violation-detected passes when the named invariant is violated, and then does not fail the verdict', () => {
    const split = history((h) => {
      promote(h, 'a', 100, 1, 27_100, { basis: 'bootstrap', votes: {} });
      promote(h, 'b', 20_000, 2, 47_000);
    });
    const v = checkHistory(split, { expectations: [{ 'violation-detected': 'single-primary' }] });
    expect(outcome(v, 'single-primary')).toMatchObject({ ok: false, expectedViolation: true });
    expect(outcome(v, 'violation-detected').ok).toBe(true);
    expect(v.ok).toBe(true);
    const clean = checkHistory(cleanFailover(), {
      expectations: [{ 'violation-detected': 'single-primary' }],
    });
    expect(clean.ok).toBe(false);
  });

  it('reports withinAssumptions from meta', () => {
    const h = history(() => {}, { withinAssumptions: false });
    expect(checkHistory(h).withinAssumptions).toBe(false);
  });
});

describe('violation-detected declares a configuration unsafe', () => {
  it('other safety violations become expected; liveness and other expectations still count', () => {
    const split = history((h) => {
      promote(h, 'a', 100, 1, 60_000, { basis: 'bootstrap', votes: {} });
      promote(h, 'b', 20_000, 2, 47_000);
      h({ kind: 'app-write', t: 30_000, region: 'a', client: 'client-0', epoch: 1, accepted: true });
    });
    const v = checkHistory(split, { expectations: [{ 'violation-detected': 'single-primary' }] });
    expect(outcome(v, 'no-stale-write')).toMatchObject({ ok: false, expectedViolation: true });
    expect(v.ok).toBe(true);
    const withFailedExpectation = checkHistory(split, {
      expectations: [{ 'violation-detected': 'single-primary' }, { 'primary-at-end': 'a' }],
    });
    expect(withFailedExpectation.ok).toBe(false);
    expect(withFailedExpectation.violations.map((x) => x.invariant)).toEqual(['primary-at-end']);
  });
});
