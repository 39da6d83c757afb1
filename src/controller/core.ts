/**
 * The pure decision core of the failover controller (etcd-io/raft style):
 *
 *   let s = createControllerState(config, nowMs, opts)
 *   loop: { state, actions, wakeAtMs } = step(s, input)   // input = tick | result | operator | shutdown
 *
 * No I/O, no clock, no randomness: the caller feeds its local monotonic time in every input,
 * performs the returned actions in order, feeds their outcomes back as inputs, and delivers a
 * tick no later than wakeAtMs. The state is plain JSON so simulator traces can hash it.
 *
 * Impossible states throw (`InvariantError`): the simulator turns a throw into a finding.
 * The reasoning behind each rule is in docs/controller.md.
 */
import {
  acquireRetryMsOf,
  candidateTimeoutMsOf,
  defaultControllerConfig,
  failoverBoundMs,
  historyTiming,
  leaseGoneBoundMs,
  leaseRequestTimeoutMsOf,
  resourceFailedHoldDownMsOf,
  safeWindowMs,
  validateControllerConfig,
} from './config.ts';
import type {
  ControllerAction,
  ControllerConfig,
  ControllerEvent,
  ControllerInput,
  ControllerView,
  PromotionBasis,
  RegionId,
  Role,
  StepResult,
  WitnessVerdict,
} from './types.ts';

export { defaultControllerConfig, failoverBoundMs, historyTiming, safeWindowMs, validateControllerConfig };

/** Thrown when the core reaches a state its own rules forbid (a bug, never an input error). */
export class InvariantError extends Error {
  // Stryker disable next-line BlockStatement: thrown only by the core's own assertions (checkState and the like), which a correct core never trips
  constructor(message: string) {
    super(`controller invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}

export interface CreateOptions {
  /**
   * 'primary' marks the region configured as the initial primary. It never starts acting:
   * it only gets first go at a lease that has never been held (epoch 0) — it acquires on
   * the first such status poll and, in semi-automatic/manual mode, without approval.
   * 'standby' (default) bootstraps only in automatic mode (semi-automatic: after approval),
   * after two consecutive never-held polls. Either way the lease grant decides.
   */
  initialRole?: 'standby' | 'primary';
}

interface WitnessRound {
  round: number;
  startedAtMs: number;
  deadlineMs: number;
  /** answers received in this round, by witness id */
  answers: Record<string, WitnessVerdict>;
}

interface Candidacy {
  basis: PromotionBasis;
  sinceMs: number;
  awaitingApproval: boolean;
  approvedBy: 'automatic' | 'operator';
  /** set when acquiring starts (after approval, if any) */
  deadlineMs: number | null;
  peerFailures: number;
  votes: Record<string, WitnessVerdict>;
  unreachableVotes: number;
  acquireInFlightSentAtMs: number | null;
  nextAcquireAtMs: number;
}

/** Plain data (JSON-serialisable). Treat as opaque: read it through view(). */
export interface ControllerState {
  config: ControllerConfig;
  /** L, computed once */
  safeWindowMs: number;
  nowMs: number;
  /** local time this incarnation started: a lease held in our name before that may back a
   *  write window of the previous incarnation until it is surely gone at the Worker */
  startedAtMs: number;
  /** epoch of the first lease status this incarnation saw before it sent any acquire: a lease
   *  in our name at or below it may be the previous incarnation's (null: not known) */
  inheritedEpochFloor: number | null;
  acquireSent: boolean;
  role: Role;
  preferredBootstrap: boolean;
  highestEpochSeen: number;
  /** highest epoch carried by any action emitted so far (actions never go below it) */
  maxActionEpoch: number;
  leaseHolder: RegionId | null;
  // --- primary
  heldEpoch: number | null;
  safeUntilMs: number | null;
  lastRenewalSentAtMs: number | null;
  nextRenewAtMs: number | null;
  renewInFlightSentAtMs: number | null;
  promoteConfirmed: boolean;
  publishConfirmed: boolean;
  resourceFailures: number;
  // --- observation (standby / candidate / fenced)
  nextPeerProbeAtMs: number;
  peerConsecutiveFailures: number;
  peerProbeSeen: boolean;
  /** outcome of the most recent peer probe: the vacant-lease gate needs "the peer answers
   *  now", which a reset failure counter does not say (it is also zeroed after a witness
   *  round without quorum while the peer is still down) */
  lastPeerProbeOk: boolean;
  nextStatusPollAtMs: number;
  statusInFlightSentAtMs: number | null;
  vacantPolls: number;
  lastStatusEpoch: number | null;
  witnessRoundSeq: number;
  witnessRound: WitnessRound | null;
  witnessVerdicts: Record<string, WitnessVerdict>;
  candidacy: Candidacy | null;
  /** release allowed once the resource confirms the demotion of this epoch */
  pendingRelease: { epoch: number } | null;
  holdDownUntilMs: number;
  lastFailoverAtMs: number | null;
  demotionsTotal: number;
  shutdown: 'no' | 'demoting' | 'done';
  /** TTL the lease store last reported (status, grant or renewal), null before any reply */
  storeLeaseTtlMs: number | null;
  /** grants and renewals not acted on because their TTL was shorter than config.leaseTtlMs */
  leaseTtlRefusals: number;
}

export function createControllerState(
  c: ControllerConfig,
  nowMs: number,
  opts: CreateOptions = {},
): ControllerState {
  const problems = validateControllerConfig(c);
  // Stryker disable next-line ConditionalExpression: the core's own assertion — every simulated controller runs a config the design accepts (config.ts's validation says where bad ones are judged)
  if (problems.length > 0) throw new InvariantError(`bad controller config: ${problems.join('; ')}`);
  // Stryker disable next-line ConditionalExpression: the core's own assertion — it throws only for a shell that is already wrong
  if (!Number.isFinite(nowMs)) throw new InvariantError(`nowMs must be finite (got ${nowMs})`);
  return {
    config: { ...c, witnesses: [...c.witnesses] },
    safeWindowMs: safeWindowMs(c),
    nowMs,
    startedAtMs: nowMs,
    inheritedEpochFloor: null,
    acquireSent: false,
    role: 'standby',
    preferredBootstrap: opts.initialRole === 'primary',
    highestEpochSeen: 0,
    maxActionEpoch: 0,
    leaseHolder: null,
    heldEpoch: null,
    safeUntilMs: null,
    lastRenewalSentAtMs: null,
    nextRenewAtMs: null,
    renewInFlightSentAtMs: null,
    // Stryker disable next-line BooleanLiteral: observability — the promote/extend verb only (the fence grants both alike), and becomePrimary resets it anyway
    promoteConfirmed: false,
    // Stryker disable next-line BooleanLiteral: equivalent — becomePrimary resets it before handAuthority reads it
    publishConfirmed: false,
    resourceFailures: 0,
    nextPeerProbeAtMs: nowMs,
    peerConsecutiveFailures: 0,
    // Stryker disable next-line BooleanLiteral: equivalent — read only by the held-before vacancy fill, which needs two vacant polls (H apart) after a held lease; the first peer probe, sent at start, has answered by then (its timeout is below H)
    peerProbeSeen: false,
    // Stryker disable next-line BooleanLiteral: equivalent — as peerProbeSeen above
    lastPeerProbeOk: false,
    nextStatusPollAtMs: nowMs,
    statusInFlightSentAtMs: null,
    vacantPolls: 0,
    lastStatusEpoch: null,
    witnessRoundSeq: 0,
    witnessRound: null,
    witnessVerdicts: {},
    candidacy: null,
    pendingRelease: null,
    holdDownUntilMs: nowMs,
    lastFailoverAtMs: null,
    demotionsTotal: 0,
    shutdown: 'no',
    storeLeaseTtlMs: null,
    leaseTtlRefusals: 0,
  };
}

// ---------------------------------------------------------------------------------------
// step

export function step(s: ControllerState, input: ControllerInput): StepResult<ControllerState> {
  // Stryker disable next-line ConditionalExpression: the core's own assertion — it throws only for a shell that is already wrong
  if (!Number.isFinite(input.nowMs)) throw new InvariantError(`input.nowMs must be finite (${input.type})`);
  // Stryker disable next-line ConditionalExpression,BlockStatement: the core's own assertion — both shells feed a monotonic clock (a clock fault steps the wall clock only)
  if (input.nowMs < s.nowMs) {
    throw new InvariantError(`local clock went backwards: ${input.nowMs} < ${s.nowMs} (${input.type})`);
  }
  const st = copyState(s);
  st.nowMs = input.nowMs;
  const acts: ControllerAction[] = [];

  if (st.shutdown !== 'no') {
    handleAfterShutdown(st, acts, input);
  } else {
    // Timers first: a late-delivered input must never let a primary act past its window.
    runTimers(st, acts);
    handleInput(st, acts, input);
    if (st.shutdown === 'no') runTimers(st, acts);
  }
  checkState(st);
  return { state: st, actions: acts, wakeAtMs: wakeAt(st) };
}

/**
 * The copy step() works on, so that step stays pure: every object a transition writes is
 * copied, everything else is shared. Shared and never written: `config` (read-only after
 * creation), `candidacy.votes` and `witnessVerdicts` (replaced, never edited: a spread of the
 * latter on every step was a generic copy, issue #18). A shallow copy instead of
 * structuredClone, which was 40 % of the simulator's CPU (issue #18); test/controller/driver.ts
 * deep-freezes every input state, so a transition that writes a shared object throws there.
 */
function copyState(s: ControllerState): ControllerState {
  const round = s.witnessRound;
  // Field by field, in createControllerState's order, rather than `{ ...s }`: the simulator
  // feeds step() states of many hidden classes (field representations widen as a run goes,
  // witness maps fill in any order), which turns V8's spread into a slow generic copy
  // (≈1.5 µs of a 38-field object against ≈0.1 µs for this literal; issue #18).
  // test/controller/core.test.ts checks that step() keeps every field, in order.
  return {
    config: s.config,
    safeWindowMs: s.safeWindowMs,
    nowMs: s.nowMs,
    startedAtMs: s.startedAtMs,
    inheritedEpochFloor: s.inheritedEpochFloor,
    acquireSent: s.acquireSent,
    role: s.role,
    preferredBootstrap: s.preferredBootstrap,
    highestEpochSeen: s.highestEpochSeen,
    maxActionEpoch: s.maxActionEpoch,
    leaseHolder: s.leaseHolder,
    heldEpoch: s.heldEpoch,
    safeUntilMs: s.safeUntilMs,
    lastRenewalSentAtMs: s.lastRenewalSentAtMs,
    nextRenewAtMs: s.nextRenewAtMs,
    renewInFlightSentAtMs: s.renewInFlightSentAtMs,
    promoteConfirmed: s.promoteConfirmed,
    publishConfirmed: s.publishConfirmed,
    resourceFailures: s.resourceFailures,
    nextPeerProbeAtMs: s.nextPeerProbeAtMs,
    peerConsecutiveFailures: s.peerConsecutiveFailures,
    peerProbeSeen: s.peerProbeSeen,
    lastPeerProbeOk: s.lastPeerProbeOk,
    nextStatusPollAtMs: s.nextStatusPollAtMs,
    statusInFlightSentAtMs: s.statusInFlightSentAtMs,
    vacantPolls: s.vacantPolls,
    lastStatusEpoch: s.lastStatusEpoch,
    witnessRoundSeq: s.witnessRoundSeq,
    witnessRound: round === null ? null : { ...round, answers: { ...round.answers } },
    witnessVerdicts: s.witnessVerdicts,
    candidacy: s.candidacy === null ? null : { ...s.candidacy },
    pendingRelease: s.pendingRelease === null ? null : { ...s.pendingRelease },
    holdDownUntilMs: s.holdDownUntilMs,
    lastFailoverAtMs: s.lastFailoverAtMs,
    demotionsTotal: s.demotionsTotal,
    shutdown: s.shutdown,
    storeLeaseTtlMs: s.storeLeaseTtlMs,
    leaseTtlRefusals: s.leaseTtlRefusals,
  };
}

function handleAfterShutdown(st: ControllerState, acts: ControllerAction[], input: ControllerInput): void {
  if (input.type === 'promote-result' && (input.action ?? 'promote') === 'demote') {
    settlePendingRelease(st, acts, input.epoch, input.ok, input.error);
    // Stryker disable next-line ConditionalExpression: equivalent — after a shutdown the state is 'demoting' or 'done', and both end as 'done' here
    if (st.shutdown === 'demoting') st.shutdown = 'done';
    return;
  }
  // (an `if` of its own rather than an `else if`: Stryker takes no directive before an `else`)
  // Stryker disable next-line all: observability — noteLeaseResult emits only the core's lease event, which the history translation drops, and a log line
  if (input.type === 'lease-result') noteLeaseResult(acts, input);
}

// ---------------------------------------------------------------------------------------
// timers

function runTimers(st: ControllerState, acts: ControllerAction[]): void {
  const now = st.nowMs;
  const c = st.config;
  const reqTimeoutMs = leaseRequestTimeoutMsOf(c);

  if (st.role === 'primary') {
    // Stryker disable next-line ConditionalExpression: equivalent — `safeUntilMs === null` → false: a primary always has a safe window (becomePrimary sets it; demote clears it with the role); the killed mutants of the same mutators on this line are silenced with it
    if (st.safeUntilMs === null || now >= st.safeUntilMs) {
      demote(st, acts, 'safe-window-elapsed', false);
    } else {
      // Stryker disable next-line all: unreachable — abandoning an in-flight renewal after the request timeout (never, always, or as a no-op): both executors' lease ports fail every request after that same timeout (leaseRequestTimeoutMs, H/2 by default: env.ts hands it to the agent's lease client, and the simulated network call uses it), so the failed result clears the marker at that moment and the next request leaves when it would have; defence in depth for a port that never answers, which no executor has
      if (st.renewInFlightSentAtMs !== null && now - st.renewInFlightSentAtMs >= reqTimeoutMs) {
        st.renewInFlightSentAtMs = null; // abandoned; a late result is still honoured
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — `nextRenewAtMs !== null` → true: it is set whenever the role is primary; `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
      if (st.renewInFlightSentAtMs === null && st.nextRenewAtMs !== null && now >= st.nextRenewAtMs) {
        act(st, acts, { type: 'lease-renew', epoch: st.heldEpoch!, sentAtMs: now });
        st.renewInFlightSentAtMs = now;
      }
    }
  }
  // Stryker disable next-line EqualityOperator: equivalent up to 1 ms — `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
  if (st.role === 'fenced' && now >= st.holdDownUntilMs) {
    toStandby(st, acts, 'hold-down-elapsed', false);
  }
  if (st.role === 'standby' || st.role === 'candidate') {
    // Stryker disable next-line EqualityOperator: equivalent up to 1 ms — `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
    if (now >= st.nextPeerProbeAtMs) {
      acts.push({ type: 'peer-probe' });
      st.nextPeerProbeAtMs = now + c.peerCheckIntervalMs;
    }
  }
  if (st.role === 'standby' || st.role === 'fenced') {
    // Stryker disable next-line all: unreachable — abandoning an in-flight status poll after the request timeout (never, always, or as a no-op): both executors' lease ports fail every request after that same timeout (leaseRequestTimeoutMs, H/2 by default: env.ts hands it to the agent's lease client, and the simulated network call uses it), so the failed result clears the marker at that moment and the next request leaves when it would have; defence in depth for a port that never answers, which no executor has; with the default poll interval H a poll is due only after that timeout anyway
    if (st.statusInFlightSentAtMs !== null && now - st.statusInFlightSentAtMs >= reqTimeoutMs) {
      st.statusInFlightSentAtMs = null;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — polling while a poll is in flight (`=== null` → true) never happens with the default poll interval H (every simulated controller's): the next poll is due after the port answered the last one, by the request timeout H/2; `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
    if (st.statusInFlightSentAtMs === null && now >= st.nextStatusPollAtMs) {
      acts.push({ type: 'lease-status', sentAtMs: now });
      st.statusInFlightSentAtMs = now;
      st.nextStatusPollAtMs = now + c.leaseStatusPollMs;
    }
  }
  if (st.role === 'standby' && st.witnessRound && now >= st.witnessRound.deadlineMs) {
    evaluateWitnessRound(st, acts, true);
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent — a candidacy exists exactly while the role is candidate (startCandidacy sets both; every way out of the role clears it), so either test alone decides the same; the killed mutants of the same mutators on this line are silenced with it
  if (st.role === 'candidate' && st.candidacy && !st.candidacy.awaitingApproval) {
    const cand = st.candidacy;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — `deadlineMs !== null` → true: it is set whenever the candidacy is not awaiting approval (beginAcquiring); `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
    if (cand.deadlineMs !== null && now >= cand.deadlineMs) {
      toStandby(st, acts, 'lease-not-granted-in-time', true);
      return;
    }
    // Stryker disable next-line all: unreachable — abandoning an in-flight acquire after the request timeout (never, always, or as a no-op): both executors' lease ports fail every request after that same timeout (leaseRequestTimeoutMs, H/2 by default: env.ts hands it to the agent's lease client, and the simulated network call uses it), so the failed result clears the marker at that moment and the next request leaves when it would have; defence in depth for a port that never answers, which no executor has
    if (cand.acquireInFlightSentAtMs !== null && now - cand.acquireInFlightSentAtMs >= reqTimeoutMs) {
      cand.acquireInFlightSentAtMs = null;
    }
    // Stryker disable next-line EqualityOperator: equivalent up to 1 ms — `>=` → `>` (or `<` → `<=`) moves this timer to the next wake, 1 ms later (wakeAt asks for the instant itself, then now + 1), below every bound the checker judges (its edges are ±1 ms); the killed mutants of the same mutators on this line are silenced with it
    if (cand.acquireInFlightSentAtMs === null && now >= cand.nextAcquireAtMs) {
      st.acquireSent = true;
      acts.push({ type: 'lease-acquire', sentAtMs: now });
      cand.acquireInFlightSentAtMs = now;
    }
  }
}

function wakeAt(st: ControllerState): number {
  const now = st.nowMs;
  const c = st.config;
  if (st.shutdown !== 'no') return now + c.leaseTtlMs;
  const reqTimeoutMs = leaseRequestTimeoutMsOf(c);
  const deadlines: number[] = [];
  const statusDeadline =
    // Stryker disable next-line ConditionalExpression: unreachable — the status poll's abandonment deadline (runTimers says why the port's own timeout makes it moot)
    st.statusInFlightSentAtMs !== null ? st.statusInFlightSentAtMs + reqTimeoutMs : st.nextStatusPollAtMs;
  switch (st.role) {
    case 'primary':
      deadlines.push(st.safeUntilMs!);
      if (st.renewInFlightSentAtMs !== null) deadlines.push(st.renewInFlightSentAtMs + reqTimeoutMs);
      // `!== null` is always true for a primary (becomePrimary sets it; demote clears it with the
      // role): its → true mutant is equivalent, left surviving (Stryker takes no directive before an `else`)
      else if (st.nextRenewAtMs !== null) deadlines.push(st.nextRenewAtMs);
      break;
    case 'fenced':
      deadlines.push(st.holdDownUntilMs, statusDeadline);
      break;
    case 'standby':
      deadlines.push(st.nextPeerProbeAtMs, statusDeadline);
      if (st.witnessRound) deadlines.push(st.witnessRound.deadlineMs);
      break;
    case 'candidate': {
      deadlines.push(st.nextPeerProbeAtMs);
      const cand = st.candidacy!;
      if (!cand.awaitingApproval) {
        // Stryker disable next-line all: equivalent or timing only — an acquiring candidacy always has a deadline (beginAcquiring); not waking for it makes the candidate stand by at its next acquire wake, at most R = H/4 later, inside no bound the design states
        if (cand.deadlineMs !== null) deadlines.push(cand.deadlineMs);
        deadlines.push(
          cand.acquireInFlightSentAtMs !== null
            ? cand.acquireInFlightSentAtMs + reqTimeoutMs
            : cand.nextAcquireAtMs,
        );
      }
      break;
    }
  }
  // Stryker disable next-line ArithmeticOperator: equivalent — both executors' wake ports run a wake that is already due at the next opportunity (the simulator clamps to now + 1, the agent to a 0 ms timer)
  return Math.max(Math.min(...deadlines), now + 1);
}

// ---------------------------------------------------------------------------------------
// inputs

function handleInput(st: ControllerState, acts: ControllerAction[], input: ControllerInput): void {
  switch (input.type) {
    case 'tick':
      return;
    case 'peer-result':
      onPeerResult(st, acts, input.ok);
      return;
    case 'witness-result':
      onWitnessResult(st, acts, input);
      return;
    case 'lease-result':
      onLeaseResult(st, acts, input);
      return;
    case 'promote-result':
      onPromoteResult(st, acts, input);
      return;
    // publishConfirmed decides only whether the next hand-off publishes again (handAuthority):
    // a repeat names the same active region, which is idempotent within the assumptions, and
    // a result for another epoch or role cannot outlive a demotion (it answers within the
    // publish timeout H, and a region is primary again only after a hold-down of T > H, which
    // resets the flag). So the mutants of this case change no observable run.
    // Stryker disable next-line ConditionalExpression: idempotent re-publishing (above)
    case 'publish-result':
      // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,BlockStatement: idempotent re-publishing (above)
      if (st.role === 'primary' && input.epoch === st.heldEpoch) {
        st.publishConfirmed = input.ok;
        // Stryker disable next-line BooleanLiteral,ConditionalExpression: observability — a log line
        if (!input.ok)
          // Stryker disable next-line LogicalOperator: observability — a log line
          log(acts, 'warn', `publish for epoch ${input.epoch} failed: ${input.error ?? 'unknown'}`);
      }
      return;
    case 'operator':
      onOperator(st, acts, input.command);
      return;
    case 'shutdown':
      onShutdown(st, acts);
      return;
  }
}

function onPeerResult(st: ControllerState, acts: ControllerAction[], ok: boolean): void {
  st.peerProbeSeen = true;
  st.lastPeerProbeOk = ok;
  st.peerConsecutiveFailures = ok ? 0 : st.peerConsecutiveFailures + 1;
  acts.push(event({ kind: 'peer', ok, consecutiveFailures: st.peerConsecutiveFailures }));
  const c = st.config;
  if (st.role === 'standby') {
    if (ok && st.witnessRound) {
      st.witnessRound = null;
      log(acts, 'info', 'peer recovered during the witness round; round abandoned');
    }
    if (
      !ok &&
      st.peerConsecutiveFailures >= c.peerFailureThreshold &&
      !st.witnessRound &&
      c.mode !== 'manual' &&
      st.nowMs >= st.holdDownUntilMs
    ) {
      // Stryker disable next-line AssignmentOperator: equivalent — round numbers only need to differ from each other (a stale answer names an older round), and counting down keeps them distinct
      st.witnessRoundSeq += 1;
      st.witnessRound = {
        round: st.witnessRoundSeq,
        startedAtMs: st.nowMs,
        deadlineMs: st.nowMs + c.witnessRoundTimeoutMs,
        answers: {},
      };
      acts.push({ type: 'witness-query', round: st.witnessRoundSeq, target: c.peerRegion });
    }
  } else if (st.role === 'candidate' && ok && st.candidacy!.basis === 'failover') {
    // The failure evidence is gone: the peer answers again.
    toStandby(st, acts, 'peer-recovered', false);
  }
}

function onWitnessResult(
  st: ControllerState,
  acts: ControllerAction[],
  input: Extract<ControllerInput, { type: 'witness-result' }>,
): void {
  // Stryker disable next-line ConditionalExpression,BlockStatement: unreachable — the driver asks only the configured witnesses (driver.ts witness-query)
  if (!st.config.witnesses.includes(input.witness)) {
    log(acts, 'warn', `result from unknown witness ${JSON.stringify(input.witness)} ignored`);
    return;
  }
  // Stryker disable next-line all: observability — the event's shape (every driver answer carries a detail)
  acts.push(
    event(
      // Stryker disable next-line all: observability — as above
      input.detail === undefined
        ? // Stryker disable next-line all: observability — as above
          { kind: 'witness', witness: input.witness, verdict: input.verdict }
        : { kind: 'witness', witness: input.witness, verdict: input.verdict, detail: input.detail },
    ),
  );
  // Stryker disable next-line ObjectLiteral: observability — the latest verdicts feed the view (metrics) and an operator candidacy's self-reported votes
  st.witnessVerdicts = { ...st.witnessVerdicts, [input.witness]: input.verdict };
  const round = st.witnessRound;
  // `st.role` and the round number: unreachable — a round is open only in standby (checkState),
  // and a witness answers within the round's timeout while rounds are N failed probes apart
  // (at least (N − 1)·I > the timeout), so no answer of an older round meets a newer one
  // Stryker disable next-line ConditionalExpression: unreachable (above); `!round` is killed (witness-answer-after-no-quorum) and silenced with them
  if (st.role !== 'standby' || !round || round.round !== input.round) return; // stale round
  // Stryker disable next-line ConditionalExpression: unreachable — the driver asks each witness once per round, so no second answer comes
  if (round.answers[input.witness] !== undefined) return; // first answer counts
  round.answers[input.witness] = input.verdict;
  evaluateWitnessRound(st, acts, false);
}

/** Counts votes; decides as soon as the outcome cannot change, or at the round deadline. */
function evaluateWitnessRound(st: ControllerState, acts: ControllerAction[], final: boolean): void {
  const round = st.witnessRound!;
  const c = st.config;
  let unreachable = 0;
  let pending = 0;
  const votes: Record<string, WitnessVerdict> = {};
  for (const w of c.witnesses) {
    const v = round.answers[w];
    if (v === undefined) {
      pending += 1;
      votes[w] = 'unknown';
      continue;
    }
    votes[w] = v;
    if (v === 'unreachable' || (v === 'unknown' && c.unknownWitnessPolicy === 'count-unreachable')) {
      unreachable += 1;
    }
  }
  if (final && c.unknownWitnessPolicy === 'count-unreachable') {
    // legacy behaviour: a witness that never answered counts as "cannot reach the peer"
    unreachable += pending;
    pending = 0;
  }
  // Stryker disable next-line all: observability — the latest verdicts feed the view (metrics) and an operator candidacy's self-reported votes
  if (final) {
    // Stryker disable next-line all: observability — as above
    const verdicts = { ...st.witnessVerdicts };
    // Stryker disable next-line all: observability — as above
    for (const w of c.witnesses) if (round.answers[w] === undefined) verdicts[w] = 'unknown';
    st.witnessVerdicts = verdicts;
  }
  if (unreachable >= c.witnessQuorum) {
    st.witnessRound = null;
    // Stryker disable next-line ObjectLiteral: self-report — as the bootstrap's evidence (maybeFillVacancy)
    startCandidacy(st, acts, 'failover', 'automatic', {
      peerFailures: st.peerConsecutiveFailures,
      votes,
      unreachableVotes: unreachable,
    });
    return;
  }
  if (final || unreachable + pending < c.witnessQuorum) {
    st.witnessRound = null;
    // Require fresh evidence (N more failed probes) before asking the witnesses again.
    st.peerConsecutiveFailures = 0;
    log(
      acts,
      'info',
      `witness round ${round.round}: ${unreachable}/${c.witnessQuorum} unreachable votes — no quorum, staying standby`,
    );
  }
}

function onLeaseResult(
  st: ControllerState,
  acts: ControllerAction[],
  r: Extract<ControllerInput, { type: 'lease-result' }>,
): void {
  noteLeaseResult(acts, r);
  // Stryker disable next-line all: unreachable — a result "sent in the future" is a caller bug: both drivers stamp sentAtMs from the core's own clock when the request leaves, and every answer arrives later
  if (!Number.isFinite(r.sentAtMs) || r.sentAtMs > st.nowMs) {
    // A reply to a request "sent in the future" would stretch the safe window: caller bug.
    log(acts, 'error', `lease ${r.op} result with sentAtMs ${r.sentAtMs} after now ${st.nowMs} ignored`);
    return;
  }
  const c = st.config;
  const L = st.safeWindowMs;
  switch (r.op) {
    case 'status': {
      // Stryker disable next-line all: equivalent — the status poll's in-flight marker: clearing it on the reply or not (or on any reply) moves nothing with the default poll interval H, since the next poll is due after the request timeout (H/2) has cleared the marker anyway (runTimers)
      if (st.statusInFlightSentAtMs === r.sentAtMs) st.statusInFlightSentAtMs = null;
      if (!r.ok) return;
      noteStoreTtl(st, acts, r.ttlMs);
      st.leaseHolder = r.holder;
      observeEpoch(st, acts, r.epoch);
      if (!st.acquireSent && st.inheritedEpochFloor === null) st.inheritedEpochFloor = r.epoch ?? 0;
      const vacant =
        r.holder === null ||
        // Stryker disable all: equivalent with this Worker — vacancy read from `expiresAt <= serverTime`: the lease store names no holder once a lease expired (lease-state.ts effectiveHolder/view), so `holder === null` already decides; the test stands for stores that keep naming an expired holder
        (r.expiresAt !== undefined &&
          r.expiresAt !== null &&
          r.serverTime !== undefined &&
          r.serverTime !== null &&
          r.expiresAt <= r.serverTime);
      // Stryker restore all
      st.vacantPolls = vacant ? st.vacantPolls + 1 : 0;
      st.lastStatusEpoch = r.epoch;
      if (vacant) maybeFillVacancy(st, acts);
      else releaseOrphanedLease(st, acts, r.holder, r.epoch);
      return;
    }
    case 'acquire': {
      const cand = st.candidacy;
      // Stryker disable next-line ConditionalExpression: equivalent — one acquire is in flight at a time (runTimers), so the reply is the in-flight one; a stale reply of an abandoned acquire arrives after its marker was cleared and only sets the retry R after itself; the killed mutants of the same mutators on this line are silenced with it
      if (cand && cand.acquireInFlightSentAtMs === r.sentAtMs) {
        cand.acquireInFlightSentAtMs = null;
        cand.nextAcquireAtMs = st.nowMs + acquireRetryMsOf(c);
      }
      // Stryker disable next-line ConditionalExpression: equivalent — a grant always carries an epoch (lease-state.ts acquire); the killed mutants of the same mutators on this line are silenced with it
      if (r.ok && r.granted && r.epoch !== null) {
        const usable =
          // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent — a candidacy exists exactly while the role is candidate (startCandidacy sets both; every way out of the role clears it), so either test alone decides the same; the killed mutants of the same mutators on this line are silenced with it
          st.role === 'candidate' &&
          // Stryker disable next-line ConditionalExpression: equivalent — a candidacy exists exactly while the role is candidate (startCandidacy sets both; every way out of the role clears it), so either test alone decides the same; the killed mutants of the same mutators on this line are silenced with it
          cand !== null &&
          !cand.awaitingApproval &&
          // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — the store grants an epoch above every epoch it reported before (lease-state.ts: epochs grow by one per grant), so a grant's epoch is above every one this controller saw; the killed mutants of the same mutators on this line are silenced with it
          r.epoch > st.highestEpochSeen &&
          // Stryker disable next-line all: equivalent — a grant names its asker as holder (lease-state.ts acquire)
          (r.holder === null || r.holder === c.region) &&
          // Stryker disable next-line ConditionalExpression,EqualityOperator: unreachable — a grant heard later than L after its send: the port fails a request after the request timeout, which the config check keeps below L, so such a reply reads as failed; `<` → `<=` a 1 ms tie; the killed mutants of the same mutators on this line are silenced with it
          st.nowMs < r.sentAtMs + L;
        const shortfall = usable ? leaseTtlShortfall(st, acts, r.ttlMs) : null;
        if (usable && shortfall === null) {
          becomePrimary(st, acts, r.epoch, r.sentAtMs);
          return;
        }
        if (shortfall !== null) {
          refuseShortLease(st, acts, 'grant', r.epoch, shortfall);
          observeEpoch(st, acts, r.epoch);
          // Stryker disable next-line ConditionalExpression: equivalent — the shortfall is computed only for a usable grant, which needs the candidate role; the killed mutants of the same mutators on this line are silenced with it
          if (st.role === 'candidate') toStandby(st, acts, 'lease-ttl-mismatch', true);
          return;
        }
        releaseUnusedGrant(st, acts, r.epoch);
        return;
      }
      // Stryker disable next-line ConditionalExpression: equivalent — a failed exchange carries neither holder nor epoch: the refusal path then only resets the self-reported leaseHolder (the view) and releases nothing; the killed mutants of the same mutators on this line are silenced with it
      if (r.ok) {
        st.leaseHolder = r.holder;
        observeEpoch(st, acts, r.epoch);
        if (
          // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent — a candidacy exists exactly while the role is candidate (startCandidacy sets both; every way out of the role clears it), so either test alone decides the same; the killed mutants of the same mutators on this line are silenced with it
          st.role === 'candidate' &&
          cand &&
          (cand.basis === 'vacant-lease' || cand.basis === 'bootstrap') &&
          // Stryker disable next-line ConditionalExpression: equivalent — the store refuses an acquire only while the lease is held, and its refusal names the holder (lease-state.ts acquire); the killed mutants of the same mutators on this line are silenced with it
          r.holder !== null &&
          r.holder !== c.region
        ) {
          toStandby(st, acts, `lease taken by ${r.holder}`, false);
        } else {
          // refused because we hold it: the grant of an earlier acquire whose reply timed out
          // (found by the simulator: Worker paused over the candidate's first acquire; its
          // retries were refused until that lease expired, 30 s with nobody primary)
          releaseOrphanedLease(st, acts, r.holder, r.epoch);
        }
      }
      return;
    }
    case 'renew': {
      // Stryker disable next-line ConditionalExpression: equivalent — the renewal's in-flight marker: not clearing it on the reply moves nothing with the default request timeout H/2, since the next renewal is due H after the send, after the timeout has cleared the marker anyway (runTimers); the killed mutants of the same mutators on this line are silenced with it
      if (st.renewInFlightSentAtMs === r.sentAtMs) st.renewInFlightSentAtMs = null;
      // Stryker disable next-line all: equivalent — a non-primary's renewal reply: its heldEpoch is null, so without this branch the reply takes the epoch-mismatch path, which only observes the epoch (the demotes there test the role)
      if (st.role !== 'primary') {
        // Stryker disable next-line all: equivalent — a failed exchange carries no epoch, and a successful renewal reply names the epoch this controller held, which it has seen
        if (r.ok) observeEpoch(st, acts, r.epoch);
        return;
      }
      if (!r.ok) {
        // transport failure: retry soon while the window lasts, H/4 after the failed send — at
        // once after a timeout (found by the simulator: a transport timeout landing 1 ms before
        // the core's own abandonment waited another H/4, so tries through a blackhole came
        // every 7.5 s instead of every H/2, and the last one missed the safe window)
        st.nextRenewAtMs = Math.max(st.nowMs, r.sentAtMs + acquireRetryMsOf(c));
        return;
      }
      if (!r.granted) {
        observeEpoch(st, acts, r.epoch);
        // Stryker disable next-line all: unreachable inside the assumptions — the role is still primary here unless observeEpoch just demoted it for a newer epoch, i.e. the peer took the lease after ours expired, which needs a renewal delayed beyond d (our safe window ends first); releasing after a refused renewal names an epoch the store no longer holds for us, which it refuses (lease-state.ts release)
        if (st.role === 'primary') demote(st, acts, 'renewal-refused', false);
        return;
      }
      // Stryker disable all: unreachable inside the assumptions — the store renews only its holder's current epoch and answers with it (lease-state.ts renew), and its TTL does not change during a run (the kill test's short-TTL Workers refuse the grant itself, issue #20), so a granted renewal with another epoch or a shorter TTL never arrives
      if (r.epoch !== st.heldEpoch) {
        observeEpoch(st, acts, r.epoch);
        if (st.role === 'primary') demote(st, acts, `renewal-epoch-mismatch (${r.epoch})`, false);
        return;
      }
      const shortfall = leaseTtlShortfall(st, acts, r.ttlMs);
      if (shortfall !== null) {
        refuseShortLease(st, acts, 'renewal', r.epoch, shortfall);
        demote(st, acts, 'lease-ttl-mismatch', false);
        return;
        // Stryker restore all
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: unreachable — a renewal reply later than L after its send: the port fails a request after the request timeout, which the config check keeps below L; `<=` → `<` a 1 ms tie; the killed mutants of the same mutators on this line are silenced with it
      if (r.sentAtMs + L <= st.nowMs) return; // too late to extend anything
      // Stryker disable next-line all: equivalent — one renewal is in flight at a time and replies to it arrive in send order, so every reply is newer than the last renewal's send (`>=`, `>`, and the `??` on a value a primary always has)
      if (r.sentAtMs >= (st.lastRenewalSentAtMs ?? Number.NEGATIVE_INFINITY)) {
        st.lastRenewalSentAtMs = r.sentAtMs;
        // Stryker disable next-line LogicalOperator: equivalent — replies arrive in send order (above), so sentAtMs + L is never below the current safe window
        st.safeUntilMs = Math.max(st.safeUntilMs ?? 0, r.sentAtMs + L);
        st.nextRenewAtMs = r.sentAtMs + c.heartbeatMs;
      }
      handAuthority(st, acts);
      return;
    }
    // Stryker disable next-line ConditionalExpression: equivalent — the last case: falling out of the switch does the same nothing
    case 'release':
      return;
  }
}

/**
 * L was derived from config.leaseTtlMs. A store that grants a shorter TTL can hand the lease
 * to the peer before L ends, so acting on such a grant could outlive the lease: the grant is
 * refused. A grant that carries no TTL is refused for the same reason (its TTL is unknown).
 * Returns why the TTL is unusable, or null when it is at least the assumed one.
 */
function leaseTtlShortfall(
  st: ControllerState,
  acts: ControllerAction[],
  ttlMs: number | null,
): string | null {
  noteStoreTtl(st, acts, ttlMs);
  const assumedMs = st.config.leaseTtlMs;
  // Stryker disable next-line all: equivalent — a grant without a TTL: this store always sends ttlMs, and `null < T` below would call it short anyway
  if (ttlMs === null || !Number.isFinite(ttlMs)) {
    return `the lease store sent no TTL; the safe window assumes ${assumedMs} ms`;
  }
  if (ttlMs < assumedMs) {
    return `the lease store's TTL ${ttlMs} ms is shorter than the ${assumedMs} ms the safe window assumes`;
  }
  return null;
}

// Stryker disable all: observability only — refuseShortLease, noteStoreTtl and noteLeaseResult feed the failover_lease_ttl_refusals_total counter, the view's store TTL, log lines and the core's `lease` event (which the history translation drops: it records the lease result from the input); no decision reads any of them, and the checker judges observations, not the controller's self-reports
function refuseShortLease(
  st: ControllerState,
  acts: ControllerAction[],
  what: 'grant' | 'renewal',
  epoch: number | null,
  why: string,
): void {
  st.leaseTtlRefusals += 1;
  log(acts, 'error', `lease ${what} (epoch ${epoch}) not acted on: ${why}`);
}

/** Remembers the store's TTL and says so (once per change) when it is too short to be safe. */
function noteStoreTtl(st: ControllerState, acts: ControllerAction[], ttlMs: number | null): void {
  if (ttlMs === null || !Number.isFinite(ttlMs) || ttlMs === st.storeLeaseTtlMs) return;
  st.storeLeaseTtlMs = ttlMs;
  if (ttlMs < st.config.leaseTtlMs) {
    log(
      acts,
      'error',
      `lease store TTL ${ttlMs} ms is shorter than the configured LEASE_TTL_MS ${st.config.leaseTtlMs} ms: ` +
        'every grant will be refused until the two agree',
    );
  }
}

/** The lease event every lease result produces, before any decision. */
function noteLeaseResult(
  acts: ControllerAction[],
  r: Extract<ControllerInput, { type: 'lease-result' }>,
): void {
  const ev: ControllerEvent = { kind: 'lease', op: r.op, ok: r.ok, epoch: r.epoch, holder: r.holder };
  if (r.error !== undefined) ev.error = r.error;
  acts.push(event(ev));
  if (r.op === 'release' && r.ok) log(acts, 'info', `lease released (epoch ${r.epoch})`);
}
// Stryker restore all

/**
 * A grant this controller will not act on (it went back to standby while the acquire was in
 * flight, or the grant came too late) is released at once. Kept, it would block both regions
 * until it expired: a whole TTL with no primary after the faults have ended (found by the
 * simulator: worker paused while b's acquire was in flight, peer recovered meanwhile, 40 s
 * without a primary). Releasing is safe: the store granted a new epoch only because every
 * older one had expired or been released, so no write window of any older epoch is open, and
 * the release names this epoch, so it can never free a later one. A primary that sees such a
 * grant has a window open under its own epoch and leaves the grant to expire.
 */
function releaseUnusedGrant(st: ControllerState, acts: ControllerAction[], epoch: number): void {
  // Stryker disable next-line ConditionalExpression: unreachable — a primary never hears a grant: the store refuses every acquire while it holds the lease, and the grant that made it primary was its candidacy's last; the killed mutants of the same mutators on this line are silenced with it
  const wasPrimary = st.role === 'primary';
  // Stryker disable next-line all: equivalent — a grant's epoch is the store's newest, at or above every epoch this controller saw or acted on (store epochs only grow); where a status poll already reported it, that poll's releaseOrphanedLease releases it the same way
  const fresh = epoch >= st.highestEpochSeen && epoch >= st.maxActionEpoch;
  observeEpoch(st, acts, epoch);
  // Stryker disable next-line all: equivalent — neither test is ever true here (the two lines above)
  if (wasPrimary || !fresh) {
    log(acts, 'warn', `lease grant epoch ${epoch} not used (role ${st.role}); it will expire`);
    return;
  }
  log(acts, 'info', `lease grant epoch ${epoch} not used (role ${st.role}); releasing it`);
  pushEpochAction(st, acts, { type: 'lease-release', epoch, sentAtMs: st.nowMs });
}

/**
 * The store says we hold an epoch we never acted on: the grant of an acquire whose reply was
 * lost (it timed out while the Worker was paused, and the Worker granted it on resuming). A
 * status poll says so to a standby; a refused acquire ("held by you") says so to a candidate,
 * which cannot win the lease it already holds. Kept, it blocks both regions until it expires. It is released like an unused grant
 * (releaseUnusedGrant says why that is safe), with two guards: an epoch we acted on may back
 * an open write window of ours (its primary demoted without confirmation leaves it to expire),
 * and a lease in our name may be the previous incarnation's, whose app may still hold
 * authority under it. That holds for epochs up to the one the first status poll showed before
 * this incarnation sent any acquire (a later grant means that one expired or was released);
 * with no such poll, for the first T/(1−ρ)+d of this incarnation.
 */
function releaseOrphanedLease(
  st: ControllerState,
  acts: ControllerAction[],
  holder: RegionId | null,
  epoch: number | null,
): void {
  const c = st.config;
  // Stryker disable next-line ConditionalExpression: equivalent — the store's epochs are integers or null, and a null epoch returns at the maxActionEpoch test anyway (`null <= n`); the killed mutants of the same mutators on this line are silenced with it
  if (holder !== c.region || epoch === null || !Number.isFinite(epoch)) return;
  // Stryker disable next-line ConditionalExpression: unreachable — a primary neither polls status nor acquires, the two callers; the killed mutants of the same mutators on this line are silenced with it
  if (st.role === 'primary') return;
  if (epoch <= st.maxActionEpoch) return;
  const floor = st.inheritedEpochFloor;
  // Stryker disable next-line EqualityOperator: equivalent up to 1 ms — `<` → `<=` at the time guard's end; the killed mutants of the same mutators on this line are silenced with it
  if (floor !== null ? epoch <= floor : st.nowMs < st.startedAtMs + leaseGoneBoundMs(c) + c.maxDelayMs)
    return;
  log(
    acts,
    'info',
    `the store holds epoch ${epoch} in our name, never acted on (role ${st.role}); releasing it`,
  );
  pushEpochAction(st, acts, { type: 'lease-release', epoch, sentAtMs: st.nowMs });
}

/** Records an epoch reported by the Worker; a primary that sees a higher one demotes at once. */
function observeEpoch(st: ControllerState, acts: ControllerAction[], epoch: number | null): void {
  // Stryker disable next-line all: equivalent — the store's epochs are integers or null (`null <= n` returns too), and an equal epoch matters only to a primary, which observes an epoch only after a refused renewal and demotes right after (onLeaseResult 'renew')
  if (epoch === null || !Number.isFinite(epoch) || epoch <= st.highestEpochSeen) return;
  // Stryker disable next-line all: equivalent — a primary reaches this only from a refused renewal, which demotes right after (onLeaseResult 'renew'); the release flag is moot there (the store no longer holds the epoch for us)
  if (st.role === 'primary') demote(st, acts, `higher-epoch-seen (${epoch})`, false);
  st.highestEpochSeen = epoch;
}

function onPromoteResult(
  st: ControllerState,
  acts: ControllerAction[],
  r: Extract<ControllerInput, { type: 'promote-result' }>,
): void {
  const action = r.action ?? 'promote';
  if (action === 'demote') {
    settlePendingRelease(st, acts, r.epoch, r.ok, r.error);
    return;
  }
  if (st.role !== 'primary' || r.epoch !== st.heldEpoch) return;
  if (r.ok) {
    st.resourceFailures = 0;
    // Stryker disable next-line all: equivalent — promoteConfirmed only picks the verb of the next hand-off, promote or extend, and the app's fence grants both alike (fence.ts grant: the verb is only its reason text)
    if (action === 'promote') st.promoteConfirmed = true;
    return;
  }
  st.resourceFailures += 1;
  // Stryker disable next-line all: equivalent — the verb only (the line above)
  if (action === 'promote') st.promoteConfirmed = false;
  // Stryker disable next-line LogicalOperator: log text only
  log(acts, 'warn', `${action} of epoch ${r.epoch} failed at the resource: ${r.error ?? 'unknown'}`);
  if (st.resourceFailures >= st.config.peerFailureThreshold) {
    // The local resource cannot take authority: step down so the lease can move on.
    demote(st, acts, 'resource-failed', false);
  }
}

function settlePendingRelease(
  st: ControllerState,
  acts: ControllerAction[],
  epoch: number,
  ok: boolean,
  error: string | undefined,
): void {
  if (!st.pendingRelease || st.pendingRelease.epoch !== epoch) return;
  st.pendingRelease = null;
  if (ok) {
    // The resource confirmed it dropped authority: freeing the lease early is now safe.
    pushEpochAction(st, acts, { type: 'lease-release', epoch, sentAtMs: st.nowMs });
  } else {
    // Stryker disable next-line LogicalOperator: observability — a log line
    log(acts, 'warn', `demote of epoch ${epoch} not confirmed (${error ?? 'unknown'}); lease left to expire`);
  }
}

function onOperator(
  st: ControllerState,
  acts: ControllerAction[],
  command: 'approve' | 'reject' | 'promote' | 'demote',
): void {
  const cand = st.candidacy;
  switch (command) {
    case 'approve':
    case 'promote':
      // Stryker disable next-line OptionalChaining: equivalent — a candidate always has a candidacy (checkState)
      if (st.role === 'candidate' && cand?.awaitingApproval) {
        cand.approvedBy = 'operator';
        beginAcquiring(st, cand);
        return;
      }
      if (command === 'promote' && (st.role === 'standby' || st.role === 'fenced')) {
        st.witnessRound = null;
        // Stryker disable next-line ObjectLiteral: self-report — as the bootstrap's evidence (maybeFillVacancy)
        startCandidacy(st, acts, 'operator', 'operator', {
          peerFailures: st.peerConsecutiveFailures,
          // Stryker disable next-line ObjectLiteral: self-report — as above
          votes: { ...st.witnessVerdicts },
          unreachableVotes: 0,
        });
        return;
      }
      log(acts, 'info', `operator ${command} ignored in role ${st.role}`);
      return;
    case 'reject':
      // Stryker disable next-line OptionalChaining: equivalent — a candidate always has a candidacy (checkState)
      if (st.role === 'candidate' && cand?.awaitingApproval) {
        toStandby(st, acts, 'operator-rejected', true);
        return;
      }
      log(acts, 'info', `operator reject ignored in role ${st.role}`);
      return;
    case 'demote':
      if (st.role === 'primary') demote(st, acts, 'operator-demote', true);
      else if (st.role === 'candidate') toStandby(st, acts, 'operator-demote', true);
      else log(acts, 'info', `operator demote ignored in role ${st.role}`);
      return;
  }
}

function onShutdown(st: ControllerState, acts: ControllerAction[]): void {
  if (st.role === 'primary') {
    demote(st, acts, 'shutdown', true);
    st.shutdown = st.pendingRelease ? 'demoting' : 'done';
    return;
  }
  if (st.role !== 'fenced') setRole(st, acts, 'fenced', 'shutdown', null);
  st.candidacy = null;
  st.witnessRound = null;
  st.shutdown = st.pendingRelease ? 'demoting' : 'done';
}

// ---------------------------------------------------------------------------------------
// transitions

function maybeFillVacancy(st: ControllerState, acts: ControllerAction[]): void {
  const c = st.config;
  // Stryker disable next-line all: equivalent — the role test: only standby and fenced regions poll status, and a fenced one is inside its hold-down (the third test) until runTimers makes it standby; the witness-round test: a round runs only after failed probes, so the held-before path's live-peer test refuses anyway, and a never-held lease is acquired the same way by either candidacy; `<` → `<=` a 1 ms tie
  if (st.role !== 'standby' || st.witnessRound || st.nowMs < st.holdDownUntilMs) return;
  // A cold start only if neither the store (epoch 0) nor anything this controller has seen
  // says the lease was ever granted. A store that reports epoch 0 after we saw a grant
  // (one without epochs, like the legacy KV Worker, or one that lost its state) gets the
  // held-before path: two polls and a live peer, and no fast path for the preferred region.
  const neverHeld = st.lastStatusEpoch === 0 && st.highestEpochSeen === 0;
  if (neverHeld) {
    const allowed = st.preferredBootstrap || c.mode !== 'manual';
    const pollsNeeded = st.preferredBootstrap ? 1 : 2;
    if (allowed && st.vacantPolls >= pollsNeeded) {
      // Stryker disable next-line ObjectLiteral: self-report — the candidacy's evidence only fills the promotion-evidence event, whose counts the checker does not trust (promotion-evidence reads the witnesses' own answers); a bootstrap has none to report
      startCandidacy(st, acts, 'bootstrap', 'automatic', { peerFailures: 0, votes: {}, unreachableVotes: 0 });
    }
    return;
  }
  // Held before, vacant now, and the peer answers our probes: the peer is alive but not
  // primary (e.g. it demoted itself during a Worker outage). Nobody acts, so fill the gap.
  // A failing peer goes through the failover gates instead.
  if (c.mode === 'manual') return;
  if (st.vacantPolls >= 2 && st.peerProbeSeen && st.lastPeerProbeOk) {
    // Stryker disable next-line ObjectLiteral: self-report — as the bootstrap's evidence above
    startCandidacy(st, acts, 'vacant-lease', 'automatic', {
      peerFailures: 0,
      votes: {},
      unreachableVotes: 0,
    });
  }
}

function startCandidacy(
  st: ControllerState,
  acts: ControllerAction[],
  basis: PromotionBasis,
  approvedBy: 'automatic' | 'operator',
  evidence: { peerFailures: number; votes: Record<string, WitnessVerdict>; unreachableVotes: number },
): void {
  const c = st.config;
  const needsApproval =
    c.mode === 'semi-automatic' &&
    approvedBy === 'automatic' &&
    !(basis === 'bootstrap' && st.preferredBootstrap);
  const cand: Candidacy = {
    basis,
    sinceMs: st.nowMs,
    awaitingApproval: needsApproval,
    approvedBy,
    deadlineMs: null,
    peerFailures: evidence.peerFailures,
    votes: evidence.votes,
    unreachableVotes: evidence.unreachableVotes,
    acquireInFlightSentAtMs: null,
    nextAcquireAtMs: st.nowMs,
  };
  // Stryker disable all: self-report — the role event's reason text (the class the StringLiteral exclusion already leaves out)
  const reason =
    basis === 'failover'
      ? `peer failed ${evidence.peerFailures} checks; ${evidence.unreachableVotes}/${c.witnessQuorum} witnesses say unreachable`
      : basis === 'operator'
        ? 'operator-promote'
        : basis === 'bootstrap'
          ? 'lease never held (bootstrap)'
          : 'lease vacant while peer is up';
  // Stryker restore all
  setRole(st, acts, 'candidate', reason, null);
  st.candidacy = cand;
  // A release still waiting for a demote confirmation is dropped: that lease just expires,
  // and a late confirmation can never release anything under a newer epoch.
  st.pendingRelease = null;
  if (needsApproval) {
    acts.push({ type: 'await-approval', epoch: null, reason });
  } else {
    beginAcquiring(st, cand);
  }
}

function beginAcquiring(st: ControllerState, cand: Candidacy): void {
  cand.awaitingApproval = false;
  cand.deadlineMs = st.nowMs + candidateTimeoutMsOf(st.config);
  cand.nextAcquireAtMs = st.nowMs;
}

function becomePrimary(st: ControllerState, acts: ControllerAction[], epoch: number, sentAtMs: number): void {
  const cand = st.candidacy!;
  const c = st.config;
  acts.push(
    event({
      kind: 'promotion-evidence',
      epoch,
      peerFailures: cand.peerFailures,
      votes: cand.votes,
      unreachableVotes: cand.unreachableVotes,
      quorum: c.witnessQuorum,
      approvedBy: cand.approvedBy,
      basis: cand.basis,
    }),
  );
  st.highestEpochSeen = epoch;
  st.heldEpoch = epoch;
  setRole(st, acts, 'primary', `lease-granted (${cand.basis})`, epoch);
  st.candidacy = null;
  st.witnessRound = null;
  st.leaseHolder = c.region;
  st.safeUntilMs = sentAtMs + st.safeWindowMs;
  st.lastRenewalSentAtMs = sentAtMs;
  st.nextRenewAtMs = sentAtMs + c.heartbeatMs;
  st.renewInFlightSentAtMs = null;
  // Stryker disable next-line BooleanLiteral: equivalent — the verb of the first hand-off only (onPromoteResult: the fence grants promote and extend alike)
  st.promoteConfirmed = false;
  st.publishConfirmed = false;
  st.resourceFailures = 0;
  st.lastFailoverAtMs = st.nowMs;
  handAuthority(st, acts);
}

/**
 * Hands (or re-hands) write authority to the resource for what remains of L. The resource
 * counts validityMs from receipt on its own clock; docs/controller.md shows why its window
 * then ends no later than the Worker could re-grant the lease.
 */
function handAuthority(st: ControllerState, acts: ControllerAction[]): void {
  const epoch = st.heldEpoch!;
  const validityMs = Math.floor(st.safeUntilMs! - st.nowMs);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — every caller has safeUntilMs > now (usable grants are younger than L; the renewal's too-late test), so validityMs is 0 only when less than 1 ms is left, and a 0 ms window ends at once; the killed mutants of the same mutators on this line are silenced with it
  if (validityMs <= 0) return;
  act(st, acts, { type: st.promoteConfirmed ? 'extend' : 'promote', epoch, validityMs });
  // Stryker disable next-line ConditionalExpression: equivalent within the assumptions — publishing on every hand-off (the `true` mutant) repeats the same active region, and a repeat sent inside L lands within d, before any later primary can hold the lease (TTL − L > d); the killed `false` mutant on this line is silenced with it
  if (!st.publishConfirmed) act(st, acts, { type: 'publish', epoch, activeRegion: st.config.region });
}

/** primary → fenced. `release`: free the lease once the resource confirms the demotion. */
function demote(st: ControllerState, acts: ControllerAction[], reason: string, release: boolean): void {
  // Stryker disable next-line all: equivalent — an assertion: it throws only when the core is already wrong (every caller tests the role first)
  if (st.role !== 'primary' || st.heldEpoch === null) throw new InvariantError(`demote from ${st.role}`);
  const epoch = st.heldEpoch;
  setRole(st, acts, 'fenced', reason, epoch);
  pushEpochAction(st, acts, { type: 'demote', epoch, reason });
  // Stryker disable next-line AssignmentOperator: self-report — a counter for the view and metrics
  st.demotionsTotal += 1;
  st.heldEpoch = null;
  st.safeUntilMs = null;
  st.lastRenewalSentAtMs = null;
  st.nextRenewAtMs = null;
  st.renewInFlightSentAtMs = null;
  // Stryker disable next-line BooleanLiteral: equivalent — the verb of the next hand-off only (onPromoteResult); becomePrimary resets it
  st.promoteConfirmed = false;
  // Stryker disable next-line BooleanLiteral: equivalent — becomePrimary resets publishConfirmed before handAuthority reads it again
  st.publishConfirmed = false;
  st.resourceFailures = 0;
  st.pendingRelease = release ? { epoch } : null;
  // A region whose own resource failed stands aside longer: the healthy peer must get the
  // first chance at the vacant lease (resourceFailedHoldDownMsOf, docs/controller.md §9).
  st.holdDownUntilMs =
    st.nowMs +
    (reason === 'resource-failed' ? resourceFailedHoldDownMsOf(st.config) : st.config.promotionHoldDownMs);
  st.nextStatusPollAtMs = st.nowMs;
  st.statusInFlightSentAtMs = null;
  resetObservation(st);
}

/** candidate/fenced → standby. `holdDown`: a failed attempt also starts the hold-down. */
function toStandby(st: ControllerState, acts: ControllerAction[], reason: string, holdDown: boolean): void {
  setRole(st, acts, 'standby', reason, null);
  st.candidacy = null;
  st.witnessRound = null;
  st.pendingRelease = null;
  if (holdDown) st.holdDownUntilMs = Math.max(st.holdDownUntilMs, st.nowMs + st.config.promotionHoldDownMs);
  st.nextPeerProbeAtMs = Math.max(
    st.nowMs,
    Math.min(st.nextPeerProbeAtMs, st.nowMs + st.config.peerCheckIntervalMs),
  );
  st.nextStatusPollAtMs = Math.min(st.nextStatusPollAtMs, st.nowMs + st.config.leaseStatusPollMs);
  resetObservation(st);
}

function resetObservation(st: ControllerState): void {
  st.peerConsecutiveFailures = 0;
  st.peerProbeSeen = false;
  st.lastPeerProbeOk = false;
  st.vacantPolls = 0;
}

function setRole(
  st: ControllerState,
  acts: ControllerAction[],
  to: Role,
  reason: string,
  epoch: number | null,
) {
  // Stryker disable next-line ConditionalExpression: equivalent — an assertion: it throws only when the core is already wrong; the killed mutants of the same mutators on this line are silenced with it
  if (st.role === to) throw new InvariantError(`transition ${to} -> ${to}`);
  acts.push(event({ kind: 'role', from: st.role, to, reason, epoch }));
  st.role = to;
}

// ---------------------------------------------------------------------------------------
// action emission with the safety assertions

type ActingAction = Extract<ControllerAction, { type: 'promote' | 'extend' | 'publish' | 'lease-renew' }>;

/** Acts as primary: only while holding the highest epoch seen and inside the safe window. */
function act(st: ControllerState, acts: ControllerAction[], a: ActingAction): void {
  // Stryker disable all: equivalent — these assertions throw only when the core is already
  // wrong, so a correct core never reaches them and weakening one changes nothing observable
  // (act-within-safe-window and lease-history judge the same from observations); a mutant
  // that makes one throw always is killed by every run, and is silenced with them
  if (st.role !== 'primary') throw new InvariantError(`${a.type} while ${st.role}`);
  if (st.heldEpoch === null || a.epoch !== st.heldEpoch) {
    throw new InvariantError(`${a.type} with epoch ${a.epoch} but holding ${st.heldEpoch}`);
  }
  if (st.heldEpoch !== st.highestEpochSeen) {
    throw new InvariantError(`acting with epoch ${st.heldEpoch} after seeing ${st.highestEpochSeen}`);
  }
  if (st.safeUntilMs === null || st.nowMs >= st.safeUntilMs) {
    throw new InvariantError(`${a.type} at ${st.nowMs} outside the safe window (until ${st.safeUntilMs})`);
  }
  if ((a.type === 'promote' || a.type === 'extend') && st.nowMs + a.validityMs > st.safeUntilMs) {
    throw new InvariantError(`${a.type} validity ${a.validityMs} ms outlives the safe window`);
  }
  // Stryker restore all
  // Recorded on the action so histories can check each act against the window it relied on.
  // Set on `a` itself, the caller's fresh literal (every caller passes one), as its last key
  // like `{ ...a, safeUntilMs }` would: that spread of four action shapes was a generic copy,
  // a measurable share of a simulator search (issue #18).
  a.safeUntilMs = st.safeUntilMs;
  pushEpochAction(st, acts, a);
}

function pushEpochAction(
  st: ControllerState,
  acts: ControllerAction[],
  a: Extract<ControllerAction, { epoch: number }>,
): void {
  // Stryker disable next-line ConditionalExpression,BlockStatement: the core's own assertion — it throws only when the core is already wrong (the epoch rules above it hold)
  if (a.epoch < st.maxActionEpoch) {
    throw new InvariantError(
      `${a.type} with epoch ${a.epoch} below earlier action epoch ${st.maxActionEpoch}`,
    );
  }
  st.maxActionEpoch = a.epoch;
  acts.push(a);
}

// The core's own assertions: each throws only when a transition above is already wrong, so a
// mutant that weakens one changes no run of a correct core (and one that strengthens one is
// killed: the simulator reports the throw).
// Stryker disable all: the core's own assertions (above)
function checkState(st: ControllerState): void {
  if ((st.role === 'primary') !== (st.heldEpoch !== null)) {
    throw new InvariantError(`role ${st.role} with held epoch ${st.heldEpoch}`);
  }
  if ((st.role === 'candidate') !== (st.candidacy !== null)) {
    throw new InvariantError(`role ${st.role} with candidacy ${st.candidacy !== null}`);
  }
  if (st.role === 'primary') {
    if (st.safeUntilMs === null || st.lastRenewalSentAtMs === null)
      throw new InvariantError('primary without window');
    if (st.safeUntilMs > st.lastRenewalSentAtMs + st.safeWindowMs) {
      throw new InvariantError('safe window extends past last renewal send + L');
    }
    if (st.nowMs >= st.safeUntilMs) throw new InvariantError('primary past its safe window');
  }
  if (st.maxActionEpoch > st.highestEpochSeen) throw new InvariantError('acted with an epoch never seen');
  if (st.witnessRound && st.role !== 'standby') throw new InvariantError(`witness round open in ${st.role}`);
}
// Stryker restore all

function event(e: ControllerEvent): ControllerAction {
  return { type: 'event', event: e };
}

// Stryker disable next-line BlockStatement: observability — warn and error lines become history notes, which no check reads
function log(acts: ControllerAction[], level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
  acts.push(event({ kind: 'log', level, message }));
}

// ---------------------------------------------------------------------------------------
// view

// Observability: the view feeds the agent's metrics and /status, the role of a lost process's
// record in the simulator, and the driver's `stopDone` (its directive says why
// `shutdownComplete` → true is equivalent). The simulator scrapes no metrics, so no check reads
// the rest (docs/simulator.md "Limits").
// Stryker disable all: observability (above)
export function view(s: ControllerState): ControllerView {
  let phase: string = s.role;
  if (s.shutdown !== 'no') phase = `shutdown/${s.shutdown}`;
  else if (s.role === 'standby' && s.witnessRound) phase = 'standby/witness-round';
  else if (s.role === 'standby' && s.nowMs < s.holdDownUntilMs) phase = 'standby/hold-down';
  else if (s.role === 'candidate' && s.candidacy) {
    phase = s.candidacy.awaitingApproval
      ? 'candidate/awaiting-approval'
      : `candidate/acquiring (${s.candidacy.basis})`;
  } else if (s.role === 'fenced') phase = 'fenced/hold-down';
  return {
    region: s.config.region,
    role: s.role,
    highestEpochSeen: s.highestEpochSeen,
    heldEpoch: s.heldEpoch,
    safeUntilMs: s.safeUntilMs,
    leaseHolder: s.role === 'primary' ? s.config.region : s.leaseHolder,
    witnessVerdicts: { ...s.witnessVerdicts },
    peerConsecutiveFailures: s.peerConsecutiveFailures,
    lastFailoverAtMs: s.lastFailoverAtMs,
    awaitingApproval: s.candidacy?.awaitingApproval ?? false,
    demotionsTotal: s.demotionsTotal,
    phase,
    safeWindowMs: s.safeWindowMs,
    shutdownComplete: s.shutdown === 'done',
    storeLeaseTtlMs: s.storeLeaseTtlMs,
    leaseTtlRefusalsTotal: s.leaseTtlRefusals,
  };
}
