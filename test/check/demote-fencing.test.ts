/**
 * `demote-fencing` judges the app fence's demote decisions from its own app-authority events
 * (src/check/invariants/demote-fencing.ts): a demote under the current term is honoured, an
 * older one does not end a newer term still in force.
 */
import { describe, expect, it } from 'vitest';
import { collectFacts } from '../../src/check/facts.ts';
import { checkDemoteFencing } from '../../src/check/invariants/demote-fencing.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { appGrant } from './helpers/history.ts';

function judge(events: NewEvent[]) {
  const h = events.map((e, seq) => ({ ...e, seq }) as HistoryEvent);
  return checkDemoteFencing(collectFacts(h));
}

const grant = (t: number, epoch: number, untilT: number): NewEvent => appGrant(t, 'a', epoch, untilT);

const decided = (
  t: number,
  op: 'revoke' | 'reject',
  epoch: number,
  reason = 'demote: shutdown',
): NewEvent => ({
  kind: 'app-authority',
  t,
  region: 'a',
  op,
  epoch,
  reason,
});

describe('demote-fencing', () => {
  it('passes a fence that honours its term and refuses an older demote', () => {
    const r = judge([
      grant(100, 1, 27_000),
      decided(5_000, 'revoke', 1),
      grant(40_000, 2, 67_000),
      decided(50_000, 'reject', 1, 'demote: stale epoch 1 < 2'),
    ]);
    expect(r.ok).toBe(true);
    expect(r.evaluated).toBe(true);
  });

  it('flags a demote under the current term that the fence refused', () => {
    const r = judge([grant(100, 2, 27_000), decided(5_000, 'reject', 2, 'demote: stale epoch 2 < 2')]);
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.detail).toContain('refused a demote under epoch 2');
  });

  it('flags an older demote that ended a newer term in force, not one after the term ended', () => {
    expect(judge([grant(100, 2, 27_000), decided(5_000, 'revoke', 1)]).ok).toBe(false);
    // the term lapsed (untilT) or was revoked by a crash: the late demote ends nothing
    expect(judge([grant(100, 2, 27_000), decided(30_000, 'revoke', 1)]).ok).toBe(true);
    expect(
      judge([
        grant(100, 2, 27_000),
        decided(1_000, 'revoke', 2, 'process crashed'),
        decided(2_000, 'revoke', 1),
      ]).ok,
    ).toBe(true);
  });
});
