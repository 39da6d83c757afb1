/**
 * One DNS question to one resolver at host:port, over UDP or TCP, with dns-packet.
 * node:dns Resolver cannot force TCP and hides the rcode behind error codes; a game-day
 * dns probe needs both the rcode and the exact answer set.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';

export interface DnsResult {
  rcode: string;
  answers: string[];
}

export function splitHostPort(hostPort: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!m) throw new Error(`invalid host:port "${hostPort}"`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
}

export async function dnsQuery(opts: {
  server: string;
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
  signal: AbortSignal;
}): Promise<DnsResult> {
  const { host, port } = splitHostPort(opts.server, 53);
  const id = Math.floor(Math.random() * 65535);
  const query: packet.Packet = {
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: opts.type as packet.RecordType, name: opts.name.replace(/\.$/, '') }],
  };
  const reply =
    opts.transport === 'tcp'
      ? await viaTcp(host, port, query, opts.signal)
      : await viaUdp(host, port, query, id, opts.signal);
  // dns-packet decodes the rcode; its type definitions do not declare it.
  const rcode = (reply as packet.Packet & { rcode?: string }).rcode ?? 'NOERROR';
  return {
    rcode: rcode.toUpperCase(),
    answers: (reply.answers ?? []).filter((a) => a.type === opts.type).map(formatAnswer),
  };
}

function viaUdp(
  host: string,
  port: number,
  query: packet.Packet,
  id: number,
  signal: AbortSignal,
): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const done = (err: Error | null, p?: packet.Packet) => {
      signal.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(p!);
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) {
      sock.close();
      reject(new Error('aborted'));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      try {
        const p = packet.decode(msg);
        if (p.id === id) done(null, p);
      } catch {
        // Not a DNS reply for us: keep waiting until the probe timeout.
      }
    });
    sock.send(packet.encode(query), port, host, (err) => {
      if (err) done(err);
    });
  });
}

function viaTcp(
  host: string,
  port: number,
  query: packet.Packet,
  signal: AbortSignal,
): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, p?: packet.Packet) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(p!);
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) {
      sock.destroy();
      reject(new Error('aborted'));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => sock.write(packet.streamEncode(query)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        try {
          done(null, packet.streamDecode(buf));
        } catch (e) {
          done(e as Error);
        }
      }
    });
    sock.on('error', (e) => done(e));
    sock.on('end', () => done(new Error('connection closed before a full reply')));
  });
}

function formatAnswer(a: packet.Answer): string {
  const data = (a as { data?: unknown }).data;
  switch (a.type) {
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
    }
    case 'MX': {
      const d = data as { preference: number; exchange: string };
      return `${d.preference} ${d.exchange}`;
    }
    case 'SRV': {
      const d = data as { priority: number; weight: number; port: number; target: string };
      return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    }
    case 'SOA':
      return (data as { mname: string }).mname;
    default:
      return String(data);
  }
}

/** Answers compare case-insensitively and without the trailing dot. */
export function normalizeAnswer(s: string): string {
  return s.trim().toLowerCase().replace(/\.$/, '');
}
