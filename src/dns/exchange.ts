/**
 * DNS message exchange with one server, as a stub resolver does it (RFC 1035 §4.2, RFC 7766
 * §5): over UDP by default, and again over TCP when the UDP answer comes back truncated (TC);
 * or over TCP only when asked. One query, one answer, one overall deadline shared by the UDP
 * attempt and its TCP retry.
 *
 * Over UDP a lost query or answer is silence (the deadline passes). The socket is connected
 * to the server, as glibc's and unbound's are: the kernel then delivers only the server's
 * datagrams, and an ICMP "port unreachable" (nothing listens there) fails the query at once
 * as `udp error: ECONNREFUSED` instead of waiting out the deadline: a refused server and a
 * silent one stay different outcomes. An answer with another id is ignored, not believed.
 *
 * The one DNS client of the project: the controller's witness client (src/agent/dns-witness.ts),
 * which decides what an answer means, the lab's probes (src/topology/dns.ts) and the game-day
 * dns probe all exchange messages through here. An optional AbortSignal ends the exchange early
 * (a game-day probe's own deadline).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export type DnsTransport = 'udp' | 'tcp';

export interface DnsServer {
  host: string;
  port: number;
  transport: DnsTransport;
  timeoutMs: number;
  /** Ends the exchange at once with the signal's reason (or "aborted"). */
  signal?: AbortSignal;
}

/** Send `query` and return the decoded answer; throws an Error saying what went wrong. */
export async function exchangeDns(
  server: DnsServer,
  query: dnsPacket.Packet,
): Promise<dnsPacket.DecodedPacket> {
  const deadlineMs = performance.now() + server.timeoutMs;
  if (server.signal?.aborted) throw abortReason(server.signal);
  if (server.transport === 'tcp') return exchangeTcp(server, query, server.timeoutMs);
  const reply = await exchangeUdp(server, query, server.timeoutMs);
  if (!reply.flag_tc) return reply;
  // Truncated: the full answer only fits a stream; retry over TCP within what is left.
  const leftMs = Math.max(1, deadlineMs - performance.now());
  return exchangeTcp(server, query, leftMs);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Calls `finish` with the abort reason when `signal` fires; returns the unsubscribe. */
function onAbort(signal: AbortSignal | undefined, finish: (err: Error) => void): () => void {
  if (!signal) return () => {};
  const listener = () => finish(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

function exchangeUdp(
  server: DnsServer,
  query: dnsPacket.Packet,
  timeoutMs: number,
): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const unsubscribe = onAbort(server.signal, (err) => finish(err));
    let done = false;
    function finish(err: Error | null, reply?: dnsPacket.DecodedPacket) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    }
    socket.on('error', (err) =>
      finish(new Error(`udp error: ${(err as NodeJS.ErrnoException).code ?? err.message}`)),
    );
    socket.on('message', (msg) => {
      let reply: dnsPacket.DecodedPacket;
      try {
        reply = dnsPacket.decode(msg);
      } catch (err) {
        finish(new Error(`undecodable reply: ${(err as Error).message}`));
        return;
      }
      if (reply.id !== query.id) return; // a late answer to an earlier query: keep waiting
      finish(null, reply);
    });
    socket.connect(server.port, server.host, () => {
      socket.send(dnsPacket.encode(query), (err) => {
        if (err) finish(new Error(`udp send: ${err.message}`));
      });
    });
  });
}

function exchangeTcp(
  server: DnsServer,
  query: dnsPacket.Packet,
  timeoutMs: number,
): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const unsubscribe = onAbort(server.signal, (err) => finish(err));
    let buf = Buffer.alloc(0);
    let done = false;
    function finish(err: Error | null, reply?: dnsPacket.DecodedPacket) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    }
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(query)));
    socket.on('error', (err) =>
      finish(new Error(`tcp error: ${(err as NodeJS.ErrnoException).code ?? err.message}`)),
    );
    socket.on('close', () => finish(new Error('tcp closed before a reply')));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      try {
        finish(null, dnsPacket.decode(buf.subarray(2, 2 + len)));
      } catch (err) {
        finish(new Error(`undecodable reply: ${(err as Error).message}`));
      }
    });
  });
}
