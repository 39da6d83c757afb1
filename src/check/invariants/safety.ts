/**
 * Safety invariants over write authority, acts, epochs and writes (docs/invariants.md, Safety).
 * Each reads only the history through Facts.
 */

import type { HistoryEvent, RegionId } from '../../contracts/history.ts';
import {
  type AuthorityWindow,
  eventsOfKind,
  eventsOfKinds,
  type Facts,
  fmtS,
  outcome,
  PRIMARY_ACTS,
} from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

export function checkSinglePrimary(f: Facts): CheckOutcome {
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

/**
 * The design's bound on an act, from observations only: the act and the authority it hands
 * out end within the spec's L after the send (on the actor's clock) of the last lease request
 * the store granted it — whatever safe window the controller computed for itself.
 */
function beyondSpecWindow(f: Facts): Violation[] {
  const L = f.spec?.bounds.safeWindowMs;
  if (L === undefined) return [];
  const grants = eventsOfKind(f, 'lease').filter(
    (e) =>
      e.phase === 'result' &&
      (e.op === 'acquire' || e.op === 'renew') &&
      (e.granted ?? (e.ok === true && e.holder === e.region)),
  );
  const out: Violation[] = [];
  for (const ev of eventsOfKind(f, 'act')) {
    if (!PRIMARY_ACTS.has(ev.action) || ev.safeUntilLocalMs === null) continue;
    // the latest grant the actor can have heard of (same t counts: one step records both)
    let backing: Extract<HistoryEvent, { kind: 'lease' }> | null = null;
    for (const g of grants) {
      if (g.t > ev.t) break;
      if (g.region === ev.region) backing = g;
    }
    if (backing === null) continue; // no grant observed: the first branch of the caller judges it
    const endLocalMs = ev.localMs + (ev.validityMs ?? 0);
    const boundLocalMs = backing.sentLocalMs + L;
    if (endLocalMs > boundLocalMs) {
      out.push({
        invariant: 'act-within-safe-window',
        at: ev.t,
        detail: `ctl-${ev.region} did ${ev.action} (epoch ${ev.epoch}) reaching local ${endLocalMs}, ${endLocalMs - boundLocalMs} ms past the design's L = ${L} ms after its last granted lease request (sent at local ${backing.sentLocalMs})`,
        events: [backing.seq, ev.seq],
      });
      break; // one is enough: the rest follow from the same window
    }
  }
  return out;
}

export function checkActWithinSafeWindow(f: Facts): CheckOutcome {
  const violations: Violation[] = beyondSpecWindow(f);
  let acts = 0;
  for (const ev of eventsOfKind(f, 'act')) {
    if (!PRIMARY_ACTS.has(ev.action)) continue;
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

export function checkEpochMonotonic(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  // (a) the lease store: every new grant carries an epoch above every earlier grant
  let cur: { holder: string; epoch: number } | null = null;
  let maxGranted = Number.NEGATIVE_INFINITY;
  let maxGrantSeq = -1;
  let grants = 0;
  // (b) promotions: per region non-decreasing, across regions strictly increasing
  const lastPromote = new Map<RegionId, number>();
  let maxOther: { region: RegionId; epoch: number; seq: number } | null = null;
  for (const ev of eventsOfKinds(f, 'lease-store', 'act')) {
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

/** Clock readings are rounded to µs in real runs: a write this close to a window's edge is inside. */
const WINDOW_EDGE_MS = 1;

/** The write-authority window of `region` that `t` falls in (edges widened by WINDOW_EDGE_MS). */
export function windowAt(
  windows: readonly AuthorityWindow[],
  region: string,
  t: number,
): AuthorityWindow | null {
  for (const w of windows) {
    if (w.region === region && t >= w.start - WINDOW_EDGE_MS && t < w.end + WINDOW_EDGE_MS) return w;
  }
  return null;
}

export function checkNoStaleWrite(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  const appMax = new Map<RegionId, { epoch: number; seq: number }>();
  let storeMax: { epoch: number; seq: number; holder: string } | null = null;
  let accepted = 0;
  for (const ev of eventsOfKinds(f, 'app-authority', 'lease-store', 'app-write')) {
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
      const w = windowAt(f.windows, ev.region, ev.t);
      if (w === null) {
        // what the app reported holding is what its fence may act on: a write outside every
        // window is a write no epoch covered (the fence's own decision, observed)
        violations.push({
          invariant: 'no-stale-write',
          at: ev.t,
          detail: `app-${ev.region} accepted a write from ${ev.client} under epoch ${ev.epoch} outside every window of write authority it reported`,
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

export function checkNoInternalError(f: Facts): CheckOutcome {
  const violations: Violation[] = [];
  for (const ev of eventsOfKind(f, 'process')) {
    if (ev.error !== undefined) {
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
