/**
 * `lease-store-log` judges the lease store's own log: each entry must be a transition the
 * lease protocol allows (src/check/invariants/store-log.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/checker.ts';
import type { HistoryEvent, LeaseStoreEvent } from '../../src/contracts/history.ts';

type Entry = Omit<LeaseStoreEvent, 'kind' | 'seq' | 't'> & { t?: number };

/** A history of store log entries only; `t` = the store's clock unless given. */
function storeLog(entries: Entry[]): HistoryEvent[] {
  return entries.map(
    (e, seq) => ({ kind: 'lease-store', seq, t: e.t ?? e.storeNowMs ?? 0, ...e }) as HistoryEvent,
  );
}

const T = 30_000;
const grantA: Entry = {
  op: 'grant',
  region: 'a',
  holder: 'a',
  epoch: 1,
  expiresAt: 100 + T,
  storeNowMs: 100,
};
/** a's epoch 1 runs out unrenewed */
const expireA: Entry = {
  op: 'expire',
  region: 'a',
  holder: null,
  epoch: 1,
  expiresAt: 30_100,
  storeNowMs: 30_100,
};
const renewA = (now: number): Entry => ({
  op: 'renew',
  region: 'a',
  holder: 'a',
  epoch: 1,
  expiresAt: now + T,
  storeNowMs: now,
});

function judge(entries: Entry[]) {
  return checkHistory(storeLog(entries)).outcomes.find((o) => o.name === 'lease-store-log')!;
}

describe('lease-store-log', () => {
  it('a grant, renewals, a refusal, an expiry and the next grant are a valid log', () => {
    const o = judge([
      grantA,
      renewA(10_100),
      {
        op: 'refuse',
        region: 'b',
        requested: 'acquire',
        holder: 'a',
        epoch: 1,
        expiresAt: 40_100,
        storeNowMs: 12_000,
      },
      { op: 'expire', region: 'a', holder: null, epoch: 1, expiresAt: 40_100, storeNowMs: 40_100 },
      { op: 'grant', region: 'b', holder: 'b', epoch: 2, expiresAt: 41_000 + T, storeNowMs: 41_000 },
      { op: 'release', region: 'b', holder: null, epoch: 2, expiresAt: null, storeNowMs: 50_000 },
      { op: 'grant', region: 'a', holder: 'a', epoch: 3, expiresAt: 51_000 + T, storeNowMs: 51_000 },
    ]);
    expect(o.ok).toBe(true);
    expect(o.detail).toMatch(/^7 lease-store log entries/);
  });

  it('a grant of a live lease, even to its own holder, is caught', () => {
    const o = judge([grantA, { ...grantA, epoch: 2, expiresAt: 5_000 + T, storeNowMs: 5_000 }]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(/granted epoch 2 to a while a's epoch 1 was live/);
  });

  it('a renewal that runs from the old expiry instead of the TTL from now is caught', () => {
    const o = judge([grantA, { ...renewA(10_100), expiresAt: 100 + 2 * T }]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(/runs 50000 ms from the store's now, not its TTL 30000 ms/);
  });

  it('a refusal that freed the lease, and an expiry logged twice, are caught', () => {
    const refuseFrees = judge([
      grantA,
      {
        op: 'refuse',
        region: 'a',
        requested: 'release',
        holder: null,
        epoch: 1,
        expiresAt: null,
        storeNowMs: 9_000,
      },
    ]);
    expect(refuseFrees.ok).toBe(false);
    expect(refuseFrees.detail).toMatch(/refused release of a changed the lease/);
    // ...but a refusal may show a lease that had already run out as free
    const refuseAfterExpiry = judge([
      grantA,
      {
        op: 'refuse',
        region: 'a',
        requested: 'renew',
        holder: null,
        epoch: 1,
        expiresAt: null,
        storeNowMs: 31_000,
      },
    ]);
    expect(refuseAfterExpiry.ok).toBe(true);
    const refuseMoves = judge([
      grantA,
      {
        op: 'refuse',
        region: 'b',
        requested: 'acquire',
        holder: 'a',
        epoch: 1,
        expiresAt: 99_000,
        storeNowMs: 9_000,
      },
    ]);
    expect(refuseMoves.ok).toBe(false);
    expect(refuseMoves.detail).toMatch(/refused acquire of b changed the lease/);
    const twice = judge([grantA, expireA, { ...expireA, t: 31_000 }]);
    expect(twice.ok).toBe(false);
    expect(twice.detail).toMatch(/epoch 1 expired a second time/);
  });

  it('a renewal after the lease ended, and a release by another region, are caught', () => {
    expect(judge([grantA, renewA(40_000)]).detail).toMatch(/renewed epoch 1 for a after it had ended/);
    expect(
      judge([
        grantA,
        { op: 'release', region: 'b', holder: null, epoch: 1, expiresAt: null, storeNowMs: 9_000 },
      ]).detail,
    ).toMatch(/released a's lease at b's request/);
  });

  it('a late release of an epoch that already expired, by its holder, is a no-op, not a wrong one', () => {
    const release = {
      op: 'release',
      region: 'a',
      holder: null,
      epoch: 1,
      expiresAt: null,
      storeNowMs: 30_150,
    } as const;
    expect(judge([grantA, expireA, release]).ok).toBe(true);
    expect(judge([grantA, expireA, { ...release, region: 'b' }]).detail).toMatch(
      /released a's lease at b's request/,
    );
  });

  it('polled views and per-location KV views are not a log: not evaluated', () => {
    const o = judge([
      { holder: 'a', epoch: 1, expiresAt: 30_100, storeNowMs: 100, observedSinceT: 90 },
      {
        op: 'grant',
        region: 'a',
        holder: 'a',
        epoch: 1,
        expiresAt: 60_100,
        storeNowMs: 100,
        location: 'weur',
      },
      {
        op: 'grant',
        region: 'b',
        holder: 'b',
        epoch: 1,
        expiresAt: 60_200,
        storeNowMs: 200,
        location: 'enam',
      },
    ]);
    expect(o.ok).toBe(true);
    expect(o.evaluated).toBe(false);
    expect(o.detail).toMatch(/no lease-store log/);
  });
});
