/**
 * `promotion-evidence`: every promotion is backed by the lease store's grant to that region
 * under that epoch, and every failover by a quorum (from the spec) of distinct witnesses whose
 * answers, observed on the witness path during the candidate's current round, said
 * "unreachable". The core's own promotion-evidence event only says which gate it claims
 * (basis) and which epoch; its vote tally and `leaseGranted` are not trusted.
 */

import type {
  LeaseStoreEvent,
  PromotionEvidenceEvent,
  RegionId,
  RoleEvent,
  WitnessEvent,
} from '../../contracts/history.ts';
import { eventsOfKind, eventsOfKinds, type Facts, firstIndexAtOrAfter, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

/** A witness answer counts as "unreachable" only when the witness saw the region down (tombstone). */
export function isUnreachableAnswer(w: WitnessEvent): boolean {
  if (w.verdict !== 'unreachable') return false;
  const d = (w.detail ?? '').toUpperCase();
  // SERVFAIL/REFUSED: the witness reached no authoritative at all; a timeout says nothing either
  return !(d.startsWith('SERVFAIL') || d.startsWith('REFUSED') || d.includes('TIMEOUT'));
}

interface RoundVotes {
  /** witness → its latest answer in the round */
  latest: Map<string, WitnessEvent>;
  unreachable: string[];
  fromT: number;
}

/**
 * The candidate's current round: the answers the witness path carried in the round that made
 * it a candidate — from one witness-round timeout (+ a round trip) before it became candidate
 * up to that decision. Answers after the decision did not back it; earlier rounds are stale.
 */
function roundVotes(f: Facts, promo: RoleEvent): RoundVotes {
  const spec = f.spec;
  let decision: RoleEvent = promo;
  for (const r of f.roles) {
    if (r === promo || r.t > promo.t) break;
    if (r.region === promo.region && r.to === 'candidate' && r.from !== 'candidate') decision = r;
  }
  const fromT = decision.t - (spec ? spec.witnessRoundTimeoutMs + 2 * spec.maxDelayMs : 0);
  const latest = new Map<string, WitnessEvent>();
  const events = f.events;
  // nothing before fromT counts (time order: start there)
  for (let i = firstIndexAtOrAfter(events, fromT); i < events.length; i++) {
    const ev = events[i]!;
    if (ev === decision || ev.t > decision.t) break;
    if (ev.kind !== 'witness' || ev.t < fromT || ev.region !== promo.region || ev.target === promo.region)
      continue;
    latest.set(ev.witness, ev);
  }
  const unreachable = [...latest.values()].filter(isUnreachableAnswer).map((w) => w.witness);
  return { latest, unreachable, fromT };
}

/** How far after a promotion a polled lease-store observation may show the grant that preceded it. */
function storeSlackMs(f: Facts): number {
  const obs = f.spec?.leaseStore;
  if (!obs || obs.precision === 'exact') return 0;
  return obs.intervalMs + (f.spec?.heartbeatMs ?? 0) / 2;
}

/** Did the lease store grant `region` epoch `epoch` (observed by the store's observer)? */
function storeGranted(f: Facts, region: RegionId, epoch: number | null, t: number): LeaseStoreEvent | null {
  const until = t + storeSlackMs(f);
  for (const ev of eventsOfKind(f, 'lease-store')) {
    if (ev.t > until) break;
    if (ev.holder === region && (epoch === null || ev.epoch === epoch)) return ev;
  }
  return null;
}

/** Fallback when no store observer ran (legacy-kv on the real topology): the adapter's lease result. */
function adapterGranted(f: Facts, region: RegionId, epoch: number | null, t: number): boolean {
  return eventsOfKind(f, 'lease').some(
    (ev) =>
      ev.t <= t &&
      ev.phase === 'result' &&
      ev.ok === true &&
      ev.region === region &&
      ev.holder === region &&
      (epoch === null || ev.epoch === epoch),
  );
}

function needsQuorum(evidence: PromotionEvidenceEvent | undefined): boolean {
  if (!evidence) return true;
  return (
    evidence.basis === 'failover' || (evidence.basis === undefined && evidence.approvedBy !== 'operator')
  );
}

export function checkPromotionEvidence(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const quorum = f.spec?.witnessQuorum ?? 1;
  const storeObserved = eventsOfKind(f, 'lease-store').length > 0;
  const claimed = new Map<RegionId, PromotionEvidenceEvent>();
  let promotions = 0;
  let failovers = 0;
  for (const ev of eventsOfKinds(f, 'promotion-evidence', 'role')) {
    if (ev.kind === 'promotion-evidence') {
      claimed.set(ev.region, ev);
      continue;
    }
    if (ev.kind !== 'role' || ev.to !== 'primary') continue;
    promotions++;
    const evidence = claimed.get(ev.region);
    claimed.delete(ev.region); // a claim backs one promotion only
    const fail = (detail: string, seqs: number[]) =>
      violations.push({ invariant: 'promotion-evidence', at: ev.t, detail, events: seqs });
    const seqs = evidence ? [evidence.seq, ev.seq] : [ev.seq];
    const epoch = ev.epoch ?? evidence?.epoch ?? null;
    if (evidence && ev.epoch !== null && evidence.epoch !== ev.epoch) {
      fail(
        `ctl-${ev.region} became primary under epoch ${ev.epoch} but claims evidence for epoch ${evidence.epoch}`,
        seqs,
      );
      continue;
    }
    const grant = storeObserved ? storeGranted(f, ev.region, epoch, ev.t) : null;
    if (storeObserved ? grant === null : !adapterGranted(f, ev.region, epoch, ev.t)) {
      fail(
        storeObserved
          ? `ctl-${ev.region} became primary (epoch ${epoch ?? '?'}) but the lease store was never observed granting it that epoch`
          : `ctl-${ev.region} became primary (epoch ${epoch ?? '?'}) but no lease answer granted it that epoch (no lease-store observer in this history)`,
        seqs,
      );
      continue;
    }
    if (!needsQuorum(evidence)) continue;
    failovers++;
    const round = roundVotes(f, ev);
    if (round.unreachable.length < quorum) {
      const seen = [...round.latest.values()].map(
        (w) => `${w.witness}=${w.verdict}${w.detail ? ` (${w.detail})` : ''}`,
      );
      fail(
        `ctl-${ev.region} failed over (epoch ${epoch ?? '?'}) backed by ${round.unreachable.length} witness(es) observed saying "unreachable" since t=${fmtS(round.fromT)}, spec quorum ${quorum}${seen.length ? `: ${seen.join(', ')}` : ''}`,
        [...seqs, ...[...round.latest.values()].map((w) => w.seq)],
      );
    }
  }
  return outcome(
    'promotion-evidence',
    'safety',
    violations,
    `${promotions} promotions, each backed by the lease store's grant${failovers > 0 ? `; ${failovers} failovers, each by ≥ ${quorum} witnesses observed saying "unreachable"` : ''}`,
    promotions > 0,
  );
}
