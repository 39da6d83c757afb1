/**
 * One DNS question to one resolver at host:port, over UDP or TCP, through the project's one
 * DNS client (src/dns/exchange.ts). node:dns Resolver cannot force TCP and hides the rcode
 * behind error codes; a game-day dns probe needs both the rcode and the exact answer set.
 */
import packet from 'dns-packet';
import { exchangeDns } from '../../dns/exchange.ts';

/** A backstop only: the probe's own deadline arrives through the AbortSignal. */
const EXCHANGE_BACKSTOP_MS = 60_000;

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
  const reply = await exchangeDns(
    { host, port, transport: opts.transport, timeoutMs: EXCHANGE_BACKSTOP_MS, signal: opts.signal },
    query,
  );
  // dns-packet decodes the rcode; its type definitions do not declare it.
  const rcode = (reply as packet.Packet & { rcode?: string }).rcode ?? 'NOERROR';
  return {
    rcode: rcode.toUpperCase(),
    answers: (reply.answers ?? []).filter((a) => a.type === opts.type).map(formatAnswer),
  };
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
