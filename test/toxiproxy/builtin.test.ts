/**
 * Built-in server only: documented deviations from Go (400 instead of a crash), injectable
 * randomness (toxicity rolls and re-rolls, jitter), live chain changes that must not drop
 * data, and resource hygiene (no listener or socket left after DELETE, /reset or close).
 * These cases would crash or be non-deterministic on a real toxiproxy-server, so they do not
 * belong to the portable conformance suite.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningToxiproxyServer, startToxiproxyServer } from '../../src/toxiproxy/server.ts';
import {
  addToxic,
  connectOutcome,
  connectProbe,
  createProxy,
  deleteAllProxies,
  eventually,
  http,
  type Probe,
  sleep,
  startEcho,
  startSink,
  startSource,
  type Target,
  type Upstream,
  within,
} from './helpers.ts';

const HOST = '127.0.30.3';
/** What the injected RNG returns next; tests set it before the action that rolls. */
let nextRoll = 0.5;
let server: RunningToxiproxyServer;
let target: Target;
let echo: Upstream;
const probes: Probe[] = [];

beforeAll(async () => {
  server = await startToxiproxyServer({ host: HOST, port: 0, random: () => nextRoll });
  target = { url: server.url, host: HOST, builtIn: server, close: () => server.close() };
  echo = await startEcho(HOST);
});

afterEach(async () => {
  for (const p of probes.splice(0)) p.socket.destroy();
  await deleteAllProxies(target);
  nextRoll = 0.5;
});

afterAll(async () => {
  await server?.close();
  await echo?.close();
});

async function probe(listen: string): Promise<Probe> {
  const p = await connectProbe(listen);
  probes.push(p);
  return p;
}

async function roundTripMs(p: Probe, text: string): Promise<number> {
  const want = p.data().length + text.length;
  const sentAtMs = performance.now();
  p.socket.write(text);
  return (await p.waitForBytes(want, 5000)) - sentAtMs;
}

describe('deviations: 400 where Go v2.12.0 crashes', () => {
  it('negative bandwidth rate and the slicer sets that crash Go → 400; server stays up', async () => {
    await createProxy(target, 'p', echo.address);
    const cases = [
      { type: 'bandwidth', attributes: { rate: -1 } },
      { type: 'slicer' }, // all zero: endless recursion in Go
      { type: 'slicer', attributes: { average_size: 0 } },
      { type: 'slicer', attributes: { average_size: -5, size_variation: 3 } },
      { type: 'slicer', attributes: { average_size: 3, size_variation: -3 } }, // avg + var = 0
      { type: 'slicer', attributes: { average_size: 10, size_variation: 12 } }, // split point can leave the piece
    ];
    for (const body of cases) {
      const res = await http(target, 'POST', '/proxies/p/toxics', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toMatch(/^bad request body: /);
    }
    expect((await http(target, 'GET', '/proxies/p/toxics')).json()).toEqual([]);
    expect((await http(target, 'GET', '/version')).status).toBe(200);
  });

  it('an update into a crash case is refused and leaves the toxic unchanged', async () => {
    await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', {
      name: 's',
      type: 'slicer',
      attributes: { average_size: 10, size_variation: 2 },
    });
    const res = await http(target, 'PATCH', '/proxies/p/toxics/s', { attributes: { size_variation: 20 } });
    expect(res.status).toBe(400);
    const now = (await http(target, 'GET', '/proxies/p/toxics/s')).json();
    expect(now.attributes).toEqual({ average_size: 10, size_variation: 2, delay: 0 });
  });

  it('slicer sets Go runs without crashing are accepted and slice intact (variation = average, negative variation)', async () => {
    const sizes = [100, 3000];
    for (const [i, attributes] of [
      { average_size: 10, size_variation: 10 },
      { average_size: 10, size_variation: 11 },
      { average_size: 10, size_variation: -3 },
      { average_size: 1, size_variation: 0 },
      { average_size: 0, size_variation: 1 },
    ].entries()) {
      const name = `p${i}`;
      await createProxy(target, name, echo.address);
      const created = await http(target, 'POST', `/proxies/${name}/toxics`, { type: 'slicer', attributes });
      expect(created.status, JSON.stringify(attributes)).toBe(200);
      expect(created.json().attributes).toEqual({ ...attributes, delay: 0 });
      const listen = (await http(target, 'GET', `/proxies/${name}`)).json().listen as string;
      const p = await connectProbe(listen);
      try {
        for (const size of sizes) {
          const payload = 'x'.repeat(size);
          const want = p.data().length + size;
          p.socket.write(payload);
          await p.waitForBytes(want, 5000);
        }
        expect(p.data().length).toBe(sizes[0]! + sizes[1]!);
      } finally {
        p.socket.destroy();
      }
    }
    expect((await http(target, 'GET', '/version')).status).toBe(200);
  });

  it('populate of [] answers {"proxies":null} like Go', async () => {
    const res = await http(target, 'POST', '/populate', []);
    expect(res.status).toBe(201);
    expect(res.text).toBe('{"proxies":null}');
  });
});

describe('injectable randomness', () => {
  it('toxicity is rolled per link at connect and re-rolled on update', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', {
      name: 'lat',
      type: 'latency',
      toxicity: 0.5,
      attributes: { latency: 300 },
    });
    nextRoll = 0.9; // ≥ 0.5: this connection's link is spared
    const p = await probe(proxy.listen);
    expect(await roundTripMs(p, 'a')).toBeLessThan(150);
    nextRoll = 0.1; // any update re-rolls, even an empty one
    expect((await http(target, 'PATCH', '/proxies/p/toxics/lat', {})).status).toBe(200);
    expect(await roundTripMs(p, 'b')).toBeGreaterThanOrEqual(250);
    nextRoll = 0.9; // adding a toxic behind it restarts it: a new roll again
    await addToxic(target, 'p', { name: 'n', type: 'noop' });
    expect(await roundTripMs(p, 'c')).toBeLessThan(150);
  });

  it('jitter draws whole ms in [-jitter, jitter) from the RNG', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', { type: 'latency', attributes: { latency: 200, jitter: 150 } });
    nextRoll = 0; // toxicity roll 0 < 1 applies; jitter −150 → 50 ms
    const low = await probe(proxy.listen);
    const lowMs = await roundTripMs(low, 'a');
    nextRoll = 0.999; // jitter +149 → 349 ms
    const high = await probe(proxy.listen);
    const highMs = await roundTripMs(high, 'b');
    expect(lowMs).toBeLessThan(200);
    expect(highMs).toBeGreaterThanOrEqual(300);
  });
});

describe('live chain changes keep data', () => {
  it('removing a latency toxic releases the chunk it holds at once', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', { name: 'lat', type: 'latency', attributes: { latency: 3000 } });
    const p = await probe(proxy.listen);
    const sentAtMs = performance.now();
    p.socket.write('held');
    await sleep(100);
    await http(target, 'DELETE', '/proxies/p/toxics/lat');
    const atMs = await p.waitForBytes(4, 2000);
    expect(p.data().toString()).toBe('held');
    expect(atMs - sentAtMs).toBeLessThan(1500);
  });

  it('bandwidth 0 stalls; removing it delivers the held data intact', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', { name: 'bw', type: 'bandwidth', attributes: { rate: 0 } });
    const p = await probe(proxy.listen);
    p.socket.write('stalled');
    await sleep(300);
    expect(p.data().length).toBe(0);
    await http(target, 'DELETE', '/proxies/p/toxics/bw');
    await p.waitForBytes(7, 2000);
    expect(p.data().toString()).toBe('stalled');
  });

  it('toxics run in creation order: limit_data before slicer cuts first', async () => {
    const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const source = await startSource(HOST, payload);
    try {
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'limit_data', attributes: { bytes: 5 } });
      await addToxic(target, 'p', { type: 'slicer', attributes: { average_size: 2, delay: 20_000 } });
      const p = await probe(proxy.listen);
      const ended = await within(p.ended, 3000, 'open');
      expect(ended).not.toBe('open');
      expect(p.data().toString()).toBe('abcde');
      expect(p.arrivals.length).toBeGreaterThan(1); // sliced after the cut, 20 ms apart
    } finally {
      await source.close();
    }
  });

  it('a reset_peer present at connect turns a close into RST even at toxicity 0', async () => {
    const source = await startSource(HOST, Buffer.from('bye'), true);
    try {
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'reset_peer', toxicity: 0, stream: 'upstream' });
      const p = await probe(proxy.listen);
      const ended = await within(p.ended, 2000, 'open');
      expect(ended).toMatchObject({ how: 'ECONNRESET' });
    } finally {
      await source.close();
    }
  });
});

describe('no listener or socket left behind', () => {
  it('DELETE closes the listener and every socket of the proxy', async () => {
    const sink = await startSink(HOST);
    try {
      const proxy = await createProxy(target, 'p', sink.address);
      const clients = await Promise.all([probe(proxy.listen), probe(proxy.listen), probe(proxy.listen)]);
      await sink.accepted(3);
      expect(server.counts()).toEqual({ listeners: 1, sockets: 6 });
      await http(target, 'DELETE', '/proxies/p');
      expect(await eventually(() => server.counts().sockets === 0, 2000)).toBe(true);
      expect(server.counts().listeners).toBe(0);
      expect(await connectOutcome(proxy.listen)).toBe('ECONNREFUSED');
      for (const c of clients) expect(await within(c.ended, 1000, 'open')).not.toBe('open');
    } finally {
      await sink.close();
    }
  });

  it('connections closed by the peer are forgotten (server-side count returns to zero)', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    const p = await probe(proxy.listen);
    await roundTripMs(p, 'x');
    expect(server.counts().sockets).toBe(2);
    p.socket.end();
    expect(await eventually(() => server.counts().sockets === 0, 2000)).toBe(true);
    expect(server.counts().listeners).toBe(1);
  });

  it('a timeout toxic removed by /reset closes its connections; proxies stay listening', async () => {
    const proxy = await createProxy(target, 'p', echo.address);
    await addToxic(target, 'p', { type: 'timeout', attributes: { timeout: 0 } });
    const p = await probe(proxy.listen);
    // Upstream data arriving proves the proxied connection (and its links) exists.
    const seen = echo.received.length;
    p.socket.write('x');
    expect(await eventually(() => echo.received.slice(seen).some((r) => r.data.length > 0), 2000)).toBe(true);
    expect((await http(target, 'POST', '/reset')).status).toBe(204);
    expect(await within(p.ended, 1000, 'open')).not.toBe('open');
    expect(await eventually(() => server.counts().sockets === 0, 2000)).toBe(true);
    expect(server.counts().listeners).toBe(1);
  });

  it('close() stops the API and every proxy; no handle of ours stays active', async () => {
    const getHandles = (): unknown[] =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    const before = getHandles().length;
    const local = await startToxiproxyServer({ host: HOST, port: 0 });
    const localTarget: Target = { url: local.url, host: HOST, close: () => local.close() };
    const a = await createProxy(localTarget, 'a', echo.address);
    const b = await createProxy(localTarget, 'b', echo.address, { enabled: true });
    await addToxic(localTarget, 'a', { type: 'latency', attributes: { latency: 10_000 } });
    const pa = await connectProbe(a.listen);
    pa.socket.write('pending in a latency toxic');
    const pb = await connectProbe(b.listen);
    await eventually(() => local.counts().sockets === 4, 1000);
    await local.close();
    expect(local.counts()).toEqual({ listeners: 0, sockets: 0 });
    expect(await connectOutcome(a.listen)).toBe('ECONNREFUSED');
    expect(await connectOutcome(b.listen)).toBe('ECONNREFUSED');
    expect(await connectOutcome(`${HOST}:${local.port}`)).toBe('ECONNREFUSED');
    expect(await within(pa.ended, 1000, 'open')).not.toBe('open');
    expect(await within(pb.ended, 1000, 'open')).not.toBe('open');
    pa.socket.destroy();
    pb.socket.destroy();
    // The fetch keep-alive pool may hold a closed socket briefly; allow it to settle.
    expect(await eventually(() => getHandles().length <= before, 3000)).toBe(true);
    await local.close(); // idempotent
  });
});
