/**
 * Facts every check needs, computed from the history in one pass, and the small helpers the
 * checks share (outcome building, fault spans, roles at a fault). Pure; reads only the history.
 */
import type {
  ActEvent,
  AppAuthorityEvent,
  FaultEvent,
  HistoryEvent,
  LeaseStoreEvent,
  MetaEvent,
  RegionId,
  Role,
  RoleEvent,
} from '../contracts/history.ts';
import { type DesignSpec, designInput, designSpec } from '../contracts/spec.ts';
import type { CheckOutcome, Violation } from './verdict.ts';

export const PRIMARY_ACTS: ReadonlySet<ActEvent['action']> = new Set([
  'promote',
  'extend',
  'publish',
  'renew',
]);
/** Fault kinds that cut links without touching processes or clocks. */
export const CUT_FAULTS: ReadonlySet<string> = new Set(['partition', 'flap']);
/** Fault kinds that take a whole region away. */
export const REGION_LOSS_FAULTS: ReadonlySet<string> = new Set(['isolate', 'crash']);

/**
 * The spec a history is judged by: the meta's own, or — for histories written before the
 * spec existed — the design derived from the witness count and the lease TTL/heartbeat the
 * meta records (never its quorum, bounds or margins).
 */
export function specOf(meta: MetaEvent | null): DesignSpec | null {
  if (!meta) return null;
  if (meta.spec) return meta.spec;
  return designSpec(
    designInput({
      witnessCount: meta.witnesses.length,
      leaseTtlMs: meta.timing.leaseTtlMs,
      heartbeatMs: meta.timing.heartbeatMs,
      peerCheckIntervalMs: meta.timing.peerCheckIntervalMs,
      peerFailureThreshold: meta.timing.peerFailureThreshold,
      ...(meta.timing.promotionHoldDownMs !== undefined
        ? { promotionHoldDownMs: meta.timing.promotionHoldDownMs }
        : {}),
    }),
    'derived from the meta (no spec recorded)',
    // the simulator records the store at its transitions; other executors poll it (every H/5)
    meta.executor === 'sim'
      ? { precision: 'exact', intervalMs: 0 }
      : { precision: 'polled', intervalMs: Math.max(50, Math.round(meta.timing.heartbeatMs / 5)) },
  );
}

export interface AuthorityWindow {
  region: RegionId;
  epoch: number;
  /** global ms, inclusive */
  start: number;
  /** global ms, exclusive */
  end: number;
  seqs: number[];
}

export interface FaultSpan {
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
export interface Facts {
  meta: MetaEvent | null;
  /** the design the history is judged by (src/contracts/spec.ts); null without a meta */
  spec: DesignSpec | null;
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

export function isOrdered(events: HistoryEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    if (b.t < a.t || (b.t === a.t && b.seq < a.seq)) return false;
  }
  return true;
}

type EventOfKind<K extends HistoryEvent['kind']> = Extract<HistoryEvent, { kind: K }>;

/** One kind's events in history order, and where each sits in the history. */
interface KindBucket {
  events: HistoryEvent[];
  at: number[];
}

/** Per Facts (one verdict's): its events by kind (built on first use), and merged selections. */
const byKindCache = new WeakMap<
  Facts,
  { kinds: Map<string, KindBucket>; merged: Map<string, HistoryEvent[]> }
>();

function kindIndex(f: Facts) {
  let index = byKindCache.get(f);
  if (index === undefined) {
    const kinds = new Map<string, KindBucket>();
    const events = f.events;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const b = kinds.get(ev.kind);
      if (b === undefined) kinds.set(ev.kind, { events: [ev], at: [i] });
      else {
        b.events.push(ev);
        b.at.push(i);
      }
    }
    index = { kinds, merged: new Map() };
    byKindCache.set(f, index);
  }
  return index;
}

/**
 * The history's events of one kind, in order: what `for (ev of f.events) if (ev.kind !== k)
 * continue` visits. A history holds some fifteen kinds in as many object shapes, so every
 * such walk reads `kind` through a megamorphic load per event; one index serves all of a
 * verdict's walks (issue #18).
 */
export function eventsOfKind<K extends HistoryEvent['kind']>(f: Facts, kind: K): readonly EventOfKind<K>[] {
  return (kindIndex(f).kinds.get(kind)?.events ?? []) as EventOfKind<K>[];
}

/** The history's events of any of `kinds`, in history order (eventsOfKind's buckets merged). */
export function eventsOfKinds<K extends HistoryEvent['kind']>(
  f: Facts,
  ...kinds: K[]
): readonly EventOfKind<K>[] {
  const index = kindIndex(f);
  const key = kinds.join(' ');
  let out = index.merged.get(key);
  if (out === undefined) {
    const buckets = kinds.map((k) => index.kinds.get(k)).filter((b) => b !== undefined);
    const next = buckets.map(() => 0);
    out = [];
    for (;;) {
      let best = -1;
      for (let j = 0; j < buckets.length; j++) {
        const n = next[j]!;
        if (n < buckets[j]!.at.length && (best < 0 || buckets[j]!.at[n]! < buckets[best]!.at[next[best]!]!))
          best = j;
      }
      if (best < 0) break;
      out.push(buckets[best]!.events[next[best]!]!);
      next[best]!++;
    }
    index.merged.set(key, out);
  }
  return out as EventOfKind<K>[];
}

/** Index of the first event at or after global `t` in a time-ordered history (length if none). */
export function firstIndexAtOrAfter(events: readonly HistoryEvent[], t: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function collectFacts(events: HistoryEvent[]): Facts {
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
    spec: specOf(meta),
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

export function faultSpan(ev: FaultEvent): FaultSpan {
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

export function outcome(
  name: string,
  category: 'safety' | 'liveness',
  violations: Violation[],
  okDetail: string,
  evaluated = true,
  premise?: Premise,
): CheckOutcome {
  const first = violations[0];
  const notExercised = premise !== undefined && !premise.observed && violations.length === 0;
  return {
    name,
    kind: 'invariant',
    category,
    ok: violations.length === 0,
    detail: first
      ? violations.length === 1
        ? first.detail
        : `${first.detail} (+${violations.length - 1} more)`
      : notExercised
        ? `not exercised: ${premise.statement} — ${premise.evidence}`
        : okDetail,
    violations,
    evaluated: evaluated && !notExercised,
    ...(premise ? { premise: premise.statement, exercised: premise.observed } : {}),
    ...(notExercised ? { status: 'not-exercised' as const } : {}),
  };
}

/** What a check needs the history to show before its pass means anything, and whether it does. */
export interface Premise {
  statement: string;
  observed: boolean;
  /** what was (or was not) seen, for the detail line */
  evidence: string;
}

export const fmtS = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/**
 * An entry of the lease store's own log (a transition it recorded: grant, renew, release,
 * refuse, expire) — not a polled view, nor a per-location view of the legacy KV design.
 */
export function isStoreLogEntry(
  e: HistoryEvent,
): e is LeaseStoreEvent & { op: NonNullable<LeaseStoreEvent['op']> } {
  return e.kind === 'lease-store' && e.op !== undefined && e.location === undefined;
}

/**
 * Some process event in [from, to] of a component `of` accepts (only of `ops`, if given): a
 * crash, start or restart there gives the component a new incarnation that forgot its timers.
 */
export function processEventBetween(
  f: Facts,
  of: (component: string) => boolean,
  from: number,
  to: number,
  ops?: ReadonlySet<string>,
): boolean {
  return eventsOfKind(f, 'process').some(
    (e) => e.t >= from && e.t <= to && (ops === undefined || ops.has(e.op)) && of(e.component),
  );
}

/** The fault stands between ctl-`region` and the lease store: the Worker, or that link to it. */
export function touchesLeaseStore(x: FaultSpan, region: RegionId): boolean {
  return (
    x.target === 'worker' || x.components.includes('worker') || x.links.includes(`ctl-${region}->worker`)
  );
}

export function regionOfEndpoint(id: string, regions: RegionId[]): RegionId | null {
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

export function primaryOf(roles: Map<RegionId, Role> | undefined): RegionId | null {
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
export function othersOverlap(f: Facts, self: FaultSpan, from: number, to: number): boolean {
  return f.faults.some((g) => g !== self && g.start <= to && (g.end > from || g.start >= from));
}

export function firstPromotion(f: Facts, notRegion: RegionId, from: number, to: number): RoleEvent | null {
  for (const r of f.roles) {
    if (r.t < from) continue;
    if (r.t > to) break;
    if (r.to === 'primary' && r.region !== notRegion) return r;
  }
  return null;
}

export function inHoldDown(f: Facts, region: RegionId, t: number): boolean {
  const hold = f.spec?.promotionHoldDownMs ?? 0;
  if (hold <= 0) return false;
  for (const r of f.roles) {
    if (r.t > t) break;
    if (r.region === region && r.from === 'primary' && r.t > t - hold) return true;
  }
  return false;
}
