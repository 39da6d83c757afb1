/**
 * Where a game day runs. Both kinds expose the same things to the runner: link → Toxiproxy
 * proxy bindings, named endpoints for probes, and (local only) process control.
 *
 * - external: everything comes from the plan (Toxiproxy API URLs in front of the
 *   deployment's links, metrics URLs, resolver addresses). The same plan runs against
 *   staging by changing only this block.
 * - local: boots the real topology (src/topology/local.ts) and adapts its handle.
 */
import type { MetaEvent } from '../contracts/history.ts';
import { historyTiming } from '../controller/core.ts';
import { BadInputError, InfraError } from '../errors.ts';
import { ProcessEventCollector } from '../runner/process-events.ts';
import type { Recorder } from '../runner/recorder.ts';
import { describeTopology } from '../scenario/topology-description.ts';
import { ToxiproxyClient } from '../toxiproxy/client.ts';
import type { FaultTarget, ProcessControl } from './faults.ts';
import { TOXIC_PREFIX } from './faults.ts';
import type { GameDayPlan, LinkBinding } from './plan.ts';
import { type ProbeContext, probeReferences } from './probes/index.ts';
import type { Progress } from './progress.ts';
import { errorText, isLoopbackHost } from './util.ts';

export interface GamedayTarget {
  kind: 'local' | 'external';
  description: string;
  faultTarget: FaultTarget;
  probeContext: ProbeContext;
  regions: string[];
  witnesses: string[];
  /** controller timing for the history's meta event; null when unknown (external) */
  timing: MetaEvent['timing'] | null;
  /** aborted when the target itself fails (a local component died unexpectedly) */
  failure?: AbortSignal;
  /** reads what the target's own processes logged so far into the history (local); called before dispose */
  flushEvents?(): void;
  dispose(): Promise<void>;
}

export interface OpenTargetOptions {
  rec: Recorder;
  progress: Progress;
  signal: AbortSignal;
}

export type TargetOpener = (plan: GameDayPlan, opts: OpenTargetOptions) => Promise<GamedayTarget>;

export const openTarget: TargetOpener = (plan, opts) =>
  plan.target.kind === 'external' ? Promise.resolve(externalTarget(plan)) : localTarget(plan, opts);

function apiCache(): (url: string) => ToxiproxyClient {
  const apis = new Map<string, ToxiproxyClient>();
  return (url) => {
    let a = apis.get(url);
    if (!a) {
      a = new ToxiproxyClient(url);
      apis.set(url, a);
    }
    return a;
  };
}

export function externalTarget(plan: GameDayPlan): GamedayTarget {
  if (plan.target.kind !== 'external') throw new Error('not an external plan');
  const t = plan.target;
  const spec = describeTopology();
  return {
    kind: 'external',
    description: `external deployment (${new Set(Object.values(t.links).map((l) => l.toxiproxyUrl)).size} Toxiproxy server(s), ${Object.keys(t.links).length} link(s))`,
    faultTarget: { links: t.links, api: apiCache() },
    probeContext: { endpoints: t.endpoints, metrics: t.metrics, resolvers: t.resolvers, hosts: t.hosts },
    regions: spec.regions,
    witnesses: spec.witnesses,
    timing: null,
    dispose: async () => {},
  };
}

async function localTarget(plan: GameDayPlan, opts: OpenTargetOptions): Promise<GamedayTarget> {
  if (plan.target.kind !== 'local') throw new Error('not a local plan');
  // Loaded lazily: an external game day needs none of the topology machinery.
  const { startTopology } = await import('../topology/local.ts');
  const { processState } = await import('../topology/addresses.ts');
  opts.progress.line(
    `booting the local topology (lease backend ${plan.target.leaseBackend}, time scale ${plan.target.timeScale}${plan.target.controllers ? '' : ', no controllers'})`,
  );
  const topo = await startTopology({
    timeScale: plan.target.timeScale,
    leaseBackend: plan.target.leaseBackend,
    startControllers: plan.target.controllers,
    // The game day owns SIGINT/SIGTERM: it must revert faults before the topology goes away.
    installSignalHandlers: false,
    progress: (l) => opts.progress.line(l),
    onProcessEvent: (ev) =>
      opts.rec.recordNow({
        kind: 'process',
        component: ev.component,
        op: ev.op,
        pid: ev.pid,
        ...(ev.detail ? { detail: ev.detail } : {}),
      }),
  });
  if (opts.signal.aborted) {
    await topo.stop();
    throw new InfraError(`interrupted by ${String(opts.signal.reason)} while booting`, 'gameday');
  }
  const links: Record<string, LinkBinding> = {};
  for (const [id, p] of topo.proxies)
    links[id] = { link: id, toxiproxyUrl: topo.toxiproxyUrl, proxy: p.name, connectCheck: true };
  const hp = (e: { host: string; port: number }) => `${e.host}:${e.port}`;
  const endpoints: Record<string, string> = {};
  const metrics: Record<string, string> = {};
  const resolvers: Record<string, string> = {};
  const hosts: Record<string, string> = { tombstone: topo.tombstone.host, worker: topo.worker.host };
  for (const r of topo.spec.regions) {
    hosts[`app-${r}`] = topo.apps[r]!.host;
    hosts[`auth-${r}`] = topo.auths[r]!.dns.host;
    endpoints[`app-${r}`] = hp(topo.apps[r]!);
    endpoints[`auth-${r}`] = hp(topo.auths[r]!.api);
    resolvers[`auth-${r}`] = hp(topo.auths[r]!.dns);
    const ctl = topo.controllers[r];
    if (ctl) {
      endpoints[`ctl-${r}`] = hp(ctl.admin);
      metrics[`ctl-${r}`] = `http://${hp(ctl.admin)}/metrics`;
    }
  }
  for (const [w, e] of Object.entries(topo.witnesses)) {
    resolvers[w] = hp(e);
    hosts[w] = e.host;
  }
  endpoints.worker = `${topo.worker.host}:${topo.worker.port}`;
  // Every link's proxy listen address, e.g. ${endpoints.client->app-a}: the client's view of the app.
  for (const [id, p] of topo.proxies) endpoints[id] = hp(p.listen);

  const events = new EventCollector(topo, opts.rec);
  events.start();

  const sup = topo.supervisor;
  const state = async (c: string): Promise<'running' | 'paused' | 'stopped'> => {
    if (!sup.has(c)) return 'stopped';
    const m = sup.get(c);
    if (m.exitInfo) return 'stopped';
    const st = processState(m.pid);
    if (st === null || st === 'Z' || st === 'X') return 'stopped';
    return st === 'T' || st === 't' ? 'paused' : 'running';
  };
  const processes: ProcessControl = {
    pause: async (c) => {
      sup.kill(c, 'SIGSTOP');
      opts.rec.recordNow({ kind: 'process', component: c, op: 'pause', pid: sup.get(c).pid });
    },
    resume: async (c) => {
      sup.kill(c, 'SIGCONT');
      opts.rec.recordNow({ kind: 'process', component: c, op: 'resume', pid: sup.get(c).pid });
    },
    crash: async (c) => {
      const pid = sup.get(c).pid;
      await sup.stop(c, { signal: 'SIGKILL' });
      opts.rec.recordNow({ kind: 'process', component: c, op: 'crash', pid });
      events.crashed(c);
    },
    restart: async (c) => {
      // workerd is adopted from miniflare: the topology starts it again on its persisted state
      const m = c.startsWith('ctl-')
        ? topo.startController(c.slice(4))
        : c === 'worker'
          ? await topo.restartWorker()
          : sup.respawn(c);
      opts.rec.recordNow({ kind: 'process', component: c, op: 'restart', pid: m.pid });
    },
    state,
  };
  const ctlTiming = topo.timing.controllers[topo.initialPrimary];
  return {
    kind: 'local',
    description: `local topology 127.${topo.octet}.x.x (run ${topo.runId})`,
    faultTarget: { links, api: apiCache(), processes },
    probeContext: { endpoints, metrics, resolvers, hosts },
    regions: topo.spec.regions,
    witnesses: topo.spec.witnesses,
    timing: ctlTiming ? historyTiming(ctlTiming) : null,

    failure: sup.signal,
    flushEvents: () => events.stop(),
    dispose: async () => {
      events.stop();
      await topo.stop();
    },
  };
}

type LocalTopology = Awaited<ReturnType<typeof import('../topology/local.ts').startTopology>>;

/**
 * Follows the apps' and controllers' JSONL event files into the history on a timer, with the
 * same collector the scenario runner uses (src/runner/process-events.ts). With these events
 * the checker's invariants (single primary, acts inside the safe window...) are evaluated
 * over the game day.
 */
class EventCollector {
  private timer: NodeJS.Timeout | null = null;
  private readonly events: ProcessEventCollector;

  constructor(topo: LocalTopology, rec: Recorder) {
    this.events = new ProcessEventCollector(topo, {
      originHrMs: rec.originHrMs,
      tOfHr: (hr) => rec.tOfHr(hr),
      now: () => rec.now(),
      add: (ev) => rec.record(ev),
    });
  }

  /** Files are polled: cheap, and it follows files a restarted process appends to. */
  private static readonly POLL_MS = 20;

  start(): void {
    this.timer = setInterval(() => this.events.poll(), EventCollector.POLL_MS);
    this.timer.unref();
  }

  /** Last read, then stop following. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.events.poll();
    this.events.close();
  }

  /** A killed process reports nothing: see ProcessEventCollector.crashed. */
  crashed(component: string): void {
    this.events.crashed(component);
  }
}

/** Every probe reference resolves in this target; otherwise bad input naming the probe. */
export function checkProbeReferences(plan: GameDayPlan, ctx: ProbeContext): void {
  const probes = [
    ...(plan.steadyState?.probes ?? []),
    ...plan.experiments.flatMap((e) => e.resolvedProbes.map((r) => r.probe)),
  ];
  for (const p of probes)
    for (const ref of probeReferences(p))
      if (ctx[ref.kind][ref.name] === undefined)
        throw new BadInputError(
          `probe ${p.name}: ${ref.kind} "${ref.name}" is not known to the ${plan.target.kind} target (known: ${Object.keys(ctx[ref.kind]).join(', ') || 'none'})`,
          plan.file,
        );
}

/** Hosts a plan would contact (APIs, probe URLs, resolvers); loopback unless --allow-remote. */
export function checkLoopbackOnly(plan: GameDayPlan, target: GamedayTarget, allowRemote: boolean): void {
  if (allowRemote) return;
  const hosts = new Set<string>();
  const addUrl = (u: string) => {
    try {
      hosts.add(new URL(u).hostname);
    } catch {
      /* not a URL: checked where used */
    }
  };
  const addHostPort = (hp: string) => hosts.add(hp.replace(/:\d+$/, ''));
  for (const b of Object.values(target.faultTarget.links)) {
    addUrl(b.toxiproxyUrl);
    if (b.connect) addHostPort(b.connect);
  }
  for (const u of Object.values(target.probeContext.metrics)) addUrl(u);
  for (const r of Object.values(target.probeContext.resolvers)) addHostPort(r);
  for (const e of Object.values(target.probeContext.endpoints))
    addHostPort(e.includes('://') ? new URL(e).host : e);
  const probes = [
    ...(plan.steadyState?.probes ?? []),
    ...plan.experiments.flatMap((e) => e.resolvedProbes.map((r) => r.probe)),
  ];
  for (const p of probes) {
    if (p.type === 'http' && !p.http.url.includes('${')) addUrl(p.http.url);
    if (p.type === 'prom' && p.prom.url && !p.prom.url.includes('${')) addUrl(p.prom.url);
    if (p.type === 'dns' && p.dns.resolver.includes(':') && !p.dns.resolver.includes('${'))
      addHostPort(p.dns.resolver);
  }
  const remote = [...hosts].filter((h) => !isLoopbackHost(h));
  if (remote.length > 0)
    throw new BadInputError(
      `the plan reaches non-loopback host(s) ${remote.join(', ')}; pass --allow-remote to run a game day against a remote deployment`,
      plan.file,
    );
}

/**
 * Before anything is injected: every Toxiproxy server answers, every proxy the experiments
 * touch exists, is enabled and carries no game-day toxic left from an earlier run.
 */
export async function preflight(links: LinkBinding[], api: (url: string) => ToxiproxyClient): Promise<void> {
  const servers = [...new Set(links.map((l) => l.toxiproxyUrl))];
  for (const url of servers) {
    try {
      await api(url).version();
    } catch (err) {
      throw new InfraError(`Toxiproxy API ${url} does not answer: ${errorText(err)}`, 'gameday');
    }
  }
  const problems: string[] = [];
  await Promise.all(
    links.map(async (l) => {
      try {
        const p = await api(l.toxiproxyUrl).proxy(l.proxy);
        if (!p.enabled) problems.push(`proxy ${l.proxy} (${l.link}) is disabled before the game day`);
        const leftover = p.toxics.filter((t) => t.name.startsWith(TOXIC_PREFIX));
        if (leftover.length > 0)
          problems.push(
            `proxy ${l.proxy} (${l.link}) still has game-day toxics ${leftover.map((t) => t.name).join(',')}`,
          );
      } catch (err) {
        problems.push(`proxy ${l.proxy} (${l.link}) on ${l.toxiproxyUrl}: ${errorText(err)}`);
      }
    }),
  );
  if (problems.length > 0)
    throw new InfraError(
      `target not in a clean state: ${problems.sort().join('; ')}`,
      'gameday',
      'Nothing was injected. Re-enable proxies / remove leftover toxics (e.g. POST <toxiproxy>/reset) and run again.',
    );
}
