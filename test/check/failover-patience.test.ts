/**
 * `failover-patience` judges when a region first asks for the lease its peer holds, against
 * the start of the fault that made the peer unreachable (src/check/invariants/failover-patience.ts).
 * Test spec: T = 30 s, H = 10 s, I = H/3 = 3.333 s, N = 3, ρ = 0.001: the earliest is
 * t0 − I + 2·I/(1+ρ) ≈ t0 + 3.326 s.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { faultEvent, operatorNote, outcomeOf, refusedAcquire } from './helpers/history.ts';

/** a's grant and renewals every 10 s from t = 1 s: the store shows a holding throughout. */
const aHolds = (untilT: number): NewEvent[] => {
  const out: NewEvent[] = [];
  for (let t = 1_000; t <= untilT; t += 10_000) {
    out.push({
      kind: 'lease-store',
      t,
      op: t === 1_000 ? 'grant' : 'renew',
      region: 'a',
      holder: 'a',
      epoch: 1,
      expiresAt: t + 30_000,
      storeNowMs: t,
    });
  }
  return out;
};
const cut = (start: number, end: number): NewEvent[] => [
  faultEvent('start', start, 'ctl-b->peer', 'partition', { id: 'f1', links: ['ctl-b->peer'] }),
  faultEvent('end', end, 'ctl-b->peer', 'partition', { id: 'f1', links: ['ctl-b->peer'] }),
];
/** b hears `witnesses` say a is down (the tombstone) at `t`. */
const down = (t: number, witnesses = ['w1', 'w2']): NewEvent[] =>
  witnesses.map((witness) => ({
    kind: 'witness',
    t,
    region: 'b',
    witness,
    target: 'a',
    verdict: 'unreachable',
    detail: 'NOERROR tombstone',
  }));
const judge = (events: NewEvent[]) => outcomeOf('failover-patience', events);

describe('failover-patience', () => {
  it('an acquire N probe intervals after the cut passes; one after a single interval is a violation', () => {
    const late = judge([...aHolds(90_000), ...cut(40_000, 80_000), ...down(46_900), refusedAcquire(47_000)]);
    expect(late).toMatchObject({ ok: true, evaluated: true });
    const early = judge([...aHolds(90_000), ...cut(40_000, 80_000), ...down(41_100), refusedAcquire(41_200)]);
    expect(early.ok).toBe(false);
    expect(early.detail).toMatch(
      /ctl-b asked for the lease ctl-a held 1\.200 s after its peer became unreachable \(t=40\.000 s\): 3 failed probes 3\.333 s apart take at least 3\.32\d s/,
    );
    // the edge: t0 − I + 2·I/(1+ρ) is in time
    expect(
      judge([...aHolds(90_000), ...cut(40_000, 80_000), ...down(43_300), refusedAcquire(43_330)]).ok,
    ).toBe(true);
  });

  it('an acquire without a witness quorum that saw the peer down is a violation', () => {
    // one tombstone answer, and one "unreachable" that was a SERVFAIL (no authoritative reached)
    const servfail: NewEvent = { ...down(46_900, ['w2'])[0]!, detail: 'SERVFAIL' } as NewEvent;
    const o = judge([
      ...aHolds(90_000),
      ...cut(40_000, 80_000),
      ...down(46_900, ['w1']),
      servfail,
      refusedAcquire(47_000),
    ]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /ctl-b asked for the lease ctl-a held without a witness quorum: 1 witness\(es\) said a is down/,
    );
    // a quorum heard within one candidacy (T + H, + the round) before counts
    expect(
      judge([...aHolds(90_000), ...cut(40_000, 80_000), ...down(44_000), refusedAcquire(80_000)]).ok,
    ).toBe(true);
  });

  it('overlapping losses count from the first: a crash of ctl-a before the cut dates the loss', () => {
    const crash = [
      faultEvent('start', 36_000, 'ctl-a', 'crash', { id: 'f0', components: ['ctl-a'] }),
      faultEvent('end', 42_000, 'ctl-a', 'crash', { id: 'f0', components: ['ctl-a'] }),
    ];
    const o = judge([
      ...aHolds(90_000),
      ...crash,
      ...cut(40_000, 80_000),
      ...down(41_100),
      refusedAcquire(41_200),
    ]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
  });

  it('is not judged without a loss, in the boot, after an operator command, or when the lease was free just before', () => {
    // no fault that fails b's probes: not a failover candidacy the check can date
    expect(judge([...aHolds(90_000), refusedAcquire(41_200)]).evaluated).toBe(false);
    // a cut that starts during the boot (before ctl-a started + I)
    const boot: NewEvent = { kind: 'process', t: 4_000, component: 'ctl-a', op: 'start' };
    expect(judge([boot, ...aHolds(90_000), ...cut(5_000, 80_000), refusedAcquire(5_500)]).evaluated).toBe(
      false,
    );
    // the operator promoted b
    const promote = operatorNote(41_000, 'b', 'promote');
    const op = judge([...aHolds(90_000), ...cut(40_000, 80_000), promote, refusedAcquire(41_200)]);
    expect(op.ok).toBe(true);
    // a's lease ran out at 35 s and a took it again at 40.5 s: b may be filling the vacancy
    const lapsed: NewEvent[] = [
      {
        kind: 'lease-store',
        t: 1_000,
        op: 'grant',
        region: 'a',
        holder: 'a',
        epoch: 1,
        expiresAt: 35_000,
        storeNowMs: 1_000,
      },
      {
        kind: 'lease-store',
        t: 40_500,
        op: 'grant',
        region: 'a',
        holder: 'a',
        epoch: 2,
        expiresAt: 70_500,
        storeNowMs: 40_500,
      },
    ];
    expect(judge([...lapsed, ...cut(40_000, 80_000), refusedAcquire(41_200)]).evaluated).toBe(false);
  });
});
