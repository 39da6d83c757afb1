/**
 * Report-ready facts derived from a history: pure functions, no I/O, no clock.
 *
 * Everything here is computed from the history alone (engineering.md: "reports read only the
 * history and the verdict"), so a report re-rendered later from history.jsonl shows exactly
 * what the original one showed. All times are global `t` ms (history.ts); `localMs` is never
 * compared across regions here.
 */
import type {
  DnsAnswerEvent,
  FaultEvent,
  HistoryEvent,
  MetaEvent,
  RegionId,
  Role,
  WitnessVerdict,
} from '../contracts/history.ts';

/** A half-open stretch of global time [startT, endT) with the seq of the event that opened it. */
export interface Span {
  startT: number;
  endT: number;
  /** seq of the event that opened the span; null when inferred (e.g. the role before the first event) */
  startSeq: number | null;
  /** true when nothing closed the span and it was cut at the end of the history */
  open: boolean;
}

export interface RoleSpan extends Span {
  role: Role;
  epoch: number | null;
  reason: string | null;
  /** the span before a region's first role event, inferred from that event's `from` */
  inferred: boolean;
}

export interface LeaseSpan extends Span {
  holder: RegionId | null;
  epoch: number | null;
  /** store clock ms of the last update inside the span (not comparable with t in real runs) */
  expiresAt: number | null;
  /** how many store updates (grants and renewals) the span merges */
  updates: number;
}

export interface AuthoritySpan extends Span {
  epoch: number;
  /** closed early by a revoke rather than by expiry */
  revoked: boolean;
  /** grants merged into the span (the first plus every extension) */
  grants: number;
}

/** Consecutive observations with the same value, merged: a step function of point observations. */
export interface ObservationRun<V> extends Span {
  value: V;
  count: number;
  /** seq and t of the last observation in the run */
  endSeq: number;
  lastT: number;
}

export interface FaultWindow {
  id: string;
  fault: string;
  target: string;
  startT: number;
  endT: number;
  /** false when the history has no end event for the fault (still active at the end) */
  ended: boolean;
  startSeq: number;
  endSeq: number | null;
  /** did the executor confirm the fault took effect (start) / was reverted (end); null = not checkable */
  verifiedStart: boolean | null;
  verifiedEnd: boolean | null;
  detail: string | null;
  /** link ids / components the executor says the fault acted on (null when not reported) */
  links: string[] | null;
  components: string[] | null;
}

export interface WriteStats {
  total: number;
  accepted: number;
  rejected: number;
  byRegion: Record<RegionId, { accepted: number; rejected: number }>;
  /** rejection reason → count ("(none)" when the event gives no reason) */
  rejectReasons: Record<string, number>;
}

export interface WriteBin {
  startT: number;
  endT: number;
  accepted: number;
  rejected: number;
}

export interface ActMark {
  seq: number;
  t: number;
  action: string;
  epoch: number;
  /** acted with localMs >= safeUntilLocalMs, or without holding (safeUntilLocalMs null) */
  outsideSafeWindow: boolean;
}

export interface PointMark {
  seq: number;
  t: number;
  label: string;
}

/** A change of primary region found in the history (first one = "the failover"). */
export interface FailoverFact {
  fromRegion: RegionId | null;
  toRegion: RegionId;
  /** global ms the old primary was lost (see deriveFailovers for the rule); null if undeterminable */
  lostAtT: number | null;
  lostCause: string | null;
  lostSeq: number | null;
  promotedAtT: number;
  promotedSeq: number;
  measuredMs: number | null;
}

export interface ReportFacts {
  meta: MetaEvent | null;
  regions: RegionId[];
  witnesses: string[];
  startT: number;
  endT: number;
  eventCount: number;
  countsByKind: Record<string, number>;
  roles: Record<RegionId, RoleSpan[]>;
  roleTransitions: number;
  /** epoch each region acted under (act events), merged into runs */
  actEpochs: Record<RegionId, ObservationRun<number>[]>;
  acts: Record<RegionId, ActMark[]>;
  /** authoritative lease holder by store location ('' when events carry no location) */
  leaseByLocation: Record<string, LeaseSpan[]>;
  /** 'lease-store' when the store was observed; 'controller-view' when only lease results exist */
  leaseSource: 'lease-store' | 'controller-view' | 'none';
  authority: Record<RegionId, AuthoritySpan[]>;
  authorityRejects: Record<RegionId, PointMark[]>;
  /** witness → target region → verdict runs */
  witnessVotes: Record<string, Record<RegionId, ObservationRun<WitnessVerdict>[]>>;
  /** resolver → DNS name → answer runs; value = region, or rcode / raw answers when not a region */
  dnsAnswers: Record<string, Record<string, ObservationRun<string>[]>>;
  faults: FaultWindow[];
  writes: WriteStats;
  failovers: FailoverFact[];
  /** components that failed by an unexpected exception (a bug, not an injected fault) */
  processErrors: PointMark[];
  /** human-readable problems with the history itself (order, pairing) — never fatal */
  warnings: string[];
}

const ROLES: readonly Role[] = ['standby', 'candidate', 'primary', 'fenced'];

/** rec[key], created with make() on first use. */
function bucket<T>(rec: Record<string, T>, key: string, make: () => T): T {
  let v = rec[key];
  if (v === undefined) {
    v = make();
    rec[key] = v;
  }
  return v;
}

/** Derives every fact the renderers need in one pass over the history (plus small per-lane passes). */
export function deriveFacts(history: readonly HistoryEvent[]): ReportFacts {
  const warnings: string[] = [];
  const first = history[0];
  const meta = first?.kind === 'meta' ? first : (history.find((e) => e.kind === 'meta') ?? null);
  if (history.length > 0 && first?.kind !== 'meta') warnings.push('history does not start with a meta event');
  for (let i = 1; i < history.length; i++) {
    const prev = history[i - 1]!;
    const cur = history[i]!;
    if (cur.seq <= prev.seq) {
      warnings.push(`seq not strictly increasing at event ${i + 1} (seq ${prev.seq} then ${cur.seq})`);
      break;
    }
  }

  let startT = Number.POSITIVE_INFINITY;
  let endT = Number.NEGATIVE_INFINITY;
  const countsByKind: Record<string, number> = {};
  const regionSet = new Set<RegionId>(meta?.regions ?? []);
  const witnessSet = new Set<string>(meta?.witnesses ?? []);
  for (const e of history) {
    if (e.t < startT) startT = e.t;
    if (e.t > endT) endT = e.t;
    countsByKind[e.kind] = (countsByKind[e.kind] ?? 0) + 1;
    if ('region' in e && typeof e.region === 'string' && e.kind !== 'dns-answer') regionSet.add(e.region);
    if (e.kind === 'witness') witnessSet.add(e.witness);
  }
  if (!Number.isFinite(startT)) {
    startT = 0;
    endT = 0;
  }
  const regions = [...regionSet];
  const witnesses = [...witnessSet];

  const roles = deriveRoles(history, regions, startT, endT);
  const leaseStore = history.filter((e) => e.kind === 'lease-store');
  const leaseSource =
    leaseStore.length > 0 ? 'lease-store' : countsByKind['lease'] ? 'controller-view' : 'none';

  return {
    meta,
    regions,
    witnesses,
    startT,
    endT,
    eventCount: history.length,
    countsByKind,
    roles,
    roleTransitions: countsByKind['role'] ?? 0,
    actEpochs: deriveActEpochs(history, regions, endT),
    acts: deriveActs(history, regions),
    leaseByLocation:
      leaseSource === 'lease-store'
        ? deriveLeaseFromStore(history, endT)
        : leaseSource === 'controller-view'
          ? { '': deriveLeaseFromResults(history, endT) }
          : {},
    leaseSource,
    authority: deriveAuthority(history, regions, endT),
    authorityRejects: deriveAuthorityRejects(history, regions),
    witnessVotes: deriveWitnessVotes(history, endT),
    dnsAnswers: deriveDnsAnswers(history, endT),
    faults: deriveFaults(history, endT, warnings),
    writes: deriveWriteStats(history, regions),
    failovers: deriveFailovers(history, meta, roles),
    processErrors: history.flatMap((e) =>
      e.kind === 'process' && e.error
        ? [{ seq: e.seq, t: e.t, label: `${e.component} ${e.op}: ${e.error}` }]
        : [],
    ),
    warnings,
  };
}

function deriveRoles(
  history: readonly HistoryEvent[],
  regions: RegionId[],
  startT: number,
  endT: number,
): Record<RegionId, RoleSpan[]> {
  const out: Record<RegionId, RoleSpan[]> = {};
  for (const r of regions) out[r] = [];
  for (const e of history) {
    if (e.kind !== 'role') continue;
    const spans = bucket(out, e.region, () => []);
    const last = spans[spans.length - 1];
    if (last) {
      last.endT = e.t;
      last.open = false;
    } else if (e.t > startT && ROLES.includes(e.from)) {
      // The first event's `from` says what the role was since the start of the run.
      spans.push({
        role: e.from,
        epoch: null,
        reason: null,
        startT,
        endT: e.t,
        startSeq: null,
        open: false,
        inferred: true,
      });
    }
    spans.push({
      role: e.to,
      epoch: e.epoch,
      reason: e.reason,
      startT: e.t,
      endT,
      startSeq: e.seq,
      open: true,
      inferred: false,
    });
  }
  return out;
}

function deriveActs(history: readonly HistoryEvent[], regions: RegionId[]): Record<RegionId, ActMark[]> {
  const out: Record<RegionId, ActMark[]> = {};
  for (const r of regions) out[r] = [];
  for (const e of history) {
    if (e.kind !== 'act') continue;
    const outsideSafeWindow =
      e.action !== 'demote' && (e.safeUntilLocalMs === null || e.localMs >= e.safeUntilLocalMs);
    bucket(out, e.region, () => []).push({
      seq: e.seq,
      t: e.t,
      action: e.action,
      epoch: e.epoch,
      outsideSafeWindow,
    });
  }
  return out;
}

function deriveActEpochs(
  history: readonly HistoryEvent[],
  regions: RegionId[],
  endT: number,
): Record<RegionId, ObservationRun<number>[]> {
  const out: Record<RegionId, ObservationRun<number>[]> = {};
  for (const r of regions) out[r] = [];
  for (const e of history) {
    if (e.kind === 'role' && (e.to === 'standby' || e.to === 'fenced')) {
      // Leaving the primary/candidate roles ends the acting epoch even without a demote act.
      closeRun(out[e.region], e.t);
      continue;
    }
    if (e.kind !== 'act') continue;
    const runs = bucket(out, e.region, () => []);
    if (e.action === 'demote') {
      closeRun(runs, e.t);
      continue;
    }
    pushObservation(runs, e.epoch, e.t, e.seq, endT);
  }
  return out;
}

/** Appends a point observation to a step function: same value extends the run, a new value starts one. */
function pushObservation<V>(runs: ObservationRun<V>[], value: V, t: number, seq: number, endT: number): void {
  const last = runs[runs.length - 1];
  if (last?.open && last.value === value) {
    last.count++;
    last.endSeq = seq;
    last.lastT = t;
    return;
  }
  if (last?.open) {
    last.endT = t;
    last.open = false;
  }
  runs.push({ value, startT: t, endT, startSeq: seq, endSeq: seq, lastT: t, open: true, count: 1 });
}

function closeRun<V>(runs: ObservationRun<V>[] | undefined, t: number): void {
  const last = runs?.[runs.length - 1];
  if (last?.open) {
    last.endT = t;
    last.open = false;
  }
}

function deriveLeaseFromStore(history: readonly HistoryEvent[], endT: number): Record<string, LeaseSpan[]> {
  const out: Record<string, LeaseSpan[]> = {};
  for (const e of history) {
    if (e.kind !== 'lease-store') continue;
    pushLeaseSpan(
      bucket(out, e.location ?? '', () => []),
      e.holder,
      e.epoch,
      e.expiresAt,
      e,
      endT,
    );
  }
  return out;
}

/** Without store observations, the best evidence is what successful lease results reported. */
function deriveLeaseFromResults(history: readonly HistoryEvent[], endT: number): LeaseSpan[] {
  const spans: LeaseSpan[] = [];
  for (const e of history) {
    if (e.kind !== 'lease' || e.phase !== 'result' || e.ok !== true || e.holder === undefined) continue;
    pushLeaseSpan(spans, e.holder, e.epoch ?? null, null, e, endT);
  }
  return spans;
}

/**
 * Renewals (same holder and epoch) only move expiresAt: merge them so a long hold is one
 * span, not one per heartbeat. Anything else closes the open span and starts a new one.
 */
function pushLeaseSpan(
  spans: LeaseSpan[],
  holder: string | null,
  epoch: number | null,
  expiresAt: number | null,
  at: { t: number; seq: number },
  endT: number,
): void {
  const last = spans[spans.length - 1];
  if (last && last.holder === holder && last.epoch === epoch) {
    last.expiresAt = expiresAt;
    last.updates++;
    return;
  }
  if (last) {
    last.endT = at.t;
    last.open = false;
  }
  spans.push({ holder, epoch, expiresAt, updates: 1, startT: at.t, endT, startSeq: at.seq, open: true });
}

function deriveAuthority(
  history: readonly HistoryEvent[],
  regions: RegionId[],
  endT: number,
): Record<RegionId, AuthoritySpan[]> {
  const out: Record<RegionId, AuthoritySpan[]> = {};
  for (const r of regions) out[r] = [];
  for (const e of history) {
    if (e.kind !== 'app-authority') continue;
    const spans = bucket(out, e.region, () => []);
    const last = spans[spans.length - 1];
    const lastActive = last && (last.open || last.endT > e.t) && !last.revoked;
    if (e.op === 'grant') {
      const until = e.untilT ?? null;
      if (lastActive && last.epoch === e.epoch) {
        // An extension of the current window.
        last.grants++;
        if (until === null) {
          last.endT = endT;
          last.open = true;
        } else if (until > last.endT || last.open) {
          last.endT = Math.min(until, endT);
          last.open = until > endT;
        }
        continue;
      }
      if (lastActive) {
        // A grant under a new epoch replaces the old window at once.
        last.endT = e.t;
        last.open = false;
      }
      spans.push({
        epoch: e.epoch,
        startT: e.t,
        endT: until === null ? endT : Math.min(until, endT),
        open: until === null || until > endT,
        revoked: false,
        grants: 1,
        startSeq: e.seq,
      });
    } else if (e.op === 'revoke' && lastActive) {
      last.endT = e.t;
      last.open = false;
      last.revoked = true;
    }
  }
  return out;
}

function deriveAuthorityRejects(
  history: readonly HistoryEvent[],
  regions: RegionId[],
): Record<RegionId, PointMark[]> {
  const out: Record<RegionId, PointMark[]> = {};
  for (const r of regions) out[r] = [];
  for (const e of history) {
    if (e.kind === 'app-authority' && e.op === 'reject') {
      bucket(out, e.region, () => []).push({
        seq: e.seq,
        t: e.t,
        label: `reject e${e.epoch}${e.reason ? `: ${e.reason}` : ''}`,
      });
    }
  }
  return out;
}

/**
 * Point observations grouped two levels deep (observer → subject → runs of equal values),
 * e.g. each witness's votes about each region, or each resolver's answers for each name.
 */
function deriveObservationRuns<V extends string | number>(
  history: readonly HistoryEvent[],
  endT: number,
  pick: (e: HistoryEvent) => { observer: string; subject: string; value: V } | null,
): Record<string, Record<string, ObservationRun<V>[]>> {
  const out: Record<string, Record<string, ObservationRun<V>[]>> = {};
  for (const e of history) {
    const o = pick(e);
    if (!o) continue;
    const bySubject = bucket(out, o.observer, () => ({}));
    pushObservation(
      bucket(bySubject, o.subject, () => []),
      o.value,
      e.t,
      e.seq,
      endT,
    );
  }
  // The last observation is a point: it says nothing about the time after it.
  for (const bySubject of Object.values(out))
    for (const runs of Object.values(bySubject)) endLastRunAtLastSeen(runs);
  return out;
}

function deriveWitnessVotes(
  history: readonly HistoryEvent[],
  endT: number,
): Record<string, Record<RegionId, ObservationRun<WitnessVerdict>[]>> {
  return deriveObservationRuns(history, endT, (e) =>
    e.kind === 'witness' ? { observer: e.witness, subject: e.target, value: e.verdict } : null,
  );
}

/** The answer a resolver gave, as the one value a lane shows. */
export function dnsAnswerValue(e: DnsAnswerEvent): string {
  if (e.region) return e.region;
  if (e.rcode !== 'NOERROR') return e.rcode;
  return e.answers.length > 0 ? e.answers.join(' ') : 'empty';
}

function deriveDnsAnswers(
  history: readonly HistoryEvent[],
  endT: number,
): Record<string, Record<string, ObservationRun<string>[]>> {
  return deriveObservationRuns(history, endT, (e) =>
    e.kind === 'dns-answer' ? { observer: e.resolver, subject: e.name, value: dnsAnswerValue(e) } : null,
  );
}

function endLastRunAtLastSeen<V>(runs: ObservationRun<V>[]): void {
  const last = runs[runs.length - 1];
  if (!last?.open) return;
  last.endT = last.lastT;
  last.open = false;
}

function deriveFaults(history: readonly HistoryEvent[], endT: number, warnings: string[]): FaultWindow[] {
  const windows: FaultWindow[] = [];
  const openById = new Map<string, FaultWindow>();
  for (const e of history) {
    if (e.kind !== 'fault') continue;
    if (e.phase === 'start') {
      if (openById.has(e.id)) warnings.push(`fault ${e.id} started again (seq ${e.seq}) before it ended`);
      const w = faultWindowFrom(e, endT);
      windows.push(w);
      openById.set(e.id, w);
    } else {
      const w = openById.get(e.id);
      if (!w) {
        warnings.push(`fault ${e.id} ended (seq ${e.seq}) without a start event`);
        continue;
      }
      w.endT = e.t;
      w.ended = true;
      w.endSeq = e.seq;
      w.verifiedEnd = e.verified;
      if (e.detail) w.detail = w.detail ? `${w.detail}; ${e.detail}` : e.detail;
      openById.delete(e.id);
    }
  }
  return windows;
}

function faultWindowFrom(e: FaultEvent, endT: number): FaultWindow {
  return {
    id: e.id,
    fault: e.fault,
    target: e.target,
    startT: e.t,
    endT,
    ended: false,
    startSeq: e.seq,
    endSeq: null,
    verifiedStart: e.verified,
    verifiedEnd: null,
    detail: e.detail ?? null,
    links: e.links ?? null,
    components: e.components ?? null,
  };
}

function deriveWriteStats(history: readonly HistoryEvent[], regions: RegionId[]): WriteStats {
  const stats: WriteStats = { total: 0, accepted: 0, rejected: 0, byRegion: {}, rejectReasons: {} };
  for (const r of regions) stats.byRegion[r] = { accepted: 0, rejected: 0 };
  for (const e of history) {
    if (e.kind !== 'app-write') continue;
    stats.total++;
    const byRegion = bucket(stats.byRegion, e.region, () => ({ accepted: 0, rejected: 0 }));
    if (e.accepted) {
      stats.accepted++;
      byRegion.accepted++;
    } else {
      stats.rejected++;
      byRegion.rejected++;
      const reason = e.reason ?? '(none)';
      stats.rejectReasons[reason] = (stats.rejectReasons[reason] ?? 0) + 1;
    }
  }
  return stats;
}

/**
 * Bins one region's app writes into `binCount` equal slices of [startT, endT], so thousands
 * of writes render as at most `binCount` bars. Writes at exactly endT land in the last bin.
 */
export function binWrites(
  history: readonly HistoryEvent[],
  region: RegionId,
  startT: number,
  endT: number,
  binCount: number,
): WriteBin[] {
  const count = Math.max(1, Math.floor(binCount));
  const spanMs = Math.max(1, endT - startT);
  const binMs = spanMs / count;
  const bins: WriteBin[] = Array.from({ length: count }, (_, i) => ({
    startT: startT + i * binMs,
    endT: startT + (i + 1) * binMs,
    accepted: 0,
    rejected: 0,
  }));
  for (const e of history) {
    if (e.kind !== 'app-write' || e.region !== region) continue;
    const i = Math.min(count - 1, Math.max(0, Math.floor((e.t - startT) / binMs)));
    const bin = bins[i]!;
    if (e.accepted) bin.accepted++;
    else bin.rejected++;
  }
  return bins;
}

/** Does a fault target (component, link "x->y", glob, region id, or a comma list) touch a region? */
export function faultTouchesRegion(target: string, region: RegionId): boolean {
  for (const token of target.split(/[\s,]+/).filter(Boolean)) {
    if (token === region) return true;
    for (const end of token.split('->')) {
      if (end === region || end.endsWith(`-${region}`) || end.endsWith(`-${region}*`)) return true;
    }
  }
  return false;
}

/**
 * Changes of primary region. The primary is "lost" at (in order of preference):
 *  1. the start of the latest fault touching the old primary's region that began while it was
 *     primary and before the promotion;
 *  2. otherwise the start of the latest fault of any kind in that interval;
 *  3. otherwise the moment the old primary left the primary role (a clean handover);
 *  4. otherwise unknown (lostAtT null).
 * measuredMs = promotion t − lost t. The checker's own measurement, when present, wins over this.
 */
export function deriveFailovers(
  history: readonly HistoryEvent[],
  meta: MetaEvent | null,
  roles: Record<RegionId, RoleSpan[]>,
): FailoverFact[] {
  const out: FailoverFact[] = [];
  let current: RegionId | null = meta?.initialPrimary ?? null;
  let currentSinceT = history[0]?.t ?? 0;
  const faultStarts = history.filter((e): e is FaultEvent => e.kind === 'fault' && e.phase === 'start');
  for (const e of history) {
    if (e.kind !== 'role' || e.to !== 'primary') continue;
    if (current === null) {
      current = e.region;
      currentSinceT = e.t;
      continue;
    }
    if (e.region === current) {
      currentSinceT = e.t;
      continue;
    }
    const from = current;
    const inWindow = faultStarts.filter((f) => f.t >= currentSinceT && f.t <= e.t);
    const touching = inWindow.filter((f) => faultTouchesRegion(f.target, from));
    const fault = touching[touching.length - 1] ?? inWindow[inWindow.length - 1];
    let lostAtT: number | null = null;
    let lostCause: string | null = null;
    let lostSeq: number | null = null;
    if (fault) {
      lostAtT = fault.t;
      lostSeq = fault.seq;
      lostCause = `fault ${fault.id} (${fault.fault} ${fault.target}) started`;
    } else {
      const left = (roles[from] ?? []).find(
        (s) => s.role === 'primary' && !s.open && s.endT <= e.t && s.endT >= currentSinceT,
      );
      if (left) {
        lostAtT = left.endT;
        lostCause = `${from} left the primary role`;
        lostSeq = null;
      }
    }
    out.push({
      fromRegion: from,
      toRegion: e.region,
      lostAtT,
      lostCause,
      lostSeq,
      promotedAtT: e.t,
      promotedSeq: e.seq,
      measuredMs: lostAtT === null ? null : e.t - lostAtT,
    });
    current = e.region;
    currentSinceT = e.t;
  }
  return out;
}

export interface FailoverTiming {
  measuredMs: number | null;
  boundMs: number | null;
  /** where measuredMs came from */
  source: 'verdict' | 'history' | null;
  withinBound: boolean | null;
}

/** Measured failover time vs its theoretical bound: the verdict's numbers first, the history's otherwise. */
export function failoverTiming(
  facts: Pick<ReportFacts, 'failovers' | 'meta'>,
  measurements?: { failoverMs?: number; failoverBoundMs?: number },
): FailoverTiming {
  const fromVerdict = measurements?.failoverMs;
  const fromHistory = facts.failovers[0]?.measuredMs ?? null;
  const measuredMs = typeof fromVerdict === 'number' ? fromVerdict : fromHistory;
  const source = typeof fromVerdict === 'number' ? 'verdict' : fromHistory !== null ? 'history' : null;
  const boundMs = measurements?.failoverBoundMs ?? facts.meta?.timing.failoverBoundMs ?? null;
  // The bound is a liveness promise for a primary region that is lost while the run stays
  // inside the documented assumptions; the checker applies it when it measures. A time merely
  // derived from role changes (a paused controller, a run outside the assumptions) is shown
  // but not judged against it, so a report never cries "over bound" where no bound applies.
  const withinBound =
    source === 'verdict' && measuredMs !== null && boundMs !== null ? measuredMs <= boundMs : null;
  return { measuredMs, boundMs, source, withinBound };
}
