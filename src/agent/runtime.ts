/**
 * The production shell: the shared driver (src/controller/driver.ts) with real ports — the
 * signed lease client, DNS witnesses, the peer probe, the promotion hooks, the PowerDNS
 * publisher, Node timers and performance.now(). Hook ordering, the witness verdict, the
 * lease-result meaning and the history records are the driver's, the same in the simulator.
 *
 * Clocks: `localMs` is performance.now() (monotonic, what the core reasons with); wall time
 * (Date.now) is used only for request signatures, metrics and the events file.
 * Also here: the events file (one line per history record), logs, metrics, graceful stop.
 * The admin HTTP server is admin.ts.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import { authorityHookCall } from '../contracts/authority-hook.ts';
import { failoverBoundMs, safeWindowMs } from '../controller/core.ts';
import {
  ControllerDriver,
  type ControllerPorts,
  type ControllerRecord,
  gracefulStopCapMs,
  type LeaseOp,
  type LeaseReply,
  type OperatorCommand,
  type Outcome,
  type ResourceCall,
  type WitnessObservation,
} from '../controller/driver.ts';
import type {
  ControllerAction,
  ControllerEvent,
  ControllerInput,
  ControllerView,
} from '../controller/types.ts';
import { type ClampedTimer, setClampedTimeout } from '../timers.ts';
import { probePeer, publishActive, runHooks } from './adapters.ts';
import { startAdminServer } from './admin.ts';
import { queryWitness } from './dns-witness.ts';
import type { AgentConfig } from './env.ts';
import { LeaseClient } from './lease-client.ts';
import { AgentMetrics } from './metrics.ts';
import { publishOrder } from './publish-plan.ts';

export interface AgentOptions {
  logger?: Logger;
  /** monotonic ms; default performance.now */
  monotonicMs?: () => number;
  wallMs?: () => number;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  private readonly driver: ControllerDriver;
  private readonly lease: LeaseClient;
  private readonly now: () => number;
  private readonly wall: () => number;
  private timer: ClampedTimer | null = null;
  private server: http.Server | null = null;
  private events: WriteStream | null = null;
  private lastLeaseOk: boolean | null = null;
  private stopping: Promise<void> | null = null;
  private stopped = false;
  private resolveFatal: (err: unknown) => void = () => {};
  /** Rejects if the core throws an invariant violation (the agent has then stopped acting). */
  readonly fatal: Promise<never> = new Promise<never>((_, reject) => {
    this.resolveFatal = reject;
  });

  constructor(
    readonly config: AgentConfig,
    opts: AgentOptions = {},
  ) {
    this.now = opts.monotonicMs ?? (() => performance.now());
    this.wall = opts.wallMs ?? Date.now;
    this.logger =
      opts.logger ??
      pino({
        level: config.logLevel,
        base: { region: config.controller.region },
        timestamp: pino.stdTimeFunctions.isoTime,
      });
    this.metrics = new AgentMetrics(config.controller.region);
    this.lease = new LeaseClient({
      workerUrl: config.lease.workerUrl,
      region: config.controller.region,
      secret: config.lease.secret,
      leaseName: config.lease.leaseName,
      requestTimeoutMs: config.lease.requestTimeoutMs,
      wallClockMs: this.wall,
    });
    const w = config.witnesses;
    this.driver = new ControllerDriver(config.controller, this.ports(), {
      initialRole: config.initialRole,
      // the agent knows only its peer's app address: the core asks about nothing else
      witnessAddresses: () => ({ reachable: w.peerAppAddress, tombstone: w.tombstoneAddress }),
    });
    this.fatal.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  }

  /** The controller's view after its last step (start() takes the first). */
  get view(): ControllerView {
    return this.driver.view!;
  }

  /** Opens the events file and admin server, then starts the loop. Returns the admin URL. */
  async start(): Promise<{ adminUrl: string }> {
    if (this.config.eventsFile) this.events = createWriteStream(this.config.eventsFile, { flags: 'a' });
    const admin = await startAdminServer(this.adminTarget(), this.config.admin.host, this.config.admin.port);
    this.server = admin.server;
    const c = this.config.controller;
    this.logger.info(
      {
        adminUrl: admin.url,
        mode: c.mode,
        safeWindowMs: safeWindowMs(c),
        failoverBoundMs: failoverBoundMs(c),
        leaseTtlMs: c.leaseTtlMs,
        heartbeatMs: c.heartbeatMs,
        witnesses: c.witnesses,
        quorum: c.witnessQuorum,
      },
      `controller ${c.region} started (peer ${c.peerRegion})`,
    );
    this.driver.start();
    return { adminUrl: admin.url };
  }

  /** Operator command (semi-automatic approval or manual promote/demote). */
  operator(command: OperatorCommand): void {
    this.driver.operator(command);
  }

  /**
   * Graceful shutdown: the driver's stop sequence (demote, release once the app confirmed,
   * wait for the calls in flight, each wait capped), then the servers close.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      const c = this.config;
      const capMs = gracefulStopCapMs(c.hooks.timeoutMs, c.lease.requestTimeoutMs);
      await new Promise<void>((resolve) => this.driver.stop(capMs, afterMs, resolve));
      this.halt();
      await new Promise<void>((resolve) => {
        if (!this.server) return resolve();
        this.server.close(() => resolve());
        // close() waits for every open connection, so they are closed now, not after it resolved:
        // admin connections left open when a paused controller got its SIGTERM (the peer's probes,
        // through its proxy) held the exit until the supervisor's SIGKILL 20 s later
        this.server.closeAllConnections?.();
      });
      if (this.events) await new Promise<void>((resolve) => this.events!.end(() => resolve()));
      this.logger.info({ view: this.driver.view }, 'controller stopped');
    })();
    return this.stopping;
  }

  // -------------------------------------------------------------------------------------

  private halt(): void {
    this.stopped = true;
    this.driver.halt();
    this.timer?.clear();
    this.timer = null;
  }

  private adminTarget() {
    const agent = this;
    return {
      logger: this.logger,
      metrics: this.metrics,
      controllerConfig: this.config.controller,
      get view() {
        return agent.view;
      },
      get alive() {
        return !agent.stopped;
      },
      get accepting() {
        return !agent.stopped && !agent.stopping;
      },
      get lastLeaseOk() {
        return agent.lastLeaseOk;
      },
      localMs: () => this.now(),
      operator: (command: OperatorCommand) => this.operator(command),
    };
  }

  private ports(): ControllerPorts {
    return {
      now: this.now,
      wakeAt: (localMs) => this.schedule(localMs),
      lease: (op, epoch, done) => this.callLease(op, epoch, done),
      witness: (witness, target, done) => this.askWitness(witness, target, done),
      peer: (done) => this.track(probePeer(this.config.peerProbe.url, this.config.peerProbe.timeoutMs), done),
      resource: (call, done) => this.runHook(call, done),
      publish: (epoch, activeRegion, done) => this.publish(epoch, activeRegion, done),
      awaitApproval: (reason) => {
        this.metrics.approvalRequested();
        this.logger.warn({ reason }, 'promotion awaits operator approval: POST /approve or /reject');
      },
      record: (r) => this.record(r),
      stepped: (s) => this.stepped(s),
      coreFailed: (err, input) => {
        // An invariant violation is a bug; stop acting rather than guess.
        this.logger.fatal({ err, input }, 'controller core invariant violated; stopping');
        this.halt();
        this.resolveFatal(err);
      },
    };
  }

  private schedule(wakeAtMs: number): void {
    this.timer?.clear();
    this.timer = null;
    if (this.stopped || this.stopping) return;
    const delayMs = Math.max(0, Math.ceil(wakeAtMs - this.now()));
    // clamped: a wake-up beyond setTimeout's 2^31 ms range must not fire at once
    this.timer = setClampedTimeout(() => {
      this.timer = null;
      this.driver.tick();
    }, delayMs);
  }

  /** Runs an adapter; its outcome reaches the driver unless the agent stopped meanwhile. */
  private track<T>(p: Promise<T>, done: (v: T) => void): void {
    p.then(
      (v) => {
        if (!this.stopped) done(v);
      },
      // the adapters report failures as outcomes; a rejection is a bug, left unanswered
      // (the core's own timeouts and the stop's cap still bound it)
      (err: unknown) => this.logger.error({ err }, 'adapter rejected instead of reporting an outcome'),
    );
  }

  private callLease(op: LeaseOp, epoch: number | null, done: (r: LeaseReply) => void): void {
    const sentLocalMs = this.now();
    const region = this.config.controller.region;
    this.track(this.lease.call(op, epoch), (reply) => {
      this.lastLeaseOk = reply.ok;
      if (op === 'renew' && reply.ok) {
        this.metrics.renewalLatency.observe({ region }, (this.now() - sentLocalMs) / 1000);
      }
      if (!reply.ok) this.logger.warn({ op, error: reply.error }, `lease ${op} failed`);
      done(reply);
    });
  }

  private askWitness(witness: string, target: string, done: (o: WitnessObservation) => void): void {
    const w = this.config.witnesses;
    const ep = w.endpoints.find((e) => e.id === witness);
    if (!ep) {
      done({ error: `no endpoint for witness ${witness}` });
      return;
    }
    const name = `${target}.regions.${w.zone}`;
    const q = { host: ep.host, port: ep.port, name, transport: w.transport, timeoutMs: w.queryTimeoutMs };
    this.track(queryWitness(q), done);
  }

  private runHook(call: ResourceCall, done: (o: Outcome) => void): void {
    const hook = authorityHookCall(call, this.config.controller.region);
    this.track(runHooks(this.config.hooks, hook), (o) => {
      if (!o.ok) this.logger.warn({ ...hook, error: o.error }, `${call.action} hook failed`);
      done(o);
    });
  }

  private publish(epoch: number, activeRegion: string, done: (o: Outcome) => void): void {
    const p = this.config.publish;
    const c = this.config.controller;
    const report = (o: Outcome) => {
      if (!o.ok) this.logger.warn({ epoch, error: o.error }, 'publish failed');
      done(o);
    };
    if (p.apiUrls.length === 0) {
      this.track(Promise.resolve({ ok: true }), report);
      return;
    }
    const { active, other, regions } = publishOrder(
      {
        region: c.region,
        peerRegion: c.peerRegion,
        selfAppAddress: p.selfAppAddress!,
        peerAppAddress: p.peerAppAddress,
      },
      activeRegion,
    );
    const options = {
      apiUrls: p.apiUrls,
      apiKey: p.apiKey!,
      serverId: p.serverId,
      zone: p.zone,
      serviceName: p.serviceName,
      healthUrl: p.healthUrl,
      checkUrls: p.checkUrls,
      ttlSeconds: p.ttlSeconds,
      timeoutMs: p.timeoutMs,
    };
    this.track(publishActive(options, active, other, regions), report);
  }

  private stepped(s: { input: ControllerInput; actions: ControllerAction[]; view: ControllerView }): void {
    for (const a of s.actions) if (a.type === 'event') this.logEvent(a.event);
    this.metrics.update(s.view, s.input.nowMs);
  }

  private logEvent(e: ControllerEvent): void {
    switch (e.kind) {
      case 'role':
        this.logger.info(
          { event: e },
          `role ${e.from} -> ${e.to} (${e.reason})${e.epoch === null ? '' : ` epoch ${e.epoch}`}`,
        );
        if (e.to === 'primary') this.metrics.promoted(this.wall());
        return;
      case 'promotion-evidence':
        this.logger.info({ event: e }, `promotion evidence for epoch ${e.epoch} (${e.basis ?? 'failover'})`);
        return;
      case 'log':
        this.logger[e.level](e.message);
        return;
      default:
        this.logger.debug({ event: e }, e.kind);
    }
  }

  /**
   * One JSONL line per history record (the driver's translation), for the real-topology
   * history: `{wallMs, event}`; the runner stamps `t` and names the witnesses.
   */
  private record(event: ControllerRecord): void {
    this.events?.write(`${JSON.stringify({ wallMs: this.wall(), event })}\n`);
  }
}

/** The stop's timer: unref'd, so a stop that finished early leaves nothing holding the process. */
function afterMs(ms: number, fn: () => void): void {
  setTimeout(fn, ms).unref();
}
