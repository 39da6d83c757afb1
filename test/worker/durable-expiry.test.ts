/**
 * The durable lease Worker with a 300 ms TTL (LEASE_TTL_MS): expiry by the Worker's clock
 * and epoch monotonicity across acquire / release / expiry cycles. Every assertion here only
 * gets *more* certain when the machine is slow (waits are "at least", never "at most").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseClient } from '../../src/worker/client.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/launch.ts';
import {
  clientsFor,
  disposeAndAssertNoLeaks,
  freshLease,
  isolateTmpdir,
  removeSuiteTmp,
  SECRETS,
  sleep,
} from './helpers.ts';

const TTL_MS = 300;
const suiteTmp = isolateTmpdir('expiry');
let handle: WorkerHandle | undefined;
let a: LeaseClient;
let b: LeaseClient;

beforeAll(async () => {
  handle = await startWorker({
    host: '127.0.20.2',
    port: 0,
    variant: 'durable',
    secrets: SECRETS,
    leaseTtlMs: TTL_MS,
  });
  ({ a, b } = clientsFor(handle));
});

afterAll(async () => {
  await handle?.dispose();
  removeSuiteTmp(suiteTmp);
});

/** Waits until the Worker's own clock has passed `expiresAt`. */
async function waitPastExpiry(expiresAt: number | null): Promise<void> {
  expect(expiresAt).not.toBeNull();
  for (;;) {
    const s = await a.status('clock-probe');
    if (s.body.serverTime > (expiresAt as number)) return;
    await sleep(Math.max(10, (expiresAt as number) - s.body.serverTime + 5));
  }
}

describe('durable lease expiry (LEASE_TTL_MS=300)', () => {
  it('uses the configured TTL', async () => {
    const res = await a.acquire(freshLease('ttl'));
    expect(res.body.ttlMs).toBe(TTL_MS);
    expect(res.body.expiresAt).toBe(res.body.serverTime + TTL_MS);
  });

  it('an expired lease is free: status shows no holder, renew fails, another region acquires epoch+1', async () => {
    const lease = freshLease('expire');
    const first = await a.acquire(lease);
    expect(first.body).toMatchObject({ granted: true, holder: 'a', epoch: 1 });
    await waitPastExpiry(first.body.expiresAt);

    expect((await a.status(lease)).body).toMatchObject({ holder: null, epoch: 1, expiresAt: null });
    // Too late to renew, even for the former holder with its epoch.
    expect((await a.renew(lease, 1)).body).toMatchObject({ granted: false, holder: null });
    const taken = await b.acquire(lease);
    expect(taken.body).toMatchObject({ granted: true, holder: 'b', epoch: 2 });
    // The old holder can neither renew nor release the new grant.
    expect((await a.renew(lease, 1)).body).toMatchObject({ granted: false, holder: 'b', epoch: 2 });
    expect((await a.release(lease, 1)).body).toMatchObject({ released: false, holder: 'b', epoch: 2 });
  });

  it('an expired grant can still be released by its holder + epoch, keeping the epoch', async () => {
    const lease = freshLease('late-release');
    const first = await a.acquire(lease);
    await waitPastExpiry(first.body.expiresAt);
    expect((await a.release(lease, first.body.epoch)).body).toMatchObject({ released: true, epoch: 1 });
    expect((await b.acquire(lease)).body).toMatchObject({ granted: true, epoch: 2 });
  });

  it('epoch strictly increases by one per grant over acquire / release / expiry cycles', async () => {
    const lease = freshLease('cycles');
    const epochs: number[] = [];
    for (let i = 0; i < 24; i++) {
      const who = i % 2 === 0 ? a : b;
      const res = await who.acquire(lease);
      // The lease is always free here: released or expired in the previous round.
      expect(res.body).toMatchObject({ granted: true, holder: who.region });
      epochs.push(res.body.epoch);
      if (i % 3 === 2) {
        await waitPastExpiry(res.body.expiresAt);
      } else {
        expect((await who.release(lease, res.body.epoch)).body.released).toBe(true);
      }
    }
    expect(epochs).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect((await a.status(lease)).body.epoch).toBe(24);
  });

  it('leaves no workerd process and no temp dir behind after dispose', async () => {
    await disposeAndAssertNoLeaks(handle, suiteTmp);
  });
});
