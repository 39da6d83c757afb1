/**
 * Fixtures for the UDP conformance suite: an in-process UDP upstream (echo or sink) that
 * records every datagram with its source port and arrival time, and a UDP client that
 * records replies. Real sockets on loopback; nothing is mocked.
 */
import { createSocket, type Socket } from 'node:dgram';
import { splitListen } from './helpers.ts';

export interface Arrival {
  data: Buffer;
  fromPort: number;
  atMs: number;
}

export interface UdpUpstream {
  address: string;
  received: Arrival[];
  /** Distinct source ports seen so far (one per proxy session). */
  sourcePorts(): Set<number>;
  close(): Promise<void>;
}

/** `reply` maps a request to what the upstream sends back (undefined: nothing). */
export async function startUdpUpstream(
  host: string,
  reply: (data: Buffer) => Buffer | undefined = (d) => d,
): Promise<UdpUpstream> {
  const socket = createSocket('udp4');
  const received: Arrival[] = [];
  socket.on('message', (data, rinfo) => {
    received.push({ data, fromPort: rinfo.port, atMs: performance.now() });
    const answer = reply(data);
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    address: `${host}:${socket.address().port}`,
    received,
    sourcePorts: () => new Set(received.map((r) => r.fromPort)),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export const startUdpSink = (host: string): Promise<UdpUpstream> => startUdpUpstream(host, () => undefined);

export interface UdpClient {
  socket: Socket;
  replies: Arrival[];
  /** Errors the socket reported (ECONNREFUSED from an ICMP port unreachable). */
  errors: string[];
  send(data: Buffer | string): number;
  /** Resolves with the arrival time once `n` replies are in, or null after `timeoutMs`. */
  waitForReplies(n: number, timeoutMs: number): Promise<number | null>;
  close(): Promise<void>;
}

/** A client socket connected to a proxy's listen address. */
export async function udpClient(listen: string): Promise<UdpClient> {
  const { host, port } = splitListen(listen);
  const socket = createSocket('udp4');
  const replies: Arrival[] = [];
  const errors: string[] = [];
  socket.on('message', (data, rinfo) =>
    replies.push({ data, fromPort: rinfo.port, atMs: performance.now() }),
  );
  socket.on('error', (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
  await new Promise<void>((resolve) => socket.connect(port, host, resolve));
  let closed = false;
  return {
    socket,
    replies,
    errors,
    send(data) {
      const sentAtMs = performance.now();
      socket.send(typeof data === 'string' ? Buffer.from(data) : data);
      return sentAtMs;
    },
    async waitForReplies(n, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (replies.length < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return replies.length >= n ? replies[n - 1]!.atMs : null;
    },
    close: () =>
      closed
        ? Promise.resolve()
        : new Promise((resolve) => {
            closed = true;
            socket.close(() => resolve());
          }),
  };
}

/** A small deterministic PRNG (mulberry32), so statistical cases cannot flake. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
