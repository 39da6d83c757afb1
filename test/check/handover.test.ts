/**
 * `stop-releases-lease` and `demotion-final` judge a graceful stop on the app's and the lease
 * store's observations (src/check/invariants/handover.ts, demotion.ts).
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { outcomeOf, storeRelease } from './helpers/history.ts';

const grantA: NewEvent = {
  kind: 'lease-store',
  t: 100,
  op: 'grant',
  region: 'a',
  holder: 'a',
  epoch: 1,
  expiresAt: 30_100,
  storeNowMs: 100,
};
const stopA = (t: number): NewEvent => ({
  kind: 'process',
  t,
  component: 'ctl-a',
  op: 'stop',
  detail: 'SIGTERM',
});
const exitA = (t: number): NewEvent => ({ kind: 'process', t, component: 'ctl-a', op: 'exit' });
const revoke = (t: number, reason: string): NewEvent => ({
  kind: 'app-authority',
  t,
  region: 'a',
  op: 'revoke',
  epoch: 1,
  reason,
});
const release = (t: number): NewEvent => storeRelease(t, 'a', 1);
const end: NewEvent = { kind: 'note', t: 60_000, source: 't', message: 'end' };
const judge = (events: NewEvent[], name: string) => outcomeOf(name, events);

describe('stop-releases-lease', () => {
  it('a stopped holder whose app confirmed the demotion releases within H/2 + d', () => {
    const o = judge(
      [grantA, stopA(20_000), revoke(20_010, 'demote: shutdown'), release(20_030), exitA(20_031), end],
      'stop-releases-lease',
    );
    expect(o).toMatchObject({ ok: true, evaluated: true });
  });

  it('no release after the confirmed demotion: the next primary would wait for the expiry', () => {
    const o = judge(
      [grantA, stopA(20_000), revoke(20_010, 'demote: shutdown'), exitA(23_000), end],
      'stop-releases-lease',
    );
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /ctl-a was stopped gracefully and app-a dropped epoch 1 .* not see epoch 1 released within 5\.500 s/,
    );
  });

  it('an exit before the app could answer the demote (within H/2 − d of the stop) is still judged', () => {
    // the controller exited at once; its app revoked 300 ms later, while a graceful stop still
    // had to be waiting for that answer: nobody released the lease
    const early = judge(
      [grantA, stopA(20_000), exitA(20_001), revoke(20_300, 'demote: shutdown'), end],
      'stop-releases-lease',
    );
    expect(early.ok).toBe(false);
    // a revoke after the wait (H/2 − d = 4.5 s) answered nobody: not judged
    const late = judge(
      [grantA, stopA(20_000), exitA(25_000), revoke(25_100, 'demote: shutdown'), end],
      'stop-releases-lease',
    );
    expect(late).toMatchObject({ ok: true, evaluated: false });
  });

  it('not judged when the Worker was faulted meanwhile, or when the app only crashed', () => {
    const workerPause: NewEvent[] = [
      {
        kind: 'fault',
        t: 19_000,
        phase: 'start',
        id: 'f1',
        fault: 'pause',
        target: 'worker',
        verified: true,
      },
      { kind: 'fault', t: 40_000, phase: 'end', id: 'f1', fault: 'pause', target: 'worker', verified: true },
    ] as NewEvent[];
    const paused = judge(
      [grantA, ...workerPause, stopA(20_000), revoke(20_010, 'demote: shutdown'), exitA(23_000), end],
      'stop-releases-lease',
    );
    expect(paused).toMatchObject({ ok: true, evaluated: false });
    const crashed = judge(
      [grantA, stopA(20_000), revoke(20_010, 'process crashed'), exitA(23_000), end],
      'stop-releases-lease',
    );
    expect(crashed).toMatchObject({ ok: true, evaluated: false });
  });
});

describe('demotion-final', () => {
  const grantApp = (t: number): NewEvent => ({
    kind: 'app-authority',
    t,
    region: 'a',
    op: 'grant',
    epoch: 1,
    untilT: t + 20_000,
    reason: 'extend',
  });

  it('authority under an epoch after the app was demoted from it is a violation', () => {
    const o = judge(
      [grantA, grantApp(200), revoke(20_010, 'demote: shutdown'), grantApp(20_020), end],
      'demotion-final',
    );
    expect(o.ok).toBe(false);
    expect(o.detail).toMatch(
      /app-a was granted write authority under epoch 1 \(extend\).*after it had been demoted/,
    );
  });

  it('a crash is not a demotion: the same epoch may come back (the controller still holds it)', () => {
    const o = judge(
      [grantA, grantApp(200), revoke(5_000, 'process crashed'), grantApp(10_000), end],
      'demotion-final',
    );
    expect(o).toMatchObject({ ok: true, evaluated: false });
  });
});
