/**
 * The store's own log on real runs (src/runner/store-log.ts) against the durable Worker in
 * workerd: every grant, renewal and refusal the store made arrives in the history once, with
 * its op, epoch and holder, placed on the recorder's time no later than it was read — also the
 * ones made before the reader's first poll (the bootstrap grant while the topology boots).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { StoreLogReader } from '../../src/runner/store-log.ts';
import { LeaseClient } from '../../src/worker/client.ts';
import { startWorker } from '../../src/worker/launch.ts';

const secrets = { a: 'secret-a-0123456789', b: 'secret-b-0123456789' };
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  worker = await startWorker({ host: '127.0.21.9', port: 0, variant: 'durable', secrets, leaseTtlMs: 3000 });
});
afterAll(async () => {
  await worker?.dispose();
});

describe('StoreLogReader', () => {
  it('copies grants, renewals and refusals into the history once each, in order, with exact ops', async () => {
    const a = new LeaseClient({ url: worker.url, region: 'a', secret: secrets.a });
    const b = new LeaseClient({ url: worker.url, region: 'b', secret: secrets.b });
    const originMs = performance.now();
    const events: NewEvent[] = [];
    const sink = { now: () => performance.now() - originMs, record: (ev: NewEvent) => events.push(ev) };

    // made before the reader exists: the bootstrap grant while the topology boots
    const granted = await a.acquire('log');
    expect(granted.status).toBe(200);
    const reader = new StoreLogReader(a, 'log', sink);
    await a.renew('log', 1);
    await b.acquire('log'); // refused: a holds epoch 1
    await reader.poll();
    await reader.poll(); // nothing new: nothing recorded twice

    const ops = events.map((e) => (e.kind === 'lease-store' ? [e.op, e.region, e.holder, e.epoch] : e.kind));
    expect(ops).toEqual([
      ['grant', 'a', 'a', 1],
      ['renew', 'a', 'a', 1],
      ['refuse', 'b', 'a', 1],
    ]);
    const readT = sink.now();
    for (const e of events) {
      expect(e.kind === 'lease-store' && e.storeNowMs !== undefined && e.expiresAt !== null).toBe(true);
      expect(e.t).toBeLessThanOrEqual(readT);
    }
    // the grant happened before the reader was made: its t is before the renewal's
    expect(events[0]!.t).toBeLessThanOrEqual(events[1]!.t);
  });

  it('two reads at once (a poll in flight and the final read) record each entry once', async () => {
    const a = new LeaseClient({ url: worker.url, region: 'a', secret: secrets.a });
    const events: NewEvent[] = [];
    const reader = new StoreLogReader(a, 'twice', { now: () => 0, record: (ev) => events.push(ev) });
    await a.acquire('twice');
    await a.renew('twice', 1);
    await Promise.all([reader.poll(), reader.poll(), reader.poll()]);
    expect(events.map((e) => (e.kind === 'lease-store' ? e.op : e.kind))).toEqual(['grant', 'renew']);
  });

  it('never throws when the Worker does not answer, and records nothing', async () => {
    const dead = new LeaseClient({ url: 'http://127.0.21.10:9', region: 'a', secret: secrets.a });
    const events: NewEvent[] = [];
    const reader = new StoreLogReader(dead, 'log', { now: () => 0, record: (ev) => events.push(ev) });
    await expect(reader.poll()).resolves.toBeUndefined();
    expect(events).toEqual([]);
  });
});
