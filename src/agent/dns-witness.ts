/**
 * Asks one DNS witness (a recursive resolver) for `<peer>.regions.<zone>` A and maps the
 * outcome to a verdict exactly as docs/engineering.md "DNS design" says:
 *   answer = the peer's app address      → reachable
 *   answer = the tombstone address       → unreachable
 *   SERVFAIL / REFUSED                   → unreachable (the witness could not reach the peer's authoritatives)
 *   timeout, transport error, anything else (NXDOMAIN, foreign address, garbage) → unknown
 * Unknown is never unreachable under the default policy; the core decides how to count it.
 */
import dnsPacket from 'dns-packet';
import type { WitnessVerdict } from '../controller/types.ts';
import { exchangeDns } from './dns-transport.ts';

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
    // UDP with the stub resolver's TCP retry on truncation, or TCP only (dns-transport.ts).
    reply = await exchangeDns(q, query);
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
