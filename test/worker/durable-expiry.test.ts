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

  it("the store's own log: grant, renew, refusal, expiry (noted with its time) and the next grant", async () => {
    const lease = freshLease('observed');
    const first = await a.acquire(lease);
    expect(first.body).toMatchObject({ granted: true, epoch: 1 });
    const renewed = await a.renew(lease, 1);
    const refused = await b.acquire(lease);
    // On a slow machine the grant may lapse between requests: expect what the replies say.
    const expected: string[] = ['grant a 1'];
    if (renewed.body.granted) expected.push('renew a 1');
    else expected.push('expire a 1', 'refuse a 1');
    if (refused.body.granted) expected.push(...(renewed.body.granted ? ['expire a 1'] : []), 'grant b 2');
    else expected.push('refuse b 1');
    if (!refused.body.granted) {
      await waitPastExpiry(renewed.body.granted ? renewed.body.expiresAt : first.body.expiresAt);
      expect((await b.acquire(lease)).body).toMatchObject({ granted: true, epoch: 2 });
      if (renewed.body.granted) expected.push('expire a 1');
      expected.push('grant b 2');
    }

    const log = (await b.observations(lease)).body;
    expect(log.observations.map((o) => `${o.op} ${o.region} ${o.epoch}`)).toEqual(expected);
    expect(log.observations.map((o) => o.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(log.next).toBe(expected.length);
    const expiry = log.observations.find((o) => o.op === 'expire');
    const lastGrantOfA = log.observations.filter((o) => o.region === 'a' && o.op !== 'expire').at(-1);
    expect(expiry).toMatchObject({ holder: null, storeMs: lastGrantOfA?.expiresAt });
    const grant2 = log.observations.at(-1);
    expect(grant2).toMatchObject({ op: 'grant', holder: 'b', epoch: 2 });
    expect(grant2?.storeMs).toBeGreaterThanOrEqual(expiry?.storeMs as number);
    // Paging: only what came after `since`; nothing new leaves `next` where it was.
    const tail = (await a.observations(lease, expected.length - 1)).body;
    expect(tail.observations.map((o) => o.seq)).toEqual([expected.length]);
    expect((await a.observations(lease, expected.length)).body).toMatchObject({
      observations: [],
      next: expected.length,
    });
  });

  it('GET /observations is signed like every route, and validates since', async () => {
    const lease = freshLease('observed-auth');
    const unsigned = await fetch(`${handle?.url}/observations?lease=${lease}`);
    expect(unsigned.status).toBe(401);
    const bad = await a.raw('GET', `/observations?lease=${lease}&since=-1`);
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/"since"/) } });
  });
  it('leaves no workerd process and no temp dir behind after dispose', async () => {
    await disposeAndAssertNoLeaks(handle, suiteTmp);
  });
});
