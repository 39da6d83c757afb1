/**
 * `release-after-revoke` judges the lease store's releases against the apps' own authority
 * (src/check/invariants/release-after-revoke.ts): a release of epoch e lands only once the
 * asker's app dropped e (or never held it).
 */
import { describe, expect, it } from 'vitest';
import { collectFacts } from '../../src/check/facts.ts';
import { checkReleaseAfterRevoke } from '../../src/check/invariants/release-after-revoke.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { appGrant, storeRelease } from './helpers/history.ts';

/** The store's grant of epoch 1 to a at t = 0: a release is only asked for after one. */
const storeGrantA: NewEvent = {
  kind: 'lease-store',
  t: 0,
  op: 'grant',
  region: 'a',
  holder: 'a',
  epoch: 1,
  expiresAt: 30_000,
  storeNowMs: 0,
};

function judge(events: NewEvent[], granted = true) {
  const h = (granted ? [storeGrantA, ...events] : events).map((e, seq) => ({ ...e, seq }) as HistoryEvent);
  return checkReleaseAfterRevoke(collectFacts(h));
}

const grant = (t: number, epoch: number, untilT: number): NewEvent => appGrant(t, 'a', epoch, untilT);

const revoke = (t: number, epoch: number): NewEvent => ({
  kind: 'app-authority',
  t,
  region: 'a',
  op: 'revoke',
  epoch,
  reason: 'demote: shutdown',
});
const release = (t: number, epoch: number): NewEvent => storeRelease(t, 'a', epoch);

describe('release-after-revoke', () => {
  it('passes a release after the app dropped the epoch, or of an epoch it never held', () => {
    const r = judge([grant(100, 1, 27_000), revoke(5_000, 1), release(5_010, 1), release(9_000, 2)]);
    expect(r.ok).toBe(true);
    expect(r.evaluated).toBe(true);
  });

  it('flags a release while the asker’s app still held authority under that epoch', () => {
    const r = judge([grant(100, 2, 27_000), release(5_000, 2)]);
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.detail).toContain('released epoch 2');
  });

  it('does not judge a release after the window ran out, or one under an epoch the app no longer holds', () => {
    expect(judge([grant(100, 2, 27_000), release(28_000, 2)]).ok).toBe(true);
    expect(judge([grant(100, 1, 27_000), grant(10_000, 2, 37_000), release(11_000, 1)]).ok).toBe(true);
  });

  it('flags a release asked by a region the store never granted a lease (refused or not)', () => {
    const refusedRelease: NewEvent = {
      kind: 'lease-store',
      t: 12_000,
      op: 'refuse',
      requested: 'release',
      region: 'b',
      holder: 'a',
      epoch: 1,
      expiresAt: 30_000,
      storeNowMs: 12_000,
    };
    const r = judge([refusedRelease]);
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.detail).toMatch(
      /b asked the lease store to release a lease at t=12\.000 s \(refused; a held epoch 1\), but the store had never granted b a lease/,
    );
    // a's own release after its grant is fine; without the grant in the log it is not
    expect(judge([release(9_000, 1)]).ok).toBe(true);
    expect(judge([release(9_000, 1)], false).ok).toBe(false);
  });
});
