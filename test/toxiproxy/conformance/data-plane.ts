/**
 * Data-plane cases of the conformance suite (spec §11 B01–B28), registered by
 * ../conformance.test.ts. Timing windows are wide on purpose (shared 2-core CI); they
 * still fail if a toxic is missing, doubled or misdirected. Throughput is never asserted,
 * only that a throttle or delay is not skipped.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addToxic,
  connectOutcome,
  connectProbe,
  createProxy,
  eventually,
  http,
  type Probe,
  sleep,
  startEcho,
  startSink,
  startSource,
  startUpstream,
  type Target,
  type Upstream,
  within,
} from '../helpers.ts';

/** Register the B cases. `getTarget` is called at run time (the target starts in beforeAll). */
export function dataPlaneCases(getTarget: () => Target): void {
  let target: Target;
  const upstreams: Upstream[] = [];
  const probes: Probe[] = [];

  beforeAll(() => {
    target = getTarget();
  });

  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.socket.destroy();
    for (const upstream of upstreams.splice(0)) await upstream.close();
  });

  async function upstream(start: Promise<Upstream>): Promise<Upstream> {
    const u = await start;
    upstreams.push(u);
    return u;
  }

  async function probe(listen: string): Promise<Probe> {
    const p = await connectProbe(listen);
    probes.push(p);
    return p;
  }

  /** Send `text` and return ms until the client has received `text.length` more bytes. */
  async function roundTripMs(p: Probe, text: string): Promise<number> {
    const want = p.data().length + text.length;
    const sentAtMs = performance.now();
    p.socket.write(text);
    const atMs = await p.waitForBytes(want, 5000);
    return atMs - sentAtMs;
  }

  const STILL_OPEN = 'still open';

  describe('B: data plane', () => {
    it('B01 pass-through: a line and 64 KiB come back intact', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      const p = await probe(proxy.listen);
      p.socket.write('hello world\n');
      await p.waitForBytes(12);
      expect(p.data().toString()).toBe('hello world\n');
      const big = Buffer.alloc(64 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      p.socket.write(big);
      await p.waitForBytes(12 + big.length);
      expect(p.data().subarray(12).equals(big)).toBe(true);
    });

    it('B02 upstream down: connect succeeds, then EOF without data', async () => {
      const gone = await startSink(target.host);
      const deadAddress = gone.address;
      await gone.close();
      const proxy = await createProxy(target, 'p', deadAddress);
      const p = await probe(proxy.listen);
      const ended = await within(p.ended, 3000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      expect(p.data().length).toBe(0);
    });

    it('B03 disabled proxy refuses connections', async () => {
      const proxy = await createProxy(target, 'p', 'x:1');
      await http(target, 'POST', '/proxies/p', { enabled: false });
      expect(await connectOutcome(proxy.listen)).toBe('ECONNREFUSED');
    });

    it('B04 disabling kills live connections on both sides', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      const p = await probe(proxy.listen);
      await roundTripMs(p, 'hi');
      const disabledAtMs = performance.now();
      await http(target, 'POST', '/proxies/p', { enabled: false });
      const ended = await within(p.ended, 1500, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      expect((ended as { atMs: number }).atMs - disabledAtMs).toBeLessThan(1500);
      expect(await eventually(() => echo.received[0]?.closedAtMs !== undefined, 1500)).toBe(true);
    });

    it('B05 downstream latency: server gets data at once, client ≈ 200 ms later', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'latency', attributes: { latency: 200 } });
      const p = await probe(proxy.listen);
      const sentAtMs = performance.now();
      const rtt = await roundTripMs(p, 'line\n');
      expect(echo.received[0]!.firstAtMs! - sentAtMs).toBeLessThan(100);
      expect(rtt).toBeGreaterThanOrEqual(150);
      expect(rtt).toBeLessThan(450);
    });

    it('B06 upstream latency: the server receives ≈ 200 ms after the send', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'latency', stream: 'upstream', attributes: { latency: 200 } });
      const p = await probe(proxy.listen);
      const sentAtMs = performance.now();
      const rtt = await roundTripMs(p, 'line\n');
      const serverDelayMs = echo.received[0]!.firstAtMs! - sentAtMs;
      expect(serverDelayMs).toBeGreaterThanOrEqual(150);
      expect(serverDelayMs).toBeLessThan(450);
      expect(rtt - serverDelayMs).toBeLessThan(100); // the echo comes straight back
    });

    it('B07 two latency toxics in one direction add up', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', {
        name: 'l1',
        type: 'latency',
        stream: 'upstream',
        attributes: { latency: 150 },
      });
      await addToxic(target, 'p', {
        name: 'l2',
        type: 'latency',
        stream: 'upstream',
        attributes: { latency: 150 },
      });
      const p = await probe(proxy.listen);
      const rtt = await roundTripMs(p, 'x');
      expect(rtt).toBeGreaterThanOrEqual(250);
      expect(rtt).toBeLessThan(650);
    });

    it('B08 latency is per chunk against read time, not cumulative', async () => {
      // 50 × 1 KiB, a couple of ms apart so that the proxy reads them as separate chunks
      // (back-to-back writes would coalesce into one read and prove nothing).
      const source = await upstream(
        startUpstream(target.host, (socket) => {
          socket.setNoDelay(true);
          let sent = 0;
          const timer = setInterval(() => {
            if (socket.destroyed || sent === 50) {
              clearInterval(timer);
              return;
            }
            socket.write(Buffer.alloc(1024, sent++));
          }, 2);
        }),
      );
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'latency', attributes: { latency: 100 } });
      const p = await probe(proxy.listen);
      const doneAtMs = await p.waitForBytes(50 * 1024, 8000);
      const elapsedMs = doneAtMs - p.connectedAtMs;
      expect(p.arrivals.length).toBeGreaterThan(5); // really several chunks
      expect(elapsedMs).toBeGreaterThanOrEqual(80);
      expect(elapsedMs).toBeLessThan(1500); // cumulative per chunk would be ≥ 50 × 100 ms
    });

    it('B09/B10 latency added to and removed from an open connection', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      const p = await probe(proxy.listen);
      expect(await roundTripMs(p, 'a')).toBeLessThan(100);
      await addToxic(target, 'p', { name: 'lat', type: 'latency', attributes: { latency: 200 } });
      const slow = await roundTripMs(p, 'b');
      expect(slow).toBeGreaterThanOrEqual(150);
      expect(slow).toBeLessThan(450);
      expect((await http(target, 'DELETE', '/proxies/p/toxics/lat')).status).toBe(204);
      expect(await roundTripMs(p, 'c')).toBeLessThan(100);
      expect(await within(p.ended, 50, STILL_OPEN)).toBe(STILL_OPEN);
    });

    it('B11 bandwidth 100 KB/s: 200 000 bytes arrive intact in about 2 s', async () => {
      const sink = await upstream(startSink(target.host));
      const proxy = await createProxy(target, 'p', sink.address);
      await addToxic(target, 'p', { type: 'bandwidth', stream: 'upstream', attributes: { rate: 100 } });
      const p = await probe(proxy.listen);
      const payload = Buffer.alloc(200_000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
      const startMs = performance.now();
      p.socket.end(payload);
      expect(await eventually(() => (sink.received[0]?.data.length ?? 0) >= payload.length, 8000)).toBe(true);
      const elapsedMs = performance.now() - startMs;
      expect(sink.received[0]!.data.equals(payload)).toBe(true);
      expect(elapsedMs).toBeGreaterThanOrEqual(1600);
      // the rate limit is the lower bound; the upper one only says "not stalled" (load-tolerant)
      expect(elapsedMs).toBeLessThan(6000);
    });

    it('B12 bandwidth applies to its direction only', async () => {
      const sink = await upstream(startSink(target.host));
      const proxy = await createProxy(target, 'p', sink.address);
      await addToxic(target, 'p', { type: 'bandwidth', attributes: { rate: 10 } }); // downstream
      const p = await probe(proxy.listen);
      const startMs = performance.now();
      p.socket.write(Buffer.alloc(50_000, 1));
      expect(await eventually(() => (sink.received[0]?.data.length ?? 0) >= 50_000, 3000)).toBe(true);
      expect(performance.now() - startMs).toBeLessThan(2500); // 50 kB at 10 KB/s would take 5 s
    });

    it('B13 timeout drops the data and closes both sides after the inactivity time', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'timeout', attributes: { timeout: 300 } });
      const p = await probe(proxy.listen);
      const sentAtMs = performance.now();
      p.socket.write('line\n');
      const ended = await within(p.ended, 3000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      const closedAfterMs = (ended as { atMs: number }).atMs - sentAtMs;
      expect(closedAfterMs).toBeGreaterThanOrEqual(200);
      expect(closedAfterMs).toBeLessThan(900);
      expect(p.data().length).toBe(0);
      expect(echo.received[0]!.data.toString()).toBe('line\n'); // it reached the server
      expect(await eventually(() => echo.received[0]?.closedAtMs !== undefined, 1500)).toBe(true);
    });

    it('B14 timeout 0 holds the connection until the toxic is removed', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { name: 't', type: 'timeout', attributes: { timeout: 0 } });
      const p = await probe(proxy.listen);
      p.socket.write('line\n');
      expect(await within(p.ended, 1000, STILL_OPEN)).toBe(STILL_OPEN);
      expect(p.data().length).toBe(0);
      expect((await http(target, 'DELETE', '/proxies/p/toxics/t')).status).toBe(204);
      expect(await within(p.ended, 1000, STILL_OPEN)).not.toBe(STILL_OPEN);
    });

    it('B15 removing a timeout toxic from an idle connection closes both sides', async () => {
      const sink = await upstream(startSink(target.host));
      const proxy = await createProxy(target, 'p', sink.address);
      const p = await probe(proxy.listen);
      await sink.accepted(1);
      await addToxic(target, 'p', {
        name: 't',
        type: 'timeout',
        stream: 'upstream',
        attributes: { timeout: 0 },
      });
      await sleep(50);
      expect(await within(p.ended, 50, STILL_OPEN)).toBe(STILL_OPEN);
      await http(target, 'DELETE', '/proxies/p/toxics/t');
      expect(await within(p.ended, 1000, STILL_OPEN)).not.toBe(STILL_OPEN);
      expect(await eventually(() => sink.received[0]?.closedAtMs !== undefined, 1000)).toBe(true);
    });

    it('B16 reset_peer present at connect: the client read fails with ECONNRESET', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
      const p = await probe(proxy.listen);
      p.socket.write('line\n');
      const ended = await within(p.ended, 2000, STILL_OPEN);
      expect(ended).toMatchObject({ how: 'ECONNRESET' });
      expect(p.data().length).toBe(0);
    });

    it('B17 reset_peer with a delay resets ≈ timeout after the data', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'reset_peer', attributes: { timeout: 300 } });
      const p = await probe(proxy.listen);
      const sentAtMs = performance.now();
      p.socket.write('line\n');
      const ended = await within(p.ended, 3000, STILL_OPEN);
      expect(ended).toMatchObject({ how: 'ECONNRESET' });
      const afterMs = (ended as { atMs: number }).atMs - sentAtMs;
      expect(afterMs).toBeGreaterThanOrEqual(250);
      expect(afterMs).toBeLessThan(900);
    });

    it('B18 slow_close: data promptly, EOF ≈ delay later', async () => {
      const source = await upstream(startSource(target.host, Buffer.from('x'), true));
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'slow_close', attributes: { delay: 500 } });
      const p = await probe(proxy.listen);
      const dataAtMs = await p.waitForBytes(1, 2000);
      expect(dataAtMs - p.connectedAtMs).toBeLessThan(200);
      const ended = await within(p.ended, 3000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      const closeDelayMs = (ended as { atMs: number }).atMs - dataAtMs;
      expect(closeDelayMs).toBeGreaterThanOrEqual(400);
      expect(closeDelayMs).toBeLessThan(1200);
    });

    it('B19 slicer: 100 bytes arrive intact in several reads, paced by the delay', async () => {
      const payload = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
      const source = await upstream(startSource(target.host, payload));
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', {
        type: 'slicer',
        attributes: { average_size: 10, size_variation: 0, delay: 1000 },
      });
      const p = await probe(proxy.listen);
      const doneAtMs = await p.waitForBytes(100, 3000);
      expect(p.data().equals(payload)).toBe(true);
      expect(p.arrivals.length).toBeGreaterThan(1);
      expect(doneAtMs - p.arrivals[0]!.atMs).toBeGreaterThanOrEqual(10); // 15 gaps of ≥ 1 ms
    });

    it('B20 limit_data: exactly the limit, then EOF, and the upstream side closes', async () => {
      const source = await upstream(startSource(target.host, Buffer.alloc(150, 0x61)));
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'limit_data', attributes: { bytes: 100 } });
      const p = await probe(proxy.listen);
      const ended = await within(p.ended, 2000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      expect(p.data().length).toBe(100);
      expect(await eventually(() => source.received[0]?.closedAtMs !== undefined, 1500)).toBe(true);
    });

    it('B21 limit_data counts across chunks', async () => {
      const source = await upstream(
        startUpstream(target.host, (socket) => {
          socket.write(Buffer.alloc(60, 1));
          setTimeout(() => {
            if (!socket.destroyed) socket.write(Buffer.alloc(60, 2));
          }, 100);
        }),
      );
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'limit_data', attributes: { bytes: 100 } });
      const p = await probe(proxy.listen);
      const ended = await within(p.ended, 2000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      expect(p.data()).toEqual(Buffer.concat([Buffer.alloc(60, 1), Buffer.alloc(40, 2)]));
    });

    it('B22 limit_data counts per connection', async () => {
      const source = await upstream(startSource(target.host, Buffer.alloc(80, 0x62)));
      const proxy = await createProxy(target, 'p', source.address);
      await addToxic(target, 'p', { type: 'limit_data', attributes: { bytes: 100 } });
      const first = await probe(proxy.listen);
      await first.waitForBytes(80, 2000);
      const second = await probe(proxy.listen);
      await second.waitForBytes(80, 2000);
      expect(second.data().length).toBe(80);
      expect(await within(second.ended, 200, STILL_OPEN)).toBe(STILL_OPEN);
    });

    it('B23/B24 toxicity 0 never applies; updating it to 1 applies to the open connection', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', {
        name: 'lat',
        type: 'latency',
        toxicity: 0,
        attributes: { latency: 500 },
      });
      const p = await probe(proxy.listen);
      expect(await roundTripMs(p, 'a')).toBeLessThan(100);
      await http(target, 'PATCH', '/proxies/p/toxics/lat', { toxicity: 1 });
      const slow = await roundTripMs(p, 'b');
      expect(slow).toBeGreaterThanOrEqual(400);
      expect(slow).toBeLessThan(900);
    });

    it('B25 reset clears toxics on live connections without closing them', async () => {
      const echo = await upstream(startEcho(target.host));
      const proxy = await createProxy(target, 'p', echo.address);
      await addToxic(target, 'p', { type: 'latency', attributes: { latency: 300 } });
      const p = await probe(proxy.listen);
      expect(await roundTripMs(p, 'a')).toBeGreaterThanOrEqual(250);
      expect((await http(target, 'POST', '/reset')).status).toBe(204);
      expect(await roundTripMs(p, 'b')).toBeLessThan(100);
      expect(await within(p.ended, 50, STILL_OPEN)).toBe(STILL_OPEN);
    });

    it('B26 half-close tears the connection down (no reply after the client FIN)', async () => {
      const server = await upstream(
        // A half-open-tolerant server: it would still answer after the client's FIN, so
        // the reply can only be missing because the proxy tore the connection down.
        startUpstream(
          target.host,
          (socket) => {
            socket.once('data', () => {
              setTimeout(() => {
                if (!socket.destroyed && socket.writable) socket.end('reply');
              }, 100);
            });
          },
          { allowHalfOpen: true },
        ),
      );
      const proxy = await createProxy(target, 'p', server.address);
      const p = await probe(proxy.listen);
      p.socket.end('request');
      const ended = await within(p.ended, 2000, STILL_OPEN);
      expect(ended).not.toBe(STILL_OPEN);
      await sleep(200);
      expect(p.data().toString()).toBe('');
      expect(server.received[0]?.data.toString()).toBe('request');
    });

    it('B28 connections are delayed in parallel, not one after another', async () => {
      const sink = await upstream(startSink(target.host));
      const proxy = await createProxy(target, 'p', sink.address);
      await addToxic(target, 'p', { type: 'latency', stream: 'upstream', attributes: { latency: 300 } });
      const a = await probe(proxy.listen);
      const b = await probe(proxy.listen);
      const startMs = performance.now();
      a.socket.write('a');
      await sleep(100);
      b.socket.write('b');
      expect(
        await eventually(() => sink.received.filter((r) => r.firstAtMs !== undefined).length === 2, 3000),
      ).toBe(true);
      const arrivals = sink.received.map((r) => ({ text: r.data.toString(), atMs: r.firstAtMs! - startMs }));
      const atA = arrivals.find((r) => r.text === 'a')!.atMs;
      const atB = arrivals.find((r) => r.text === 'b')!.atMs;
      expect(atA).toBeGreaterThanOrEqual(250);
      expect(atA).toBeLessThan(650);
      expect(atB - atA).toBeGreaterThanOrEqual(50);
      expect(atB - atA).toBeLessThan(300); // serialised would be ≥ 300
    });
  });
}
