import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseClient } from '../../src/agent/lease-client.ts';
import { startWorker } from '../../src/worker/launch.ts';

// The production lease client against the real Worker in workerd (not a fake of either):
// the wire contract in docs/engineering.md is exercised end to end, signatures included.
const secrets = { a: 'secret-a-0123456789', b: 'secret-b-0123456789' };
let worker: Awaited<ReturnType<typeof startWorker>>;

function client(region: 'a' | 'b', secret = secrets[region]) {
  return new LeaseClient({
    workerUrl: worker.url,
    region,
    secret,
    leaseName: 'it-lease',
    requestTimeoutMs: 5000,
  });
}

beforeAll(async () => {
  worker = await startWorker({ host: '127.0.21.1', port: 0, variant: 'durable', secrets, leaseTtlMs: 1500 });
});
afterAll(async () => {
  await worker?.dispose();
});

describe('agent LeaseClient ↔ durable Worker in workerd', () => {
  it('acquires, renews, refuses the peer, releases, and the next grant has a higher epoch', async () => {
    const a = client('a');
    const b = client('b');
    const first = await a.call('acquire', null);
    expect(first).toMatchObject({ ok: true, granted: true, holder: 'a' });
    const epoch1 = first.epoch!;
    expect(epoch1).toBeGreaterThan(0);

    expect(await b.call('acquire', null)).toMatchObject({ ok: true, granted: false, holder: 'a' });
    expect(await a.call('renew', epoch1)).toMatchObject({ ok: true, granted: true, epoch: epoch1 });
    expect(await b.call('renew', epoch1)).toMatchObject({ ok: true, granted: false });

    const status = await b.call('status', null);
    expect(status).toMatchObject({ ok: true, holder: 'a', epoch: epoch1 });

    await a.call('release', epoch1);
    const second = await b.call('acquire', null);
    expect(second).toMatchObject({ ok: true, granted: true, holder: 'b' });
    expect(second.epoch!).toBeGreaterThan(epoch1);
    // a's old epoch is now stale: renewing with it must fail
    expect(await a.call('renew', epoch1)).toMatchObject({ granted: false });
  });

  it('a lease left unrenewed expires by the Worker clock and is re-granted with a new epoch', async () => {
    const a = client('a');
    const b = client('b');
    const held = (await b.call('status', null)).epoch!;
    await new Promise((r) => setTimeout(r, 1800)); // > leaseTtlMs 1500 on the Worker
    const grant = await a.call('acquire', null);
    expect(grant).toMatchObject({ ok: true, granted: true, holder: 'a' });
    expect(grant.epoch!).toBeGreaterThan(held);
  });

  it('a client with the wrong secret is refused and reports ok:false, never a grant', async () => {
    const r = await client('a', 'not-the-secret').call('acquire', null);
    expect(r.ok).toBe(false);
    expect(r.granted).toBe(false);
    expect(r.error).toMatch(/401/);
  });
});
