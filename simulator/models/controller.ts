/**
 * One region's controller: the UNMODIFIED decision core (src/controller/core.ts) behind
 * simulator adapters, the way src/agent drives it in production:
 *   - every input carries this node's local monotonic clock (drift, jumps and offsets are
 *     faults of that clock; readings never go backwards, like a monotonic clock);
 *   - actions become messages over this controller's topology links (ctl-r->worker,
 *     ctl-r->w*, ctl-r->peer, ctl-r->app-r, ctl-r->auth-*) with the adapters' timeouts,
 *     and their outcomes come back as inputs;
 *   - a tick is delivered at wakeAtMs (converted to global time through the clock).
 * A crash loses the core state; the restarted process begins as a fresh standby.
 * An exception from the core is a finding (no-internal-error): the process "crashes" and a
 * supervisor restarts it a second later.
 */
import type { PromotionEvidenceEvent } from '../../src/check/history.ts';
import {
  type ControllerState,
  step as coreStep,
  view as coreView,
  createControllerState,
} from '../../src/controller/core.ts';
import type {
  ControllerAction,
  ControllerConfig,
  ControllerInput,
  ControllerView,
  WitnessVerdict,
} from '../../src/controller/types.ts';
import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import { bump } from '../coverage.ts';
import { type Call, Proc, type Server } from '../net.ts';
import type { AppReply, AppRequest } from './app.ts';
import { type AuthRequest, type DnsReply, TOMBSTONE } from './authoritative.ts';
import type { LeaseReply, LeaseRequest } from './lease-store.ts';

type LeaseOp = LeaseRequest['op'];
const LEASE_OPS: Record<string, LeaseOp> = {
  'lease-acquire': 'acquire',
  'lease-renew': 'renew',
  'lease-release': 'release',
  'lease-status': 'status',
};

export class ControllerModel implements Server {
  readonly proc: Proc;
  private state: ControllerState | null = null;
  private lastView: ControllerView | null = null;
  /** highest local time fed so far: the clock port is monotonic */
  private lastFedMs = Number.NEGATIVE_INFINITY;
  private wakeGlobalMs = Number.POSITIVE_INFINITY;
  private wakeGen = 0;
  /** epoch of the last grant this controller received (promotion evidence: leaseGranted) */
  private lastGrantedEpoch: number | null = null;
  private readonly ctlId: string;
  /** core step() calls, for the performance report */
  steps = 0;

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    readonly config: ControllerConfig,
    clock: NodeClock,
    private readonly initialRole: 'primary' | 'standby',
  ) {
    this.ctlId = `ctl-${region}`;
    this.proc = new Proc(this.ctlId, clock);
  }

  get role(): string {
    return this.lastView?.role ?? 'down';
  }

  private nowLocal(): number {
    let t = this.proc.clock.read(this.sim.engine.now);
    if (t < this.lastFedMs) t = this.lastFedMs;
    this.lastFedMs = t;
    return t;
  }

  start(initialRole: 'primary' | 'standby' = this.initialRole): void {
    try {
      this.state = createControllerState(this.config, this.nowLocal(), { initialRole });
    } catch (err) {
      this.coreFailed(err);
      return;
    }
    this.lastView = coreView(this.state);
    this.feed({ type: 'tick', nowMs: this.nowLocal() });
  }

  /** GET /healthz from the peer's probe */
  serve(call: Call): void {
    this.sim.net.reply(call, { ok: true } satisfies AppReply);
  }

  private feed(input: ControllerInput): void {
    const s = this.state;
    if (s === null) return;
    let res: ReturnType<typeof coreStep>;
    this.steps++;
    try {
      res = coreStep(s, input);
    } catch (err) {
      this.coreFailed(err);
      return;
    }
    const pre = this.lastView;
    this.state = res.state;
    const post = coreView(res.state);
    this.lastView = post;
    // Acts before a lease result in this step ran under the old window, after it under the new.
    let windowView = pre;
    for (const a of res.actions) {
      if (
        a.type === 'event' &&
        a.event.kind === 'lease' &&
        (a.event.op === 'renew' || a.event.op === 'acquire')
      ) {
        windowView = post;
      }
      this.perform(a, windowView, post, input.nowMs);
    }
    this.scheduleWake(res.wakeAtMs);
  }

  private scheduleWake(wakeLocalMs: number): void {
    const { engine } = this.sim;
    const g = this.proc.clock.globalAt(wakeLocalMs, engine.now + 1);
    if (g === this.wakeGlobalMs) return;
    this.wakeGlobalMs = g;
    engine.at(g, this.onWake, ++this.wakeGen);
  }

  private readonly onWake = (gen: unknown): void => {
    if (gen !== this.wakeGen) return;
    this.wakeGlobalMs = Number.POSITIVE_INFINITY;
    this.proc.run(this.tick, null, this.proc.incarnation);
  };

  private readonly tick = (): void => {
    this.feed({ type: 'tick', nowMs: this.nowLocal() });
  };

  private safeUntilFor(epoch: number, v: ControllerView | null): number | null {
    return v !== null && v.heldEpoch === epoch ? v.safeUntilMs : null;
  }

  private recordAct(
    action: 'promote' | 'extend' | 'demote' | 'publish' | 'renew',
    epoch: number,
    localMs: number,
    windowView: ControllerView | null,
    extra: { validityMs?: number; activeRegion?: string } = {},
  ): void {
    this.sim.rec.emit({
      kind: 'act',
      t: this.sim.engine.now,
      region: this.region,
      action,
      epoch,
      localMs,
      safeUntilLocalMs: this.safeUntilFor(epoch, windowView),
      ...extra,
    });
  }

  private perform(
    a: ControllerAction,
    windowView: ControllerView | null,
    post: ControllerView,
    nowMs: number,
  ): void {
    const { sim } = this;
    switch (a.type) {
      case 'lease-acquire':
      case 'lease-renew':
      case 'lease-release':
      case 'lease-status': {
        const op = LEASE_OPS[a.type]!;
        const epoch = 'epoch' in a ? a.epoch : undefined;
        sim.rec.emit({
          kind: 'lease',
          t: sim.engine.now,
          region: this.region,
          op,
          phase: 'sent',
          ...(epoch !== undefined ? { epoch } : {}),
          sentLocalMs: a.sentAtMs,
          localMs: nowMs,
        });
        if (a.type === 'lease-renew') this.recordAct('renew', a.epoch, nowMs, windowView);
        const req: LeaseRequest =
          epoch !== undefined ? { op, region: this.region, epoch } : { op, region: this.region };
        const sentAtMs = a.sentAtMs;
        sim.net.call(
          sim.link(`${this.ctlId}->worker`),
          this.proc,
          sim.server('worker'),
          req,
          sim.timings.leaseRequestTimeoutMs,
          (ok, reply, error) => this.onLeaseResult(op, sentAtMs, ok, reply as LeaseReply | null, error),
        );
        return;
      }
      case 'witness-query': {
        const name = sim.spec.regionName(a.target);
        for (const w of this.config.witnesses) {
          sim.net.call(
            sim.link(`${this.ctlId}->${w}`),
            this.proc,
            sim.server(w),
            { name },
            sim.timings.dnsQueryTimeoutMs,
            (ok, reply, error) =>
              this.onWitnessResult(a.round, w, a.target, ok, reply as DnsReply | null, error),
          );
        }
        return;
      }
      case 'peer-probe':
        sim.net.call(
          sim.link(`${this.ctlId}->peer`),
          this.proc,
          sim.server(`ctl-${this.config.peerRegion}`),
          { type: 'healthz' },
          sim.timings.peerProbeTimeoutMs,
          (ok, _reply, error) =>
            this.feed(
              ok
                ? { type: 'peer-result', nowMs: this.nowLocal(), ok: true }
                : { type: 'peer-result', nowMs: this.nowLocal(), ok: false, detail: error ?? 'failed' },
            ),
        );
        return;
      case 'promote':
      case 'extend':
      case 'demote': {
        if (a.type === 'demote') this.recordAct('demote', a.epoch, nowMs, windowView);
        else this.recordAct(a.type, a.epoch, nowMs, windowView, { validityMs: a.validityMs });
        const req: AppRequest =
          a.type === 'demote'
            ? { type: 'demote', epoch: a.epoch, reason: a.reason }
            : { type: a.type, epoch: a.epoch, validityMs: a.validityMs };
        const action = a.type;
        const epoch = a.epoch;
        sim.net.call(
          sim.link(`${this.ctlId}->app-${this.region}`),
          this.proc,
          sim.server(`app-${this.region}`),
          req,
          sim.timings.appRequestTimeoutMs,
          (ok, reply, error) => {
            const r = reply as AppReply | null;
            const good = ok && (r?.ok ?? false);
            this.feed({
              type: 'promote-result',
              nowMs: this.nowLocal(),
              epoch,
              ok: good,
              action,
              ...(good ? {} : { error: error ?? r?.error ?? 'failed' }),
            });
          },
        );
        return;
      }
      case 'publish': {
        this.recordAct('publish', a.epoch, nowMs, windowView, { activeRegion: a.activeRegion });
        const auths = sim.spec.regions.map((r) => `auth-${r}`);
        let pending = auths.length;
        let failed: string | null = null;
        const epoch = a.epoch;
        for (const auth of auths) {
          sim.net.call(
            sim.link(`${this.ctlId}->${auth}`),
            this.proc,
            sim.server(auth),
            { type: 'publish', epoch, activeRegion: a.activeRegion } satisfies AuthRequest,
            sim.timings.publishTimeoutMs,
            (ok, _reply, error) => {
              if (!ok) failed = `${auth}: ${error ?? 'failed'}`;
              if (--pending > 0) return;
              this.feed(
                failed === null
                  ? { type: 'publish-result', nowMs: this.nowLocal(), epoch, ok: true }
                  : { type: 'publish-result', nowMs: this.nowLocal(), epoch, ok: false, error: failed },
              );
            },
          );
        }
        return;
      }
      case 'await-approval':
        sim.rec.emit({
          kind: 'note',
          t: sim.engine.now,
          source: this.ctlId,
          message: `awaiting operator approval: ${a.reason}; the simulated operator approves in ${sim.timings.operatorDelayMs} ms`,
        });
        sim.engine.after(sim.timings.operatorDelayMs, this.onOperatorApprove, this.proc.incarnation);
        return;
      case 'event':
        this.recordEvent(a.event, post);
        return;
    }
  }

  private readonly onOperatorApprove = (incarnation: unknown): void => {
    this.proc.run(
      () => this.feed({ type: 'operator', nowMs: this.nowLocal(), command: 'approve' }),
      null,
      incarnation as number,
    );
  };

  private recordEvent(e: Extract<ControllerAction, { type: 'event' }>['event'], post: ControllerView): void {
    const { sim } = this;
    const t = sim.engine.now;
    switch (e.kind) {
      case 'role':
        bump(sim.coverage.roleTransitions, `${e.from}->${e.to}`);
        sim.rec.emit({
          kind: 'role',
          t,
          region: this.region,
          from: e.from,
          to: e.to,
          reason: e.reason,
          epoch: e.epoch,
          localMs: this.lastFedMs,
        });
        return;
      case 'promotion-evidence': {
        bump(sim.coverage.promotionBases, e.basis ?? 'unspecified');
        const ev: PromotionEvidenceEvent = {
          kind: 'promotion-evidence',
          seq: 0,
          t,
          region: this.region,
          epoch: e.epoch,
          peerFailures: e.peerFailures,
          votes: e.votes,
          unreachableVotes: e.unreachableVotes,
          quorum: e.quorum,
          leaseGranted: this.lastGrantedEpoch === e.epoch,
          approvedBy: e.approvedBy,
        };
        if (e.basis !== undefined) ev.basis = e.basis;
        sim.rec.emit(ev);
        return;
      }
      case 'peer':
        sim.rec.emit({
          kind: 'peer-probe',
          t,
          region: this.region,
          ok: e.ok,
          consecutiveFailures: e.consecutiveFailures,
        });
        return;
      case 'log':
        if (e.level === 'warn' || e.level === 'error') {
          sim.rec.emit({
            kind: 'note',
            t,
            source: this.ctlId,
            message: e.message,
            data: { role: post.role },
          });
        }
        return;
      default:
        // witness and lease outcomes are recorded by this adapter with more detail
        return;
    }
  }

  private onLeaseResult(
    op: LeaseOp,
    sentAtMs: number,
    ok: boolean,
    reply: LeaseReply | null,
    error: string | null,
  ): void {
    const { sim } = this;
    const nowMs = this.nowLocal();
    sim.rec.emit({
      kind: 'lease',
      t: sim.engine.now,
      region: this.region,
      op,
      phase: 'result',
      ok,
      ...(reply ? { epoch: reply.epoch, holder: reply.holder } : {}),
      ...(error !== null ? { error } : {}),
      sentLocalMs: sentAtMs,
      localMs: nowMs,
    });
    if (ok && reply !== null) {
      if (reply.granted && (op === 'acquire' || op === 'renew')) this.lastGrantedEpoch = reply.epoch;
      this.feed({
        type: 'lease-result',
        nowMs,
        op,
        sentAtMs,
        ok: true,
        granted: reply.granted,
        holder: reply.holder,
        epoch: reply.epoch,
        ttlMs: reply.ttlMs,
        expiresAt: reply.expiresAt,
        serverTime: reply.serverTime,
      });
    } else {
      this.feed({
        type: 'lease-result',
        nowMs,
        op,
        sentAtMs,
        ok: false,
        granted: false,
        holder: null,
        epoch: null,
        ttlMs: null,
        error: error ?? 'failed',
      });
    }
  }

  private onWitnessResult(
    round: number,
    witness: string,
    target: string,
    ok: boolean,
    reply: DnsReply | null,
    error: string | null,
  ): void {
    const { sim } = this;
    let verdict: WitnessVerdict;
    let detail: string;
    if (!ok || reply === null) {
      verdict = 'unknown';
      detail = error ?? 'failed';
    } else if (reply.rcode === 'NOERROR') {
      const addr = reply.answers[0];
      verdict = addr === `app-${target}` ? 'reachable' : addr === TOMBSTONE ? 'unreachable' : 'unknown';
      detail = `NOERROR ${reply.answers.join(' ')}`;
    } else {
      // SERVFAIL / REFUSED: the witness could not reach the region's authoritatives
      verdict = reply.rcode === 'SERVFAIL' || reply.rcode === 'REFUSED' ? 'unreachable' : 'unknown';
      detail = reply.rcode;
    }
    bump(sim.coverage.witnessVerdicts, verdict);
    sim.rec.emit({
      kind: 'witness',
      t: sim.engine.now,
      region: this.region,
      witness,
      target,
      verdict,
      detail,
    });
    this.feed({ type: 'witness-result', nowMs: this.nowLocal(), round, witness, verdict, detail });
  }

  /** Process death (fault or core exception): the core state is gone. */
  private loseState(reason: string): void {
    const v = this.lastView;
    if (this.state !== null && v !== null && v.role !== 'standby') {
      bump(this.sim.coverage.roleTransitions, `${v.role}->standby`);
      this.sim.rec.emit({
        kind: 'role',
        t: this.sim.engine.now,
        region: this.region,
        from: v.role,
        to: 'standby',
        reason,
        epoch: null,
        localMs: this.lastFedMs,
      });
    }
    this.state = null;
    this.lastView = null;
    this.lastGrantedEpoch = null;
    this.wakeGen++;
    this.wakeGlobalMs = Number.POSITIVE_INFINITY;
  }

  onCrash(): void {
    this.loseState('process crashed (state lost)');
  }

  onRestart(): void {
    this.start('standby');
  }

  private coreFailed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.loseState(`core threw: ${message}`);
    this.sim.rec.emit({
      kind: 'process',
      t: this.sim.engine.now,
      component: this.ctlId,
      op: 'crash',
      detail: 'the controller core threw; restarted by its supervisor in 1 s',
      error: message,
    });
    const inc = this.proc.incarnation;
    this.sim.engine.after(1000, () => {
      if (this.proc.incarnation !== inc || this.proc.state === 'crashed' || this.state !== null) return;
      this.sim.rec.emit({ kind: 'process', t: this.sim.engine.now, component: this.ctlId, op: 'restart' });
      this.proc.run(() => this.start('standby'), null, inc);
    });
  }
}
