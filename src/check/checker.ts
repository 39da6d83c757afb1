/**
 * The one checker for every executor (simulator, real topology, game days): reads a history
 * (src/check/history.ts) and nothing else, and returns a Verdict (src/check/verdict.ts).
 * Pure and deterministic: no clock, no I/O. docs/invariants.md states each invariant and why.
 *
 * Time: every comparison across regions uses the global `t`; `localMs` is only compared with
 * the same controller's own `safeUntilLocalMs`.
 */
import type { Expectation } from '../scenario/schema.ts';
import type {
  ActEvent,
  AppAuthorityEvent,
  FaultEvent,
  HistoryEvent,
  MetaEvent,
  PromotionEvidenceEvent,
  RegionId,
  Role,
  RoleEvent,
} from './history.ts';
import type { CheckOutcome, Measurements, Verdict, Violation } from './verdict.ts';

export const SAFETY_INVARIANTS = [
  'single-primary',
  'act-within-safe-window',
  'epoch-monotonic',
  'no-stale-write',
  'promotion-evidence',
  'no-internal-error',
] as const;
export const LIVENESS_INVARIANTS = ['failover-liveness', 'no-spurious-failover', 'bounded-flapping'] as const;
export const INVARIANTS = [...SAFETY_INVARIANTS, ...LIVENESS_INVARIANTS] as const;
export type InvariantName = (typeof INVARIANTS)[number];

export interface CheckOptions {
  /** scenario expectations to evaluate besides the invariants */
  expectations?: Expectation[];
}

/** Acts that only a primary may perform (a demote is always allowed). */
const PRIMARY_ACTS: ReadonlySet<ActEvent['action']> = new Set(['promote', 'extend', 'publish', 'renew']);
/** Fault kinds that cut links without touching processes or clocks. */
const CUT_FAULTS: ReadonlySet<string> = new Set(['partition', 'flap']);
/** Fault kinds that take a whole region away. */
const REGION_LOSS_FAULTS: ReadonlySet<string> = new Set(['isolate', 'crash']);

export interface AuthorityWindow {
  region: RegionId;
  epoch: number;
  /** global ms, inclusive */
  start: number;
  /** global ms, exclusive */
  end: number;
  seqs: number[];
}

interface FaultSpan {
  id: string;
  fault: string;
  target: string;
  links: string[];
  components: string[];
  start: number;
  /** global ms the fault was reverted; Infinity when it never was */
  end: number;
  startSeq: number;
  endSeq: number | null;
}

/** Everything the individual checks need, computed in one pass. */
interface Facts {
  meta: MetaEvent | null;
  events: HistoryEvent[];
  regions: RegionId[];
  endT: number;
  windows: AuthorityWindow[];
  faults: FaultSpan[];
  /** role events in order */
  roles: RoleEvent[];
  /** role of each region just before each fault start (by fault id) */
  rolesAtFault: Map<string, Map<RegionId, Role>>;
  finalRoles: Map<RegionId, Role>;
}

export function checkHistory(events: HistoryEvent[], opts: CheckOptions = {}): Verdict {
  const ordered = isOrdered(events) ? events : [...events].sort((a, b) => a.t - b.t || a.seq - b.seq);
  const facts = collectFacts(ordered);
  const measurements: Measurements = {};
  const outcomes: CheckOutcome[] = [
    checkSinglePrimary(facts),
    checkActWithinSafeWindow(facts),
    checkEpochMonotonic(facts),
    checkNoStaleWrite(facts),
    checkPromotionEvidence(facts),
    checkNoInternalError(facts),
    checkFailoverLiveness(facts, measurements),
    checkNoSpuriousFailover(facts),
    checkBoundedFlapping(facts),
  ];
  const expectedViolated = new Set<string>();
  for (const e of opts.expectations ?? []) {
    if ('violation-detected' in e) expectedViolated.add(e['violation-detected']);
  }
  // A scenario that expects a safety violation declares its configuration unsafe (e.g. the
  // legacy-kv lease): the other safety invariants it breaks as a consequence are reported,
  // not failed. Liveness invariants and every other expectation still count.
  const declaredUnsafe = outcomes.some((o) => expectedViolated.has(o.name) && o.category === 'safety');
  for (const o of outcomes) {
    if (expectedViolated.has(o.name) || (declaredUnsafe && o.category === 'safety'))
      o.expectedViolation = true;
  }
  for (const e of opts.expectations ?? []) outcomes.push(checkExpectation(e, facts, outcomes, measurements));

  let accepted = 0;
  let rejected = 0;
  for (const ev of ordered) {
    if (ev.kind === 'app-write') {
      if (ev.accepted) accepted++;
      else rejected++;
    }
  }
  measurements.acceptedWrites = accepted;
  measurements.rejectedWrites = rejected;
  measurements.roleTransitions = facts.roles.length;
  if (facts.meta) measurements.failoverBoundMs = facts.meta.timing.failoverBoundMs;

  const counted = outcomes.filter((o) => !o.ok && !o.expectedViolation);
  return {
    ok: counted.length === 0,
    outcomes,
    violations: counted.flatMap((o) =>
      o.violations.length > 0
        ? o.violations
        : [{ invariant: o.name, at: facts.endT, detail: o.detail, events: [] }],
    ),
    withinAssumptions: facts.meta?.withinAssumptions ?? true,
    measurements,
  };
}

function isOrdered(events: HistoryEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    if (b.t < a.t || (b.t === a.t && b.seq < a.seq)) return false;
  }
  return true;
}

function collectFacts(events: HistoryEvent[]): Facts {
  const meta = (events.find((e) => e.kind === 'meta') as MetaEvent | undefined) ?? null;
  const regionSet = new Set<RegionId>(meta?.regions ?? []);
  const roles: RoleEvent[] = [];
  const current = new Map<RegionId, Role>();
  const rolesAtFault = new Map<string, Map<RegionId, Role>>();
  const openFaults = new Map<string, FaultSpan>();
  const faults: FaultSpan[] = [];
  const authority: AppAuthorityEvent[] = [];
  let endT = 0;
  for (const ev of events) {
    if (ev.t > endT) endT = ev.t;
    switch (ev.kind) {
      case 'role':
        roles.push(ev);
        regionSet.add(ev.region);
        current.set(ev.region, ev.to);
        break;
      case 'app-authority':
        authority.push(ev);
        regionSet.add(ev.region);
        break;
      case 'fault':
        if (ev.phase === 'start') {
          const span = faultSpan(ev);
          openFaults.set(ev.id, span);
          faults.push(span);
          rolesAtFault.set(ev.id, new Map(current));
        } else {
          const span = openFaults.get(ev.id);
          if (span) {
            span.end = ev.t;
            span.endSeq = ev.seq;
            openFaults.delete(ev.id);
          }
        }
        break;
      default:
        break;
    }
  }
  const regions = [...regionSet];
  return {
    meta,
    events,
    regions,
    endT,
    windows: authorityWindows(authority, endT),
    faults,
    roles,
    rolesAtFault,
    finalRoles: current,
  };
}

function faultSpan(ev: FaultEvent): FaultSpan {
  return {
    id: ev.id,
    fault: ev.fault,
    target: ev.target,
    links: ev.links ?? [],
    components: ev.components ?? [],
    start: ev.t,
    end: Number.POSITIVE_INFINITY,
    startSeq: ev.seq,
    endSeq: null,
  };
}

/**
 * Write-authority windows per region from app-authority events: a grant opens (or, while
 * open, re-times) the window to end at `untilT`; a revoke closes it early. A grant without
 * untilT lasts until revoked or the end of the history (the conservative reading).
 */
export function authorityWindows(events: AppAuthorityEvent[], endT: number): AuthorityWindow[] {
  const open = new Map<RegionId, AuthorityWindow>();
  const out: AuthorityWindow[] = [];
  for (const ev of events) {
    const w = open.get(ev.region);
    if (ev.op === 'grant') {
      const until = ev.untilT ?? Number.POSITIVE_INFINITY;
      if (w && ev.t < w.end) {
        w.end = until;
        w.epoch = Math.max(w.epoch, ev.epoch);
        w.seqs.push(ev.seq);
      } else {
        if (w) out.push(w);
        open.set(ev.region, { region: ev.region, epoch: ev.epoch, start: ev.t, end: until, seqs: [ev.seq] });
      }
    } else if (ev.op === 'revoke') {
      if (w && ev.t < w.end) {
        w.end = ev.t;
        w.seqs.push(ev.seq);
      }
    }
  }
  for (const w of open.values()) out.push(w);
  for (const w of out) if (!Number.isFinite(w.end)) w.end = Math.max(endT, w.start);
  return out.filter((w) => w.end > w.start).sort((a, b) => a.start - b.start);
}

function outcome(
  name: string,
  category: 'safety' | 'liveness',
  violations: Violation[],
  okDetail: string,
  evaluated = true,
): CheckOutcome {
  const first = violations[0];
  return {
    name,
    kind: 'invariant',
    category,
    ok: violations.length === 0,
    detail: first
      ? violations.length === 1
        ? first.detail
        : `${first.detail} (+${violations.length - 1} more)`
      : okDetail,
    violations,
    evaluated,
  };
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

function checkSinglePrimary(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const ws = f.windows;
  for (let i = 0; i < ws.length; i++) {
    const a = ws[i]!;
    for (let j = i + 1; j < ws.length; j++) {
      const b = ws[j]!;
      if (b.start >= a.end) break; // sorted by start: nothing later overlaps a
      if (b.region === a.region) continue;
      const from = Math.max(a.start, b.start);
      const to = Math.min(a.end, b.end);
      if (from < to) {
        violations.push({
          invariant: 'single-primary',
          at: from,
          detail: `app-${a.region} (epoch ${a.epoch}) and app-${b.region} (epoch ${b.epoch}) both accepted writes for ${fmtS(to - from)} from t=${fmtS(from)}`,
          events: [...a.seqs, ...b.seqs],
        });
      }
    }
  }
  violations.sort((x, y) => x.at - y.at);
  return outcome(
    'single-primary',
    'safety',
    violations,
    `${ws.length} write-authority windows, none overlapping across regions`,
    f.windows.length > 0,
  );
}

function checkActWithinSafeWindow(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  let acts = 0;
  for (const ev of f.events) {
    if (ev.kind !== 'act' || !PRIMARY_ACTS.has(ev.action)) continue;
    acts++;
    if (ev.safeUntilLocalMs === null) {
      violations.push({
        invariant: 'act-within-safe-window',
        at: ev.t,
        detail: `ctl-${ev.region} did ${ev.action} (epoch ${ev.epoch}) without holding a lease`,
        events: [ev.seq],
      });
    } else if (ev.localMs >= ev.safeUntilLocalMs) {
      violations.push({
        invariant: 'act-within-safe-window',
        at: ev.t,
        detail: `ctl-${ev.region} did ${ev.action} (epoch ${ev.epoch}) ${ev.localMs - ev.safeUntilLocalMs} ms after its safe window ended (local ${ev.localMs} ≥ ${ev.safeUntilLocalMs})`,
        events: [ev.seq],
      });
    } else if (ev.validityMs !== undefined && ev.localMs + ev.validityMs > ev.safeUntilLocalMs) {
      // the window handed to the resource must end inside the actor's own safe window
      violations.push({
        invariant: 'act-within-safe-window',
        at: ev.t,
        detail: `ctl-${ev.region} handed ${ev.validityMs} ms of authority (epoch ${ev.epoch}), which outlives its safe window by ${ev.localMs + ev.validityMs - ev.safeUntilLocalMs} ms`,
        events: [ev.seq],
      });
    }
  }
  return outcome(
    'act-within-safe-window',
    'safety',
    violations,
    `${acts} primary acts, all inside the actor's safe window`,
    acts > 0,
  );
}

function checkEpochMonotonic(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  // (a) the lease store: every new grant carries an epoch above every earlier grant
  let cur: { holder: string; epoch: number } | null = null;
  let maxGranted = Number.NEGATIVE_INFINITY;
  let maxGrantSeq = -1;
  let grants = 0;
  // (b) promotions: per region non-decreasing, across regions strictly increasing
  const lastPromote = new Map<RegionId, number>();
  let maxOther: { region: RegionId; epoch: number; seq: number } | null = null;
  for (const ev of f.events) {
    if (ev.kind === 'lease-store') {
      if (ev.holder === null) {
        cur = null;
        continue;
      }
      if (cur && cur.holder === ev.holder && cur.epoch === ev.epoch) continue; // renewal
      grants++;
      if (ev.epoch <= maxGranted) {
        violations.push({
          invariant: 'epoch-monotonic',
          at: ev.t,
          detail: `lease store granted ${ev.holder} epoch ${ev.epoch}, not above earlier grant epoch ${maxGranted}`,
          events: [maxGrantSeq, ev.seq],
        });
      } else {
        maxGranted = ev.epoch;
        maxGrantSeq = ev.seq;
      }
      cur = { holder: ev.holder, epoch: ev.epoch };
    } else if (ev.kind === 'act' && ev.action === 'promote') {
      const prev = lastPromote.get(ev.region);
      if (prev !== undefined && ev.epoch < prev) {
        violations.push({
          invariant: 'epoch-monotonic',
          at: ev.t,
          detail: `ctl-${ev.region} promoted with epoch ${ev.epoch} after promoting with ${prev}`,
          events: [ev.seq],
        });
      }
      if (maxOther && maxOther.region !== ev.region && ev.epoch <= maxOther.epoch) {
        violations.push({
          invariant: 'epoch-monotonic',
          at: ev.t,
          detail: `ctl-${ev.region} promoted with epoch ${ev.epoch}, not above ctl-${maxOther.region}'s earlier promotion epoch ${maxOther.epoch}`,
          events: [maxOther.seq, ev.seq],
        });
      }
      lastPromote.set(ev.region, Math.max(prev ?? ev.epoch, ev.epoch));
      if (!maxOther || ev.epoch >= maxOther.epoch)
        maxOther = { region: ev.region, epoch: ev.epoch, seq: ev.seq };
    }
  }
  return outcome(
    'epoch-monotonic',
    'safety',
    violations,
    `${grants} lease grants and ${lastPromote.size > 0 ? 'all promotions' : 'no promotions'} with increasing epochs`,
    grants > 0 || lastPromote.size > 0,
  );
}

function checkNoStaleWrite(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const appMax = new Map<RegionId, { epoch: number; seq: number }>();
  let storeMax: { epoch: number; seq: number; holder: string } | null = null;
  let accepted = 0;
  for (const ev of f.events) {
    if (ev.kind === 'app-authority') {
      const m = appMax.get(ev.region);
      if (!m || ev.epoch > m.epoch) appMax.set(ev.region, { epoch: ev.epoch, seq: ev.seq });
    } else if (ev.kind === 'lease-store') {
      if (ev.holder !== null && (!storeMax || ev.epoch > storeMax.epoch)) {
        storeMax = { epoch: ev.epoch, seq: ev.seq, holder: ev.holder };
      }
    } else if (ev.kind === 'app-write' && ev.accepted) {
      accepted++;
      if (ev.epoch === null) {
        violations.push({
          invariant: 'no-stale-write',
          at: ev.t,
          detail: `app-${ev.region} accepted a write from ${ev.client} without any epoch`,
          events: [ev.seq],
        });
        continue;
      }
      const m = appMax.get(ev.region);
      if (m && ev.epoch < m.epoch) {
        violations.push({
          invariant: 'no-stale-write',
          at: ev.t,
          detail: `app-${ev.region} accepted a write under epoch ${ev.epoch} after seeing epoch ${m.epoch}`,
          events: [m.seq, ev.seq],
        });
      } else if (storeMax && ev.epoch < storeMax.epoch) {
        violations.push({
          invariant: 'no-stale-write',
          at: ev.t,
          detail: `app-${ev.region} accepted a write under epoch ${ev.epoch} after the lease store granted epoch ${storeMax.epoch} to ${storeMax.holder}`,
          events: [storeMax.seq, ev.seq],
        });
      }
    }
  }
  return outcome(
    'no-stale-write',
    'safety',
    violations,
    `${accepted} accepted writes, none under a superseded epoch`,
    accepted > 0,
  );
}

function countUnreachable(votes: Record<string, string>): number {
  let n = 0;
  for (const v of Object.values(votes)) if (v === 'unreachable') n++;
  return n;
}

function checkPromotionEvidence(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const quorumMin = f.meta?.timing.witnessQuorum ?? 1;
  const latest = new Map<RegionId, PromotionEvidenceEvent>();
  let promotions = 0;
  for (const ev of f.events) {
    if (ev.kind === 'promotion-evidence') {
      latest.set(ev.region, ev);
      continue;
    }
    if (ev.kind !== 'role' || ev.to !== 'primary') continue;
    promotions++;
    const evidence = latest.get(ev.region);
    latest.delete(ev.region); // evidence backs one promotion only
    const fail = (detail: string, seqs: number[]) =>
      violations.push({ invariant: 'promotion-evidence', at: ev.t, detail, events: seqs });
    if (!evidence) {
      fail(`ctl-${ev.region} became primary (epoch ${ev.epoch}) with no promotion evidence`, [ev.seq]);
      continue;
    }
    const seqs = [evidence.seq, ev.seq];
    if (ev.epoch !== null && evidence.epoch !== ev.epoch) {
      fail(
        `ctl-${ev.region} became primary under epoch ${ev.epoch} but its evidence is for epoch ${evidence.epoch}`,
        seqs,
      );
      continue;
    }
    if (!evidence.leaseGranted) {
      fail(`ctl-${ev.region} became primary (epoch ${ev.epoch}) without the lease being granted`, seqs);
      continue;
    }
    const needsQuorum =
      evidence.basis === 'failover' || (evidence.basis === undefined && evidence.approvedBy !== 'operator');
    if (needsQuorum) {
      const votes = countUnreachable(evidence.votes);
      const quorum = Math.max(evidence.quorum, quorumMin);
      if (votes < quorum) {
        fail(
          `ctl-${ev.region} failed over (epoch ${ev.epoch}) with ${votes} unreachable witness votes, quorum ${quorum}`,
          seqs,
        );
      }
    }
  }
  return outcome(
    'promotion-evidence',
    'safety',
    violations,
    `${promotions} promotions, each backed by the lease (and a witness quorum for failovers)`,
    promotions > 0,
  );
}

function checkNoInternalError(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  for (const ev of f.events) {
    if (ev.kind === 'process' && ev.error !== undefined) {
      violations.push({
        invariant: 'no-internal-error',
        at: ev.t,
        detail: `${ev.component} failed with an unexpected error: ${ev.error}`,
        events: [ev.seq],
      });
    }
  }
  return outcome('no-internal-error', 'safety', violations, 'no component failed by an unexpected error');
}

/** The region a component or link endpoint belongs to, by the topology's naming convention. */
function regionOfEndpoint(id: string, regions: RegionId[]): RegionId | null {
  const m = /^(?:ctl|app|auth)-(.+)$/.exec(id);
  if (m && regions.includes(m[1]!)) return m[1]!;
  return null;
}

/** True when a link joins two different regions (e.g. ctl-a->peer, auth-b->app-a, ctl-a->auth-b). */
export function isInterRegionLink(linkId: string, regions: RegionId[]): boolean {
  const [from, to] = linkId.split('->');
  if (!from || !to) return false;
  const rf = regionOfEndpoint(from, regions);
  if (rf === null) return false;
  if (to === 'peer') return true;
  const rt = regionOfEndpoint(to, regions);
  return rt !== null && rt !== rf;
}

function primaryOf(roles: Map<RegionId, Role> | undefined): RegionId | null {
  if (!roles) return null;
  let found: RegionId | null = null;
  for (const [r, role] of roles) {
    if (role === 'primary') {
      if (found !== null) return null; // ambiguous; single-primary reports that
      found = r;
    }
  }
  return found;
}

/** Faults other than `self` that are active at some point of [from, to] (instant faults count at their time). */
function othersOverlap(f: Facts, self: FaultSpan, from: number, to: number): boolean {
  return f.faults.some((g) => g !== self && g.start <= to && (g.end > from || g.start >= from));
}

function firstPromotion(f: Facts, notRegion: RegionId, from: number, to: number): RoleEvent | null {
  for (const r of f.roles) {
    if (r.t < from) continue;
    if (r.t > to) break;
    if (r.to === 'primary' && r.region !== notRegion) return r;
  }
  return null;
}

function inHoldDown(f: Facts, region: RegionId, t: number): boolean {
  const hold = f.meta?.timing.promotionHoldDownMs ?? 0;
  if (hold <= 0) return false;
  for (const r of f.roles) {
    if (r.t > t) break;
    if (r.region === region && r.from === 'primary' && r.t > t - hold) return true;
  }
  return false;
}

function checkFailoverLiveness(f: Facts, m: Measurements): CheckOutcome {
  const violations: Violation[] = [];
  const bound = f.meta?.timing.failoverBoundMs;
  let evaluated = 0;
  const skipped: string[] = [];
  if (bound === undefined)
    return outcome('failover-liveness', 'liveness', [], 'no meta: bound unknown', false);
  for (const fault of f.faults) {
    if (!REGION_LOSS_FAULTS.has(fault.fault) || !f.regions.includes(fault.target)) continue;
    const lost = fault.target;
    const before = f.rolesAtFault.get(fault.id);
    if (primaryOf(before) !== lost) continue;
    const deadline = fault.start + bound;
    if (fault.end < deadline || f.endT < deadline) continue; // lost for less than the bound
    // The bound is a promise for a region loss alone; say why a loss was not judged.
    if (othersOverlap(f, fault, fault.start, deadline)) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: other faults overlap`);
      continue;
    }
    const dr = f.regions.filter((r) => r !== lost);
    if (dr.some((r) => inHoldDown(f, r, fault.start))) {
      skipped.push(`${fault.fault} of ${lost} at t=${fmtS(fault.start)}: DR region in hold-down`);
      continue;
    }
    evaluated++;
    const promo = firstPromotion(f, lost, fault.start, deadline);
    if (promo) {
      if (m.failoverMs === undefined) m.failoverMs = promo.t - fault.start;
    } else {
      violations.push({
        invariant: 'failover-liveness',
        at: deadline,
        detail: `region ${lost} lost (${fault.fault} at t=${fmtS(fault.start)}) but no other region was primary within the bound ${fmtS(bound)}`,
        events: [fault.startSeq],
      });
    }
  }
  return outcome(
    'failover-liveness',
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} primary-region losses, each failed over within ${fmtS(bound)}`
      : skipped.length > 0
        ? `bound not applied: ${skipped.join('; ')}`
        : 'no primary-region loss long enough to require a failover',
    evaluated > 0,
  );
}

function checkNoSpuriousFailover(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const bound = f.meta?.timing.failoverBoundMs ?? 0;
  let evaluated = 0;
  for (const fault of f.faults) {
    if (!CUT_FAULTS.has(fault.fault) || fault.links.length === 0) continue;
    if (!fault.links.every((l) => isInterRegionLink(l, f.regions))) continue;
    const primary = primaryOf(f.rolesAtFault.get(fault.id));
    if (primary === null) continue;
    const until = Math.min(fault.end + bound, f.endT);
    if (othersOverlap(f, fault, fault.start, until)) continue;
    evaluated++;
    const promo = firstPromotion(f, primary, fault.start, until);
    if (promo) {
      violations.push({
        invariant: 'no-spurious-failover',
        at: promo.t,
        detail: `region ${promo.region} became primary while only inter-region links were cut (${fault.target}) and ${primary} was healthy`,
        events: [fault.startSeq, promo.seq],
      });
    }
  }
  return outcome(
    'no-spurious-failover',
    'liveness',
    violations,
    evaluated > 0
      ? `${evaluated} inter-region-only partitions, no failover`
      : 'no partition of only inter-region links',
    evaluated > 0,
  );
}

function checkBoundedFlapping(f: Facts): CheckOutcome {
  const hold = f.meta?.timing.promotionHoldDownMs;
  if (hold === undefined) return outcome('bounded-flapping', 'liveness', [], 'hold-down not recorded', false);
  const rho = f.meta?.timing.maxClockDriftRate ?? 0;
  // the hold-down runs on the controller's clock, which may run fast by ρ
  const minGapMs = hold / (1 + rho) - 1;
  const violations: Violation[] = [];
  const lastDemotion = new Map<RegionId, RoleEvent>();
  let promotions = 0;
  for (const ev of f.events) {
    if (ev.kind === 'process' && (ev.op === 'crash' || ev.op === 'restart' || ev.op === 'start')) {
      const r = regionOfEndpoint(ev.component, f.regions);
      if (r !== null && ev.component.startsWith('ctl-')) lastDemotion.delete(r); // state (and hold-down) lost
      continue;
    }
    if (ev.kind !== 'role') continue;
    if (ev.from === 'primary' && ev.to !== 'primary') lastDemotion.set(ev.region, ev);
    if (ev.to === 'primary') {
      promotions++;
      const d = lastDemotion.get(ev.region);
      if (d && ev.t - d.t < minGapMs) {
        violations.push({
          invariant: 'bounded-flapping',
          at: ev.t,
          detail: `ctl-${ev.region} became primary again ${fmtS(ev.t - d.t)} after demoting (hold-down ${fmtS(hold)})`,
          events: [d.seq, ev.seq],
        });
      }
    }
  }
  return outcome(
    'bounded-flapping',
    'liveness',
    violations,
    `${promotions} promotions, none inside a hold-down of ${fmtS(hold)}`,
    promotions > 0,
  );
}

// ---------------------------------------------------------------- expectations

function expectationName(e: Expectation): string {
  return Object.keys(e)[0] ?? 'expectation';
}

function firstFault(f: Facts): FaultSpan | null {
  return f.faults[0] ?? null;
}

function checkExpectation(
  e: Expectation,
  f: Facts,
  invariants: CheckOutcome[],
  m: Measurements,
): CheckOutcome {
  const name = expectationName(e);
  const result = (ok: boolean, detail: string, at: number, events: number[] = []): CheckOutcome => ({
    name,
    kind: 'expectation',
    category: 'expectation',
    ok,
    detail,
    violations: ok ? [] : [{ invariant: name, at, detail, events }],
    evaluated: true,
  });
  if ('failover-within' in e) {
    const within = e['failover-within'];
    const fault = firstFault(f);
    if (!fault) return result(false, 'no fault was injected, so no failover could be measured', f.endT);
    const before = primaryOf(f.rolesAtFault.get(fault.id)) ?? f.meta?.initialPrimary ?? null;
    const promo = firstPromotion(f, before ?? '', fault.start, fault.start + within);
    if (promo) {
      const took = promo.t - fault.start;
      // not failoverMs: that one counts from the region loss and is judged against the bound
      m.failoverFromFirstFaultMs = took;
      return result(
        true,
        `failover to ${promo.region} took ${fmtS(took)} (expected within ${fmtS(within)})`,
        promo.t,
      );
    }
    return result(
      false,
      `no failover away from ${before ?? '(none)'} within ${fmtS(within)} of the first fault (t=${fmtS(fault.start)})`,
      fault.start + within,
      [fault.startSeq],
    );
  }
  if ('no-failover' in e) {
    const initial = f.meta?.initialPrimary ?? f.roles.find((r) => r.to === 'primary')?.region;
    const other = f.roles.find((r) => r.to === 'primary' && r.region !== initial);
    return other
      ? result(false, `region ${other.region} became primary at t=${fmtS(other.t)}`, other.t, [other.seq])
      : result(true, `only ${initial ?? '(none)'} was ever primary`, f.endT);
  }
  if ('demoted-within' in e) {
    const { region, within } = e['demoted-within'];
    const fault = firstFault(f);
    if (!fault) return result(false, 'no fault was injected', f.endT);
    if (f.rolesAtFault.get(fault.id)?.get(region) !== 'primary') {
      return result(true, `region ${region} was not primary when the first fault started`, fault.start);
    }
    const demotion = f.roles.find(
      (r) => r.region === region && r.from === 'primary' && r.to !== 'primary' && r.t >= fault.start,
    );
    if (demotion && demotion.t <= fault.start + within) {
      return result(
        true,
        `region ${region} demoted ${fmtS(demotion.t - fault.start)} after the first fault (expected within ${fmtS(within)})`,
        demotion.t,
      );
    }
    return result(
      false,
      `region ${region} was still primary ${fmtS(within)} after the first fault (t=${fmtS(fault.start)})`,
      fault.start + within,
      [fault.startSeq],
    );
  }
  if ('primary-at-end' in e) {
    const want = e['primary-at-end'];
    const primaries = [...f.finalRoles].filter(([, role]) => role === 'primary').map(([r]) => r);
    const ok = primaries.length === 1 && primaries[0] === want;
    return result(
      ok,
      ok
        ? `region ${want} is primary at the end`
        : `expected ${want} primary at the end, found ${primaries.length > 0 ? primaries.join(', ') : 'no primary'}`,
      f.endT,
    );
  }
  const wanted = e['violation-detected'];
  const inv = invariants.find((o) => o.name === wanted);
  if (!inv) return result(false, `unknown invariant "${wanted}"`, f.endT);
  return inv.ok
    ? result(false, `expected a violation of ${wanted}, found none`, f.endT)
    : result(
        true,
        `violation of ${wanted} detected as expected: ${inv.detail}`,
        inv.violations[0]?.at ?? f.endT,
      );
}
