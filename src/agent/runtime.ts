/**
 * The production shell around the pure core: owns the real clocks and timers, calls step(),
 * performs the returned actions through the adapters and feeds their outcomes back.
 *
 * Clocks: `localMs` is performance.now() (monotonic, what the core reasons with); wall time
 * (Date.now) is used only for request signatures, metrics and the events file.
 * Order: actions of a step are started in order; hook calls (promote/extend/demote) are
 * additionally serialised so a demotion is never overtaken by an earlier extend — a
 * confirmed demote therefore means the resource has dropped authority, which is what makes
 * the release after it safe.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import {
  type ControllerState,
  createControllerState,
  failoverBoundMs,
  safeWindowMs,
  step,
  view,
} from '../controller/core.ts';
import type { ControllerAction, ControllerEvent, ControllerInput } from '../controller/types.ts';
import { type Outcome, probePeer, publishActive, runHooks } from './adapters.ts';
import { askWitness } from './dns-witness.ts';
import type { AgentConfig } from './env.ts';
import { LeaseClient, type LeaseOp } from './lease-client.ts';
import { AgentMetrics } from './metrics.ts';

type InputNoTime = ControllerInput extends infer T ? (T extends unknown ? Omit<T, 'nowMs'> : never) : never;
type OperatorCommand = 'approve' | 'reject' | 'promote' | 'demote';

export interface AgentOptions {
  logger?: Logger;
  /** monotonic ms; default performance.now */
  monotonicMs?: () => number;
  wallMs?: () => number;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  private state: ControllerState;
  private readonly lease: LeaseClient;
  private readonly now: () => number;
  private readonly wall: () => number;
  private timer: NodeJS.Timeout | null = null;
  private server: http.Server | null = null;
  private events: WriteStream | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private hookChain: Promise<unknown> = Promise.resolve();
  private lastLeaseOk: boolean | null = null;
  private stopping: Promise<void> | null = null;
  private stopped = false;
  private shutdownWaiters: (() => void)[] = [];
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
    this.state = createControllerState(config.controller, this.now(), { initialRole: config.initialRole });
    this.fatal.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  }

  get view() {
    return view(this.state);
  }

  /** Opens the events file and admin server, then starts the loop. Returns the admin URL. */
  async start(): Promise<{ adminUrl: string }> {
    if (this.config.eventsFile) this.events = createWriteStream(this.config.eventsFile, { flags: 'a' });
    this.server = http.createServer((req, res) => {
      this.handleAdmin(req, res).catch((err) => {
        this.logger.error({ err }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const { host, port } = this.config.admin;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    const adminUrl = `http://${addr.address}:${addr.port}`;
    const c = this.config.controller;
    this.logger.info(
      {
        adminUrl,
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
    this.feed({ type: 'tick' });
    return { adminUrl };
  }

  /** Operator command (semi-automatic approval or manual promote/demote). */
  operator(command: OperatorCommand): void {
    this.feed({ type: 'operator', command });
  }

  /**
   * Graceful shutdown: the core demotes first, releases only after the resource confirmed
   * the demotion; then servers close. Bounded by the adapters' own timeouts.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.feed({ type: 'shutdown' });
      const c = this.config;
      const capMs = c.hooks.timeoutMs + c.lease.requestTimeoutMs + 1000;
      await Promise.race([
        new Promise<void>((resolve) => {
          if (this.view.shutdownComplete) resolve();
          else this.shutdownWaiters.push(resolve);
        }),
        sleep(capMs),
      ]);
      await Promise.race([Promise.allSettled([...this.pending]), sleep(capMs)]);
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
      this.server?.closeAllConnections?.();
      if (this.events) await new Promise<void>((resolve) => this.events!.end(() => resolve()));
      this.logger.info({ view: this.view }, 'controller stopped');
    })();
    return this.stopping;
  }

  // -------------------------------------------------------------------------------------

  private feed(input: InputNoTime): void {
    if (this.stopped) return;
    const nowMs = this.now();
    const full = { ...input, nowMs } as ControllerInput;
    let r: ReturnType<typeof step>;
    try {
      r = step(this.state, full);
    } catch (err) {
      // An invariant violation is a bug; stop acting rather than guess.
      this.logger.fatal({ err, input: full }, 'controller core invariant violated; stopping');
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      this.resolveFatal(err);
      return;
    }
    this.state = r.state;
    if (input.type !== 'tick') this.record({ kind: 'input', input: full }, nowMs);
    for (const a of r.actions) {
      this.record({ kind: 'action', action: a }, nowMs);
      this.perform(a);
    }
    this.metrics.update(this.view, nowMs);
    if (this.view.shutdownComplete) {
      for (const w of this.shutdownWaiters.splice(0)) w();
    }
    this.schedule(r.wakeAtMs);
  }

  private schedule(wakeAtMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped || this.stopping) {
      this.timer = null;
      return;
    }
    const delayMs = Math.max(0, Math.ceil(wakeAtMs - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.feed({ type: 'tick' });
    }, delayMs);
  }

  private track<T>(p: Promise<T>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p)).catch(() => {});
  }

  private perform(a: ControllerAction): void {
    const cfg = this.config;
    const c = cfg.controller;
    switch (a.type) {
      case 'lease-acquire':
      case 'lease-renew':
      case 'lease-release':
      case 'lease-status': {
        const op = a.type.slice('lease-'.length) as LeaseOp;
        const epoch = 'epoch' in a ? a.epoch : null;
        const sentLocalMs = this.now();
        this.track(
          this.lease.call(op, epoch).then((reply) => {
            this.lastLeaseOk = reply.ok;
            if (op === 'renew' && reply.ok) {
              this.metrics.renewalLatency.observe({ region: c.region }, (this.now() - sentLocalMs) / 1000);
            }
            if (!reply.ok) this.logger.warn({ op, error: reply.error }, `lease ${op} failed`);
            this.feed({
              type: 'lease-result',
              op,
              // The core's send time (<= the real send): measuring L from it is conservative.
              sentAtMs: a.sentAtMs,
              ok: reply.ok,
              granted: reply.granted,
              holder: reply.holder,
              epoch: reply.epoch,
              ttlMs: reply.ttlMs,
              expiresAt: reply.expiresAt,
              serverTime: reply.serverTime,
              ...(reply.error !== undefined && { error: reply.error }),
            });
          }),
        );
        return;
      }
      case 'witness-query': {
        const w = cfg.witnesses;
        const name = `${a.target}.regions.${w.zone}`;
        for (const ep of w.endpoints) {
          this.track(
            askWitness({
              host: ep.host,
              port: ep.port,
              name,
              transport: w.transport,
              timeoutMs: w.queryTimeoutMs,
              reachableAddress: w.peerAppAddress,
              tombstoneAddress: w.tombstoneAddress,
            }).then((ans) =>
              this.feed({
                type: 'witness-result',
                round: a.round,
                witness: ep.id,
                verdict: ans.verdict,
                detail: ans.detail,
              }),
            ),
          );
        }
        return;
      }
      case 'peer-probe':
        this.track(
          probePeer(cfg.peerProbe.url, cfg.peerProbe.timeoutMs).then((o) =>
            this.feed({ type: 'peer-result', ok: o.ok, ...(o.error !== undefined && { detail: o.error }) }),
          ),
        );
        return;
      case 'promote':
      case 'extend':
      case 'demote': {
        const validityMs = a.type === 'demote' ? 0 : a.validityMs;
        const call = { action: a.type, epoch: a.epoch, validityMs, region: c.region };
        const run = this.hookChain.then(() => runHooks(cfg.hooks, call));
        this.hookChain = run.catch(() => {});
        this.track(
          run.then((o: Outcome) => {
            if (!o.ok) this.logger.warn({ ...call, error: o.error }, `${a.type} hook failed`);
            this.feed({
              type: 'promote-result',
              epoch: a.epoch,
              ok: o.ok,
              action: a.type,
              ...(o.error !== undefined && { error: o.error }),
            });
          }),
        );
        return;
      }
      case 'publish': {
        const p = cfg.publish;
        const done = (o: Outcome) => {
          if (!o.ok) this.logger.warn({ epoch: a.epoch, error: o.error }, 'publish failed');
          this.feed({
            type: 'publish-result',
            epoch: a.epoch,
            ok: o.ok,
            ...(o.error !== undefined && { error: o.error }),
          });
        };
        if (p.apiUrls.length === 0) {
          this.track(Promise.resolve({ ok: true }).then(done));
          return;
        }
        const active = a.activeRegion === c.region ? p.selfAppAddress! : p.peerAppAddress;
        const other = a.activeRegion === c.region ? p.peerAppAddress : p.selfAppAddress!;
        this.track(
          publishActive(
            {
              apiUrls: p.apiUrls,
              apiKey: p.apiKey!,
              serverId: p.serverId,
              zone: p.zone,
              serviceName: p.serviceName,
              healthUrl: p.healthUrl,
              checkUrls: p.checkUrls,
              ttlSeconds: p.ttlSeconds,
              timeoutMs: p.timeoutMs,
            },
            active,
            other,
            {
              active: a.activeRegion,
              other: a.activeRegion === c.region ? c.peerRegion : c.region,
            },
          ).then(done),
        );
        return;
      }
      case 'await-approval':
        this.logger.warn(
          { reason: a.reason },
          'promotion awaits operator approval: POST /approve or /reject',
        );
        return;
      case 'event':
        this.logEvent(a.event);
        return;
    }
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

  /** One JSONL line per fed input and emitted action, for the real-topology history. */
  private record(
    entry: { kind: 'input'; input: ControllerInput } | { kind: 'action'; action: ControllerAction },
    localMs: number,
  ) {
    if (!this.events) return;
    const v = this.view;
    const line = {
      localMs,
      wallMs: this.wall(),
      region: this.config.controller.region,
      ...entry,
      role: v.role,
      heldEpoch: v.heldEpoch,
      // for acting actions, the window they were emitted under (the view is after the step)
      safeUntilLocalMs:
        entry.kind === 'action' && 'safeUntilMs' in entry.action && entry.action.safeUntilMs !== undefined
          ? entry.action.safeUntilMs
          : v.safeUntilMs,
    };
    this.events.write(`${JSON.stringify(line)}\n`);
  }

  // -------------------------------------------------------------------------------------
  // admin HTTP

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const operatorPaths: Record<string, OperatorCommand> = {
      '/approve': 'approve',
      '/reject': 'reject',
      '/promote': 'promote',
      '/demote': 'demote',
    };
    const path = url.pathname;
    const getPaths = ['/metrics', '/healthz', '/readyz', '/status'];
    if (getPaths.includes(path) && req.method !== 'GET') return json(405, { error: 'use GET' });
    if (path in operatorPaths && req.method !== 'POST') return json(405, { error: 'use POST' });
    req.resume();
    switch (path) {
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(body);
        return;
      }
      case '/healthz':
        return json(this.stopped ? 503 : 200, { ok: !this.stopped });
      case '/readyz': {
        const ready = !this.stopped && this.lastLeaseOk === true;
        return json(ready ? 200 : 503, {
          ready,
          reason: ready
            ? undefined
            : this.lastLeaseOk === null
              ? 'no lease reply yet'
              : 'last lease request failed',
        });
      }
      case '/status': {
        const c = this.config.controller;
        return json(200, {
          view: this.view,
          localMs: this.now(),
          config: {
            region: c.region,
            peerRegion: c.peerRegion,
            mode: c.mode,
            witnesses: c.witnesses,
            quorum: c.witnessQuorum,
            leaseTtlMs: c.leaseTtlMs,
            heartbeatMs: c.heartbeatMs,
            safeWindowMs: safeWindowMs(c),
            failoverBoundMs: failoverBoundMs(c),
          },
        });
      }
      default: {
        const command = operatorPaths[path];
        if (!command) return json(404, { error: 'not found' });
        if (this.stopped || this.stopping) return json(503, { error: 'shutting down' });
        this.logger.info({ command }, `operator ${command} via admin API`);
        this.operator(command);
        return json(202, { accepted: command, view: this.view });
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
