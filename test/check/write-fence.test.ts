/**
 * The app's write fence judged from its writes (issue #14: surviving mutants of fence.ts showed
 * the checker never compared accepted and rejected writes with the write authority the app
 * reported): an accepted write outside every window is a no-stale-write violation, a write
 * rejected inside a window is a write-availability violation; writes that match the windows
 * are clean.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/checker.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { designInput, designSpec } from '../../src/contracts/spec.ts';

const SPEC = designSpec(designInput({ witnessCount: 3, leaseTtlMs: 30_000 }), 'test', {
  precision: 'exact',
  intervalMs: 0,
});

/** a holds write authority under epoch 1 from t=100 to t=10_100, then writes at `writes`. */
function run(writes: Array<{ t: number; accepted: boolean }>, extra: NewEvent[] = []): HistoryEvent[] {
  const events: NewEvent[] = [
    ...extra,
    { kind: 'lease-store', t: 90, holder: 'a', epoch: 1, expiresAt: 30_090, storeNowMs: 90, op: 'grant' },
    { kind: 'app-authority', t: 100, region: 'a', op: 'grant', epoch: 1, untilT: 10_100 },
    ...writes.map(
      (w): NewEvent => ({
        kind: 'app-write',
        t: w.t,
        region: 'a',
        client: 'c0',
        epoch: w.accepted ? 1 : null,
        accepted: w.accepted,
        ...(w.accepted ? {} : { reason: 'no authority' }),
      }),
    ),
    { kind: 'note', t: 12_000, source: 'test', message: 'end' },
  ];
  const meta: HistoryEvent = {
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
    spec: SPEC,
    withinAssumptions: true,
  };
  const sorted = events.map((e, i) => ({ e, i })).sort((x, y) => x.e.t - y.e.t || x.i - y.i);
  return [meta, ...sorted.map(({ e }, i) => ({ ...e, seq: i + 1 }) as HistoryEvent)];
}

const outcome = (h: HistoryEvent[], name: string) => checkHistory(h).outcomes.find((o) => o.name === name)!;

describe('writes judged against the write authority the app reported', () => {
  it('writes accepted inside the window and rejected after it are clean', () => {
    const h = run([
      { t: 100, accepted: true }, // at the grant itself
      { t: 5_000, accepted: true },
      { t: 10_100, accepted: false }, // the window ends here (exclusive)
      { t: 11_000, accepted: false },
    ]);
    expect(outcome(h, 'no-stale-write')).toMatchObject({ ok: true });
    expect(outcome(h, 'write-availability').violations).toEqual([]);
  });

  it('a write accepted after the window ended is a no-stale-write violation', () => {
    const o = outcome(run([{ t: 11_000, accepted: true }]), 'no-stale-write');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.detail).toBe(
      'app-a accepted a write from c0 under epoch 1 outside every window of write authority it reported',
    );
  });

  it('a write rejected while the app held write authority is a write-availability violation', () => {
    const o = outcome(run([{ t: 5_000, accepted: false }]), 'write-availability');
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.detail).toContain('app-a rejected a write from c0 (no authority)');
    expect(o.violations[0]!.detail).toContain('inside its write authority under epoch 1');
  });
});

describe("acts judged against the design's L from the observed grant, not the controller's own window", () => {
  const L = SPEC.bounds.safeWindowMs;
  /** a renewal sent at local 1_000, granted; then an extend at local 1_000 + `atMs` handing `validityMs` */
  const extendAfterGrant = (atMs: number, validityMs: number): NewEvent[] => [
    { kind: 'lease', t: 1_000, region: 'a', op: 'renew', phase: 'sent', sentLocalMs: 1_000, localMs: 1_000 },
    {
      kind: 'lease',
      t: 1_030,
      region: 'a',
      op: 'renew',
      phase: 'result',
      ok: true,
      granted: true,
      epoch: 1,
      holder: 'a',
      sentLocalMs: 1_000,
      localMs: 1_030,
    },
    {
      kind: 'act',
      t: 1_000 + atMs,
      region: 'a',
      action: 'extend',
      epoch: 1,
      localMs: 1_000 + atMs,
      // what the controller believed: a window long enough for anything it did
      safeUntilLocalMs: 1_000 + atMs + validityMs + 1,
      validityMs,
    },
  ];
  const aws = (h: HistoryEvent[]) => outcome(h, 'act-within-safe-window');

  it("authority ending inside L after the granted request's send is clean", () => {
    expect(aws(run([], extendAfterGrant(100, L - 100))).violations).toEqual([]);
  });

  it('authority outliving L by 1 ms is a violation, whatever the controller computed', () => {
    const o = aws(run([], extendAfterGrant(100, L - 99)));
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.detail).toBe(
      `ctl-a did extend (epoch 1) reaching local ${1_000 + L + 1}, 1 ms past the design's L = ${L} ms after its last granted lease request (sent at local 1000)`,
    );
  });
});
