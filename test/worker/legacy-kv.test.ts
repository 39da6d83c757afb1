/**
 * The legacy-kv Worker (KNOWN UNSAFE) in workerd: same API and shapes as the durable one,
 * marked unsafe, and it really produces the split brain the harness must catch. Uses KV's
 * real 60 s cacheTtl and expiry minimum, so no step here races a timer.
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
} from './helpers.ts';

const suiteTmp = isolateTmpdir('legacy');
let handle: WorkerHandle | undefined;
let a: LeaseClient;
let b: LeaseClient;
const logLines: string[] = [];

beforeAll(async () => {
  handle = await startWorker({
    host: '127.0.20.3',
    port: 0,
    variant: 'legacy-kv',
    secrets: SECRETS,
    log: (line) => logLines.push(line),
  });
  ({ a, b } = clientsFor(handle));
});

afterAll(async () => {
  await handle?.dispose();
  removeSuiteTmp(suiteTmp);
});

describe('legacy-kv lease Worker (known unsafe)', () => {
  it('announces itself as unsafe at startup and on every response, errors included', async () => {
    expect(logLines.some((l) => /legacy-kv.*KNOWN UNSAFE/.test(l))).toBe(true);
    const ok = await a.status(freshLease('hdr'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-fl-unsafe')).toBe('legacy-kv');
    expect(ok.headers.get('x-fl-variant')).toBe('legacy-kv');
    const notFound = await a.raw('POST', '/nope', '{}');
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-fl-unsafe')).toBe('legacy-kv');
  });

  it('answers with the durable shapes; TTL raised to the KV minimum; epoch is the grant timestamp', async () => {
    const lease = freshLease('shape');
    const res = await a.acquire(lease);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'epoch',
      'expiresAt',
      'granted',
      'holder',
      'serverTime',
      'ttlMs',
    ]);
    expect(res.body).toMatchObject({ granted: true, holder: 'a', ttlMs: 60_000 });
    // Not a counter: the server's clock at the grant.
    expect(res.body.epoch).toBe(res.body.serverTime);
    const status = await a.status(lease);
    expect(Object.keys(status.body).sort()).toEqual(['epoch', 'expiresAt', 'holder', 'serverTime', 'ttlMs']);
    const release = await a.release(lease, res.body.epoch);
    expect(release.body).toMatchObject({ granted: false, released: true, holder: null });
  });

  it('within one location it looks correct: a second acquire sees the holder', async () => {
    const lease = freshLease('same-loc');
    expect((await a.acquire(lease)).body.granted).toBe(true);
    expect((await a.acquire(lease)).body).toMatchObject({ granted: false, holder: 'a' });
  });

  it("DUAL GRANT: b acquires while a holds, because b's location cached a negative lookup", async () => {
    const lease = freshLease('split');
    // b's location reads the key while it is free: "absent" is cached there for cacheTtl.
    expect((await b.status(lease)).body.holder).toBeNull();
    const grantA = await a.acquire(lease);
    expect(grantA.body).toMatchObject({ granted: true, holder: 'a' });
    // a holds the lease; b's location still serves its cached "absent".
    const grantB = await b.acquire(lease);
    expect(grantB.body).toMatchObject({ granted: true, holder: 'b' });
    // Both now believe they hold it, and the handbook renew keeps both believing it.
    expect((await a.renew(lease, grantA.body.epoch)).body).toMatchObject({ granted: true, holder: 'a' });
    expect((await b.renew(lease, grantB.body.epoch)).body).toMatchObject({ granted: true, holder: 'b' });
    expect((await a.status(lease)).body.holder).toBe('a');
    expect((await b.status(lease)).body.holder).toBe('b');
    // And the "epochs" fence nothing: the stale-looking one keeps renewing successfully.
    expect(grantB.body.epoch).toBeGreaterThanOrEqual(grantA.body.epoch);
  });

  it('renews per the handbook even when nobody holds the lease, ignoring the epoch', async () => {
    const lease = freshLease('renew-null');
    expect((await a.renew(lease, 12345)).body).toMatchObject({ granted: true, holder: 'a' });
  });

  it('a granted renew hands out no new token: it echoes the epoch the caller presented', async () => {
    const lease = freshLease('renew-echo');
    const grant = await a.acquire(lease);
    await new Promise((r) => setTimeout(r, 5)); // a later server clock would mint a different stamp
    const renew = await a.renew(lease, grant.body.epoch);
    expect(renew.body).toMatchObject({ granted: true, holder: 'a', epoch: grant.body.epoch });
    expect(renew.body.serverTime).toBeGreaterThan(grant.body.epoch);
    // the presented epoch is not checked, only echoed
    expect((await a.renew(lease, 7)).body).toMatchObject({ granted: true, epoch: 7 });
  });

  it("status?peek=1 reads without filling the location's cache (the harness observer)", async () => {
    const lease = freshLease('peek');
    // An observer peeks at b's location while the lease is free: nothing is cached there…
    expect((await b.status(lease, { peek: true })).body.holder).toBeNull();
    expect((await a.acquire(lease)).body.granted).toBe(true);
    // …so b's location reads the central store and sees a's grant (a plain status read
    // before the acquire would have cached "absent" and let b acquire: see DUAL GRANT).
    expect((await b.status(lease, { peek: true })).body.holder).toBe('a');
    expect((await b.acquire(lease)).body).toMatchObject({ granted: false, holder: 'a' });
    // and a peek serves a fresh cached copy like a plain read does
    const other = freshLease('peek-cached');
    expect((await b.status(other)).body.holder).toBeNull(); // caches "absent" at b's location
    expect((await a.acquire(other)).body.granted).toBe(true);
    expect((await b.status(other, { peek: true })).body.holder).toBeNull();
  });

  it('still authenticates (the original trusted X-Region): bad signature → 401, unsafe header kept', async () => {
    const lease = freshLease('auth');
    const req = await a.prepare('POST', '/acquire', JSON.stringify({ lease }));
    const res = await fetch(req.url, { ...req.init, headers: { ...req.init.headers, 'x-fl-region': 'b' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-fl-unsafe')).toBe('legacy-kv');
    const replayable = await b.prepare('POST', '/acquire', JSON.stringify({ lease }));
    expect((await fetch(replayable.url, replayable.init)).status).toBe(200);
    expect((await fetch(replayable.url, replayable.init)).status).toBe(401);
  });

  it('rejects bad input like the durable variant', async () => {
    expect((await a.raw('POST', '/acquire', '{"lease":')).status).toBe(400);
    expect((await a.raw('POST', '/acquire', JSON.stringify({ lease: 'x', holder: 'a' }))).status).toBe(400);
    expect((await a.raw('GET', '/acquire')).status).toBe(405);
  });

  it('leaves no workerd process and no temp dir behind after dispose', async () => {
    await disposeAndAssertNoLeaks(handle, suiteTmp);
  });
});
