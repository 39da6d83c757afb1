/**
 * `candidacy-hold-down` judges the gap between a failed candidacy and the next acquire on the
 * lease store's own log (src/check/invariants/candidacy.ts): with the peer's probes all cut, a
 * candidacy ends only by its timeout or a rejection, and the hold-down must follow.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { operatorNote, outcomeOf, refusedAcquire, SPEC_T30 } from './helpers/history.ts';

const HOLD_DOWN_MS = SPEC_T30.promotionHoldDownMs;

const cut = (from: number, to: number, links = ['ctl-b->peer', 'auth-b->app-a']): NewEvent[] => [
  {
    kind: 'fault',
    t: from,
    phase: 'start',
    id: 'cut',
    fault: 'partition',
    target: links.join(','),
    verified: true,
    links,
  },
  {
    kind: 'fault',
    t: to,
    phase: 'end',
    id: 'cut',
    fault: 'partition',
    target: links.join(','),
    verified: true,
    links,
  },
];
/** b's candidacy: an acquire every 2.55 s for 40 s from `fromMs`, all refused. */
function candidacy(fromMs: number): NewEvent[] {
  return Array.from({ length: 16 }, (_, i) => refusedAcquire(fromMs + i * 2_550));
}
const LAST_OF_FIRST_MS = 30_000 + 15 * 2_550;
const end: NewEvent = { kind: 'note', t: 200_000, source: 't', message: 'end' };
const judge = (events: NewEvent[]) => outcomeOf('candidacy-hold-down', events);

describe('candidacy-hold-down', () => {
  it('passes when the next candidacy starts after the hold-down', () => {
    const o = judge([
      ...cut(20_000, 180_000),
      ...candidacy(30_000),
      ...candidacy(LAST_OF_FIRST_MS + HOLD_DOWN_MS + 1_000),
      end,
    ]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
    expect(o.detail).toContain('1 failed candidacies');
  });

  it('fails when the region asks again inside the hold-down', () => {
    const again = LAST_OF_FIRST_MS + 6_000;
    const o = judge([...cut(20_000, 180_000), ...candidacy(30_000), ...candidacy(again), end]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'candidacy-hold-down', at: again });
  });

  it('reads retries inside one candidacy (reply + retry apart) as one candidacy', () => {
    expect(judge([...cut(20_000, 180_000), ...candidacy(30_000), end]).evaluated).toBe(false);
  });

  it('does not judge when the peer was reachable (a recovered peer ends a candidacy without hold-down)', () => {
    const o = judge([
      ...cut(20_000, 60_000),
      ...candidacy(30_000),
      ...candidacy(LAST_OF_FIRST_MS + 6_000),
      end,
    ]);
    expect(o.evaluated).toBe(false);
  });

  it('does not judge across a restart of the controller (the hold-down is process memory)', () => {
    const restart: NewEvent = {
      kind: 'process',
      t: LAST_OF_FIRST_MS + 2_000,
      component: 'ctl-b',
      op: 'restart',
    };
    const o = judge([
      ...cut(20_000, 180_000),
      ...candidacy(30_000),
      restart,
      ...candidacy(LAST_OF_FIRST_MS + 6_000),
      end,
    ]);
    expect(o.evaluated).toBe(false);
  });
});

describe('candidacy-hold-down: a grant shorter than T', () => {
  /** The store grants b epoch 2 for `ttlMs` (a Worker deployed with a shorter TTL than T). */
  const shortGrant = (t: number, ttlMs = 5_000): NewEvent => ({
    kind: 'lease-store',
    t,
    op: 'grant',
    region: 'b',
    holder: 'b',
    epoch: 2,
    expiresAt: t + ttlMs,
    storeNowMs: t,
  });

  it('passes when the next acquire waits out the hold-down after the short grant', () => {
    const o = judge([shortGrant(70_000), refusedAcquire(70_000 + HOLD_DOWN_MS + 500), end]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
    expect(o.detail).toContain('1 grant(s) shorter than T');
  });

  it('fails a region that asks again inside the hold-down (released it and retried, or kept asking)', () => {
    const o = judge([shortGrant(70_000), refusedAcquire(72_600), end]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /granted ctl-b epoch 2 for 5\.000 s, shorter than T = 30\.000 s.* again 2\.600 s later/,
    );
  });

  it('does not judge a grant of the full TTL, nor across an operator command for the region', () => {
    expect(judge([shortGrant(70_000, 30_000), refusedAcquire(72_600), end]).evaluated).toBe(false);
    const promote = operatorNote(71_000, 'b', 'promote');
    expect(judge([shortGrant(70_000), promote, refusedAcquire(72_600), end]).evaluated).toBe(false);
  });
});
