/**
 * The fidelity comparison (src/fidelity/compare.ts), pure: which measurements a scenario
 * times, how a history is measured (real histories are scaled), and when a scenario's sim
 * seeds and real runs agree.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import {
  compareScenario,
  compareTimed,
  fidelityTable,
  measureTimes,
  type RunSample,
  rangeOf,
  timedMeasurementsOf,
} from '../../src/fidelity/compare.ts';

const sample = (id: number, ok: boolean, times: RunSample['times'] = {}): RunSample => ({
  id,
  ok,
  failed: ok ? [] : ['no-failover'],
  times,
});

/** A minimal history: meta, a fault at faultT, a's demotion and b's promotion. */
function history(timeScale: number, faultT: number, demoteT: number, promoteT: number): HistoryEvent[] {
  let seq = 0;
  const ev = <T extends object>(e: T) => ({ ...e, seq: seq++ }) as unknown as HistoryEvent;
  return [
    ev({
      kind: 'meta',
      t: 0,
      runId: 'r',
      scenario: 's',
      executor: 'real',
      leaseBackend: 'durable',
      regions: ['a', 'b'],
      initialPrimary: 'a',
      witnesses: ['w1', 'w2', 'w3'],
      timing: {
        leaseTtlMs: 30_000,
        heartbeatMs: 10_000,
        peerCheckIntervalMs: 2_000,
        peerFailureThreshold: 3,
      },
      timeScale,
    }),
    ev({
      kind: 'role',
      t: 5,
      region: 'a',
      from: 'candidate',
      to: 'primary',
      reason: 'x',
      epoch: 1,
      localMs: 5,
    }),
    ev({ kind: 'fault', t: faultT, phase: 'start', id: 'f1', fault: 'isolate', target: 'a', verified: true }),
    ev({
      kind: 'role',
      t: demoteT,
      region: 'a',
      from: 'primary',
      to: 'fenced',
      reason: 'x',
      epoch: 1,
      localMs: 0,
    }),
    ev({
      kind: 'role',
      t: promoteT,
      region: 'b',
      from: 'candidate',
      to: 'primary',
      reason: 'x',
      epoch: 2,
      localMs: 0,
    }),
  ];
}

describe('timedMeasurementsOf', () => {
  it('times what the expectations time, each once, in expectation order', () => {
    expect(
      timedMeasurementsOf([
        { 'demoted-within': { region: 'a', within: 35_000 } },
        { 'failover-within': 60_000 },
        { 'failover-within': 70_000 },
        { 'primary-at-end': 'b' },
      ]),
    ).toEqual([{ name: 'demotion', region: 'a' }, { name: 'failover' }]);
    expect(
      timedMeasurementsOf([{ 'no-failover': true }, { 'violation-detected': 'single-primary' }]),
    ).toEqual([]);
  });
});

describe('measureTimes', () => {
  const timed = [{ name: 'failover' as const }, { name: 'demotion' as const, region: 'a' }];

  it('measures from the first fault, in production ms (real global ms / timeScale)', () => {
    // real run at time scale 0.1: 2.2 s after the fault = 22 s of production time
    expect(measureTimes(history(0.1, 1000, 2800, 3200), timed)).toEqual({
      demotion: 18_000,
      failover: 22_000,
    });
    // simulator: timeScale 1
    expect(measureTimes(history(1, 20_000, 38_000, 42_000), timed)).toEqual({
      demotion: 18_000,
      failover: 22_000,
    });
  });

  it('has no figure when there was no fault or the event never came (no bound applied)', () => {
    const h = history(1, 20_000, 38_000, 42_000).filter((e) => e.kind !== 'fault');
    expect(measureTimes(h, timed)).toEqual({});
    // a promotion long after any expectation's bound still has its figure
    expect(measureTimes(history(1, 20_000, 38_000, 500_000), [{ name: 'failover' }])).toEqual({
      failover: 480_000,
    });
  });
});

describe('compareTimed', () => {
  const sim = [sample(1, true, { failover: 21_000 }), sample(2, true, { failover: 30_000 }), sample(3, true)];

  it('inside when every real value is within the sims [min, max] (bounds included)', () => {
    const c = compareTimed('failover', sim, [sample(1, true, { failover: 30_000 })]);
    expect(c.status).toBe('inside');
    expect(c.sim).toEqual({ n: 2, minMs: 21_000, medianMs: 25_500, maxMs: 30_000 });
    expect(c.ratio).toBeCloseTo(30_000 / 25_500, 3);
    expect(c.outsideByMs).toBe(0);
  });

  it('outside when one real value is not', () => {
    const c = compareTimed('failover', sim, [
      sample(1, true, { failover: 25_000 }),
      sample(2, true, { failover: 30_001 }),
    ]);
    expect(c.status).toBe('outside');
    expect(c.outsideByMs).toBe(1);
    expect(compareTimed('failover', sim, [sample(1, true, { failover: 20_000 })]).outsideByMs).toBe(-1000);
  });

  it('missing-real, missing-sim and absent', () => {
    expect(compareTimed('failover', sim, [sample(1, true)]).status).toBe('missing-real');
    expect(compareTimed('demotion', sim, [sample(1, true, { demotion: 1 })]).status).toBe('missing-sim');
    expect(compareTimed('demotion', sim, [sample(1, true)]).status).toBe('absent');
  });
});

describe('compareScenario', () => {
  const timed = [{ name: 'failover' as const }];
  const sims = [sample(1, true, { failover: 20_000 }), sample(2, true, { failover: 30_000 })];

  it('agrees when all verdicts are equal and the real time is inside', () => {
    const r = compareScenario('s', timed, sims, [sample(1, true, { failover: 25_000 })]);
    expect(r).toMatchObject({ verdictAgree: true, agree: true, flags: [] });
    expect(r.sim).toMatchObject({ passed: 2, failed: 0, verdict: 'pass' });
    expect(r.real).toMatchObject({ runs: 1, passed: 1, verdict: 'pass' });
  });

  it('a sim that fails at some seeds does not agree with a real pass (mixed)', () => {
    const r = compareScenario('s', [], [sample(1, true), sample(2, false)], [sample(1, true)]);
    expect(r.sim).toMatchObject({ verdict: 'mixed', failedSeeds: [2] });
    expect(r.verdictAgree).toBe(false);
    expect(r.flags[0]).toMatch(/sim 1\/2 pass, real 1\/1 pass/);
  });

  it('equal failing verdicts agree; a real time outside the range does not', () => {
    const fail = compareScenario('s', [], [sample(1, false)], [sample(1, false)]);
    expect(fail.verdictAgree).toBe(true);
    expect(fail.real.failedChecks).toEqual(['no-failover']);
    const slow = compareScenario('s', timed, sims, [sample(1, true, { failover: 35_000 })]);
    expect(slow.verdictAgree).toBe(true);
    expect(slow.agree).toBe(false);
    expect(slow.flags).toEqual(['failover: real 35.00 s outside sim [20.00 s, 30.00 s]']);
  });

  it('no real run (infrastructure failed) never agrees', () => {
    expect(compareScenario('s', [], [sample(1, true)], []).agree).toBe(false);
  });
});

describe('fidelityTable', () => {
  it('one row per scenario, the totals, and the reasons of disagreements', () => {
    const rows = [
      compareScenario(
        'crash',
        [{ name: 'failover' }],
        [sample(1, true, { failover: 20_000 })],
        [sample(1, true, { failover: 20_000 })],
      ),
      compareScenario('cut', [], [sample(1, true), sample(2, false)], [sample(1, true)]),
    ];
    const t = fidelityTable(rows);
    expect(t).toMatch(
      /crash\s+1\/1\s+1\/1\s+agree\s+failover 20\.00 s \/ 20\.00 s \/ 20\.00 s → 20\.00 s \(×1\.00\)\s+yes/,
    );
    expect(t).toMatch(/cut\s+1\/2\s+1\/1\s+DISAGREE\s+—\s+NO/);
    expect(t).toContain(
      "verdict agreement: 1/2; timed scenarios with every real value inside the sim's [min, max]: 1/1",
    );
    expect(t).toContain('cut: verdict: sim 1/2 pass, real 1/1 pass');
  });
});

describe('rangeOf', () => {
  it('min / median / max; none for no values', () => {
    expect(rangeOf([3, 1, 2, 10])).toEqual({ n: 4, minMs: 1, medianMs: 2.5, maxMs: 10 });
    expect(rangeOf([])).toBeNull();
  });
});
