/**
 * The harness's DNS questions: the client workload, readiness checks, the DNS observer and
 * fault verification. One question, one hard timeout, the rcode and the A answers. The
 * message exchange is the project's one DNS client, src/dns/exchange.ts (connected UDP, so a
 * closed port is refused at once rather than timing out; TCP when asked or on truncation).
 * node:dns is not used because it cannot force TCP and reports SERVFAIL/REFUSED only as error
 * codes.
 */
import packet from 'dns-packet';
import { exchangeDns } from '../dns/exchange.ts';

export interface DnsResult {
  rcode: string;
  answers: string[];
  elapsedMs: number;
}

function extractA(res: packet.Packet): string[] {
  return (res.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: unknown }).data));
}

/** Throws an Error whose message says what went wrong ("timeout", "udp error: ECONNREFUSED", ...). */
export async function queryDns(
  server: { host: string; port: number },
  name: string,
  opts: { tcp?: boolean; timeoutMs?: number; type?: 'A' | 'TXT' | 'SOA' } = {},
): Promise<DnsResult> {
  const q: packet.Packet = {
    type: 'query',
    id: Math.floor(Math.random() * 65_536),
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: opts.type ?? 'A', name: name.replace(/\.$/, '') }],
  };
  const started = performance.now();
  const res = await exchangeDns(
    {
      host: server.host,
      port: server.port,
      transport: opts.tcp ? 'tcp' : 'udp',
      timeoutMs: opts.timeoutMs ?? 1000,
    },
    q,
  );
  return {
    rcode: (res as { rcode?: string }).rcode ?? 'NOERROR',
    answers: extractA(res),
    elapsedMs: performance.now() - started,
  };
}
