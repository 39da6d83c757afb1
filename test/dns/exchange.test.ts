/**
 * The witness client's transport (src/dns/exchange.ts) against real DNS servers on
 * loopback, built here with dns-packet: UDP answers, the TCP retry when the UDP answer is
 * truncated, silence as a timeout, and datagrams from the wrong source or with the wrong id
 * ignored. Timeouts are asserted as outcomes ("timeout"), never as durations.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { exchangeDns } from '../../src/dns/exchange.ts';

const HOST = '127.0.34.1';

interface FakeServer {
  port: number;
  udpQueries: number;
  tcpQueries: number;
  close(): Promise<void>;
}

type UdpBehaviour = 'answer' | 'truncate' | 'silent' | 'wrong-id-then-answer' | 'from-other-port';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function answerTo(query: dnsPacket.DecodedPacket, address: string, truncated = false): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_DESIRED,
    questions: query.questions,
    answers: truncated ? [] : [{ type: 'A', name: query.questions![0]!.name, ttl: 1, data: address }],
  });
}

/** A UDP+TCP server on one port: UDP per `behaviour`, TCP always answers 127.0.0.99. */
async function startServer(behaviour: UdpBehaviour): Promise<FakeServer> {
  const tcp: Server = createServer((socket) => {
    socket.on('data', (data) => {
      state.tcpQueries++;
      const query = dnsPacket.decode(data.subarray(2));
      const reply = answerTo(query, '127.0.0.99');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(reply.length);
      socket.end(Buffer.concat([len, reply]));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => tcp.listen(0, HOST, resolve));
  const port = (tcp.address() as { port: number }).port;
  const udp: DgramSocket = createSocket('udp4');
  const other: DgramSocket = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, HOST, resolve));
  await new Promise<void>((resolve) => other.bind(0, HOST, resolve));
  const state: FakeServer = {
    port,
    udpQueries: 0,
    tcpQueries: 0,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => other.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  udp.on('message', (msg, rinfo) => {
    state.udpQueries++;
    const query = dnsPacket.decode(msg);
    const reply = (data: Buffer, via: DgramSocket = udp) => via.send(data, rinfo.port, rinfo.address);
    if (behaviour === 'answer') reply(answerTo(query, '127.0.0.10'));
    if (behaviour === 'truncate') reply(answerTo(query, '127.0.0.10', true));
    if (behaviour === 'wrong-id-then-answer') {
      reply(answerTo({ ...query, id: (query.id! + 1) % 65_536 }, '127.0.0.66'));
      setTimeout(() => reply(answerTo(query, '127.0.0.10')), 20);
    }
    if (behaviour === 'from-other-port') reply(answerTo(query, '127.0.0.66'), other);
  });
  closers.push(state.close);
  return state;
}

const query = (): dnsPacket.Packet => ({
  type: 'query',
  id: 4242,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type: 'A', name: 'b.regions.app.example' }],
});

const addressesOf = (reply: dnsPacket.DecodedPacket): string[] =>
  (reply.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));

describe('DNS witness transport', () => {
  it('UDP: one datagram each way, no TCP', async () => {
    const s = await startServer('answer');
    const reply = await exchangeDns({ host: HOST, port: s.port, transport: 'udp', timeoutMs: 2000 }, query());
    expect(addressesOf(reply)).toEqual(['127.0.0.10']);
    expect([s.udpQueries, s.tcpQueries]).toEqual([1, 0]);
  });

  it('UDP answer truncated (TC) → the same query again over TCP, whose answer wins', async () => {
    const s = await startServer('truncate');
    const reply = await exchangeDns({ host: HOST, port: s.port, transport: 'udp', timeoutMs: 2000 }, query());
    expect(addressesOf(reply)).toEqual(['127.0.0.99']);
    expect(reply.flag_tc).toBe(false);
    expect([s.udpQueries, s.tcpQueries]).toEqual([1, 1]);
  });

  it('TCP selected: no UDP at all', async () => {
    const s = await startServer('answer');
    const reply = await exchangeDns({ host: HOST, port: s.port, transport: 'tcp', timeoutMs: 2000 }, query());
    expect(addressesOf(reply)).toEqual(['127.0.0.99']);
    expect([s.udpQueries, s.tcpQueries]).toEqual([0, 1]);
  });

  it('UDP silence is a timeout, not a reset', async () => {
    const s = await startServer('silent');
    await expect(
      exchangeDns({ host: HOST, port: s.port, transport: 'udp', timeoutMs: 300 }, query()),
    ).rejects.toThrow('timeout');
    expect(s.udpQueries).toBe(1);
  });

  it('a reply with another id is ignored and the real one is taken', async () => {
    const s = await startServer('wrong-id-then-answer');
    const reply = await exchangeDns({ host: HOST, port: s.port, transport: 'udp', timeoutMs: 2000 }, query());
    expect(addressesOf(reply)).toEqual(['127.0.0.10']);
  });

  it('nothing listening: refused at once (ICMP port unreachable), not a timeout', async () => {
    const s = await startServer('answer');
    const port = s.port;
    await closers.pop()!();
    await expect(
      exchangeDns({ host: HOST, port, transport: 'udp', timeoutMs: 30_000 }, query()),
    ).rejects.toThrow('udp error: ECONNREFUSED');
  });

  it('a reply from another port than the server is ignored (timeout)', async () => {
    const s = await startServer('from-other-port');
    await expect(
      exchangeDns({ host: HOST, port: s.port, transport: 'udp', timeoutMs: 300 }, query()),
    ).rejects.toThrow('timeout');
  });
});
