/**
 * Asks one DNS witness (a recursive resolver) for `<peer>.regions.<zone>` A and maps the
 * outcome to a verdict exactly as docs/engineering.md "DNS design" says:
 *   answer = the peer's app address      → reachable
 *   answer = the tombstone address       → unreachable
 *   SERVFAIL / REFUSED                   → unreachable (the witness could not reach the peer's authoritatives)
 *   timeout, transport error, anything else (NXDOMAIN, foreign address, garbage) → unknown
 * Unknown is never unreachable under the default policy; the core decides how to count it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { WitnessVerdict } from '../controller/types.ts';

export interface WitnessQuery {
  host: string;
  port: number;
  name: string;
  transport: 'udp' | 'tcp';
  timeoutMs: number;
  reachableAddress: string;
  tombstoneAddress: string;
}

export interface WitnessAnswer {
  verdict: WitnessVerdict;
  /** raw outcome for logs and histories, e.g. "NOERROR 127.0.1.10", "SERVFAIL", "timeout" */
  detail: string;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export async function askWitness(q: WitnessQuery): Promise<WitnessAnswer> {
  const id = Math.floor(Math.random() * 65_536);
  const query: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: q.name }],
  };
  let reply: dnsPacket.DecodedPacket;
  try {
    reply = q.transport === 'tcp' ? await exchangeTcp(q, query) : await exchangeUdp(q, query);
    // A truncated UDP answer is retried over TCP, as a stub resolver would.
    if (q.transport === 'udp' && reply.flag_tc) reply = await exchangeTcp(q, query);
  } catch (err) {
    return { verdict: 'unknown', detail: err instanceof Error ? err.message : String(err) };
  }
  return classify(reply, q);
}

export function classify(
  reply: dnsPacket.DecodedPacket,
  q: Pick<WitnessQuery, 'reachableAddress' | 'tombstoneAddress'>,
) {
  const rcodeNum = (reply.flags ?? 0) & 0xf;
  const rcode = RCODES[rcodeNum] ?? `RCODE${rcodeNum}`;
  if (rcode === 'SERVFAIL' || rcode === 'REFUSED') return { verdict: 'unreachable' as const, detail: rcode };
  if (rcode !== 'NOERROR') return { verdict: 'unknown' as const, detail: rcode };
  const addrs = (reply.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
  const detail = `NOERROR ${addrs.join(',') || '(no A)'}`;
  if (addrs.includes(q.reachableAddress)) return { verdict: 'reachable' as const, detail };
  if (addrs.length > 0 && addrs.every((a) => a === q.tombstoneAddress))
    return { verdict: 'unreachable' as const, detail };
  return { verdict: 'unknown' as const, detail };
}

function exchangeUdp(q: WitnessQuery, query: dnsPacket.Packet): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(q.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('timeout')), q.timeoutMs);
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
    socket.on('message', (msg) => {
      try {
        const reply = dnsPacket.decode(msg);
        if (reply.id !== query.id) return; // not ours (late answer to someone else)
        finish(null, reply);
      } catch (err) {
        finish(new Error(`undecodable reply: ${(err as Error).message}`));
      }
    });
    socket.send(dnsPacket.encode(query), q.port, q.host, (err) => {
      if (err) finish(new Error(`udp send: ${err.message}`));
    });
  });
}

function exchangeTcp(q: WitnessQuery, query: dnsPacket.Packet): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: q.host, port: q.port });
    const timer = setTimeout(() => finish(new Error('timeout')), q.timeoutMs);
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
