/**
 * `release-after-revoke` judges the lease store's releases against the apps' own authority
 * (src/check/invariants/release-after-revoke.ts): a release of epoch e lands only once the
 * asker's app dropped e (or never held it).
 */
import { describe, expect, it } from 'vitest';
import { collectFacts } from '../../src/check/facts.ts';
import { checkReleaseAfterRevoke } from '../../src/check/invariants/release-after-revoke.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { appGrant } from './helpers/history.ts';

function judge(events: NewEvent[]) {
  const h = events.map((e, seq) => ({ ...e, seq }) as HistoryEvent);
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
const release = (t: number, epoch: number): NewEvent => ({
  kind: 'lease-store',
  t,
  op: 'release',
  region: 'a',
  holder: null,
  epoch,
  expiresAt: null,
  storeNowMs: t,
});

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
});
