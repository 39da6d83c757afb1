/**
 * DNS message exchange with one server, as a stub resolver does it (RFC 1035 §4.2, RFC 7766
 * §5): over UDP by default, and again over TCP when the UDP answer comes back truncated (TC);
 * or over TCP only when asked. One query, one answer, one overall deadline shared by the UDP
 * attempt and its TCP retry.
 *
 * Over UDP a lost query or answer is silence (the deadline passes); an answer is taken only
 * from the server's address and port and only with the query's id, so a stray or spoofed
 * datagram is ignored rather than believed. The socket is not connected, so an ICMP "port
 * unreachable" is silence too, as it is behind most firewalls.
 *
 * Used by the DNS witness client (dns-witness.ts), which decides what an answer means.
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
}

/** Send `query` and return the decoded answer; throws an Error saying what went wrong. */
export async function exchangeDns(
  server: DnsServer,
  query: dnsPacket.Packet,
): Promise<dnsPacket.DecodedPacket> {
  const deadlineMs = performance.now() + server.timeoutMs;
  if (server.transport === 'tcp') return exchangeTcp(server, query, server.timeoutMs);
  const reply = await exchangeUdp(server, query, server.timeoutMs);
  if (!reply.flag_tc) return reply;
  // Truncated: the full answer only fits a stream; retry over TCP within what is left.
  const leftMs = Math.max(1, deadlineMs - performance.now());
  return exchangeTcp(server, query, leftMs);
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

function exchangeUdp(
  server: DnsServer,
  query: dnsPacket.Packet,
  timeoutMs: number,
): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    let done = false;
    function finish(err: Error | null, reply?: dnsPacket.DecodedPacket) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    }
    socket.on('error', (err) => finish(new Error(`udp error: ${err.message}`)));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host)) return;
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
    socket.send(dnsPacket.encode(query), server.port, server.host, (err) => {
      if (err) finish(new Error(`udp send: ${err.message}`));
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
    let buf = Buffer.alloc(0);
    let done = false;
    function finish(err: Error | null, reply?: dnsPacket.DecodedPacket) {
      if (done) return;
      done = true;
      clearTimeout(timer);
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
