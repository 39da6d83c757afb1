/**
 * The one rule that turns what a DNS witness answered for `<region>.regions.<zone>` into a
 * vote, as docs/engineering.md "DNS design" specifies it. Production (src/agent/dns-witness.ts
 * supplies the observation) and the simulator (its unbound model does) both go through here,
 * via the driver:
 *   an answer is the region's app address            → reachable (any matching answer counts)
 *   every answer is the tombstone address            → unreachable
 *   timeout, transport error, SERVFAIL, REFUSED, NXDOMAIN, no answer, a foreign address → unknown
 * SERVFAIL is not evidence against the peer: it says the witness could not get an answer from
 * any authoritative (it may be the witness that is cut off, e.g. every witness→authoritative
 * path down), so counting it as "unreachable" let a failover rest on witnesses that saw
 * nothing — the checker's promotion-evidence (issue #12) rejects exactly that.
 * Unknown is never unreachable here; the core's policy decides how to count it.
 */
import type { WitnessVerdict } from './types.ts';

/** What came back from one witness: a DNS reply (rcode name + A addresses) or a transport failure. */
export type WitnessObservation = { rcode: string; addresses: string[] } | { error: string };

/** The two addresses a region's name can resolve to. */
export interface WitnessAddresses {
  reachable: string;
  tombstone: string;
}

export interface WitnessJudgement {
  verdict: WitnessVerdict;
  /** raw outcome for logs and histories, e.g. "NOERROR 127.0.1.10", "SERVFAIL", "timeout" */
  detail: string;
}

export function witnessVerdict(o: WitnessObservation, addresses: WitnessAddresses): WitnessJudgement {
  if ('error' in o) return { verdict: 'unknown', detail: o.error };
  if (o.rcode !== 'NOERROR') return { verdict: 'unknown', detail: o.rcode };
  const addrs = o.addresses;
  const detail = `NOERROR ${addrs.join(',') || '(no A)'}`;
  if (addrs.includes(addresses.reachable)) return { verdict: 'reachable', detail };
  if (addrs.length > 0 && addrs.every((a) => a === addresses.tombstone)) {
    return { verdict: 'unreachable', detail };
  }
  return { verdict: 'unknown', detail };
}
