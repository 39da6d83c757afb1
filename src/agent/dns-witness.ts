/**
 * Asks one DNS witness (a recursive resolver) for `<peer>.regions.<zone>` A and reports what
 * came back: the rcode and the A addresses, or why nothing usable did. The message exchange is
 * src/dns/exchange.ts; what an answer means (reachable / unreachable / unknown) is decided once
 * for every executor by src/controller/witness-verdict.ts, which the driver applies to this
 * observation.
 */
import dnsPacket from 'dns-packet';
import {
  type WitnessAddresses,
  type WitnessJudgement,
  type WitnessObservation,
  witnessVerdict,
} from '../controller/witness-verdict.ts';
import { exchangeDns } from '../dns/exchange.ts';

export interface WitnessQuery {
  host: string;
  port: number;
  name: string;
  transport: 'udp' | 'tcp';
  timeoutMs: number;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** One query; never throws (a transport failure becomes `{ error }`). */
export async function queryWitness(q: WitnessQuery): Promise<WitnessObservation> {
  const id = Math.floor(Math.random() * 65_536);
  const query: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: q.name }],
  };
  try {
    // UDP with the stub resolver's TCP retry on truncation, or TCP only (src/dns/exchange.ts).
    return observation(await exchangeDns(q, query));
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** The rcode name and A addresses of a decoded reply. */
export function observation(reply: dnsPacket.DecodedPacket): WitnessObservation {
  const rcodeNum = (reply.flags ?? 0) & 0xf;
  return {
    rcode: RCODES[rcodeNum] ?? `RCODE${rcodeNum}`,
    addresses: (reply.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : [])),
  };
}

type Addressed = { reachableAddress: string; tombstoneAddress: string };
const addressesOf = (q: Addressed): WitnessAddresses => ({
  reachable: q.reachableAddress,
  tombstone: q.tombstoneAddress,
});

/** Query plus verdict, for callers outside the controller loop (diagnostics, tests). */
export async function askWitness(q: WitnessQuery & Addressed): Promise<WitnessJudgement> {
  return witnessVerdict(await queryWitness(q), addressesOf(q));
}

/** The verdict on one decoded reply. */
export function classify(reply: dnsPacket.DecodedPacket, q: Addressed): WitnessJudgement {
  return witnessVerdict(observation(reply), addressesOf(q));
}
