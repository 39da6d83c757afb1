/**
 * One region's controller: the production driver (src/controller/driver.ts) around the
 * UNMODIFIED core, with simulated ports only — the way src/agent runs it with real ones:
 *   - now(): this node's clock (drift, jumps and offsets are faults of that clock; the driver
 *     keeps the readings monotonic);
 *   - the lease, witness, peer, app and publish ports are messages over this controller's
 *     topology links (ctl-r->worker, ctl-r->w*, ctl-r->peer, ctl-r->app-r, ctl-r->auth-*) with
 *     the adapters' timeouts;
 *   - wakeAt(): a tick at that local time, converted to global time through the clock.
 * Hook ordering, the witness verdict, the lease-result meaning and the history records are
 * the driver's, exactly as in production. What is the simulator's own: crash and restart (a
 * crash loses the core state; the restarted process begins as a fresh standby), the
 * simulated operator, and the coverage counters.
 * An exception from the core is a finding (no-internal-error): the process "crashes" and a
 * supervisor restarts it a second later.
 */

import { leaseHttpRequest, readLeaseReply } from '../../src/agent/lease-client.ts';
import {
  type PublishOptions,
  type PublishPatch,
  type PublishSides,
  publishOrder,
  publishPatches,
} from '../../src/agent/publish-plan.ts';
import { approvalRequestNote } from '../../src/contracts/approval-request.ts';
import { authorityHookCall } from '../../src/contracts/authority-hook.ts';
import type { NewEvent } from '../../src/contracts/history.ts';
import {
  ControllerDriver,
  type ControllerPorts,
  type ControllerRecord,
  gracefulStopCapMs,
  type LeaseOp,
  type OperatorCommand,
  type Outcome,
  type LeaseReply as PortLeaseReply,
  type ResourceCall,
  type WitnessObservation,
} from '../../src/controller/driver.ts';
import type { ControllerConfig } from '../../src/controller/types.ts';
import type { NodeClock } from '../clock.ts';
import { Routes, type SimContext } from '../context.ts';
import { bump } from '../coverage.ts';
import { type Call, Proc, type Server } from '../net.ts';
import type { AppReply, AppRequest } from './app.ts';
import {
  type ApiReply,
  type AuthRequest,
  type DnsReply,
  SIM_PDNS_API_KEY,
  simApiUrl,
  simCheckUrl,
  TOMBSTONE,
} from './authoritative.ts';
import { type LeaseRequest, SIM_LEASE_NAME } from './lease-store.ts';

/** A publish request of the production plan, and the simulated authoritative its URL names. */
interface PlannedPatch {
  patch: PublishPatch;
  auth: string | null;
}

/** Wakes per simulated second beyond which a controller counts as runaway (see countWake). */
const MAX_WAKES_PER_SECOND = 200;

export class ControllerModel implements Server {
  readonly proc: Proc;
  private driver: ControllerDriver | null = null;
  private wakeGlobalMs = Number.POSITIVE_INFINITY;
  private wakeGen = 0;
  private readonly ctlId: string;
  /** core step() calls of earlier incarnations, for the performance report */
  private stepsBefore = 0;
  /** wakes since wakeWindowStartMs: a core that asks to be woken every few ms is a runaway */
  private wakesInWindow = 0;
  private wakeWindowStartMs = 0;
  private readonly routes: Routes;
  private readonly appId: string;
  private readonly peerId: string;
  /** the agent's PowerDNS publish settings, as the simulated topology configures them */
  private readonly publishOptions: PublishOptions;
  private readonly publishSides: PublishSides;
  private readonly patchCache = new Map<string, PlannedPatch[]>();
  private readonly leaseHttpCache = new Map<
    LeaseOp,
    { epoch: number | null; http: NonNullable<LeaseRequest['http']> }
  >();
  /** a graceful stop in progress: called when the process exits */
  private stopping: { exit: () => void; incarnation: number } | null = null;
  /**
   * Steps of this controller's wall clock so far (clock-offset and clock-jump faults: under
   * libfaketime both move Date.now, src/faults/clock.ts); it signs its requests with it
   */
  private wallStepMs = 0;

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    readonly config: ControllerConfig,
    clock: NodeClock,
    private readonly initialRole: 'primary' | 'standby',
  ) {
    this.ctlId = `ctl-${region}`;
    this.proc = new Proc(this.ctlId, clock, true);
    this.routes = new Routes(sim, this.ctlId);
    this.appId = `app-${region}`;
    this.peerId = `ctl-${config.peerRegion}`;
    this.publishSides = {
      region,
      peerRegion: config.peerRegion,
      selfAppAddress: this.appId,
      peerAppAddress: `app-${config.peerRegion}`,
    };
    this.publishOptions = simPublishOptions(sim, sim.timings.publishTimeoutMs);
  }

  /** A clock fault steps this controller's wall clock by `deltaMs` (an offset's revert: −deltaMs). */
  stepWallClock(deltaMs: number): void {
    this.wallStepMs += deltaMs;
  }

  get role(): string {
    return this.driver?.view?.role ?? 'down';
  }

  /** core step() calls, for the performance report */
  get steps(): number {
    return this.stepsBefore + (this.driver?.steps ?? 0);
  }

  start(initialRole: 'primary' | 'standby' = this.initialRole): void {
    const driver = new ControllerDriver(this.config, this.ports(), {
      initialRole,
      witnessAddresses: (target) => ({ reachable: `app-${target}`, tombstone: TOMBSTONE }),
    });
    this.driver = driver;
    driver.start();
  }

  /**
   * An operator command through the admin API (an `operator` step, or the simulated approver):
   * taken now, queued while the process is paused (the request waits in its socket), lost
   * while it is down; refused once a graceful stop began, as the admin API answers 503 then.
   */
  operator(command: OperatorCommand): void {
    if (this.stopping !== null) return;
    this.proc.run(() => this.driver?.operator(command), null);
  }

  /**
   * SIGTERM (the `stop` fault): the driver's graceful stop sequence (driver.ts `stop`), the one
   * the production shell runs too (src/agent/runtime.ts `stop`): the process exits once the
   * core is done and the calls in flight answered, each wait capped by gracefulStopCapMs, and
   * then `exit` runs (the fault makes the process gone).
   * `sigterm` runs first, when there is a running controller to stop (else nothing happens).
   */
  stopGracefully(sigterm: () => void, exit: () => void): boolean {
    const d = this.driver;
    if (d === null || this.proc.state !== 'up' || this.stopping !== null) return false;
    sigterm();
    const incarnation = this.proc.incarnation;
    this.stopping = { exit, incarnation };
    const t = this.sim.timings;
    const capMs = gracefulStopCapMs(t.appRequestTimeoutMs, t.leaseRequestTimeoutMs);
    const { engine } = this.sim;
    // the process exits between steps, as the real one does after its stop promise resolved
    const exited = () => engine.after(0, () => this.exitStopped(incarnation));
    this.proc.run(() => d.stop(capMs, (ms, fn) => engine.after(ms, fn), exited), null, incarnation);
    return true;
  }

  /**
   * The stop's step ended: `restart` runs once the process has exited — at once, or when a
   * stop still under way is done (the real executor's revert, too, waits for the exit).
   */
  afterStop(restart: () => void): void {
    const s = this.stopping;
    if (s === null) {
      restart();
      return;
    }
    const exit = s.exit;
    s.exit = () => {
      exit();
      restart();
    };
  }

  private exitStopped(incarnation: number): void {
    const s = this.stopping;
    if (s === null || s.incarnation !== incarnation) return;
    this.stopping = null;
    s.exit();
  }

  /** GET /healthz from the peer's probe */
  serve(call: Call): void {
    this.sim.net.reply(call, { ok: true } satisfies AppReply);
  }

  private ports(): ControllerPorts {
    const { sim } = this;
    return {
      now: () => this.proc.clock.read(sim.engine.now),
      wakeAt: (localMs) => this.scheduleWake(localMs),
      lease: (op, epoch, done) => this.lease(op, epoch, done),
      witness: (witness, target, done) => this.witness(witness, target, done),
      peer: (done) => {
        const route = this.routes.to('peer', this.peerId);
        sim.net.call(
          route.link,
          this.proc,
          route.server,
          { type: 'healthz' },
          sim.timings.peerProbeTimeoutMs,
          (ok, _reply, error) => done(ok ? { ok: true } : { ok: false, error: error ?? 'failed' }),
        );
      },
      resource: (call, done) => this.resource(call, done),
      publish: (epoch, activeRegion, done) => this.publish(epoch, activeRegion, done),
      awaitApproval: (reason) => this.awaitApproval(reason),
      record: (r) => this.record(r),
      coreFailed: (err) => this.coreFailed(err),
    };
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
    this.countWake();
    this.proc.runTimer(this.tick, null, this.proc.incarnation);
  };

  /**
   * The shipped core wakes a few times per simulated second at most; one that asks for a wake
   * every millisecond would burn a CPU in production and stall the search here, so the run
   * stops with an error naming it (an observation of the process, not of its numbers).
   */
  private countWake(): void {
    const now = this.sim.engine.now;
    if (now - this.wakeWindowStartMs >= 1000) {
      this.wakeWindowStartMs = now;
      this.wakesInWindow = 0;
    }
    if (++this.wakesInWindow > MAX_WAKES_PER_SECOND) {
      throw new Error(
        `simulator: ${this.ctlId} asked to be woken more than ${MAX_WAKES_PER_SECOND} times within one simulated second (t=${now} ms): a runaway controller`,
      );
    }
  }

  private readonly tick = (): void => {
    this.driver?.tick();
  };

  /**
   * The lease client's request for (op, epoch), built by leaseHttpRequest once per epoch and
   * op: it depends on nothing else, and a primary asks with the same epoch for its whole term.
   */
  private leaseHttp(op: LeaseOp, epoch: number | null): NonNullable<LeaseRequest['http']> {
    const c = this.leaseHttpCache.get(op);
    if (c !== undefined && c.epoch === epoch) return c.http;
    const http = leaseHttpRequest(op, epoch, SIM_LEASE_NAME);
    this.leaseHttpCache.set(op, { epoch, http });
    return http;
  }

  private lease(op: LeaseOp, epoch: number | null, done: (r: PortLeaseReply) => void): void {
    const { sim } = this;
    // signed at send on this controller's wall clock, as the production lease client signs
    const sentAtT = sim.engine.now;
    const wallStepMs = this.wallStepMs;
    // the request the agent's lease client builds, and its reading of the answer's body
    const http = this.leaseHttp(op, epoch);
    const req: LeaseRequest =
      epoch !== null
        ? { op, region: this.region, epoch, sentAtT, wallStepMs, http }
        : { op, region: this.region, sentAtT, wallStepMs, http };
    const route = this.routes.to('worker');
    sim.net.call(
      route.link,
      this.proc,
      route.server,
      req,
      sim.timings.leaseRequestTimeoutMs,
      (ok, reply, error) => {
        done(
          ok && reply !== null
            ? readLeaseReply(op, reply)
            : { ok: false, granted: false, holder: null, epoch: null, ttlMs: null, error: error ?? 'failed' },
        );
      },
    );
  }

  private witness(witness: string, target: string, done: (o: WitnessObservation) => void): void {
    const { sim } = this;
    const route = this.routes.to(witness);
    sim.net.call(
      route.link,
      this.proc,
      route.server,
      { name: sim.spec.regionName(target) },
      sim.timings.dnsQueryTimeoutMs,
      (ok, reply, error) => {
        const r = reply as DnsReply | null;
        done(ok && r !== null ? { rcode: r.rcode, addresses: r.answers } : { error: error ?? 'failed' });
      },
    );
  }

  private resource(call: ResourceCall, done: (o: Outcome) => void): void {
    const { sim } = this;
    // the webhook's body, as the agent POSTs it (src/contracts/authority-hook.ts); its JSON
    // round trip is the identity for this plain object, so the object itself travels
    const req: AppRequest = { type: 'authority', body: authorityHookCall(call, this.region) };
    const route = this.routes.to(this.appId);
    sim.net.call(
      route.link,
      this.proc,
      route.server,
      req,
      sim.timings.appRequestTimeoutMs,
      (ok, reply, error) => {
        const r = reply as AppReply | null;
        const good = ok && (r?.ok ?? false);
        done(good ? { ok: true } : { ok: false, error: error ?? r?.error ?? 'failed' });
      },
    );
  }

  /**
   * The production plan for publishing `activeRegion`, built once per region: it depends on
   * nothing else (the options are this controller's fixed configuration), and the identical
   * body strings let the authoritatives reuse their reading of them. Each request comes with
   * the authoritative its URL names (null: no such server, the connection is refused).
   */
  private patchesFor(activeRegion: string): PlannedPatch[] {
    let planned = this.patchCache.get(activeRegion);
    if (planned === undefined) {
      const { active, other, regions } = publishOrder(this.publishSides, activeRegion);
      planned = publishPatches(this.publishOptions, active, other, regions).map((patch) => {
        if ('error' in patch) return { patch, auth: null };
        const auth = /^sim:\/\/([^/]+)\//.exec(patch.url)?.[1];
        const known = this.sim.spec.components.some((c) => c.id === auth && c.kind === 'authoritative');
        return { patch, auth: known && auth !== undefined ? auth : null };
      });
      this.patchCache.set(activeRegion, planned);
    }
    return planned;
  }

  /**
   * A publish is the agent's own PATCH requests (src/agent/publish-plan.ts), sent to the
   * authoritative each URL names; ok only if every one answered 204, as publishActive.
   */
  private publish(_epoch: number, activeRegion: string, done: (o: Outcome) => void): void {
    const { sim } = this;
    const planned = this.patchesFor(activeRegion);
    let pending = planned.length;
    let failed: string | null = null;
    const settle = (error: string | null) => {
      if (error !== null) failed = error;
      if (--pending > 0) return;
      done(failed === null ? { ok: true } : { ok: false, error: failed });
    };
    for (const { patch: p, auth } of planned) {
      if ('error' in p) {
        settle(`${p.apiBase}: ${p.error}`);
        continue;
      }
      if (auth === null) {
        settle(`${p.apiBase}: connection refused`);
        continue;
      }
      const route = this.routes.to(auth);
      const req: AuthRequest = {
        type: 'api',
        url: p.url,
        method: p.method,
        headers: p.headers,
        body: p.body,
      };
      sim.net.call(
        route.link,
        this.proc,
        route.server,
        req,
        this.publishOptions.timeoutMs,
        (ok, reply, error) => {
          if (!ok) return settle(`${p.apiBase}: ${error ?? 'failed'}`);
          const r = reply as ApiReply;
          settle(r.status === 204 ? null : `${p.apiBase}: HTTP ${r.status} ${r.body.slice(0, 120)}`);
        },
      );
    }
    if (planned.length === 0) done({ ok: true });
  }

  /**
   * The simulated operator approves every request after the run's delay (drawn per seed,
   * simulator/boot.ts), unless the scenario's own `operator` steps are the operator. The
   * approval is the operator's own observation (a `note` from source `operator`): what the
   * checker's operator-approval judges promotions in semi-automatic mode against.
   */
  private awaitApproval(reason?: string): void {
    const driver = this.driver;
    // the operator's pager: they see every request, whoever answers it (the checker's
    // operator-approval reads which request a reject answered, and when the next one came);
    // seen the instant it is made, so no sinceT (the real runner's has one: a scrape's span)
    this.sim.rec.emit(
      approvalRequestNote({ t: this.sim.engine.now, region: this.region, ...(reason ? { reason } : {}) }),
    );
    if (!this.sim.timings.autoApprove) return;
    this.sim.engine.after(
      this.sim.timings.operatorDelayMs,
      () => {
        this.sim.rec.emit({
          kind: 'note',
          t: this.sim.engine.now,
          source: 'operator',
          message: `approve ${this.ctlId}`,
          data: { region: this.region, command: 'approve' },
        });
        this.proc.run(() => driver?.operator('approve'), null);
      },
      null,
    );
  }

  private record(r: ControllerRecord): void {
    const { sim } = this;
    if (r.kind === 'role') bump(sim.coverage.roleTransitions, `${r.from}->${r.to}`);
    else if (r.kind === 'promotion-evidence') bump(sim.coverage.promotionBases, r.basis ?? 'unspecified');
    else if (r.kind === 'witness') bump(sim.coverage.witnessVerdicts, r.verdict);
    // The record is the event: every record is a fresh object the driver hands over once, so
    // `t` is added to it (after its own keys, as `{ ...r, t }` would) instead of copying it.
    const ev = r as unknown as NewEvent;
    ev.t = sim.engine.now;
    sim.rec.emit(ev);
  }

  /** Process death (fault or core exception): the core state is gone. */
  private loseState(reason: string): void {
    const d = this.driver;
    const v = d?.view ?? null;
    if (d !== null && v !== null && v.role !== 'standby') {
      this.record({
        kind: 'role',
        region: this.region,
        from: v.role,
        to: 'standby',
        reason,
        epoch: null,
        localMs: d.lastLocalMs,
      });
    }
    if (d !== null) {
      d.halt();
      this.stepsBefore += d.steps;
    }
    this.driver = null;
    this.wakeGen++;
    this.wakeGlobalMs = Number.POSITIVE_INFINITY;
  }

  onCrash(): void {
    this.stopping = null;
    this.loseState('process crashed (state lost)');
  }

  /** The graceful stop ended the process: the history says so as the real collector does. */
  onStopped(): void {
    this.loseState('process exited (graceful stop)');
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
      if (this.proc.incarnation !== inc || this.proc.state === 'crashed' || this.driver !== null) return;
      this.sim.rec.emit({ kind: 'process', t: this.sim.engine.now, component: this.ctlId, op: 'restart' });
      this.proc.run(() => this.start('standby'), null, inc);
    });
  }
}

/**
 * The publish settings the simulated controllers run with: the topology's own form (per
 * authoritative check URLs through its auth->app paths, SVC_CHECK_URLS) against every
 * region's API.
 */
function simPublishOptions(sim: SimContext, timeoutMs: number): PublishOptions {
  const { spec } = sim;
  const zone = spec.zone.replace(/\.$/, '');
  const auths = spec.regions.map((r) => `auth-${r}`);
  const checkUrls = Object.fromEntries(
    auths.map((a) => [
      simApiUrl(a),
      Object.fromEntries(spec.regions.map((r) => [r, simCheckUrl(a, `app-${r}`)])),
    ]),
  );
  return {
    apiUrls: auths.map(simApiUrl),
    apiKey: SIM_PDNS_API_KEY,
    serverId: 'localhost',
    zone,
    serviceName: spec.serviceName.replace(`.${spec.zone}`, ''),
    checkUrls,
    ttlSeconds: 1,
    timeoutMs,
  };
}
