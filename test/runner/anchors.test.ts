/**
 * Anchor resolution of the real runner (src/runner/anchors.ts), as pure functions of the
 * events it is fed: which instant an anchored step waits for and when it is due. The last
 * test feeds simulated histories through it and gets the start times the simulator used, so
 * an anchor means the same thing in both executors.
 */
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { AnchorResolver, describeAnchorFire } from '../../src/runner/anchors.ts';
import { parseScenario } from '../../src/scenario/loader.ts';
import type { Anchor } from '../../src/scenario/schema.ts';

const leaseReq =
  (op: 'renew' | 'acquire' | 'status') =>
  (t: number, region: string, phase: 'sent' | 'result'): NewEvent => ({
    kind: 'lease',
    t,
    region,
    op,
    phase,
    sentLocalMs: t,
    localMs: t,
  });
const renew = leaseReq('renew');
const acquire = leaseReq('acquire');
const storeView = (
  t: number,
  holder: string | null,
  expiresAt: number | null,
  storeNowMs: number,
): NewEvent => ({
  kind: 'lease-store',
  t,
  holder,
  epoch: 3,
  expiresAt,
  storeNowMs,
  observedSinceT: t - 5,
});
const witness = (t: number, region: string): NewEvent =>
  ({ kind: 'witness', t, region, witness: 'w1', target: 'b', verdict: 'reachable' }) as unknown as NewEvent;

/** Every schedule call of one watch, as [startT, instant t]. */
function watchOn(res: AnchorResolver, anchor: Anchor, armedAtT: number): Array<[number, number]> {
  const calls: Array<[number, number]> = [];
  res.watch(anchor, armedAtT, (startT, instant) => calls.push([startT, instant.t]));
  return calls;
}

describe('anchor resolution on the real runner', () => {
  it('renew-send: the first send of the region at or after `at`, plus the offset', () => {
    const res = new AnchorResolver();
    res.observe(renew(900, 'a', 'sent')); // before arming: ignored
    const calls = watchOn(res, { on: 'renew-send', region: 'a', offset: 150 }, 1000);
    res.observe(renew(1200, 'b', 'sent')); // other region
    res.observe(renew(1300, 'a', 'result')); // a reply, not a send
    res.observe(renew(1400, 'a', 'sent'));
    res.observe(renew(3400, 'a', 'sent')); // only the first one counts
    expect(calls).toEqual([[1550, 1400]]);
  });

  it("acquire-send and acquire-reply: a candidate's requests, never its renewals or polls", () => {
    const res = new AnchorResolver();
    const sends = watchOn(res, { on: 'acquire-send', region: 'b', offset: 0 }, 1000);
    const replies = watchOn(res, { on: 'acquire-reply', offset: -5 }, 1000);
    res.observe(renew(1100, 'b', 'sent'));
    res.observe(leaseReq('status')(1150, 'b', 'sent'));
    res.observe(acquire(1200, 'a', 'sent')); // other region
    res.observe(acquire(1300, 'b', 'sent'));
    res.observe(renew(1310, 'b', 'result'));
    res.observe(acquire(1340, 'b', 'result'));
    expect(sends).toEqual([[1300, 1300]]);
    expect(replies).toEqual([[1335, 1340]]);
  });

  it('an event that arrives late but happened before `at` does not count', () => {
    const res = new AnchorResolver();
    const calls = watchOn(res, { on: 'renew-reply', offset: -20 }, 1000);
    res.observe(renew(990, 'a', 'result')); // tailed late: t before arming
    res.observe(renew(1010, 'b', 'result')); // no region in the anchor: any region
    expect(calls).toEqual([[990, 1010]]);
  });

  it('offsets and the witness-round gap are production ms, scaled to the run', () => {
    const res = new AnchorResolver(0.1);
    const calls = watchOn(res, { on: 'witness-round', region: 'b', offset: 1000 }, 0);
    res.observe(witness(100, 'b')); // a round's first answer...
    // ...but it was observed before this watch? no: armed at 0, so it fires at once
    expect(calls).toEqual([[200, 100]]);
    const later = watchOn(res, { on: 'witness-round', region: 'b', offset: 0 }, 101);
    res.observe(witness(130, 'b')); // 30 ms after the last answer: same round (gap 50 ms scaled)
    res.observe(witness(300, 'b')); // a new round
    expect(later).toEqual([[300, 300]]);
  });

  it('lease-expiry is predicted from the store view, re-predicted by renewals, known ahead', () => {
    const res = new AnchorResolver();
    // store clock 50_000 at t=10_000, lease until store 80_000 → expiry at t=40_000
    res.observe(storeView(10_000, 'a', 80_000, 50_000));
    const calls = watchOn(res, { on: 'lease-expiry', offset: -500 }, 20_000);
    expect(calls).toEqual([[39_500, 40_000]]); // known at arming
    res.observe(storeView(25_000, 'a', 95_000, 65_000)); // a renewal moves it
    expect(calls.at(-1)).toEqual([54_500, 55_000]);
    res.observe(storeView(60_000, null, null, 100_000)); // expired: no prediction
    const none = watchOn(res, { on: 'lease-expiry', offset: 0 }, 61_000);
    expect(none).toEqual([]);
  });

  it('promotion and publish anchors, and the fault detail names where the step fired', () => {
    const res = new AnchorResolver();
    const promo = watchOn(res, { on: 'promotion', region: 'b', offset: 0 }, 0);
    const pub = watchOn(res, { on: 'publish', offset: 300 }, 0);
    res.observe({
      kind: 'role',
      t: 50,
      region: 'a',
      from: 'standby',
      to: 'candidate',
      reason: '',
      epoch: null,
      localMs: 0,
    });
    res.observe({
      kind: 'role',
      t: 70,
      region: 'b',
      from: 'candidate',
      to: 'primary',
      reason: '',
      epoch: 4,
      localMs: 0,
    });
    res.observe({ kind: 'act', t: 80, region: 'b', action: 'publish', epoch: 4 } as unknown as NewEvent);
    expect(promo).toEqual([[70, 70]]);
    expect(pub).toEqual([[380, 80]]);
    expect(
      describeAnchorFire({ on: 'publish', offset: 300 }, { on: 'publish', region: 'b', t: 80 }, 380, 395, 1),
    ).toBe(
      'anchored at publish(b) t=80.0 +300 ms → due t=380.0, started 15.0 ms late (the instant was observed then)',
    );
  });

  it('resolves a simulated history to the start times the simulator used', () => {
    const s = parseScenario(
      [
        'name: anchors-both-executors',
        'duration: 120s',
        'steps:',
        '  - {at: 20s, for: 500ms, fault: pause, target: ctl-a, anchor: {on: renew-send, region: a, offset: 150ms}}',
        '  - {at: 30s, for: 300ms, fault: pause, target: app-a, anchor: {on: renew-reply, region: a, offset: -20ms}}',
        '  - {at: 40s, fault: partition, target: ctl-a->worker}',
        '  - {at: 41s, for: 1s, fault: pause, target: ctl-b, anchor: {on: lease-expiry, offset: -500ms}}',
        '  - {at: 41s, for: 2s, fault: latency, target: ctl-b->w1, params: {latency: 50ms}, anchor: {on: witness-round, region: b, offset: 10ms}}',
        '  - {at: 41s, for: 1s, fault: pause, target: app-b, anchor: {on: promotion, region: b, offset: 5ms}}',
        '  - {at: 41s, for: 1s, fault: loss, target: ctl-a->w2, params: {probability: 0.5}, anchor: {on: publish, offset: 1ms}}',
      ].join('\n'),
      'anchors-both-executors.yaml',
    );
    // a region crash: b needs a witness round before it promotes
    const crash = parseScenario(
      [
        'name: anchors-witness-round',
        'duration: 90s',
        'steps:',
        '  - {at: 20s, fault: crash, target: a}',
        '  - {at: 21s, for: 2s, fault: latency, target: ctl-b->w1, params: {latency: 50ms}, anchor: {on: witness-round, region: b, offset: 10ms}}',
        '  - {at: 21s, for: 1s, fault: pause, target: app-b, anchor: {on: promotion, region: b, offset: 5ms}}',
      ].join('\n'),
      'anchors-witness-round.yaml',
    );
    let fired = 0;
    for (const sc of [s, crash]) {
      for (const seed of [1, 2, 3]) {
        const r = simulateScenario(sc, { seed });
        const starts = simStarts(r.history, sc.steps.length);
        expect(replayAnchors(r.history, sc.steps)).toEqual(starts);
        fired += starts.filter((t, i) => t !== null && sc.steps[i]!.anchor !== undefined).length;
      }
    }
    // every anchored step but the first scenario's witness round (b promotes on a vacant lease there)
    expect(fired).toBe(3 * 5 + 3 * 2);
  });
});

/** The simulator's start time of each step (null: never started). */
function simStarts(h: HistoryEvent[], n: number): Array<number | null> {
  return Array.from({ length: n }, (_, i) => {
    const e = h.find((x) => x.kind === 'fault' && x.phase === 'start' && x.id === `f${i}`);
    return e ? e.t : null;
  });
}

/**
 * Feeds the history through AnchorResolver, arming each anchored step at its `at` as the
 * events pass it; a step starts at its newest due time once the history has reached it (not
 * earlier than the event that revealed the instant: the past cannot be scheduled).
 */
function replayAnchors(
  h: HistoryEvent[],
  steps: ReturnType<typeof parseScenario>['steps'],
): Array<number | null> {
  const res = new AnchorResolver();
  const due: Array<number | null> = steps.map(() => null);
  const started: Array<number | null> = steps.map((st) => (st.anchor === undefined ? st.at : null));
  const armed = steps.map(() => false);
  let nowT = 0;
  const settle = (uptoT: number, inclusive: boolean) => {
    steps.forEach((_, i) => {
      const d = due[i];
      if (started[i] === null && d !== null && d !== undefined && (inclusive ? d <= uptoT : d < uptoT)) {
        started[i] = d;
      }
    });
  };
  for (const e of h) {
    if (e.kind === 'meta') continue;
    settle(e.t, false);
    nowT = e.t;
    steps.forEach((st, i) => {
      if (st.anchor === undefined || armed[i] || st.at > e.t) return;
      armed[i] = true;
      res.watch(st.anchor, st.at, (startT) => {
        if (started[i] === null) due[i] = Math.ceil(Math.max(startT, nowT)); // the engine runs whole ms
      });
    });
    // fault events are the steps' own doing, not protocol instants; the rest is what a real run records
    if (e.kind !== 'fault') res.observe(e);
  }
  settle(Number.POSITIVE_INFINITY, true);
  return started;
}
