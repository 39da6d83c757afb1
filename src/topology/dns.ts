/**
 * Minimal DNS client (dns-packet) for the harness: the client workload, readiness checks
 * and fault verification. UDP or TCP, one question, a hard timeout. node:dns is not used
 * because it cannot force TCP and reports SERVFAIL/REFUSED only as error codes.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import packet from 'dns-packet';

export interface DnsResult {
  rcode: string;
  answers: string[];
  elapsedMs: number;
}

export class DnsTransportError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'transport',
  ) {
    super(message);
  }
}

function extractA(res: packet.Packet): string[] {
  return (res.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: unknown }).data));
}

export async function queryDns(
  server: { host: string; port: number },
  name: string,
  opts: { tcp?: boolean; timeoutMs?: number; type?: 'A' | 'TXT' | 'SOA' } = {},
): Promise<DnsResult> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const id = Math.floor(Math.random() * 65535);
  const q: packet.Packet = {
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: opts.type ?? 'A', name: name.replace(/\.$/, '') }],
  };
  const started = performance.now();
  const res = opts.tcp ? await queryTcp(server, q, timeoutMs) : await queryUdp(server, q, timeoutMs);
  return {
    rcode: (res as { rcode?: string }).rcode ?? 'NOERROR',
    answers: extractA(res),
    elapsedMs: performance.now() - started,
  };
}

function queryUdp(
  server: { host: string; port: number },
  q: packet.Packet,
  timeoutMs: number,
): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new DnsTransportError(`timeout after ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(new DnsTransportError(err.message, 'transport'));
    });
    sock.on('message', (msg) => {
      try {
        const res = packet.decode(msg);
        if (res.id !== q.id) return;
        clearTimeout(timer);
        sock.close();
        resolve(res);
      } catch (err) {
        clearTimeout(timer);
        sock.close();
        reject(new DnsTransportError(`bad reply: ${(err as Error).message}`, 'transport'));
      }
    });
    sock.send(packet.encode(q), server.port, server.host);
  });
}

function queryTcp(
  server: { host: string; port: number },
  q: packet.Packet,
  timeoutMs: number,
): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const sock = connect({ host: server.host, port: server.port });
    const finish = (err: Error | null, res?: packet.Packet) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(
      () => finish(new DnsTransportError(`timeout after ${timeoutMs} ms`, 'timeout')),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(packet.streamEncode(q)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        try {
          finish(null, packet.streamDecode(buf));
        } catch (err) {
          finish(new DnsTransportError(`bad reply: ${(err as Error).message}`, 'transport'));
        }
      }
    });
    sock.on('error', (err) => finish(new DnsTransportError(err.message, 'transport')));
    sock.on('close', () => finish(new DnsTransportError('connection closed before a reply', 'transport')));
  });
}
