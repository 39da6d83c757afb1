/**
 * `npm run bench:udp`: accuracy of the built-in fault proxy's UDP toxics, written to
 * bench/results/udp.json (and printed). Real datagrams on loopback, the server embedded in
 * this process as the real-topology harness embeds it.
 *
 * - loss: a `loss` toxic with probability 0.3 on the upstream stream; 10,000 datagrams are
 *   sent (paced, so the kernel's socket buffers drop nothing themselves) and counted at a UDP
 *   sink. A control run with probability 0 first shows the path itself loses nothing.
 *   Acceptance: 30 % ± 5 % dropped.
 * - latency: a `latency` toxic of 100 ms on the downstream stream; sequential request/reply
 *   round trips through the proxy, minus the p50 round trip through the same proxy without
 *   the toxic. Acceptance: the p50 added delay within ±10 ms of 100 ms.
 *
 * The RNG is the server's default (Math.random): this measures, it does not replay.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type RunningToxiproxyServer, startToxiproxyServer } from '../src/toxiproxy/server.ts';

const HOST = '127.0.30.7';
const ROOT = join(import.meta.dirname, '..');
const RESULT_FILE = join(ROOT, 'bench/results/udp.json');
const LOSS_DATAGRAMS = 10_000;
const LOSS_PROBABILITY = 0.3;
const LATENCY_MS = 100;
const LATENCY_SAMPLES = Number(process.env['BENCH_UDP_LATENCY_SAMPLES'] ?? 200);
const BASELINE_SAMPLES = 200;
const PACE_BATCH = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function bound(reply: boolean): Promise<{ socket: Socket; port: number; received: () => number }> {
  const socket = createSocket('udp4');
  let received = 0;
  socket.on('message', (data, rinfo) => {
    received++;
    if (reply) socket.send(data, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  return { socket, port: socket.address().port, received: () => received };
}

async function api(server: RunningToxiproxyServer, method: string, path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'bench' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as { listen: string };
}

async function udpProxy(server: RunningToxiproxyServer, name: string, upstreamPort: number): Promise<number> {
  const p = await api(server, 'POST', '/proxies', {
    name,
    listen: `${HOST}:0`,
    upstream: `${HOST}:${upstreamPort}`,
    protocol: 'udp',
  });
  return Number(p.listen.split(':').pop());
}

/** Send `count` datagrams to `port`, paced; return how many the sink got once it went quiet. */
async function sendAndCount(port: number, sinkReceived: () => number, count: number): Promise<number> {
  const client = createSocket('udp4');
  const before = sinkReceived();
  const payload = Buffer.alloc(32, 7);
  // Flow control: after each small batch, wait until the sink has been quiet for a moment,
  // so that no socket buffer on the way ever overflows (a loaded 2-core machine would
  // otherwise add its own drops to the toxic's).
  for (let i = 0; i < count; i += PACE_BATCH) {
    for (let j = i; j < Math.min(count, i + PACE_BATCH); j++) client.send(payload, port, HOST);
    let seen = -1;
    while (sinkReceived() !== seen) {
      seen = sinkReceived();
      await sleep(2);
    }
  }
  let last = -1;
  while (sinkReceived() !== last) {
    last = sinkReceived();
    await sleep(200);
  }
  client.close();
  return last - before;
}

async function measureLoss(server: RunningToxiproxyServer) {
  const sink = await bound(false);
  const port = await udpProxy(server, 'loss', sink.port);
  const controlDelivered = await sendAndCount(port, sink.received, LOSS_DATAGRAMS);
  await api(server, 'POST', '/proxies/loss/toxics', {
    type: 'loss',
    stream: 'upstream',
    attributes: { probability: LOSS_PROBABILITY },
  });
  const delivered = await sendAndCount(port, sink.received, LOSS_DATAGRAMS);
  sink.socket.close();
  const droppedFraction = 1 - delivered / LOSS_DATAGRAMS;
  return {
    datagrams: LOSS_DATAGRAMS,
    probability: LOSS_PROBABILITY,
    controlDelivered,
    delivered,
    droppedFraction: round(droppedFraction, 4),
    target: '0.30 ± 0.05',
    met: controlDelivered === LOSS_DATAGRAMS && Math.abs(droppedFraction - LOSS_PROBABILITY) <= 0.05,
  };
}

/** Sequential round trips through `port`; each waits for its reply. */
async function roundTripsMs(port: number, samples: number): Promise<number[]> {
  const client = createSocket('udp4');
  await new Promise<void>((resolve) => client.connect(port, HOST, resolve));
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const sentAtMs = performance.now();
    const reply = new Promise<void>((resolve) => client.once('message', () => resolve()));
    client.send(Buffer.from(`ping ${i}`));
    await reply;
    out.push(performance.now() - sentAtMs);
  }
  client.close();
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

async function measureLatency(server: RunningToxiproxyServer) {
  const echo = await bound(true);
  const port = await udpProxy(server, 'latency', echo.port);
  const baseline = await roundTripsMs(port, BASELINE_SAMPLES);
  await api(server, 'POST', '/proxies/latency/toxics', {
    type: 'latency',
    attributes: { latency: LATENCY_MS },
  });
  const delayed = await roundTripsMs(port, LATENCY_SAMPLES);
  echo.socket.close();
  const baselineP50Ms = percentile(baseline, 50);
  const added = delayed.map((ms) => ms - baselineP50Ms);
  const addedP50Ms = percentile(added, 50);
  return {
    configuredMs: LATENCY_MS,
    samples: LATENCY_SAMPLES,
    baselineRoundTripP50Ms: round(baselineP50Ms),
    addedP50Ms: round(addedP50Ms),
    addedP90Ms: round(percentile(added, 90)),
    addedP99Ms: round(percentile(added, 99)),
    errorP50Ms: round(addedP50Ms - LATENCY_MS),
    target: 'p50 within ±10 ms',
    met: Math.abs(addedP50Ms - LATENCY_MS) <= 10,
  };
}

async function main(): Promise<void> {
  const server = await startToxiproxyServer({ host: HOST, port: 0 });
  try {
    const loss = await measureLoss(server);
    const latency = await measureLatency(server);
    const report = {
      benchmark: 'udp',
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
      loss,
      latency,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(RESULT_FILE, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await server.close();
  }
}

await main();
