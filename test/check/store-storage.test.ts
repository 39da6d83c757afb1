/**
 * `store-storage-bounded` judges the lease store's storage readings against the lease requests
 * sent within the design's nonce retention + prune interval (src/check/invariants/store-storage.ts).
 */
import { describe, expect, it } from 'vitest';
import { nonceHeldWindowMs } from '../../src/check/invariants/store-storage.ts';
import type { NewEvent, StoreStorageEvent } from '../../src/contracts/history.ts';
import { nonceHeldMs, SIGNATURE_CLOCK_SKEW_MS } from '../../src/contracts/spec.ts';
import { history, outcomeOf } from './helpers/history.ts';

const NAME = 'store-storage-bounded';

/** a's renewals every 10 s from 10 s to `untilT` (inclusive) */
function renewals(untilT: number): NewEvent[] {
  const out: NewEvent[] = [];
  for (let t = 10_000; t <= untilT; t += 10_000) {
    out.push({
      kind: 'lease',
      t,
      region: 'a',
      op: 'renew',
      phase: 'sent',
      epoch: 1,
      sentLocalMs: t,
      localMs: t,
    });
  }
  return out;
}

function reading(
  t: number,
  nonceKeys: number,
  more: Partial<Omit<StoreStorageEvent, 'kind' | 'seq' | 't'>> = {},
): NewEvent {
  return {
    kind: 'store-storage',
    t,
    object: 'svc',
    keys: nonceKeys * 2 + 2,
    nonceKeys,
    nonceIndexKeys: nonceKeys,
    reason: 'end',
    ...more,
  };
}

describe('store-storage-bounded', () => {
  it('holds when the store keeps only the nonces of the last retention span', () => {
    // 30 renewals over 300 s; a pruning store holds those of the last ~36 s (S + G + I)
    const o = outcomeOf(NAME, [...renewals(300_000), reading(300_000, 4)]);
    expect(o.ok).toBe(true);
    expect(o.evaluated).toBe(true);
    expect(o.detail).toMatch(/at most 4 nonce keys/);
  });

  it('fails when the store holds every nonce it ever saw (pruning removes the wrong keys)', () => {
    const events = [...renewals(300_000), reading(300_000, 30, { nonceIndexKeys: 4 })];
    const o = outcomeOf(NAME, events);
    expect(o.ok).toBe(false);
    expect(o.category).toBe('safety');
    // 71 s of the design's span (2S + G + 2I) hold 8 renewals at 10 s apart (230..300 s)
    expect(o.violations[0]!.detail).toMatch(/held 30 nonce keys and 4 index keys .* only 8 lease requests/);
    expect(o.violations[0]!.at).toBe(300_000);
    const seq = history(events).find((e) => e.kind === 'store-storage')!.seq;
    expect(o.violations[0]!.events).toEqual([seq]);
  });

  it('judges the index keys too: an index that is never pruned grows as well', () => {
    const o = outcomeOf(NAME, [...renewals(300_000), reading(300_000, 4, { nonceIndexKeys: 30 })]);
    expect(o.ok).toBe(false);
  });

  it("counts the requests before the store's last request, not before the reading", () => {
    // the store served its last request at 300 s; nothing was sent for the next 300 s
    const late = reading(600_000, 4, { afterRequestT: 300_000 });
    expect(outcomeOf(NAME, [...renewals(300_000), late]).ok).toBe(true);
    // read as of the reading's own time, 4 nonces without a request in 71 s would be a violation
    const { afterRequestT: _, ...atReading } = late as StoreStorageEvent;
    expect(outcomeOf(NAME, [...renewals(300_000), atReading as NewEvent]).ok).toBe(false);
  });

  it('a high-water reading mid-run is judged like the end reading', () => {
    const o = outcomeOf(NAME, [...renewals(300_000), reading(150_000, 15, { reason: 'high-water' })]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]!.at).toBe(150_000);
  });

  it('a wall-clock step widens the span: nonces signed ahead, or a store clock set back, live longer', () => {
    const held = reading(300_000, 12);
    expect(outcomeOf(NAME, [...renewals(300_000), held]).ok).toBe(false);
    const stepBack: NewEvent = { kind: 'clock', t: 200_000, node: 'worker', op: 'jump', value: -60_000 };
    expect(outcomeOf(NAME, [...renewals(300_000), stepBack, held]).ok).toBe(true);
  });

  it('the span is the design number, stretched for the slowest rate of the store clock', () => {
    expect(nonceHeldMs()).toBe(2 * SIGNATURE_CLOCK_SKEW_MS + 1000 + 2 * 5000);
    const events = history([]);
    expect(nonceHeldWindowMs(events, 0)).toBe(nonceHeldMs());
    const slowStore = history([{ kind: 'clock', t: 1, node: 'worker', op: 'drift', value: -0.5 }]);
    expect(nonceHeldWindowMs(slowStore, 0.001)).toBe(2 * nonceHeldMs());
    // another node's drift does not move the store's clock
    const slowCtl = history([{ kind: 'clock', t: 1, node: 'ctl-a', op: 'drift', value: -0.5 }]);
    expect(nonceHeldWindowMs(slowCtl, 0)).toBe(nonceHeldMs());
  });

  it('is not evaluated without a reading of the storage', () => {
    const o = outcomeOf(NAME, renewals(100_000));
    expect(o.ok).toBe(true);
    expect(o.evaluated).toBe(false);
  });
});
