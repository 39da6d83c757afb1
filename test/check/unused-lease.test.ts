/**
 * `unused-lease-released` judges, on the lease store's log and the apps' grants, that a lease a
 * region never acted on is released as soon as the region hears of it
 * (src/check/invariants/unused-lease.ts): within 3d (1.5 s at T = 30 s) of the grant's reply or
 * of a refused acquire that names the region as the holder.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { appGrant, faultEvent, outcomeOf, storeRelease } from './helpers/history.ts';

const grant = (t: number, epoch = 2, ttlMs = 30_000, region = 'b'): NewEvent => ({
  kind: 'lease-store',
  t,
  op: 'grant',
  region,
  holder: region,
  epoch,
  expiresAt: t + ttlMs,
  storeNowMs: t,
});
const release = (t: number, epoch = 2, region = 'b'): NewEvent => storeRelease(t, region, epoch);
/** b's acquire refused: the store says b holds `epoch` already (granted at `grantT`). */
const heldByB = (t: number, grantT: number, epoch = 2): NewEvent => ({
  kind: 'lease-store',
  t,
  op: 'refuse',
  requested: 'acquire',
  region: 'b',
  holder: 'b',
  epoch,
  expiresAt: grantT + 30_000,
  storeNowMs: t,
});
/** ctl-b's first record: the controller runs from then on. */
const bUp: NewEvent = {
  kind: 'role',
  t: 1_000,
  region: 'b',
  from: 'standby',
  to: 'standby',
  reason: 'up',
  epoch: null,
  localMs: 1_000,
};
const end: NewEvent = { kind: 'note', t: 120_000, source: 't', message: 'end' };
const judge = (events: NewEvent[]) => outcomeOf('unused-lease-released', [bUp, ...events, end]);

describe('unused-lease-released', () => {
  it('passes a grant released at once, and a grant its app was promoted under', () => {
    const released = judge([grant(45_000), release(45_060)]);
    expect(released).toMatchObject({ ok: true, evaluated: true });
    const used = judge([grant(45_000), appGrant(45_050, 'b', 2)]);
    expect(used).toMatchObject({ ok: true, evaluated: true });
  });

  it('fails a grant neither used nor released within 3d (a status poll 9 s later is too late)', () => {
    const o = judge([grant(45_000), release(54_400)]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'unused-lease-released', at: 46_500 });
    expect(o.detail).toMatch(/granted epoch 2 to b at t=45\.000 s .* not see it released within 1\.500 s/);
  });

  it('does not judge a grant whose reply a fault may have lost or delayed', () => {
    const pause = [
      faultEvent('start', 40_000, 'worker', 'pause', { components: ['worker'] }),
      faultEvent('end', 44_990, 'worker', 'pause', { components: ['worker'] }),
    ];
    expect(judge([...pause, grant(45_000)]).evaluated).toBe(false);
    // latency on b's link to the Worker, even long gone: the request may have come late
    const latency = [
      faultEvent('start', 5_000, 'ctl-b->worker', 'latency', { links: ['ctl-b->worker'] }),
      faultEvent('end', 6_000, 'ctl-b->worker', 'latency', { links: ['ctl-b->worker'] }),
    ];
    expect(judge([...latency, grant(45_000)]).evaluated).toBe(false);
    // a fault elsewhere leaves it judged
    const other = [
      faultEvent('start', 40_000, 'ctl-a->worker', 'partition', { links: ['ctl-a->worker'] }),
      faultEvent('end', 50_000, 'ctl-a->worker', 'partition', { links: ['ctl-a->worker'] }),
    ];
    expect(judge([...other, grant(45_000)]).ok).toBe(false);
  });

  it('does not judge a grant shorter than T (refused by design and left to expire)', () => {
    expect(judge([grant(45_000, 2, 5_000)]).evaluated).toBe(false);
  });

  it('judges a refused acquire naming the asker as holder only once its incarnation is older than T/(1−ρ) + d', () => {
    const restart = (t: number): NewEvent => ({ kind: 'process', t, component: 'ctl-b', op: 'restart' });
    // the Worker paused until 39.6 s: the grant's reply at 45 s may be lost (its acquire may
    // have waited in the Worker), but an acquire answered at 47 s left after 41.5 s (H/2 + d)
    const pause = [
      faultEvent('start', 35_000, 'worker', 'pause', { components: ['worker'] }),
      faultEvent('end', 39_600, 'worker', 'pause', { components: ['worker'] }),
    ];
    // restarted 35 s before: the lease in its name is its own, and it keeps it
    const old = judge([restart(12_000), ...pause, grant(45_000), heldByB(47_000, 45_000)]);
    expect(old.ok).toBe(false);
    expect(old.detail).toMatch(/refused its acquire at t=47\.000 s as already held by b/);
    // released at once: passes
    const released = judge([
      restart(12_000),
      ...pause,
      grant(45_000),
      heldByB(47_000, 45_000),
      release(47_060),
    ]);
    expect(released).toMatchObject({ ok: true, evaluated: true });
    // restarted 25 s before: the lease may be its previous incarnation's, kept on purpose
    const young = judge([restart(22_000), ...pause, grant(45_000), heldByB(47_000, 45_000)]);
    expect(young.evaluated).toBe(false);
  });

  it('does not judge a refused acquire that may have waited in a paused Worker (its controller gave up on it)', () => {
    // sim --runs 10000 --seed 7: the Worker paused for 251.8 s with b's acquires queued, each
    // abandoned H/2 after it left; on resume it granted the first and refused the rest "held by
    // b", answers nobody heard (b released the lease after its next status poll)
    const pause = [
      faultEvent('start', 18_400, 'worker', 'pause', { components: ['worker'] }),
      faultEvent('end', 44_950, 'worker', 'pause', { components: ['worker'] }),
    ];
    expect(judge([...pause, grant(45_000), heldByB(45_000, 45_000)]).evaluated).toBe(false);
  });
});
