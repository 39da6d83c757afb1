/**
 * `lease-request-cadence` judges the gaps between a region's acquire/renew requests on the lease
 * store's own log (src/check/invariants/request-cadence.ts): one at a time, the retry interval
 * R (H/4 = 2.5 s at T = 30 s) apart at least, less d for the delay of each.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { faultEvent, operatorNote, outcomeOf, refusedAcquire } from './helpers/history.ts';

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

/** b's probes of its peer cut 15-60 s: b may be a failover candidate, which keeps asking. */
const peerCut = (link = 'ctl-b->peer'): NewEvent[] => [
  faultEvent('start', 15_000, link, 'partition', { id: 'cut', links: [link] }),
  faultEvent('end', 60_000, link, 'partition', { id: 'cut', links: [link] }),
];

describe('lease-request-cadence', () => {
  it('passes renewals a heartbeat apart and acquires a retry apart (less d)', () => {
    const o = judge([
      ...peerCut(),
      renew(10_000),
      renew(20_000),
      refusedAcquire(21_000),
      refusedAcquire(23_100),
      end,
    ]);
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

  it('fails a candidate that asks again while another region holds the lease and nothing could make it a failover', () => {
    // b's acquire refused while a holds epoch 1; no fault on either controller or region, the
    // probe link or b's path to the store: b can only be a vacant-lease or bootstrap candidate,
    // which stands by when refused (docs/controller.md §2)
    const o = judge([refusedAcquire(21_000), refusedAcquire(23_600), end]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /refused at t=21\.000 s because a held epoch 1,.* asked again at t=23\.600 s while a still held it/,
    );
    // the same with b's probes of a cut: a failover candidate keeps asking until the lease expires
    expect(judge([...peerCut(), refusedAcquire(21_000), refusedAcquire(23_600), end]).ok).toBe(true);
    // a cut elsewhere (a's link to the Worker) gives b no failover: still judged
    expect(judge([...peerCut('ctl-a->worker'), refusedAcquire(21_000), refusedAcquire(23_600), end]).ok).toBe(
      false,
    );
  });

  it('passes a candidate that asks again once the lease it was refused for is gone', () => {
    const expire: NewEvent = {
      kind: 'lease-store',
      t: 41_000,
      op: 'expire',
      region: 'a',
      holder: null,
      epoch: 1,
      expiresAt: 41_000,
      storeNowMs: 41_000,
    };
    const o = judge([refusedAcquire(21_000), expire, refusedAcquire(45_000), end]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
    expect(o.detail).toContain('1 acquire(s) after one refused for another region');
  });

  it("does not judge the next acquire after an operator's promote of the region (its candidacy keeps asking)", () => {
    const promote = operatorNote(20_000, 'b', 'promote');
    expect(judge([promote, refusedAcquire(21_000), refusedAcquire(23_600), end]).ok).toBe(true);
  });
});
