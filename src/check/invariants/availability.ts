/**
 * `write-availability`: the longest stretch in which no region could accept a write (no app
 * holds write authority) and no fault explains it stays under B = spec.bounds.unavailabilityMs
 * (the failover bound: restoring a writable primary is what a failover does). A fault explains
 * a stretch from its start to B after its end; the time until the first write authority is
 * bootstrap (a run that never becomes writable gets B).
 * Also measures availability = accepted / attempted writes that reached an app.
 */
import { eventsOfKinds, type Facts, fmtS, outcome } from '../facts.ts';
import { gaps, merge, type Span, subtract } from '../intervals.ts';
import type { CheckOutcome, Measurements, Violation } from '../verdict.ts';
import { operatorWaitUntil } from './operator.ts';

/** Margin inside a window's edges: clock readings are rounded to µs in real runs. */
const INSIDE_MARGIN_MS = 1;

interface WriteScan {
  accepted: number;
  attempted: number;
  /** when the scenario's own clock starts (real runs boot first and note it), else 0 */
  startT: number;
  /** the first write rejected inside its app's write authority, reported as a violation */
  rejected: Violation | null;
}

/**
 * Everything this invariant reads from the events, in one pass over the history (it had
 * scanned it three times per run, a measurable share of a simulator search, issue #18).
 *
 * A write that reached an app while that app reported holding write authority must be
 * accepted: authority nobody can use is no authority (the app's fence observed from its
 * writes; only the first such write is reported).
 */
function scanWrites(f: Facts, name: string): WriteScan {
  const scan: WriteScan = { accepted: 0, attempted: 0, startT: 0, rejected: null };
  let startSeen = false;
  for (const ev of eventsOfKinds(f, 'note', 'app-write')) {
    if (ev.kind === 'note') {
      if (!startSeen && ev.message === 'scenario-start') {
        startSeen = true;
        scan.startT = ev.t;
      }
      continue;
    }
    if (ev.kind !== 'app-write') continue;
    scan.attempted++;
    if (ev.accepted) {
      scan.accepted++;
      continue;
    }
    if (scan.rejected !== null) continue;
    const w = f.windows.find(
      (x) => x.region === ev.region && ev.t > x.start + INSIDE_MARGIN_MS && ev.t < x.end - INSIDE_MARGIN_MS,
    );
    if (w === undefined) continue;
    scan.rejected = {
      invariant: name,
      at: ev.t,
      detail: `app-${ev.region} rejected a write from ${ev.client} (${ev.reason ?? 'no reason'}) at t=${fmtS(ev.t)}, inside its write authority under epoch ${w.epoch} from t=${fmtS(w.start)} to t=${fmtS(w.end)}`,
      events: [ev.seq, ...w.seqs],
    };
  }
  return scan;
}

export function checkWriteAvailability(f: Facts, m: Measurements): CheckOutcome {
  const name = 'write-availability';
  const { accepted, attempted, startT: start, rejected } = scanWrites(f, name);
  if (attempted > 0) m.availability = Math.round((accepted / attempted) * 10_000) / 10_000;
  const boundMs = f.spec?.bounds.unavailabilityMs;
  if (boundMs === undefined) return outcome(name, 'liveness', [], 'no spec: bound unknown', false);
  m.unavailabilityBoundMs = boundMs;
  const down = gaps(
    start,
    f.endT,
    f.windows.map((w) => ({ from: w.start, to: w.end })),
  );
  m.longestUnavailableMs = down.reduce((x, s) => Math.max(x, s.to - s.from), 0);
  // bootstrap: until the first write authority (boot time is not the controller's to answer
  // for; a system that never became writable gets the bound)
  const firstStart = f.windows.reduce((x, w) => Math.min(x, w.start), Number.POSITIVE_INFINITY);
  const explained: Span[] = [
    { from: 0, to: Number.isFinite(firstStart) ? firstStart : start + boundMs },
    ...f.faults.map((x) => ({ from: x.start, to: (Number.isFinite(x.end) ? x.end : f.endT) + boundMs })),
  ];
  // semi-automatic and manual modes: a stretch waits for the operator's approval (manual: their
  // promote), then B for the takeover it starts
  for (const s of down) {
    const until = operatorWaitUntil(f, s.from);
    if (until > s.from) explained.push({ from: s.from, to: until + boundMs });
  }
  const unexplained = merge(subtract(down, explained));
  const longest = unexplained.reduce<Span | null>(
    (x, s) => (!x || s.to - s.from > x.to - x.from ? s : x),
    null,
  );
  m.longestUnexplainedUnavailableMs = longest ? longest.to - longest.from : 0;
  const violations: Violation[] = unexplained
    .filter((s) => s.to - s.from > boundMs)
    .map((s) => ({
      invariant: name,
      at: s.from + boundMs,
      detail: `no region could accept a write for ${fmtS(s.to - s.from)} from t=${fmtS(s.from)} with no fault to explain it (bound ${fmtS(boundMs)})`,
      events: [],
    }));
  if (rejected !== null) violations.push(rejected);
  const pct =
    m.availability !== undefined
      ? `; availability ${(m.availability * 100).toFixed(1)} % (${accepted}/${attempted} writes)`
      : '';
  return outcome(
    name,
    'liveness',
    violations,
    `longest stretch without a writable region ${fmtS(m.longestUnavailableMs)}, unexplained ${fmtS(m.longestUnexplainedUnavailableMs)} (bound ${fmtS(boundMs)})${pct}`,
    f.endT > start,
  );
}
