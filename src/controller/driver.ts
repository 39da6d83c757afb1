/**
 * The one shell around the pure core, shared by every executor: production (src/agent), the
 * simulator (simulator/models/controller.ts) and, through the history it records, the real
 * runner (src/runner/events.ts). Like etcd-io/raft's node loop, it feeds inputs to step(),
 * performs the returned actions through ports and feeds their outcomes back. The executors
 * supply only the ports (real sockets and timers, or simulated messages and virtual time).
 *
 * Still pure: no I/O, no clock, no randomness of its own; everything comes through the ports.
 * The rules that must mean the same in every world live here, once:
 *   - time: every input carries ports.now(), clamped so it never goes backwards;
 *   - hook ordering: promote/extend/demote reach the resource one at a time in emission order
 *     (the next starts when the previous finished), so an extend can never overtake a demote
 *     and a confirmed demote means the resource has dropped authority — what makes the release
 *     after it safe;
 *   - the witness verdict: witness-verdict.ts, applied to what the witness port observed;
 *   - the lease result: `ok` = a reply came back and was authentic, `granted` = the store
 *     granted the lease (acquire/renew only); see leaseResultInput;
 *   - the history: history-translation.ts, one record stream per controller;
 *   - the graceful stop (see stop()): when the process may exit.
 * Inputs that arrive while a step's actions are being performed (a port that answers at once)
 * wait in an inbox and are fed right after, so steps never nest.
 */
import { type ControllerState, createControllerState, step, view } from './core.ts';
import { type ControllerRecord, HistoryTranslation, type WindowBefore } from './history-translation.ts';
import type {
  ControllerAction,
  ControllerConfig,
  ControllerInput,
  ControllerView,
  RegionId,
} from './types.ts';
import { type WitnessAddresses, type WitnessObservation, witnessVerdict } from './witness-verdict.ts';

export type { ControllerRecord, WitnessAddresses, WitnessObservation };

export type LeaseOp = 'acquire' | 'renew' | 'release' | 'status';
export type OperatorCommand = 'approve' | 'reject' | 'promote' | 'demote';
/** An input without its time: the driver stamps `nowMs` when it feeds it. */
export type UntimedInput = ControllerInput extends infer T
  ? T extends unknown
    ? Omit<T, 'nowMs'>
    : never
  : never;
type LeaseResult = Extract<ControllerInput, { type: 'lease-result' }>;

/** What the lease port reports for one request. */
export interface LeaseReply {
  /** a reply came back and was authentic (transport-level success) */
  ok: boolean;
  /** the store said the lease is granted to us (meaningful for acquire/renew only) */
  granted: boolean;
  holder: RegionId | null;
  epoch: number | null;
  ttlMs: number | null;
  expiresAt?: number | null;
  serverTime?: number | null;
  error?: string;
}

export interface Outcome {
  ok: boolean;
  error?: string;
}

/** One hand-over (or take-back) of write authority to the local resource. */
export interface ResourceCall {
  action: 'promote' | 'extend' | 'demote';
  epoch: number;
  /** 0 for a demote */
  validityMs: number;
  /** demote only: why */
  reason?: string;
}

/**
 * The I/O an executor supplies. Every `done` must be called at most once; a port that never
 * answers (a crashed simulated process) simply leaves the core to its own timeouts.
 */
export interface ControllerPorts {
  /** the local monotonic clock, ms */
  now(): number;
  /** deliver driver.tick() at local time `localMs` (replaces any earlier request) */
  wakeAt(localMs: number): void;
  lease(op: LeaseOp, epoch: number | null, done: (reply: LeaseReply) => void): void;
  /** ask one witness for `target`'s regions name; report what came back, not a verdict */
  witness(witness: string, target: RegionId, done: (o: WitnessObservation) => void): void;
  peer(done: (o: Outcome) => void): void;
  resource(call: ResourceCall, done: (o: Outcome) => void): void;
  publish(epoch: number, activeRegion: RegionId, done: (o: Outcome) => void): void;
  /** semi-automatic mode: an operator must answer through driver.operator() */
  awaitApproval(reason: string): void;
  /** one history record (the executor stamps t) */
  record(r: ControllerRecord): void;
  /** after every step: logs, metrics, waiters */
  stepped?(s: { input: ControllerInput; actions: ControllerAction[]; view: ControllerView }): void;
  /** the core threw (an invariant violation, a bug): the driver has stopped acting */
  coreFailed(err: unknown, input: ControllerInput | null): void;
}

export interface DriverOptions {
  initialRole?: 'primary' | 'standby';
  /** the addresses `target`'s regions name resolves to when up / when down */
  witnessAddresses(target: RegionId): WitnessAddresses;
}

/** The lease-result meaning, once: a failed exchange reports nothing about the store. */
/**
 * How long a graceful stop may take before the process exits anyway: the demote call and the
 * release request, each bounded by its own timeout, and a second for the steps between.
 */
export function gracefulStopCapMs(appRequestTimeoutMs: number, leaseRequestTimeoutMs: number): number {
  // Stryker disable next-line ArithmeticOperator: equivalent in the simulator — a cap 1 s shorter can end a stop only after its last call is sent (the release follows the demote's answer, within H/2), and a sent request is delivered whether or not its sender exits: the exit only comes earlier
  return appRequestTimeoutMs + leaseRequestTimeoutMs + 1000;
}

export function leaseResultInput(
  op: LeaseOp,
  sentAtMs: number,
  reply: LeaseReply,
): Omit<LeaseResult, 'nowMs'> {
  if (!reply.ok) {
    return {
      type: 'lease-result',
      op,
      sentAtMs,
      ok: false,
      // Stryker disable next-line BooleanLiteral: equivalent — the core reads `granted` only together with `ok` (acquire: `r.ok && r.granted`; renew returns on `!r.ok` first; status and release ignore it)
      granted: false,
      holder: null,
      epoch: null,
      ttlMs: null,
      // Stryker disable next-line LogicalOperator: equivalent — the error text is only logged and recorded in the controller's own events, never decided on
      error: reply.error ?? 'failed',
    };
  }
  return {
    type: 'lease-result',
    op,
    sentAtMs,
    ok: true,
    // Stryker disable next-line ConditionalExpression: equivalent — the core reads `granted` only for acquire and renew results (onLeaseResult), never a status's
    granted: op !== 'status' && reply.granted,
    holder: reply.holder,
    epoch: reply.epoch,
    ttlMs: reply.ttlMs,
    // Stryker disable next-line LogicalOperator: equivalent with this Worker — its status names no holder once the lease expired (lease-state.ts effectiveHolder), so the core's `expiresAt <= serverTime` vacancy test, the only reader, never decides alone
    expiresAt: reply.expiresAt ?? null,
    // Stryker disable next-line LogicalOperator: equivalent with this Worker — read only by the same redundant vacancy test as `expiresAt` above
    serverTime: reply.serverTime ?? null,
  };
}

// Stryker disable next-line ObjectLiteral,LogicalOperator: equivalent — a failed publish's error text is only logged (core.ts `publish-result`)
const failed = (o: Outcome) => (o.ok ? {} : { error: o.error ?? 'failed' });

/**
 * The peer-result input: `detail` only on failure, set as its last key rather than spread in
 * (a conditional spread is a generic copy in V8; a probe answers every peer-check interval).
 */
function peerResult(o: Outcome): UntimedInput {
  const input: Extract<UntimedInput, { type: 'peer-result' }> = { type: 'peer-result', ok: o.ok };
  // Stryker disable next-line BooleanLiteral,ConditionalExpression,LogicalOperator: equivalent — a peer probe's `detail` is only logged; the core decides on `ok`
  if (!o.ok) input.detail = o.error ?? 'failed';
  return input;
}

/** A graceful stop under way (an object of its own, so a late cap knows which stop it ends). */
interface GracefulStop {
  exited(): void;
}

/** A resource call's answer, waiting in the inbox like an input (see nextHook). */
class HookDone {
  constructor(
    readonly call: ResourceCall,
    readonly outcome: Outcome,
  ) {}
}

export class ControllerDriver {
  private state: ControllerState | null = null;
  private lastView: ControllerView | null = null;
  private halted = false;
  private stepping = false;
  /** inputs (and hook answers) that arrived while a step was being performed */
  private readonly inbox: (UntimedInput | HookDone)[] = [];
  private lastFedMs = Number.NEGATIVE_INFINITY;
  private readonly hookQueue: ResourceCall[] = [];
  private hookBusy = false;
  /** port calls made and not answered yet (a graceful stop waits for them, up to its cap) */
  private inFlight = 0;
  private stopping: GracefulStop | null = null;
  private readonly translation: HistoryTranslation;
  /** step() calls so far */
  steps = 0;

  constructor(
    readonly config: ControllerConfig,
    private readonly ports: ControllerPorts,
    private readonly opts: DriverOptions,
  ) {
    this.translation = new HistoryTranslation(config.region, config.peerRegion);
  }

  /** Creates the core state and delivers the first tick. */
  start(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: unreachable — every executor calls start() once, on a driver it just built (simulator/models/controller.ts `start`, src/agent/runtime.ts)
    if (this.state !== null || this.halted) return;
    try {
      this.state = createControllerState(this.config, this.now(), {
        initialRole: this.opts.initialRole ?? 'standby',
      });
    } catch (err) {
      this.fail(err, null);
      return;
    }
    this.lastView = view(this.state);
    this.tick();
  }

  /** The view after the last successful step; null before start. */
  get view(): ControllerView | null {
    return this.lastView;
  }

  /** The last local time fed to the core. */
  // Stryker disable next-line BlockStatement: observability — it dates the simulator's "process lost its state" role record (localMs), which no check reads: they compare localMs only in act records
  get lastLocalMs(): number {
    return this.lastFedMs;
  }

  /** True once the core failed or the executor halted the driver. */
  // Stryker disable next-line BlockStatement: unreachable — read only by stopDone, where it matters only for a driver the core's failure halted, which the shipped core does not cause
  get stopped(): boolean {
    return this.halted;
  }

  tick(): void {
    // Stryker disable next-line ObjectLiteral: equivalent — the core runs its timers before every input and does nothing else for a tick, which is also what it does for an input without a type
    this.feed({ type: 'tick' });
  }

  operator(command: OperatorCommand): void {
    this.feed({ type: 'operator', command });
  }

  /**
   * A graceful stop (SIGTERM; the `stop` fault), one sequence for every executor, called once:
   * the core demotes, releases the lease only after the app confirmed the demotion, and says
   * when it is done (`stopDone`); once it is and no port call is in flight any more (the
   * release's reply, a probe sent before the stop), the driver halts and `exited` runs: the
   * process exits. However far it got, it exits after `capMs` (gracefulStopCapMs). `after(ms,
   * fn)` is the executor's timer.
   */
  stop(capMs: number, after: (ms: number, fn: () => void) => void, exited: () => void): void {
    const s: GracefulStop = { exited };
    this.stopping = s;
    this.feed({ type: 'shutdown' });
    // Stryker disable next-line ArrowFunction: unreachable with the timeouts both executors derive from H — every port answers within its own, and the longest wait (the demote, then the release, H/2 each; a publish sent before the stop, H) ends inside the cap; it bounds a port that breaks that contract
    after(capMs, () => this.exitStopped(s));
    this.advanceStop();
  }

  /** The graceful stop has nothing left to do: the core is done, or was never running. */
  get stopDone(): boolean {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent when true — a stop's remaining work is always a call in flight (the demote, then the release, sent in the step that reads the demote's answer, before that call counts as answered), so advanceStop's `inFlight === 0` alone exits at the same step; `false` is killed (stop-exits), and silenced with it
    return this.view === null || this.view.shutdownComplete === true || this.stopped;
  }

  /** Exits a stop that is done (after every step and port answer). */
  private advanceStop(): void {
    const s = this.stopping;
    // Stryker disable next-line ConditionalExpression: equivalent in the simulator, not in production — without `inFlight === 0` a stop exits right after sending its release, and a simulated request is delivered once sent; a real one may not have left (its connection still opening), so the agent waits for the reply
    if (s !== null && this.stopDone && this.inFlight === 0) this.exitStopped(s);
  }

  private exitStopped(s: GracefulStop): void {
    // Stryker disable next-line ConditionalExpression: equivalent — both executors' exits are idempotent (the simulator's exitStopped clears its own stop; the agent resolves a promise), so a second call after the cap changes nothing
    if (this.stopping !== s) return;
    this.stopping = null;
    this.halt();
    s.exited();
  }

  /** Stops feeding the core (process exit); late port answers are dropped. */
  // Stryker disable next-line BlockStatement: equivalent in the simulator — a dead process gets no replies there, and a driver whose core failed has no state; in the agent this flag is what drops them
  halt(): void {
    // Stryker disable next-line BooleanLiteral: equivalent in the simulator — as halt() above
    this.halted = true;
  }

  /**
   * Feeds one input. The driver takes the object: it stamps `nowMs` on it when the step runs
   * (every input is a fresh object, so no step pays for a copy of it).
   */
  feed(input: UntimedInput): void {
    this.serially(input);
  }

  /**
   * Runs `work` now, or right after the step in progress if a port answered inside it. The
   * inbox holds the inputs themselves, not a closure per input, and is read by index and
   * emptied once drained (the step loop of every simulated controller runs through here).
   */
  private serially(work: UntimedInput | HookDone): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent in the simulator — as halt(); and nothing is fed before start()
    if (this.halted || this.state === null) return;
    // Stryker disable all: unreachable — every port of both executors answers from a later event (simulator: engine events; agent: promise callbacks), never inside a step, so the inbox stays empty (test/controller covers it with a port that answers at once)
    if (this.stepping) {
      this.inbox.push(work);
      return;
    }
    this.stepping = true;
    try {
      this.handleWork(work);
      const inbox = this.inbox;
      for (let i = 0; i < inbox.length; i++) {
        if (this.halted) break;
        this.handleWork(inbox[i]!);
      }
      // Stryker restore all
    } finally {
      this.inbox.length = 0;
      this.stepping = false;
    }
  }

  private handleWork(work: UntimedInput | HookDone): void {
    if (work instanceof HookDone) this.hookDone(work.call, work.outcome);
    else this.runStep(work);
  }

  private now(): number {
    const t = Math.max(this.ports.now(), this.lastFedMs);
    this.lastFedMs = t;
    return t;
  }

  private runStep(untimed: UntimedInput): void {
    const nowMs = this.now();
    // stamped on the input itself (see feed), after its own keys as `{ ...untimed, nowMs }` would
    const input = untimed as ControllerInput;
    input.nowMs = nowMs;
    const prev = this.lastView!;
    // Stryker disable next-line ObjectLiteral: observability — acting actions carry their own window (core.ts act), so `before` fills only a demote record's safeUntilLocalMs, which no check reads
    const before: WindowBefore = { heldEpoch: prev.heldEpoch, safeUntilMs: prev.safeUntilMs };
    let r: ReturnType<typeof step>;
    // Stryker disable next-line UpdateOperator: equivalent — `steps` only feeds the performance report (simulator/models/controller.ts `steps`)
    this.steps++;
    try {
      r = step(this.state!, input);
    } catch (err) {
      this.fail(err, input);
      return;
    }
    this.state = r.state;
    const after = view(r.state);
    this.lastView = after;
    for (const rec of this.translation.input(input)) this.ports.record(rec);
    for (const a of r.actions) {
      for (const rec of this.translation.action(a, nowMs, before, after)) this.ports.record(rec);
      this.perform(a);
    }
    // Stryker disable next-line ObjectLiteral: observability — `stepped` feeds the agent's logs and metrics; the simulator supplies none
    this.ports.stepped?.({ input, actions: r.actions, view: after });
    this.ports.wakeAt(r.wakeAtMs);
    this.advanceStop();
  }

  // Stryker disable next-line BlockStatement: unreachable — called only when the core throws (see runStep), which the shipped core does not
  private fail(err: unknown, input: ControllerInput | null): void {
    // Stryker disable next-line BooleanLiteral: unreachable — as fail() above
    this.halted = true;
    this.state = null;
    this.ports.coreFailed(err, input);
  }

  private perform(a: ControllerAction): void {
    const p = this.ports;
    switch (a.type) {
      case 'lease-acquire':
      case 'lease-renew':
      case 'lease-release':
      case 'lease-status': {
        const op = a.type.slice('lease-'.length) as LeaseOp;
        const sentAtMs = a.sentAtMs;
        p.lease(
          op,
          'epoch' in a ? a.epoch : null,
          this.counted((reply) => this.feed(leaseResultInput(op, sentAtMs, reply))),
        );
        return;
      }
      case 'witness-query': {
        const addresses = this.opts.witnessAddresses(a.target);
        for (const witness of this.config.witnesses) {
          p.witness(
            witness,
            a.target,
            this.counted((o) => {
              const { verdict, detail } = witnessVerdict(o, addresses);
              this.feed({ type: 'witness-result', round: a.round, witness, verdict, detail });
            }),
          );
        }
        return;
      }
      case 'peer-probe':
        p.peer(this.counted((o) => this.feed(peerResult(o))));
        return;
      case 'promote':
      case 'extend':
        this.enqueueHook({ action: a.type, epoch: a.epoch, validityMs: a.validityMs });
        return;
      case 'demote':
        this.enqueueHook({ action: 'demote', epoch: a.epoch, validityMs: 0, reason: a.reason });
        return;
      case 'publish': {
        const epoch = a.epoch;
        p.publish(
          epoch,
          a.activeRegion,
          this.counted((o) =>
            // Stryker disable next-line ObjectLiteral: equivalent within the assumptions — without the result the core publishes again at every hand-off, repeating the same active region (core.ts handAuthority)
            this.feed({ type: 'publish-result', epoch, ok: o.ok, ...failed(o) }),
          ),
        );
        return;
      }
      case 'await-approval':
        p.awaitApproval(a.reason);
        return;
      // Stryker disable next-line ConditionalExpression: equivalent — the last case: falling out of the switch returns as well
      case 'event':
        return; // recorded through the translation, logged by the executor's `stepped`
    }
  }

  /** Hook ordering: one resource call at a time, in the order the core emitted them. */
  private enqueueHook(call: ResourceCall): void {
    this.hookQueue.push(call);
    this.nextHook();
  }

  private nextHook(): void {
    if (this.hookBusy || this.halted) return;
    const call = this.hookQueue.shift();
    if (call === undefined) return;
    this.hookBusy = true;
    this.ports.resource(
      call,
      this.counted((o) => this.serially(new HookDone(call, o))),
    );
  }

  /**
   * A port call's `done`, counted in flight until it answers: `onAnswer` feeds the outcome,
   * then a stop may be waiting for this last call. Every port call goes through here.
   */
  private counted<T>(onAnswer: (answer: T) => void): (answer: T) => void {
    this.inFlight++;
    return (answer) => {
      onAnswer(answer);
      this.inFlight--;
      this.advanceStop();
    };
  }

  /** A resource call answered: its result is fed, then the next queued call may start. */
  private hookDone(call: ResourceCall, o: Outcome): void {
    const input: Extract<UntimedInput, { type: 'promote-result' }> = {
      type: 'promote-result',
      epoch: call.epoch,
      ok: o.ok,
      action: call.action,
    };
    // the last key, set rather than spread in (see peerResult): one per promote/extend/demote
    // Stryker disable next-line BooleanLiteral,ConditionalExpression,LogicalOperator: equivalent — a hook's error text is only logged (core.ts settlePendingRelease, onPromoteResult); the core decides on `ok`
    if (!o.ok) input.error = o.error ?? 'failed';
    this.runStep(input);
    this.hookBusy = false;
    this.nextHook();
  }
}
