/**
 * The operator's commands and what the apps observed after them (docs/invariants.md, "Operator
 * commands"). Judged on the operator's own record of what they typed (`note` events from source
 * `operator`: `data.region`, `data.command`; `data.step` when a scenario step typed it), on the
 * apps' authority and on the executor's process events; never on a controller's role,
 * candidacy or `approvedBy`.
 *
 * - `operator-approval` (safety): in semi-automatic mode a region's app is promoted only after
 *   the operator approved (or promoted) that region; in manual mode only after an operator
 *   promote of it. The approval is recent (an approved candidacy gives up T + H after it), was
 *   not used by an earlier promotion, and was not typed into a rejection's hold-down.
 * - `operator-demote` (safety): after an operator demote reached a running controller, its
 *   region's app stops writing within L(1 + ρ) + d (no extend after the demote; the last
 *   grant's validity is at most L on the app's clock, its delivery at most d late).
 *
 * The helpers at the end give the liveness checks the operator's part: when an approval lets a
 * semi-automatic takeover start, and which stretches without a writable region wait for them.
 */

import { type ApprovalRequestSeen, approvalRequestOf } from '../../contracts/approval-request.ts';
import type { HistoryEvent, RegionId } from '../../contracts/history.ts';
import type { DesignSpec } from '../../contracts/spec.ts';
import { eventsOfKind, type Facts, fmtS, outcome } from '../facts.ts';
import type { CheckOutcome, Violation } from '../verdict.ts';

const NAME = 'operator-approval';
const DEMOTE = 'operator-demote';

export interface OperatorCommandNote {
  t: number;
  seq: number;
  region: RegionId;
  command: string;
  /** when its controller took it (takenAt); null: lost (down or stopping) */
  takenAt: number | null;
}

/** The command an operator note records, or null for any other event. */
export function operatorCommandOf(ev: HistoryEvent): Omit<OperatorCommandNote, 'takenAt'> | null {
  if (ev.kind !== 'note' || ev.source !== 'operator') return null;
  const d = ev.data;
  if (!d || typeof d['region'] !== 'string' || typeof d['command'] !== 'string') return null;
  return { t: ev.t, seq: ev.seq, region: d['region'], command: d['command'] };
}

const commandsCache = new WeakMap<Facts, readonly OperatorCommandNote[]>();

/**
 * The operator's commands in history order. Several checks ask it once per store entry they
 * judge, so it is read from the note events once per history (a walk of every event each
 * time made two liveness checks a tenth of the simulator's CPU, issue #18).
 */
export function operatorCommands(f: Facts): readonly OperatorCommandNote[] {
  let out = commandsCache.get(f);
  if (out === undefined) {
    const found: OperatorCommandNote[] = [];
    for (const ev of eventsOfKind(f, 'note')) {
      const c = operatorCommandOf(ev);
      if (c !== null) found.push({ ...c, takenAt: takenAt(f, c.region, c.t) });
    }
    out = found;
    commandsCache.set(f, out);
  }
  return out;
}

/**
 * W: how long after an approval (or an operator promote) its candidacy may still promote. The
 * candidacy acquires until T + H after it on its own clock (the design's candidate timeout);
 * its last acquire's reply comes within 2d, the promote call reaches the app within d, and a
 * pause of at most p may come between.
 */
export function approvalReachMs(spec: DesignSpec): number {
  const rho = spec.maxClockDriftRate;
  return Math.ceil((spec.leaseTtlMs + spec.heartbeatMs) * (1 + rho)) + 3 * spec.maxDelayMs + spec.maxPauseMs;
}

/**
 * When ctl-region took a command typed at t, by the executor's process events: at once while it
 * runs; when it is continued, if paused (the request waits in its socket; lost if it crashes
 * first); never while it is down or stopping (refused, as the admin API answers 503 then).
 */
export function takenAt(f: Facts, region: RegionId, t: number): number | null {
  const ctl = `ctl-${region}`;
  let state: 'up' | 'paused' | 'down' = 'up';
  for (const ev of f.events) {
    if (ev.kind !== 'process' || ev.component !== ctl) continue;
    if (ev.t > t) {
      if (state !== 'paused') break;
      if (ev.op === 'resume') return ev.t;
      if (ev.op === 'crash' || ev.op === 'exit' || ev.op === 'stop') return null;
      continue;
    }
    if (ev.op === 'crash' || ev.op === 'exit' || ev.op === 'stop') state = 'down';
    else if (ev.op === 'pause') state = 'paused';
    else state = 'up'; // start, restart, resume
  }
  return state === 'up' ? t : null;
}

/**
 * When the operator saw ctl-region ask for approval (their `note`, `data.request: approval`,
 * src/contracts/approval-request.ts), each placed in [sinceT, t]: exact in the simulator, one
 * scrape of the controller's metrics page wide in the real topology. The rules below read
 * them conservatively: a request counts as before or after an instant only when its whole
 * span is.
 */
function requestsOf(f: Facts, region: RegionId): ApprovalRequestSeen[] {
  const out: ApprovalRequestSeen[] = [];
  for (const ev of eventsOfKind(f, 'note')) {
    const r = approvalRequestOf(ev);
    if (r !== null && r.region === region) out.push(r);
  }
  return out;
}

/** A command that answers a waiting request with "no": the candidacy goes back to standby. */
const refuses = (c: OperatorCommandNote) => c.command === 'reject' || c.command === 'demote';

/**
 * The request an approval answers was already refused: the operator's record shows ctl-r's
 * latest request before the approval was taken, and a reject (or demote) of r taken after that
 * request and typed before the approval. The candidacy it asked for went back to standby (or,
 * approved already, ignored both); the approval can reach no candidacy until r asks again.
 * The latest request that may have come before the approval is the one it answers, and the
 * refusal must be taken after all of that request's span. Without a record of requests
 * nothing is void.
 */
function answersRefusedRequest(
  c: OperatorCommandNote,
  requests: readonly ApprovalRequestSeen[],
  cmds: readonly OperatorCommandNote[],
): boolean {
  if (c.command !== 'approve' || c.takenAt === null) return false;
  const taken = c.takenAt;
  const asked = requests.filter((r) => r.sinceT <= taken).pop();
  if (asked === undefined) return false;
  return cmds.some(
    (x) => x.region === c.region && refuses(x) && x.takenAt !== null && x.takenAt > asked.t && x.t < c.t,
  );
}

/** A crash or isolation of the whole region (or a crash of its controller) covered [from, to]. */
function regionDownThroughout(f: Facts, region: RegionId, from: number, to: number): boolean {
  return f.faults.some(
    (x) =>
      x.start <= from &&
      x.end >= to &&
      ((x.fault === 'crash' && (x.target === region || x.components.includes(`ctl-${region}`))) ||
        (x.fault === 'isolate' && x.target === region)),
  );
}

/**
 * A refused request opens the promotion hold-down: ctl-r asks again no sooner than
 * H_d/(1+ρ) − 1 ms after the refusal was taken. Judged when nothing else could have ended the
 * candidacy first (a failover candidacy ends by itself when the peer answers again, a vacancy
 * fill when the other region takes the lease): the other region down throughout — crashed or
 * isolated — and ctl-r neither crashed nor restarted (the hold-down is process memory).
 */
function askedInsideHoldDown(
  f: Facts,
  spec: DesignSpec,
  cmds: readonly OperatorCommandNote[],
): { violations: Violation[]; judged: number } {
  const hold = spec.promotionHoldDownMs / (1 + spec.maxClockDriftRate) - 1;
  const out: Violation[] = [];
  let judged = 0;
  for (const region of f.regions) {
    const requests = requestsOf(f, region);
    const other = f.regions.find((r) => r !== region);
    for (const x of cmds) {
      if (x.region !== region || !refuses(x) || x.takenAt === null || other === undefined) continue;
      const taken = x.takenAt;
      // asked: the last request wholly before the refusal; next: the first wholly after it. A
      // request whose span holds the refusal either was the open one or came after it, before
      // next: if next is inside the hold-down, a request after the refusal is either way
      const asked = requests.filter((r) => r.t < taken).pop();
      const next = requests.find((r) => r.sinceT > taken);
      if (asked === undefined || next === undefined) continue;
      const from = asked.sinceT;
      // the request was still open: nothing answered it before this refusal
      if (
        cmds.some(
          (y) =>
            y !== x && y.region === region && y.takenAt !== null && y.takenAt > from && y.takenAt <= taken,
        )
      )
        continue;
      if (!regionDownThroughout(f, other, from, next.t)) continue;
      if (
        f.events.some(
          (e) => e.kind === 'process' && e.component === `ctl-${region}` && e.t >= from && e.t <= next.t,
        )
      )
        continue;
      judged++;
      // inside the hold-down only if its latest possible instant is
      if (next.t >= taken + hold) continue;
      out.push({
        invariant: NAME,
        at: next.t,
        detail: `ctl-${region} asked the operator for approval again at t=${fmtS(next.t)}, ${fmtS(next.t - taken)} after their ${x.command} at t=${fmtS(x.t)} refused its request, inside the promotion hold-down (${fmtS(spec.promotionHoldDownMs)}) while ${other} was down`,
        events: [x.seq],
      });
    }
  }
  return { violations: out, judged };
}

/** Commands that approve a promotion of a region in this mode. */
const approves = (mode: string, command: string): boolean =>
  command === 'promote' || (mode === 'semi-automatic' && command === 'approve');

export function checkOperatorApproval(f: Facts): CheckOutcome {
  const spec = f.spec;
  const mode = spec?.controllerMode ?? 'automatic';
  if (spec === null || mode === 'automatic')
    return outcome(NAME, 'safety', [], 'automatic mode: no approval required', false);
  const cmds = operatorCommands(f);
  const reach = approvalReachMs(spec);
  const requests = new Map(f.regions.map((r) => [r, requestsOf(f, r)]));
  const isVoid = (c: OperatorCommandNote) => answersRefusedRequest(c, requests.get(c.region) ?? [], cmds);
  const holdDown = askedInsideHoldDown(f, spec, cmds);
  const violations: Violation[] = [...holdDown.violations];
  /** per region: time of its last judged promotion (approvals before it are used) */
  const usedUntil = new Map<RegionId, number>();
  const promoted = new Set<string>();
  let judged = 0;
  for (const ev of f.events) {
    if (ev.kind !== 'app-authority' || ev.op !== 'grant' || ev.reason !== 'promote') continue;
    const key = `${ev.region}/${ev.epoch}`;
    if (promoted.has(key)) continue; // the same term promoted again (a retry)
    promoted.add(key);
    // the preferred bootstrap: the initial primary taking a lease never granted before is the
    // history's first promotion (any later one follows an earlier grant)
    if (promoted.size === 1 && ev.region === f.meta?.initialPrimary) continue;
    judged++;
    const used = usedUntil.get(ev.region) ?? Number.NEGATIVE_INFINITY;
    usedUntil.set(ev.region, ev.t);
    // taken by its controller, within W before the promotion, not used by an earlier one
    const mine = cmds.filter(
      (c) =>
        c.region === ev.region &&
        c.takenAt !== null &&
        c.takenAt <= ev.t &&
        c.takenAt >= ev.t - reach &&
        c.takenAt > used &&
        approves(mode, c.command),
    );
    if (mine.some((c) => !isVoid(c))) continue;
    const voidOnes = mine.filter(isVoid);
    const what = mode === 'manual' ? 'promote' : 'approval (or promote)';
    violations.push({
      invariant: NAME,
      at: ev.t,
      detail:
        voidOnes.length > 0
          ? `app-${ev.region} was promoted under epoch ${ev.epoch} at t=${fmtS(ev.t)} in ${mode} mode on the operator's approval at t=${fmtS(voidOnes[0]!.t)}, which answered a request of ${ev.region} the operator had already refused (no request since)`
          : `app-${ev.region} was promoted under epoch ${ev.epoch} at t=${fmtS(ev.t)} in ${mode} mode, but the operator typed no ${what} of ${ev.region} within ${fmtS(reach)} before it that an earlier promotion had not used`,
      events: [ev.seq, ...voidOnes.map((c) => c.seq)],
    });
  }
  const promotions =
    judged > 0
      ? `${judged} promotion(s) in ${mode} mode, each after the operator's ${mode === 'manual' ? 'promote' : 'approval'}`
      : 'no promotion that needed the operator';
  const refusals =
    mode === 'semi-automatic'
      ? `; ${refusalRulesDetail(requests, holdDown.judged, cmds.filter(isVoid).length)}`
      : '';
  return outcome(NAME, 'safety', violations, promotions + refusals, judged > 0 || holdDown.judged > 0);
}

/**
 * Whether the rules on refused requests were applied, and on what: they need the operator's
 * record of requests, which an executor may lack (a game day's operator records none).
 */
function refusalRulesDetail(
  requests: ReadonlyMap<RegionId, readonly ApprovalRequestSeen[]>,
  holdDownJudged: number,
  voidApprovals: number,
): string {
  const seen = [...requests.values()].reduce((n, r) => n + r.length, 0);
  if (seen === 0) return 'no approval request recorded: refused requests not judged';
  return `refused requests judged on ${seen} approval request(s) the operator saw: ${holdDownJudged} refusal(s) against the promotion hold-down, ${voidApprovals} approval(s) void (answered a refused request)`;
}

/**
 * `operator-demote`: a demote typed to a running controller (not paused or down then) ends its
 * app's write authority by tD + L(1 + ρ) + d. Judged once the window has ended, or the run
 * lasted past the bound.
 */
export function checkOperatorDemote(f: Facts): CheckOutcome {
  const spec = f.spec;
  if (spec === null) return outcome(DEMOTE, 'safety', [], 'no spec: bound unknown', false);
  const bound = Math.ceil(spec.bounds.safeWindowMs * (1 + spec.maxClockDriftRate)) + spec.maxDelayMs + 1;
  const violations: Violation[] = [];
  let judged = 0;
  for (const c of operatorCommands(f)) {
    if (c.command !== 'demote') continue;
    if (c.takenAt !== c.t) continue; // queued or lost: not taken when typed
    const w = f.windows.find((x) => x.region === c.region && x.start <= c.t && x.end > c.t);
    if (w === undefined) continue; // its app did not write: nothing to end
    const ended = w.end <= c.t + bound && w.end < f.endT;
    if (!ended && f.endT < c.t + bound) continue; // still writing when the run ended, before the bound
    judged++;
    if (ended) continue;
    violations.push({
      invariant: DEMOTE,
      at: c.t + bound,
      detail: `the operator demoted ctl-${c.region} at t=${fmtS(c.t)}, but app-${c.region} still held write authority (epoch ${w.epoch}) at t=${fmtS(c.t + bound)}, beyond L(1+ρ) + d = ${fmtS(bound)}; it held it until t=${fmtS(w.end)}`,
      events: [c.seq, ...w.seqs.slice(-2)],
    });
  }
  return outcome(
    DEMOTE,
    'safety',
    violations,
    judged > 0
      ? `${judged} operator demote(s) of a writing region, each ending its authority within ${fmtS(bound)}`
      : 'no operator demote of a writing region',
    judged > 0,
  );
}

/**
 * Someone answers every approval request: the operator's note announcing the simulated
 * approver (simulator/world.ts). Without it, approvals come from a scenario's commands or from
 * nobody, and whether one met a waiting candidacy is not observable.
 */
function answersRequests(f: Facts): boolean {
  return f.events.some(
    (ev) => ev.kind === 'note' && ev.source === 'operator' && ev.data?.['approver'] === 'simulated',
  );
}

/**
 * For the semi-automatic liveness bounds: when the operator let a takeover by a region other
 * than `lost` start after `from` — its first approval (or promote) of one, if later than `from`.
 * null: nobody answers requests (a scenario's commands decide), so no takeover bound applies.
 */
export function approvalShift(f: Facts, lost: RegionId, from: number): { startsAt: number } | null {
  if (f.spec?.controllerMode !== 'semi-automatic') return { startsAt: from };
  if (!answersRequests(f)) return null;
  const first = operatorCommands(f).find(
    (c) => c.region !== lost && c.t >= from && approves('semi-automatic', c.command),
  );
  return { startsAt: first === undefined ? from : Math.max(from, first.t) };
}

/**
 * Stretches that wait for the operator (semi-automatic and manual modes): from `from` until
 * the simulated approver's next approval after it; the whole stretch when nobody answers
 * requests (manual mode, or a scenario's commands: a takeover is the operator's decision).
 */
export function operatorWaitUntil(f: Facts, from: number): number {
  const mode = f.spec?.controllerMode ?? 'automatic';
  if (mode === 'automatic') return from;
  if (mode === 'manual' || !answersRequests(f)) return f.endT;
  const next = operatorCommands(f).find((c) => c.t >= from && approves(mode, c.command));
  return next?.t ?? f.endT;
}
