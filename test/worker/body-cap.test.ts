/**
 * The 4 KiB body cap holds against a streamed body: workerd answers 413 without keeping
 * what it was sent (it drains the rest in chunks so the 413 reaches the sender). Measured on workerd itself (its peak resident memory in /proc), because
 * the harm of buffering is memory, not the status code. Before streaming, a 256 MiB chunked
 * POST took workerd from ~50 to ~690 MiB (issue #20).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../src/worker/launch.ts';
import { readMemoryKiB } from '../../src/worker/procfs.ts';
import { MAX_BODY_BYTES } from '../../src/worker/protocol.ts';
import {
  clientsFor,
  disposeAndAssertNoLeaks,
  freshLease,
  isolateTmpdir,
  removeSuiteTmp,
  SECRETS,
} from './helpers.ts';
import { streamingPost } from './streaming-post.ts';

const HOST = '127.0.20.11';
const suiteTmp = isolateTmpdir('body-cap');
const MiB = 1024 * 1024;
/**
 * Buffering 256 MiB cost ~640 MiB; draining it in chunks costs ~35 MiB of garbage that V8
 * collects lazily. The bound sits far from both.
 */
const MAX_PEAK_GROWTH_MIB = 128;

let handle: WorkerHandle | undefined;
beforeAll(async () => {
  handle = await startWorker({ host: HOST, port: 0, variant: 'durable', secrets: SECRETS });
});
afterAll(async () => {
  await disposeAndAssertNoLeaks(handle, suiteTmp);
  removeSuiteTmp(suiteTmp);
});

describe('lease Worker body cap', () => {
  it('answers 413 to a 256 MiB chunked POST without buffering it; workerd memory stays flat', async () => {
    const pid = handle?.workerdPid;
    expect(pid).toBeTypeOf('number');
    // Warm up first, so the baseline includes the isolate and the Durable Object.
    expect((await clientsFor(handle!).a.status(freshLease('body-cap'))).status).toBe(200);
    const before = readMemoryKiB(pid as number);
    expect(before).not.toBeNull();

    const res = await streamingPost(`${handle!.url}/acquire`, 256 * MiB);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` });

    const after = readMemoryKiB(pid as number);
    const growthMiB = ((after?.peakKiB ?? 0) - (before?.peakKiB ?? 0)) / 1024;
    expect(growthMiB, `workerd peak RSS grew ${growthMiB.toFixed(1)} MiB`).toBeLessThan(MAX_PEAK_GROWTH_MIB);
    // The Worker still serves afterwards.
    expect((await clientsFor(handle!).b.acquire(freshLease('after-cap'))).body).toMatchObject({
      granted: true,
    });
  });

  it('a declared Content-Length over the cap is refused before any byte is read', async () => {
    const res = await fetch(`${handle!.url}/acquire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(MAX_BODY_BYTES + 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` });
  });

  it('a body of exactly the cap is read and judged (401: unsigned), not refused for size', async () => {
    const res = await fetch(`${handle!.url}/acquire`, { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES) });
    expect(res.status).toBe(401);
  });
});
