/**
 * `app-loss-failover` judges the loss of the primary's app alone on what the apps observed:
 * another region's app must be granted authority within the spec's bound
 * (src/check/invariants/app-loss.ts). A controller that re-takes the lease for its dead app
 * leaves the DR app without authority: a violation.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { faultEvent, appGrant as grant, outcomeOf, SPEC_T30 } from './helpers/history.ts';

const BOUND_MS = SPEC_T30.bounds.appLossFailoverBoundMs!;
const CRASH_AT_MS = 20_000;

const fault = (phase: 'start' | 'end', t: number, target: string, kind = 'crash'): NewEvent =>
  faultEvent(phase, t, target, kind, { components: [target] });
const crashed = (t: number): NewEvent => ({ kind: 'process', t, component: 'app-a', op: 'crash' });
const end = (t: number): NewEvent => ({ kind: 'note', t, source: 't', message: 'end' });

/** app-a holds authority, then dies at 20 s for `forMs`. */
function appLoss(forMs: number, extra: NewEvent[]): NewEvent[] {
  return [
    grant(4_000, 'a', 1),
    grant(14_000, 'a', 1),
    fault('start', CRASH_AT_MS, 'app-a'),
    crashed(CRASH_AT_MS),
    fault('end', CRASH_AT_MS + forMs, 'app-a'),
    ...extra,
  ];
}
const judge = (events: NewEvent[]) => outcomeOf('app-loss-failover', events);

describe('app-loss-failover', () => {
  it('derives its bound from the design: N hand-overs, the lease gone, two status polls of the peer', () => {
    // 3·H + 2d + H/2 + T/(1−ρ) + d + 2·H + d + H/4 + 3d with T = 30 s, H = 10 s, d = 0.5 s
    expect(BOUND_MS).toBe(30_000 + 1_000 + 5_000 + 30_031 + 500 + 20_000 + 500 + 2_500 + 1_500);
  });

  it("passes when b's app is granted authority inside the bound", () => {
    const o = judge(appLoss(120_000, [grant(CRASH_AT_MS + 70_000, 'b', 2), end(150_000)]));
    expect(o).toMatchObject({ ok: true, evaluated: true, exercised: true });
  });

  it("fails when a's controller keeps the lease for its dead app (b never granted)", () => {
    const o = judge(appLoss(120_000, [grant(CRASH_AT_MS + 70_000, 'a', 2), end(150_000)]));
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'app-loss-failover', at: CRASH_AT_MS + BOUND_MS });
  });

  it("fails when the dead app's region renews more than N times after the crash (the store's log)", () => {
    const renew = (t: number): NewEvent => ({
      kind: 'lease-store',
      t,
      op: 'renew',
      region: 'a',
      holder: 'a',
      epoch: 1,
      expiresAt: t + 30_000,
      storeNowMs: t,
    });
    const takeover = [grant(CRASH_AT_MS + 70_000, 'b', 2), end(150_000)];
    const three = [renew(24_000), renew(34_000), renew(44_000)];
    expect(judge(appLoss(120_000, [...three, ...takeover]))).toMatchObject({ ok: true, evaluated: true });
    const o = judge(appLoss(120_000, [...three, renew(54_000), ...takeover]));
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(/logged 4 renewals by region a after it: .* after N = 3 failed hand-offs/);
  });

  it("fails when b's grant comes only after the bound", () => {
    const o = judge(appLoss(120_000, [grant(CRASH_AT_MS + BOUND_MS + 1, 'b', 2), end(150_000)]));
    expect(o.ok).toBe(false);
  });

  it('does not judge a crash shorter than the bound, or a crash of an app that held no authority', () => {
    expect(judge(appLoss(BOUND_MS - 1, [end(150_000)])).evaluated).toBe(false);
    const noAuthority = appLoss(120_000, [end(150_000)]).filter((e) => e.kind !== 'app-authority');
    expect(judge(noAuthority).evaluated).toBe(false);
  });

  it('does not judge when another fault overlaps (the bound assumes the Worker and the peer work)', () => {
    const o = judge(
      appLoss(120_000, [
        fault('start', 30_000, 'worker', 'pause'),
        fault('end', 40_000, 'worker', 'pause'),
        end(150_000),
      ]),
    );
    expect(o.evaluated).toBe(false);
    expect(o.detail).toContain('other faults overlap');
  });
});
