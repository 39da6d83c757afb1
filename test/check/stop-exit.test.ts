/**
 * `stop-exits` judges when a gracefully stopped controller exits, on the process events and
 * what the app and the lease store logged of its region (src/check/invariants/stop-exit.ts).
 * Bound with the test spec (H = 10 s, d = 500 ms): H/2 + d = 5.5 s.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { faultEvent, outcomeOf, storeRelease } from './helpers/history.ts';

const proc = (t: number, op: 'stop' | 'exit' | 'crash'): NewEvent => ({
  kind: 'process',
  t,
  component: 'ctl-a',
  op,
});
const revoke = (t: number): NewEvent => ({
  kind: 'app-authority',
  t,
  region: 'a',
  op: 'revoke',
  epoch: 1,
  reason: 'demote: shutdown',
});
const release = (t: number): NewEvent => storeRelease(t, 'a', 1);
const stopFault = (phase: 'start' | 'end', t: number) =>
  faultEvent(phase, t, 'ctl-a', 'stop', { id: 'f1', components: ['ctl-a'] });
const end: NewEvent = { kind: 'note', t: 60_000, source: 't', message: 'end' };
const judge = (events: NewEvent[]) => outcomeOf('stop-exits', events);

describe('stop-exits', () => {
  it('an exit soon after the release the store saw passes', () => {
    const o = judge([
      stopFault('start', 20_000),
      proc(20_000, 'stop'),
      revoke(20_010),
      release(20_030),
      proc(20_040, 'exit'),
      stopFault('end', 30_000),
      end,
    ]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
  });

  it('a stop that waits for nothing until its cap is a violation, measured from the last request seen', () => {
    const o = judge([
      stopFault('start', 20_000),
      proc(20_000, 'stop'),
      revoke(20_010),
      release(20_030),
      proc(31_030, 'exit'),
      stopFault('end', 35_000),
      end,
    ]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /ctl-a was stopped gracefully at t=20\.000 s .*exited only at t=31\.030 s: more than 5\.500 s after .*t=20\.030 s/,
    );
    // the same exit 5.5 s after the release is still in time
    const inTime = judge([
      stopFault('start', 20_000),
      proc(20_000, 'stop'),
      release(20_030),
      proc(25_530, 'exit'),
      stopFault('end', 35_000),
      end,
    ]);
    expect(inTime).toMatchObject({ ok: true, evaluated: true });
  });

  it('a stop that never exits is a violation once the run outlived the bound', () => {
    const o = judge([stopFault('start', 20_000), proc(20_000, 'stop'), end]);
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(/had not exited when the run ended/);
  });

  it('not judged with another fault in force, or when the stopping controller crashed', () => {
    const cut = [
      faultEvent('start', 19_000, 'a', 'partition', { id: 'f0', links: ['ctl-a->worker'] }),
      faultEvent('end', 40_000, 'a', 'partition', { id: 'f0', links: ['ctl-a->worker'] }),
    ];
    const faulted = judge([
      ...cut,
      stopFault('start', 20_000),
      proc(20_000, 'stop'),
      proc(31_000, 'exit'),
      stopFault('end', 35_000),
      end,
    ]);
    expect(faulted).toMatchObject({ ok: true, evaluated: false });
    const crashed = judge([stopFault('start', 20_000), proc(20_000, 'stop'), proc(29_000, 'crash'), end]);
    expect(crashed).toMatchObject({ ok: true, evaluated: false });
  });
});
