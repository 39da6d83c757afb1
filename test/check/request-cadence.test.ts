/**
 * `lease-request-cadence` judges the gaps between a region's acquire/renew requests on the lease
 * store's own log (src/check/invariants/request-cadence.ts): one at a time, the retry interval
 * R (H/4 = 2.5 s at T = 30 s) apart at least, less d for the delay of each.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { faultEvent, outcomeOf, refusedAcquire } from './helpers/history.ts';

const renew = (t: number, region = 'a'): NewEvent => ({
  kind: 'lease-store',
  t,
  op: 'renew',
  region,
  holder: region,
  epoch: 1,
  expiresAt: t + 30_000,
  storeNowMs: t,
});
const end: NewEvent = { kind: 'note', t: 100_000, source: 't', message: 'end' };
const judge = (events: NewEvent[]) => outcomeOf('lease-request-cadence', events);

describe('lease-request-cadence', () => {
  it('passes renewals a heartbeat apart and acquires a retry apart (less d)', () => {
    const o = judge([renew(10_000), renew(20_000), refusedAcquire(21_000), refusedAcquire(23_100), end]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
    expect(o.detail).toContain('2 consecutive');
  });

  it('fails a second renewal while the first may still be in flight', () => {
    const o = judge([renew(10_000), renew(10_300), end]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'lease-request-cadence', at: 10_300 });
  });

  it('fails an acquire sent again before the retry interval', () => {
    const o = judge([refusedAcquire(21_000), refusedAcquire(22_000), end]);
    expect(o.ok).toBe(false);
  });

  it('does not judge across a restart of the controller (a new incarnation asks at once)', () => {
    const restart: NewEvent = { kind: 'process', t: 10_100, component: 'ctl-a', op: 'restart' };
    expect(judge([renew(10_000), restart, renew(10_300), end]).evaluated).toBe(false);
  });

  it('does not judge after latency on the controller link to the Worker, even once it ended', () => {
    // the assumptions bound delay by d only on the holder's links to its app: an abandoned
    // renewal held by the latency can reach the store just before its retry (search, manual
    // mode seed 4: 2.1 s +/- 1 s on ctl-a->worker, renewals 1.934 s apart at the store)
    const latency = (phase: 'start' | 'end', t: number, link = 'ctl-a->worker'): NewEvent =>
      faultEvent(phase, t, link, 'latency', { id: 'f1', links: [link] });
    const o = judge([latency('start', 5_000), latency('end', 9_000), renew(10_000), renew(11_900), end]);
    expect(o.evaluated).toBe(false);
    // latency on another region's link leaves ctl-a judged
    const other = judge([latency('start', 5_000, 'ctl-b->worker'), renew(10_000), renew(11_900), end]);
    expect(other.ok).toBe(false);
  });

  it('still judges across a graceful stop (its release is not counted; a renewal is)', () => {
    const stop: NewEvent = { kind: 'process', t: 10_100, component: 'ctl-a', op: 'stop' };
    expect(judge([renew(10_000), stop, renew(10_300), end]).ok).toBe(false);
  });
});
