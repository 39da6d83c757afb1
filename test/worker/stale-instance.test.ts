/**
 * A stale Durable Object instance (issue #15 item 5) in real workerd (miniflare, cf: false):
 * the fault seam keeps an old instance of the lease object serving one region's requests
 * while a new one serves everyone else (src/worker/stale-instance.ts: workerd runs one
 * instance per id, so the old one is modelled as Cloudflare documents it — it serves from its
 * cache until a storage operation throws). The fencing epoch must still hold: no epoch is
 * granted twice, and the answer the throw prevents is exactly such a second grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseClient } from '../../src/worker/client.ts';
import { staleInstanceFault } from '../../src/worker/fault-client.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/launch.ts';
import type { LeaseObservation } from '../../src/worker/protocol.ts';
import { clientsFor, freshLease, isolateTmpdir, removeSuiteTmp, SECRETS, sleep } from './helpers.ts';

const suiteTmp = isolateTmpdir('stale-instance');
const TOKEN = 'fault-seam-token-0123456789';
const TTL_MS = 1_000;
let withSeam: WorkerHandle | undefined;
let withoutSeam: WorkerHandle | undefined;
let a: LeaseClient;
let b: LeaseClient;

beforeAll(async () => {
  withSeam = await startWorker({
    host: '127.0.20.1',
    port: 0,
    variant: 'durable',
    secrets: SECRETS,
    leaseTtlMs: TTL_MS,
    faultSeamToken: TOKEN,
  });
  withoutSeam = await startWorker({ host: '127.0.20.1', port: 0, variant: 'durable', secrets: SECRETS });
  ({ a, b } = clientsFor(withSeam));
});

afterAll(async () => {
  await withSeam?.dispose();
  await withoutSeam?.dispose();
  removeSuiteTmp(suiteTmp);
});

const seam = () => ({ url: withSeam!.url, token: TOKEN });

/** Waits (polling as b, i.e. through the new instance) until the lease has run out. */
async function untilFree(lease: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const s = await b.status(lease);
    if (s.body.holder === null) return;
    await sleep(100);
  }
  throw new Error(`${lease} never became free`);
}

async function grantsOf(lease: string): Promise<LeaseObservation[]> {
  const res = await b.observations(lease, 0);
  expect(res.status).toBe(200);
  return res.body.observations.filter((o) => o.op === 'grant');
}

describe('stale Durable Object instance (fault seam, workerd)', () => {
  it('is off by default: the seam path is an unknown path, and a wrong token is refused', async () => {
    const off = await staleInstanceFault(
      { url: withoutSeam!.url, token: TOKEN },
      { lease: 'x', action: 'start', region: 'a' },
    );
    expect(off.status).toBe(404);
    const wrong = await staleInstanceFault(
      { url: withSeam!.url, token: 'not-the-token-0123456789' },
      { lease: 'x', action: 'start', region: 'a' },
    );
    expect(wrong.status).toBe(401);
  });

  it('both instances serve until the new one touches storage; then the old one throws and is gone', async () => {
    const lease = freshLease('stale-serve');
    expect((await a.acquire(lease)).body).toMatchObject({ granted: true, epoch: 1 });
    expect((await staleInstanceFault(seam(), { lease, action: 'start', region: 'a' })).status).toBe(200);

    // a reaches the old instance, which still owns the storage: served and committed
    const first = await a.status(lease);
    expect(first.status).toBe(200);
    let report = (await staleInstanceFault(seam(), { lease, action: 'report' })).report!;
    expect(report).toMatchObject({ active: true, region: 'a', ownerMoved: false, served: 1 });

    // b reaches the new instance: it takes the storage over
    expect((await b.status(lease)).status).toBe(200);
    // a's next request on the old instance computes an answer, but its write throws
    const refused = await a.status(lease);
    expect(refused.status).toBe(500);
    report = (await staleInstanceFault(seam(), { lease, action: 'report' })).report!;
    expect(report).toMatchObject({ active: false, ownerMoved: true, broken: true, served: 1 });
    expect(report.suppressed.map((s) => s.op)).toEqual(['status']);

    // the runtime reset the old instance: a now reaches the new one
    const after = await a.status(lease);
    expect(after.status).toBe(200);
    // (a's grant may have run out by now on a loaded machine: the epoch is what must not move)
    expect(after.body).toMatchObject({ epoch: 1 });
    await staleInstanceFault(seam(), { lease, action: 'stop' });
  });

  it("never grants an epoch twice: the old instance's second grant of epoch 2 is the answer that throws", async () => {
    const lease = freshLease('stale-epoch');
    expect((await a.acquire(lease)).body).toMatchObject({ granted: true, holder: 'a', epoch: 1 });
    // the old instance's cache: a holds epoch 1
    expect((await staleInstanceFault(seam(), { lease, action: 'start', region: 'a' })).status).toBe(200);
    await untilFree(lease);
    expect((await b.acquire(lease)).body).toMatchObject({ granted: true, holder: 'b', epoch: 2 });

    // a's acquire reaches the old instance: from its cache the lease is a's expired epoch 1,
    // so it would grant epoch 2 to a — while the new instance already gave epoch 2 to b
    const res = await a.acquire(lease);
    expect(res.status).toBe(500);
    const report = (await staleInstanceFault(seam(), { lease, action: 'stop' })).report!;
    expect(report.broken).toBe(true);
    expect(report.suppressed).toHaveLength(1);
    expect(report.suppressed[0]).toMatchObject({
      op: 'acquire',
      region: 'a',
      result: { kind: 'ok', body: { granted: true, holder: 'a', epoch: 2 } },
    });

    // the store granted each epoch once, to one holder
    const grants = await grantsOf(lease);
    expect(grants.map((g) => [g.holder, g.epoch])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    const status = await b.status(lease);
    expect(status.body).toMatchObject({ holder: 'b', epoch: 2 });
  });

  it("routes an observer's peek to the new instance, whatever region signs it", async () => {
    const lease = freshLease('stale-peek');
    await a.acquire(lease);
    expect((await staleInstanceFault(seam(), { lease, action: 'start', region: 'a' })).status).toBe(200);
    const peek = await a.status(lease, { peek: true });
    expect(peek.status).toBe(200);
    const report = (await staleInstanceFault(seam(), { lease, action: 'stop' })).report!;
    expect(report).toMatchObject({ served: 0, ownerMoved: true, broken: false });
  });

  it("keeps the one storage whole: the old instance's writes before the takeover are visible to the new one", async () => {
    const lease = freshLease('stale-commit');
    const got = await a.acquire(lease);
    expect((await staleInstanceFault(seam(), { lease, action: 'start', region: 'a' })).status).toBe(200);
    // released on the old instance while it still owns the storage
    const rel = await a.release(lease, got.body.epoch);
    expect(rel.status).toBe(200);
    expect(rel.body.released).toBe(true);
    // the new instance sees the release and grants the next epoch
    expect((await b.acquire(lease)).body).toMatchObject({ granted: true, holder: 'b', epoch: 2 });
    const report = (await staleInstanceFault(seam(), { lease, action: 'stop' })).report!;
    expect(report).toMatchObject({ served: 1, ownerMoved: true, broken: false, suppressed: [] });
  });
});
