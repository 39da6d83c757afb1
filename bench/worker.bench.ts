/**
 * Lease Worker latency and throughput on loopback: the real Worker in workerd (miniflare),
 * driven by the signed client over Node's fetch. Writes bench/results/worker.json and
 * prints it. Latency is per request as a client sees it: HMAC signing + HTTP round trip +
 * Worker + Durable Object storage write. Numbers depend on machine load; they are not
 * asserted anywhere. `oversizedBody`: workerd's peak memory for one 256 MiB chunked POST,
 * which the Worker refuses (413) without keeping.
 *
 *   npm run bench:worker
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { LeaseClient } from '../src/worker/client.ts';
import { startWorker, type WorkerHandle } from '../src/worker/launch.ts';
import { readMemoryKiB } from '../src/worker/procfs.ts';
import { signRequest } from '../src/worker/signing.ts';
import { streamingPost } from '../test/worker/streaming-post.ts';

const HOST = '127.0.20.5';
const SECRETS = { a: 'bench-secret-a-0123456789abcdef', b: 'bench-secret-b-0123456789abcdef' };
const WARMUP_REQUESTS = 100;
const SEQUENTIAL_OPS = 500;
const CONCURRENCY = 16;
const OPS_PER_CLIENT = 100;
const LEGACY_SEQUENTIAL_OPS = 300;

interface Stats {
  n: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Phase {
  requests: number;
  elapsedMs: number;
  requestsPerSecond: number;
}

function stats(samplesMs: number[]): Stats {
  const sorted = [...samplesMs].sort((x, y) => x - y);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    n: sorted.length,
    p50Ms: round(at(0.5)),
    p90Ms: round(at(0.9)),
    p99Ms: round(at(0.99)),
    maxMs: round(at(1)),
  };
}

function phase(requests: number, elapsedMs: number): Phase {
  return {
    requests,
    elapsedMs: Math.round(elapsedMs),
    requestsPerSecond: Math.round((requests / elapsedMs) * 1000),
  };
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await fn();
  samples.push(performance.now() - t0);
  return result;
}

function expectOk(res: { status: number; body: unknown }, what: string): void {
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

/** acquire + release cycles and renew loops: sequential, then CONCURRENCY clients on own leases. */
async function benchVariant(handle: WorkerHandle, sequentialOps: number, concurrent: boolean) {
  const a = new LeaseClient({ url: handle.url, region: 'a', secret: SECRETS.a });
  for (let i = 0; i < WARMUP_REQUESTS; i++) expectOk(await a.status('warmup'), 'warm-up');

  // Sequential acquire/release cycles on one lease: every acquire is a real grant.
  const acquireMs: number[] = [];
  const releaseMs: number[] = [];
  const seqLease = `seq-${handle.variant}`;
  let t0 = performance.now();
  for (let i = 0; i < sequentialOps; i++) {
    const got = await timed(acquireMs, () => a.acquire(seqLease));
    expectOk(got, 'acquire');
    if (!got.body.granted)
      throw new Error(`sequential acquire ${i} not granted: ${JSON.stringify(got.body)}`);
    expectOk(await timed(releaseMs, () => a.release(seqLease, got.body.epoch)), 'release');
  }
  const acquireReleasePhase = phase(2 * sequentialOps, performance.now() - t0);

  // Sequential renews by the holder.
  const renewMs: number[] = [];
  const held = await a.acquire(`renew-${handle.variant}`);
  t0 = performance.now();
  for (let i = 0; i < sequentialOps; i++) {
    const r = await timed(renewMs, () => a.renew(`renew-${handle.variant}`, held.body.epoch));
    if (!r.body.granted) throw new Error(`renew ${i} not granted: ${JSON.stringify(r.body)}`);
  }
  const renewPhase = phase(sequentialOps, performance.now() - t0);

  const sequential = {
    acquire: stats(acquireMs),
    release: stats(releaseMs),
    renew: stats(renewMs),
    acquireReleaseCycles: acquireReleasePhase,
    renews: renewPhase,
  };
  if (!concurrent) return { sequential };

  // CONCURRENCY clients, each on its own lease (own Durable Object): acquire/release cycles.
  const cAcquireMs: number[] = [];
  const cRenewMs: number[] = [];
  const clients = Array.from(
    { length: CONCURRENCY },
    (_, k) =>
      new LeaseClient({ url: handle.url, region: k % 2 ? 'b' : 'a', secret: k % 2 ? SECRETS.b : SECRETS.a }),
  );
  t0 = performance.now();
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = 0; i < OPS_PER_CLIENT; i++) {
        const got = await timed(cAcquireMs, () => c.acquire(`conc-${k}`));
        if (!got.body.granted) throw new Error(`concurrent acquire not granted: ${JSON.stringify(got.body)}`);
        expectOk(await c.release(`conc-${k}`, got.body.epoch), 'release');
      }
    }),
  );
  const cAcquirePhase = phase(2 * CONCURRENCY * OPS_PER_CLIENT, performance.now() - t0);

  const epochs = await Promise.all(
    clients.map(async (c, k) => (await c.acquire(`conc-renew-${k}`)).body.epoch),
  );
  t0 = performance.now();
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = 0; i < OPS_PER_CLIENT; i++) {
        const r = await timed(cRenewMs, () => c.renew(`conc-renew-${k}`, epochs[k] ?? -1));
        if (!r.body.granted) throw new Error(`concurrent renew not granted: ${JSON.stringify(r.body)}`);
      }
    }),
  );
  const cRenewPhase = phase(CONCURRENCY * OPS_PER_CLIENT, performance.now() - t0);

  // Contention: CONCURRENCY clients hammer ONE lease (one Durable Object serialises them).
  const contendedMs: number[] = [];
  let grants = 0;
  t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < OPS_PER_CLIENT; i++) {
        const r = await timed(contendedMs, () => c.acquire('contended'));
        if (r.body.granted) grants++;
      }
    }),
  );
  const contendedPhase = phase(CONCURRENCY * OPS_PER_CLIENT, performance.now() - t0);
  if (grants !== 1) throw new Error(`contended lease granted ${grants} times, expected exactly 1`);

  return {
    sequential,
    concurrent: {
      concurrency: CONCURRENCY,
      acquire: stats(cAcquireMs),
      renew: stats(cRenewMs),
      acquireReleaseCycles: cAcquirePhase,
      renews: cRenewPhase,
    },
    contendedSingleLease: {
      concurrency: CONCURRENCY,
      acquire: stats(contendedMs),
      ...contendedPhase,
      grants,
    },
  };
}

/**
 * Memory of workerd for one oversized chunked POST (issue #20): its peak resident set
 * (/proc VmHWM) before and after. Buffering the body cost ~640 MiB for 256 MiB.
 */
async function oversizedBody(handle: WorkerHandle, totalMiB: number) {
  const pid = handle.workerdPid;
  if (pid === null) return { skipped: 'workerd PID unknown' };
  await fetch(`${handle.url}/status?lease=warm-up`);
  const before = readMemoryKiB(pid);
  const t0 = performance.now();
  const res = await streamingPost(`${handle.url}/acquire`, totalMiB * 1024 * 1024);
  const elapsedMs = Math.round(performance.now() - t0);
  const after = readMemoryKiB(pid);
  const mib = (kib: number | undefined) => Math.round(((kib ?? 0) / 1024) * 10) / 10;
  return {
    bodyMiB: totalMiB,
    status: res.status,
    bytesSent: res.bytesWritten,
    elapsedMs,
    workerdPeakRssMiB: { before: mib(before?.peakKiB), after: mib(after?.peakKiB) },
    workerdPeakGrowthMiB: mib((after?.peakKiB ?? 0) - (before?.peakKiB ?? 0)),
  };
}

async function signingCost(): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < 1000; i++) {
    await timed(samples, () =>
      signRequest({
        region: 'a',
        secret: SECRETS.a,
        method: 'POST',
        pathWithQuery: '/renew',
        body: '{"lease":"x","epoch":1}',
        timestampMs: Date.now(),
      }),
    );
  }
  return stats(samples);
}

function packageVersion(name: string): string {
  const file = join(import.meta.dirname, '..', 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const results: Record<string, unknown> = {};
  let handle: WorkerHandle | undefined;
  try {
    const t0 = performance.now();
    handle = await startWorker({ host: HOST, port: 0, variant: 'durable', secrets: SECRETS });
    const startupMs = Math.round(performance.now() - t0);
    results['durable'] = { startupMs, ...(await benchVariant(handle, SEQUENTIAL_OPS, true)) };
    await handle.dispose();

    // A fresh Worker, so the peak is this request's and not the load phases'.
    handle = await startWorker({ host: HOST, port: 0, variant: 'durable', secrets: SECRETS });
    results['oversizedBody'] = await oversizedBody(handle, 256);
    await handle.dispose();

    handle = await startWorker({ host: HOST, port: 0, variant: 'legacy-kv', secrets: SECRETS });
    results['legacy-kv'] = await benchVariant(handle, LEGACY_SEQUENTIAL_OPS, false);
    await handle.dispose();
    handle = undefined;
  } finally {
    await handle?.dispose();
  }

  const report = {
    benchmark: 'lease-worker',
    startedAt,
    environment: {
      node: process.version,
      miniflare: packageVersion('miniflare'),
      workerd: packageVersion('workerd'),
      cpus: cpus().length,
      loadavg1mAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      host: HOST,
      transport: 'Node global fetch (undici keep-alive), HTTP/1.1 over loopback',
    },
    clientSigning: await signingCost(),
    ...results,
  };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(dir, 'worker.json'), json);
  process.stdout.write(json);
}

main().catch((err) => {
  process.stderr.write(`bench:worker failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 3;
});
