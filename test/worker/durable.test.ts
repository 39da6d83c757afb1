/**
 * The durable lease Worker running in workerd (miniflare), default 30 s TTL: mutual
 * exclusion under concurrency, renew/release rules, authentication, bad input.
 * Timing-insensitive by construction: nothing here depends on the TTL elapsing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseClient } from '../../src/worker/client.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/launch.ts';
import type { LeaseResponse, LeaseStatusResponse } from '../../src/worker/protocol.ts';
import { randomNonce } from '../../src/worker/signing.ts';
import {
  clientsFor,
  disposeAndAssertNoLeaks,
  freshLease,
  isolateTmpdir,
  removeSuiteTmp,
  SECRETS,
} from './helpers.ts';

const suiteTmp = isolateTmpdir('durable');
let handle: WorkerHandle | undefined;
let a: LeaseClient;
let b: LeaseClient;

beforeAll(async () => {
  handle = await startWorker({ host: '127.0.20.1', port: 0, variant: 'durable', secrets: SECRETS });
  ({ a, b } = clientsFor(handle));
});

afterAll(async () => {
  await handle?.dispose();
  removeSuiteTmp(suiteTmp);
});

/** Status minus serverTime: what "state unchanged" compares. */
async function stateOf(lease: string): Promise<Omit<LeaseStatusResponse, 'serverTime'>> {
  const res = await a.status(lease);
  expect(res.status).toBe(200);
  const { serverTime: _ignored, ...state } = res.body;
  return state;
}

describe('durable lease Worker in workerd', () => {
  it('serves on the requested host with a port it picked, and knows its workerd PID', () => {
    expect(handle?.url).toMatch(/^http:\/\/127\.0\.20\.1:\d+$/);
    expect(handle?.port).toBeGreaterThan(0);
    expect(handle?.workerdPid).toBeTypeOf('number');
  });

  it('grants a free lease with epoch 1 and a full TTL', async () => {
    const lease = freshLease('first');
    const res = await a.acquire(lease);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fl-variant')).toBe('durable');
    expect(res.headers.get('x-fl-unsafe')).toBeNull();
    expect(res.body).toMatchObject({ granted: true, holder: 'a', epoch: 1, ttlMs: 30_000 });
    expect(res.body.expiresAt).toBe(res.body.serverTime + 30_000);
    expect(await stateOf(lease)).toEqual({
      holder: 'a',
      epoch: 1,
      ttlMs: 30_000,
      expiresAt: res.body.expiresAt,
    });
  });

  it('200 concurrent acquires from two regions: exactly one is granted', async () => {
    const lease = freshLease('burst');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).acquire(lease)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const granted = results.filter((r) => r.body.granted);
    expect(granted).toHaveLength(1);
    const winner = granted[0]?.body as LeaseResponse;
    expect(winner.epoch).toBe(1);
    // Every loser was told who holds it, under the same epoch.
    for (const r of results.filter((x) => !x.body.granted)) {
      expect(r.body).toMatchObject({ holder: winner.holder, epoch: 1 });
    }
    expect(await stateOf(lease)).toMatchObject({ holder: winner.holder, epoch: 1 });
  });

  it('refuses acquire while held, also to the holder itself', async () => {
    const lease = freshLease('held');
    const first = await a.acquire(lease);
    expect(first.body.granted).toBe(true);
    expect((await b.acquire(lease)).body).toMatchObject({ granted: false, holder: 'a', epoch: 1 });
    expect((await a.acquire(lease)).body).toMatchObject({ granted: false, holder: 'a', epoch: 1 });
  });

  it('renews for the holder with the current epoch and extends expiry', async () => {
    const lease = freshLease('renew');
    const first = await a.acquire(lease);
    const renewed = await a.renew(lease, first.body.epoch);
    expect(renewed.body).toMatchObject({ granted: true, holder: 'a', epoch: first.body.epoch });
    expect(renewed.body.expiresAt).toBe(renewed.body.serverTime + 30_000);
    expect(renewed.body.expiresAt ?? 0).toBeGreaterThanOrEqual(first.body.expiresAt ?? Infinity);
  });

  it('rejects a renew by a non-holder, even with the right epoch, and changes nothing', async () => {
    const lease = freshLease('thief');
    const first = await a.acquire(lease);
    const before = await stateOf(lease);
    const res = await b.renew(lease, first.body.epoch);
    expect(res.body).toMatchObject({ granted: false, holder: 'a', epoch: 1 });
    expect(await stateOf(lease)).toEqual(before);
  });

  it('rejects a renew with a stale epoch (the holder re-acquired since)', async () => {
    const lease = freshLease('stale-epoch');
    const e1 = (await a.acquire(lease)).body.epoch;
    expect((await a.release(lease, e1)).body.released).toBe(true);
    const e2 = (await a.acquire(lease)).body.epoch;
    expect(e2).toBe(e1 + 1);
    const before = await stateOf(lease);
    expect((await a.renew(lease, e1)).body).toMatchObject({ granted: false, epoch: e2 });
    expect(await stateOf(lease)).toEqual(before);
    expect((await a.renew(lease, e2)).body.granted).toBe(true);
  });

  it('releases only for holder + epoch, keeps the epoch counter across release', async () => {
    const lease = freshLease('release');
    const e1 = (await a.acquire(lease)).body.epoch;
    expect((await b.release(lease, e1)).body).toMatchObject({ released: false, holder: 'a' });
    expect((await a.release(lease, e1 + 5)).body).toMatchObject({ released: false, holder: 'a' });
    const released = await a.release(lease, e1);
    expect(released.body).toMatchObject({
      released: true,
      granted: false,
      holder: null,
      epoch: e1,
      expiresAt: null,
    });
    expect(await stateOf(lease)).toEqual({ holder: null, epoch: e1, ttlMs: 30_000, expiresAt: null });
    // Releasing twice is a no-op.
    expect((await a.release(lease, e1)).body.released).toBe(false);
    const next = await b.acquire(lease);
    expect(next.body).toMatchObject({ granted: true, holder: 'b', epoch: e1 + 1 });
  });

  it('reports a never-used lease as free with epoch 0; leases are independent', async () => {
    const x = freshLease('x');
    const y = freshLease('y');
    expect(await stateOf(x)).toEqual({ holder: null, epoch: 0, ttlMs: 30_000, expiresAt: null });
    expect((await a.acquire(x)).body.epoch).toBe(1);
    expect((await b.acquire(y)).body).toMatchObject({ granted: true, holder: 'b', epoch: 1 });
  });

  describe('authentication (401, state unchanged)', () => {
    const cases: Array<{ name: string; make: (lease: string) => Promise<Response> }> = [
      {
        name: 'missing signature headers',
        make: (lease) => fetch(`${handle?.url}/acquire`, { method: 'POST', body: JSON.stringify({ lease }) }),
      },
      {
        name: 'unknown region',
        make: async (lease) => {
          const c = new LeaseClient({ url: handle?.url ?? '', region: 'mallory', secret: 'x' });
          const req = await c.prepare('POST', '/acquire', JSON.stringify({ lease }));
          return fetch(req.url, req.init);
        },
      },
      {
        name: 'signed with the wrong secret',
        make: async (lease) => {
          const c = new LeaseClient({ url: handle?.url ?? '', region: 'b', secret: SECRETS.a });
          const req = await c.prepare('POST', '/acquire', JSON.stringify({ lease }));
          return fetch(req.url, req.init);
        },
      },
      {
        name: 'body changed after signing',
        make: async (lease) => {
          const req = await b.prepare('POST', '/acquire', JSON.stringify({ lease: `${lease}-other` }));
          return fetch(req.url, { ...req.init, body: JSON.stringify({ lease }) });
        },
      },
      {
        name: 'region header swapped after signing (the old X-Region trust)',
        make: async (lease) => {
          const req = await a.prepare('POST', '/acquire', JSON.stringify({ lease }));
          return fetch(req.url, { ...req.init, headers: { ...req.init.headers, 'x-fl-region': 'b' } });
        },
      },
      {
        name: 'stale timestamp (31 s old)',
        make: async (lease) => {
          const req = await b.prepare('POST', '/acquire', JSON.stringify({ lease }), {
            timestampMs: Date.now() - 31_000,
          });
          return fetch(req.url, req.init);
        },
      },
      {
        name: 'timestamp 31 s in the future',
        make: async (lease) => {
          const req = await b.prepare('POST', '/acquire', JSON.stringify({ lease }), {
            timestampMs: Date.now() + 31_000,
          });
          return fetch(req.url, req.init);
        },
      },
      {
        name: 'malformed nonce',
        make: async (lease) => {
          const req = await b.prepare('POST', '/acquire', JSON.stringify({ lease }), { nonce: 'short' });
          return fetch(req.url, req.init);
        },
      },
    ];

    for (const c of cases) {
      it(`rejects ${c.name}`, async () => {
        const lease = freshLease('auth');
        const before = await stateOf(lease);
        const res = await c.make(lease);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toMatch(/^unauthorized: /);
        expect(await stateOf(lease)).toEqual(before);
        expect(before.holder).toBeNull();
      });
    }

    it('rejects a replayed request (a replayed acquire after release does not re-grant)', async () => {
      const lease = freshLease('replay');
      const acquireReq = await a.prepare('POST', '/acquire', JSON.stringify({ lease }));
      const first = await LeaseClient.send<LeaseResponse>(acquireReq);
      expect(first.body.granted).toBe(true);
      expect((await a.release(lease, first.body.epoch)).body.released).toBe(true);
      const before = await stateOf(lease);
      const replay = await LeaseClient.send<{ error: string }>(acquireReq);
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('unauthorized: replay');
      expect(await stateOf(lease)).toEqual(before);
    });

    it('rejects a nonce reused in a freshly signed request to the same lease', async () => {
      const lease = freshLease('nonce-reuse');
      const nonce = randomNonce();
      const first = await LeaseClient.send(await a.prepare('GET', `/status?lease=${lease}`, '', { nonce }));
      expect(first.status).toBe(200);
      const again = await LeaseClient.send<{ error: string }>(
        await a.prepare('POST', '/acquire', JSON.stringify({ lease }), { nonce }),
      );
      expect(again.status).toBe(401);
      expect(await stateOf(lease)).toMatchObject({ holder: null, epoch: 0 });
    });
  });

  describe('bad input (400/404/405/413, state unchanged)', () => {
    const cases: Array<{
      name: string;
      method: 'GET' | 'POST' | 'PUT';
      path: (l: string) => string;
      body?: (l: string) => string;
      status: number;
      error: RegExp;
    }> = [
      {
        name: 'bad JSON',
        method: 'POST',
        path: () => '/acquire',
        body: (l) => `{"lease":"${l}"`,
        status: 400,
        error: /not valid JSON/,
      },
      {
        name: 'JSON array',
        method: 'POST',
        path: () => '/acquire',
        body: () => '[]',
        status: 400,
        error: /JSON object/,
      },
      {
        name: 'JSON null',
        method: 'POST',
        path: () => '/acquire',
        body: () => 'null',
        status: 400,
        error: /JSON object/,
      },
      {
        name: 'unknown field',
        method: 'POST',
        path: () => '/acquire',
        body: (l) => JSON.stringify({ lease: l, holder: 'b' }),
        status: 400,
        error: /unknown field "holder"/,
      },
      {
        name: 'epoch on acquire',
        method: 'POST',
        path: () => '/acquire',
        body: (l) => JSON.stringify({ lease: l, epoch: 1 }),
        status: 400,
        error: /unknown field "epoch"/,
      },
      {
        name: 'lease of wrong type',
        method: 'POST',
        path: () => '/acquire',
        body: () => JSON.stringify({ lease: 5 }),
        status: 400,
        error: /must be a string/,
      },
      {
        name: 'missing lease',
        method: 'POST',
        path: () => '/acquire',
        body: () => '{}',
        status: 400,
        error: /missing field "lease"/,
      },
      {
        name: 'empty lease name',
        method: 'POST',
        path: () => '/acquire',
        body: () => JSON.stringify({ lease: '' }),
        status: 400,
        error: /must match/,
      },
      {
        name: 'lease name with a slash',
        method: 'POST',
        path: () => '/acquire',
        body: () => JSON.stringify({ lease: 'a/b' }),
        status: 400,
        error: /must match/,
      },
      {
        name: 'renew without epoch',
        method: 'POST',
        path: () => '/renew',
        body: (l) => JSON.stringify({ lease: l }),
        status: 400,
        error: /missing field "epoch"/,
      },
      {
        name: 'epoch as a string',
        method: 'POST',
        path: () => '/renew',
        body: (l) => JSON.stringify({ lease: l, epoch: '1' }),
        status: 400,
        error: /non-negative integer/,
      },
      {
        name: 'fractional epoch',
        method: 'POST',
        path: () => '/release',
        body: (l) => JSON.stringify({ lease: l, epoch: 1.5 }),
        status: 400,
        error: /non-negative integer/,
      },
      {
        name: 'negative epoch',
        method: 'POST',
        path: () => '/release',
        body: (l) => JSON.stringify({ lease: l, epoch: -1 }),
        status: 400,
        error: /non-negative integer/,
      },
      {
        name: 'oversized body',
        method: 'POST',
        path: () => '/acquire',
        body: (l) => JSON.stringify({ lease: l, pad: 'x'.repeat(5000) }),
        status: 413,
        error: /larger than/,
      },
      {
        name: 'status without lease',
        method: 'GET',
        path: () => '/status',
        status: 400,
        error: /missing field "lease"/,
      },
      {
        name: 'status with unknown parameter',
        method: 'GET',
        path: (l) => `/status?lease=${l}&holder=b`,
        status: 400,
        error: /unknown query parameter/,
      },
      {
        name: 'status with peek other than 1',
        method: 'GET',
        path: (l) => `/status?lease=${l}&peek=yes`,
        status: 400,
        error: /"peek" must be given at most once, as peek=1/,
      },
      {
        name: 'status with lease twice',
        method: 'GET',
        path: (l) => `/status?lease=${l}&lease=${l}`,
        status: 400,
        error: /more than once/,
      },
      {
        name: 'GET on /acquire',
        method: 'GET',
        path: (l) => `/acquire?lease=${l}`,
        status: 405,
        error: /accepts POST only/,
      },
      {
        name: 'PUT on /renew',
        method: 'PUT',
        path: () => '/renew',
        body: (l) => JSON.stringify({ lease: l, epoch: 1 }),
        status: 405,
        error: /accepts POST only/,
      },
      {
        name: 'POST on /status',
        method: 'POST',
        path: () => '/status',
        body: (l) => JSON.stringify({ lease: l }),
        status: 405,
        error: /accepts GET only/,
      },
      {
        name: 'unknown path /nope',
        method: 'POST',
        path: () => '/nope',
        body: (l) => JSON.stringify({ lease: l }),
        status: 404,
        error: /unknown path/,
      },
      {
        name: 'path with a trailing slash',
        method: 'POST',
        path: () => '/acquire/',
        body: (l) => JSON.stringify({ lease: l }),
        status: 404,
        error: /unknown path/,
      },
    ];

    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        // The lease is held by a, so any accidental effect (a grant, a release) would show.
        const lease = freshLease('input');
        const held = await a.acquire(lease);
        expect(held.body.granted).toBe(true);
        const before = await stateOf(lease);
        const res = await b.raw<{ error: string }>(c.method, c.path(lease), c.body?.(lease) ?? '');
        expect(res.status).toBe(c.status);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(res.body.error).toMatch(c.error);
        if (c.status === 405) expect(res.headers.get('allow')).toMatch(/^(GET|POST)$/);
        expect(await stateOf(lease)).toEqual(before);
      });
    }
  });

  it('leaves no workerd process and no temp dir behind after dispose', async () => {
    const pid = handle?.workerdPid;
    await disposeAndAssertNoLeaks(handle, suiteTmp);
    // The PID is really gone, not merely re-parented.
    expect(pid).toBeTypeOf('number');
    expect(() => process.kill(pid as number, 0)).toThrow();
  });
});
