/**
 * Boots the real two-region topology on loopback, no Docker: per region a PowerDNS
 * authoritative, an app/database stand-in and a production controller process; three
 * unbound witnesses; the lease Worker in workerd; a Toxiproxy proxy on every directed link
 * of describeTopology(). Launches run in parallel (boot time matters); every process is
 * owned by the Supervisor. See docs/topology.md for the address plan and the configs.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControllerConfig } from '../controller/types.ts';
import { InfraError } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import {
  describeTopology,
  type LinkProtocol,
  type LinkSpec,
  type TopologySpec,
} from '../scenario/topology-description.ts';
import { toxiproxyUrl as toxiproxyUrlFromEnv, usesExternalToxiproxy } from '../toxiproxy/client.ts';
import { startToxiproxyServer } from '../toxiproxy/server.ts';
// Static on purpose: miniflare takes ~1 s to import; paying it while the CLI loads keeps it
// off the boot's critical path (bootSeconds counts from startTopology, see docs/topology.md).
import { startWorker, type WorkerHandle } from '../worker/launch.ts';
import {
  acquireRunOctet,
  COMPONENT_OCTET,
  freePort,
  REGION_HOST,
  type RunLease,
  sameFreePort,
} from './addresses.ts';
import { BINARIES, pdnsExtraConf, pdnsServerPath, requireTopologyBinaries } from './binaries.ts';
import { bundleEntry } from './bundle.ts';
import { type Endpoint, pdnsConf, unboundConf, zoneRecords, zoneSql } from './configs.ts';
import { controllerEntry, controllerEnv, waitControllerPrimary } from './controller-launch.ts';
import {
  chooseDnsTransport,
  createLinkProxies,
  type LinkProxy,
  linkProxyMap,
  proxyNameOf,
  removeLinkProxies,
  UDP_SESSION_IDLE_MS,
} from './proxies.ts';
import { type Managed, Supervisor } from './supervisor.ts';
import { type ControllerOverridesInput, type ScaledTiming, scaledTiming } from './timing.ts';

// the package root, whether running from src/, from the compiled dist/ or an installed package
export const REPO_ROOT = PACKAGE_ROOT;

export type LeaseBackend = 'durable' | 'kv';

/** The lease both controllers contend for (the agent's LEASE_NAME). */
export const LEASE_NAME = 'primary';
/** How long the peer's controller waits at most for the initial primary's to be primary (durable backend). */
const INITIAL_PRIMARY_HEAD_START_MAX_MS = 10_000;

/** Runs the caller's beforeControllers hook (awaited) once the proxies exist, then hands them on. */
function afterProxies<T extends { url: string; proxies: Map<string, LinkProxy> }>(opts: TopologyOptions) {
  return async (px: T): Promise<T> => {
    if (opts.beforeControllers) await opts.beforeControllers(px);
    return px;
  };
}

/** How a controller's clock is faked (libfaketime), decided before it starts. */
export interface FaketimeSetup {
  /** true: CLOCK_MONOTONIC follows the fake clock too (drift, jumps); false: wall clock only (offsets) */
  fakeMonotonic: boolean;
}

export interface TopologyOptions {
  timeScale?: number;
  leaseBackend?: LeaseBackend;
  initialPrimary?: string;
  controllerOverrides?: ControllerOverridesInput;
  /** the Worker's lease TTL (already scaled); default: the controllers' leaseTtlMs */
  workerLeaseTtlMs?: number;
  /** controllers (by region) that run under libfaketime */
  faketime?: Record<string, FaketimeSetup>;
  /** where logs go; default: inside the run's temp dir (removed on stop) */
  logsDir?: string;
  /** TOXIPROXY_URL: use an external Toxiproxy server instead of the built-in one */
  toxiproxyUrl?: string;
  /** witness-path transport (udp, or tcp); default: chooseDnsTransport (src/topology/proxies.ts) */
  dnsTransport?: LinkProtocol;
  startControllers?: boolean;
  /**
   * Runs once the link proxies exist and before any controller starts (awaited): the real
   * runner applies a scenario's boot latencies here, so they precede every controller request.
   */
  beforeControllers?: (toxiproxy: { url: string; proxies: Map<string, LinkProxy> }) => Promise<void>;
  /** receives process start/exit (history) */
  onProcessEvent?: (ev: { component: string; op: 'start' | 'exit'; pid: number; detail?: string }) => void;
  /** progress lines for humans (stderr) */
  progress?: (line: string) => void;
  installSignalHandlers?: boolean;
}

export interface ComponentInfo {
  name: string;
  kind: string;
  address: string;
  /** extra endpoints worth printing (API, admin...) */
  detail?: string;
  pid?: number | null;
  bootSeconds?: number;
}

export interface ControllerHandle {
  region: string;
  admin: Endpoint;
  eventsFile: string;
  config: ControllerConfig;
  faketime: (FaketimeSetup & { timestampFile: string; spawnedAtMs: number }) | null;
}

export interface Topology {
  runId: string;
  octet: number;
  runDir: string;
  logsDir: string;
  spec: TopologySpec;
  timing: ScaledTiming;
  leaseBackend: LeaseBackend;
  initialPrimary: string;
  secrets: Record<string, string>;
  pdnsApiKey: string;
  /** the durable Worker's fault-seam token (src/worker/fault-seam.ts); absent: seams off */
  workerFaultToken?: string;
  auths: Record<string, { dns: Endpoint; api: Endpoint }>;
  apps: Record<string, Endpoint & { eventsFile: string }>;
  tombstone: Endpoint;
  witnesses: Record<string, Endpoint>;
  worker: { url: string; host: string; port: number; workerdPid: number | null };
  controllers: Record<string, ControllerHandle>;
  proxies: Map<string, LinkProxy>;
  toxiproxyUrl: string;
  supervisor: Supervisor;
  components: ComponentInfo[];
  /** harness performance.now() when the boot started */
  bootStartedAtMs: number;
  /** restart a controller (same env, same faketime file) after a crash fault */
  startController(region: string): Managed;
  /** start the Worker again on the same address and lease state after a crash fault */
  restartWorker(): Promise<Managed>;
  stop(): Promise<void>;
  /** the driver that runs it; absent means the local process driver */
  driver?: 'local' | 'docker';
  /** Docker driver only: process faults done by the engine (src/topology/docker/container-faults.ts) */
  containers?: ContainerFaultPort;
}

/** Pause/resume/crash/restart of a component by the container engine (the Docker driver). */
export interface ContainerFaultPort {
  pause(name: string): Promise<{ verified: boolean | null; detail: string }>;
  resume(name: string): Promise<{ verified: boolean | null; detail: string }>;
  crash(name: string): Promise<{ verified: boolean | null; detail: string }>;
  restart(name: string, signal?: AbortSignal): Promise<{ verified: boolean | null; detail: string }>;
}

const ip = (octet: number, third: number, fourth: number) => `127.${octet}.${third}.${fourth}`;

function regionOctet(spec: TopologySpec, region: string): number {
  return COMPONENT_OCTET.regionBase + spec.regions.indexOf(region);
}

/** Starts everything. On any failure everything already started is stopped before the error propagates. */
export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const bootStartedAtMs = performance.now();
  const timeScale = opts.timeScale ?? 0.1;
  const leaseBackend = opts.leaseBackend ?? 'durable';
  const externalToxiproxy =
    opts.toxiproxyUrl ?? (usesExternalToxiproxy() ? toxiproxyUrlFromEnv('') : undefined);
  const spec = describeTopology({
    dnsTransport: chooseDnsTransport(opts.dnsTransport, externalToxiproxy !== undefined),
  });
  const initialPrimary = opts.initialPrimary ?? spec.regions[0]!;
  const faketimeFor = opts.faketime ?? {};
  requireTopologyBinaries({ faketime: Object.keys(faketimeFor).length > 0 });
  const progress = opts.progress ?? (() => {});

  const lease: RunLease = acquireRunOctet();
  const octet = lease.octet;
  const runDir = mkdtempSync(join(tmpdir(), `failover-lab-${octet}-`));
  const logsDir = opts.logsDir ?? join(runDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const supervisor = new Supervisor({
    logsDir,
    onSpawn: (pid) => lease.recordPid(pid),
    onTempDir: (dir) => lease.recordDir(dir),
    ...(opts.onProcessEvent ? { onProcessEvent: opts.onProcessEvent } : {}),
    ...(opts.installSignalHandlers !== undefined
      ? { installSignalHandlers: opts.installSignalHandlers }
      : {}),
  });
  supervisor.addTempDir(runDir);
  supervisor.addCleanup('run-octet-lock', () => lease.release());
  const runId = `${octet}-${randomBytes(3).toString('hex')}`;

  try {
    return await boot();
  } catch (err) {
    await supervisor.shutdown();
    throw err;
  }

  async function boot(): Promise<Topology> {
    const timing = scaledTiming({
      timeScale,
      regions: spec.regions,
      witnesses: spec.witnesses,
      ...(opts.controllerOverrides ? { overrides: opts.controllerOverrides } : {}),
    });
    const secrets: Record<string, string> = {};
    for (const r of spec.regions) secrets[r] = randomBytes(16).toString('hex');
    const pdnsApiKey = randomBytes(12).toString('hex');
    // the durable Worker's fault seams (stale-instance) are on in the lab topology only
    const workerFaultToken = randomBytes(16).toString('hex');

    const componentBoot = new Map<string, number>();
    const markUp = (name: string) => {
      if (!componentBoot.has(name)) componentBoot.set(name, (performance.now() - bootStartedAtMs) / 1000);
    };
    const workerHost = ip(octet, COMPONENT_OCTET.worker, 1);
    const workerPort = await freePort(workerHost);
    // ---- the lease Worker first: workerd is the slowest thing to start (0.2 s idle, 1-2 s on a busy machine)
    const workerLog = join(logsDir, 'worker.log');
    // The lease state lives in runDir, not in the Worker's own temp dir, so a Worker started
    // again after a crash fault finds the lease (and its epoch) as the crash left it.
    const workerStateDir = join(runDir, 'worker-state');
    const launchWorker = async (port: number) => {
      const h = await supervisor.guardOwnChildrenDuring(
        startWorker({
          host: workerHost,
          port,
          variant: leaseBackend === 'kv' ? 'legacy-kv' : 'durable',
          secrets,
          leaseTtlMs: opts.workerLeaseTtlMs ?? timing.controllers[initialPrimary]!.leaseTtlMs,
          ...(leaseBackend === 'kv'
            ? { kvCacheTtlMs: timing.kvCacheTtlMs, kvMinExpirationTtlMs: timing.kvMinExpirationTtlMs }
            : {}),
          log: (line) => appendFileSync(workerLog, `${line}\n`),
          persistDir: workerStateDir,
          ...(leaseBackend === 'kv' ? {} : { faultSeamToken: workerFaultToken }),
        }),
      );
      currentWorker = h;
      if (h.workerdPid !== null) supervisor.adopt('worker', h.workerdPid, workerLog);
      return h;
    };
    let currentWorker: WorkerHandle | null = null;
    const workerJob = launchWorker(workerPort).then((h) => {
      markUp('worker');
      return h;
    });
    // Registered now, not when the start finishes: a boot that fails meanwhile must still
    // wait for workerd and stop it.
    supervisor.addCleanup('worker', async () => {
      await workerJob.catch(() => null);
      await currentWorker?.dispose();
    });
    workerJob.catch(() => undefined); // awaited below; this only marks the rejection handled

    // ---- addresses and ports (probed in parallel)
    const authDns: Record<string, Endpoint> = {};
    const authApi: Record<string, Endpoint> = {};
    const apps: Record<string, Endpoint & { eventsFile: string }> = {};
    const ctlAdmin: Record<string, Endpoint> = {};
    const witnesses: Record<string, Endpoint> = {};
    const portJobs: Array<Promise<void>> = [];
    const probe = (host: string, udp: boolean, set: (e: Endpoint) => void): void => {
      portJobs.push(freePort(host, { udp }).then((port) => set({ host, port })));
    };
    for (const r of spec.regions) {
      const third = regionOctet(spec, r);
      probe(ip(octet, third, REGION_HOST.auth), true, (e) => {
        authDns[r] = e;
      });
      probe(ip(octet, third, REGION_HOST.auth), false, (e) => {
        authApi[r] = e;
      });
      probe(ip(octet, third, REGION_HOST.controller), false, (e) => {
        ctlAdmin[r] = e;
      });
    }
    for (const [i, w] of spec.witnesses.entries()) {
      probe(ip(octet, COMPONENT_OCTET.witnesses, i + 1), true, (e) => {
        witnesses[w] = e;
      });
    }
    let proxyApi: Endpoint = { host: '', port: 0 };
    let tombstone: Endpoint = { host: '', port: 0 };
    probe(ip(octet, COMPONENT_OCTET.proxyApi, 1), false, (e) => {
      proxyApi = e;
    });
    probe(ip(octet, COMPONENT_OCTET.tombstone, 1), false, (e) => {
      tombstone = e;
    });
    const listenOf = new Map<string, Endpoint>();
    for (const [i, l] of spec.links.entries()) {
      probe(ip(octet, COMPONENT_OCTET.proxyListeners, i + 1), l.protocol === 'udp', (e) => {
        listenOf.set(l.id, e);
      });
    }
    // All apps listen on the same port (free on each app address), so the agent's ifurlup form
    // (SVC_HEALTH_URL: one URL port checked at every app address) also works here; the
    // topology itself uses the ifurlextup form (SVC_CHECK_URLS, through the auth->app proxies).
    portJobs.push(
      sameFreePort(spec.regions.map((r) => ip(octet, regionOctet(spec, r), REGION_HOST.app))).then((port) => {
        for (const r of spec.regions) {
          apps[r] = {
            host: ip(octet, regionOctet(spec, r), REGION_HOST.app),
            port,
            eventsFile: join(runDir, 'events', `app-${r}.jsonl`),
          };
        }
      }),
    );
    await Promise.all(portJobs);
    if (authDns.a && authApi.a && authDns.a.port === authApi.a.port) {
      throw new InfraError('port probe returned the same port twice', 'topology');
    }
    mkdirSync(join(runDir, 'events'), { recursive: true });

    const upstreamOf = (l: LinkSpec): Endpoint => {
      const to = l.to;
      if (to === 'worker') return { host: workerHost, port: workerPort };
      if (to === 'peer') {
        const self = l.from.replace(/^ctl-/, '');
        const peer = spec.regions.find((r) => r !== self)!;
        return ctlAdmin[peer]!;
      }
      if (to.startsWith('auth-')) {
        const r = to.slice(5);
        return l.from.startsWith('ctl-') ? authApi[r]! : authDns[r]!;
      }
      if (to.startsWith('app-')) return apps[to.slice(4)]!;
      if (witnesses[to]) return witnesses[to]!;
      throw new InfraError(`no upstream for link ${l.id}`, 'topology');
    };
    const proxyOf = (id: string): Endpoint => {
      const e = listenOf.get(id);
      if (!e) throw new InfraError(`no proxy for link ${id}`, 'topology');
      return e;
    };

    /** URL authoritative `auth` checks app `app` at: through its own auth->app proxy (IP literal). */
    const appCheckUrlOf = (auth: string, app: string): string => {
      const p = proxyOf(`auth-${auth}->app-${app}`);
      return `http://${p.host}:${p.port}/health`;
    };

    // ---- 1. the fault proxy and its proxies
    const proxiesJob = (async () => {
      const items = spec.links.map((link) => ({
        link,
        listen: proxyOf(link.id),
        upstream: upstreamOf(link),
      }));
      const external = externalToxiproxy;
      let url: string;
      let proxies: Map<string, LinkProxy>;
      if (external) {
        url = external;
        proxies = await createLinkProxies(url, items);
        // An external server outlives us: remove our proxies so nothing keeps listening.
        supervisor.addCleanup('toxiproxy-proxies', () => removeLinkProxies(url, proxies));
      } else {
        // Built-in server: the proxies exist before its API even listens (no populate round trip).
        const srv = await startToxiproxyServer({
          host: proxyApi.host,
          port: proxyApi.port,
          config: items.map((i) => ({
            name: proxyNameOf(i.link.id),
            listen: `${i.listen.host}:${i.listen.port}`,
            upstream: `${i.upstream.host}:${i.upstream.port}`,
            protocol: i.link.protocol,
          })),
          udpIdleMs: UDP_SESSION_IDLE_MS,
        });
        supervisor.addCleanup('toxiproxy', () => srv.close());
        url = srv.url;
        proxies = linkProxyMap(items);
      }
      markUp('toxiproxy');
      return { url, proxies };
    })();

    // ---- 2. tombstone (in-process: it only ever says OK)
    const tombstoneJob = new Promise<Server>((res, rej) => {
      const srv = createServer((_req, resp) => {
        resp.writeHead(200, { 'content-type': 'text/plain' });
        resp.end('OK tombstone\n');
      });
      srv.once('error', rej);
      srv.listen({ host: tombstone.host, port: tombstone.port }, () => res(srv));
    }).then((srv) => {
      supervisor.addCleanup('tombstone', () => new Promise<void>((r) => srv.close(() => r())));
      srv.unref();
      markUp('tombstone');
    });

    // ---- 3. PowerDNS authoritatives: config + sqlite zone, then start
    const schemaSql = readFileSync(BINARIES.pdnsSqliteSchema.path, 'utf8');
    const orderedRegions = [initialPrimary, ...spec.regions.filter((r) => r !== initialPrimary)];
    const authJobs = spec.regions.map(async (r) => {
      const dir = join(runDir, `auth-${r}`);
      mkdirSync(join(dir, 'run'), { recursive: true });
      writeFileSync(
        join(dir, 'pdns.conf'),
        pdnsConf({
          dir,
          dns: authDns[r]!,
          api: authApi[r]!,
          apiKey: pdnsApiKey,
          luaHealthChecksIntervalS: timing.pdnsHealthCheckIntervalS,
          extraLines: pdnsExtraConf(),
        }),
      );
      const checkUrl = (app: string) => appCheckUrlOf(r, app);
      const rows = zoneRecords({
        zone: spec.zone,
        authAddresses: spec.regions.map((x) => authDns[x]!.host),
        serviceLabel: spec.serviceName.replace(`.${spec.zone}`, ''),
        // the agent's SVC_CHECK_URLS form: checks through this authoritative's auth->app proxies
        serviceUnits: orderedRegions.map((x) => ({ answer: apps[x]!.host, checkUrl: checkUrl(x) })),
        regionNames: spec.regions.map((x) => ({
          label: spec.regionName(x).replace(`.${spec.zone}`, ''),
          app: { answer: apps[x]!.host, checkUrl: checkUrl(x) },
          tombstone: {
            answer: tombstone.host,
            checkUrl: `http://${tombstone.host}:${tombstone.port}/health`,
          },
        })),
        ttlS: 1,
      });
      await runToCompletion(
        BINARIES.sqlite3.path,
        [join(dir, 'pdns.sqlite3')],
        zoneSql(schemaSql, spec.zone, rows),
        'sqlite3',
      );
      supervisor.spawn({
        name: `auth-${r}`,
        command: pdnsServerPath(),
        args: [`--config-dir=${dir}`],
      });
    });

    // ---- 4. unbound witnesses
    const witnessJobs = spec.witnesses.map(async (w) => {
      const dir = join(runDir, w);
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'unbound.conf');
      writeFileSync(
        conf,
        unboundConf({
          dir,
          listen: witnesses[w]!,
          zone: spec.zone,
          stubAddrs: spec.regions.map((r) => proxyOf(`${w}->auth-${r}`)),
          upstreamTransport: spec.links.find((l) => l.id === `${w}->auth-${spec.regions[0]}`)!.protocol,
        }),
      );
      supervisor.spawn({ name: w, command: BINARIES.unbound.path, args: ['-d', '-c', conf] });
    });

    // ---- 6. child programs: bundle once, then apps and controllers
    const binDir = join(runDir, 'bin');
    const startControllers = opts.startControllers !== false;
    const bundleJob = Promise.all([
      bundleEntry(join(REPO_ROOT, 'src/topology/app/server.ts'), join(binDir, 'app.mjs')),
      startControllers
        ? bundleEntry(controllerEntry(REPO_ROOT), join(binDir, 'controller.mjs'))
        : Promise.resolve(''),
    ]);
    const appJobs = bundleJob.then(([appBundle]) => {
      for (const r of spec.regions) {
        supervisor.spawn({
          name: `app-${r}`,
          command: process.execPath,
          args: [appBundle],
          env: {
            PATH: process.env.PATH,
            APP_REGION: r,
            APP_HOST: apps[r]!.host,
            APP_PORT: String(apps[r]!.port),
            APP_EVENTS_FILE: apps[r]!.eventsFile,
            APP_STATE_FILE: join(runDir, `app-${r}.state.json`),
          },
        });
      }
    });

    const controllers: Record<string, ControllerHandle> = {};
    const ctlSpecs: Record<string, { env: Record<string, string | undefined>; bundle: string }> = {};
    const startController = (region: string): Managed => {
      const c = ctlSpecs[region]!;
      const h = controllers[region]!;
      if (h.faketime) h.faketime.spawnedAtMs = performance.now();
      const name = `ctl-${region}`;
      if (supervisor.has(name)) return supervisor.respawn(name);
      return supervisor.spawn({ name, command: process.execPath, args: [c.bundle], env: c.env });
    };
    const controllerJob = startControllers
      ? Promise.all([bundleJob, proxiesJob.then(afterProxies(opts))]).then(async ([[, ctlBundle]]) => {
          for (const r of orderedRegions) {
            const peer = spec.regions.find((x) => x !== r)!;
            const ft = faketimeFor[r];
            const timestampFile = join(runDir, `faketime-${r}.rc`);
            if (ft) writeFileSync(timestampFile, '+0\n');
            const eventsFile = join(runDir, 'events', `ctl-${r}.jsonl`);
            controllers[r] = {
              region: r,
              admin: ctlAdmin[r]!,
              eventsFile,
              config: timing.controllers[r]!,
              faketime: ft ? { ...ft, timestampFile, spawnedAtMs: 0 } : null,
            };
            const url = (e: Endpoint) => `http://${e.host}:${e.port}`;
            const env = controllerEnv({
              region: r,
              peerRegion: peer,
              initialPrimary: r === initialPrimary,
              config: timing.controllers[r]!,
              workerUrl: url(proxyOf(`ctl-${r}->worker`)),
              secret: secrets[r]!,
              leaseName: LEASE_NAME,
              witnesses: spec.witnesses.map((w) => ({ id: w, via: proxyOf(`ctl-${r}->${w}`) })),
              dnsTransport: spec.links.find((l) => l.id === `ctl-${r}->${spec.witnesses[0]}`)!.protocol,
              selfAppAddress: apps[r]!.host,
              peerAppAddress: apps[peer]!.host,
              tombstoneAddress: tombstone.host,
              peerHealthUrl: `${url(proxyOf(`ctl-${r}->peer`))}/healthz`,
              pdnsApiUrls: spec.regions.map((x) => url(proxyOf(`ctl-${r}->auth-${x}`))),
              pdnsApiKey,
              zone: spec.zone,
              serviceLabel: spec.serviceName.replace(`.${spec.zone}`, ''),
              serviceCheckUrls: Object.fromEntries(
                spec.regions.map((x) => [
                  url(proxyOf(`ctl-${r}->auth-${x}`)),
                  Object.fromEntries(spec.regions.map((app) => [app, appCheckUrlOf(x, app)])),
                ]),
              ),
              webhookUrl: `${url(proxyOf(`ctl-${r}->app-${r}`))}/authority`,
              admin: ctlAdmin[r]!,
              eventsFile,
              faketime: ft ? { timestampFile, fakeMonotonic: ft.fakeMonotonic } : null,
            });
            ctlSpecs[r] = { env, bundle: ctlBundle };
            startController(r);
            // Every scenario starts with the initial primary holding the lease. With the durable
            // Worker the peer is started once the initial primary's controller is primary, so a
            // slow start on a loaded machine cannot hand the boot to the peer (measured at load
            // 10-19: the peer won 2 of 22 boots). The legacy KV Worker keeps the simultaneous
            // start: its boot race is the finding kv-split-brain shows.
            if (r === initialPrimary && leaseBackend === 'durable') {
              await waitControllerPrimary(ctlAdmin[r]!, INITIAL_PRIMARY_HEAD_START_MAX_MS);
            }
          }
        })
      : Promise.resolve();

    const [{ url: toxiproxyUrl, proxies }, workerHandle] = await Promise.all([
      proxiesJob,
      workerJob,
      tombstoneJob,
      ...authJobs,
      ...witnessJobs,
      appJobs,
      controllerJob,
    ]).then((r) => [r[0], r[1]] as const);
    supervisor.throwIfFailed();
    progress(`topology 127.${octet}.x.x: all processes started`);

    const components: ComponentInfo[] = [];
    const pidOf = (n: string) => (supervisor.has(n) ? supervisor.get(n).pid : null);
    for (const r of spec.regions) {
      components.push({
        name: `auth-${r}`,
        kind: 'authoritative',
        address: `${authDns[r]!.host}:${authDns[r]!.port}`,
        detail: `API http://${authApi[r]!.host}:${authApi[r]!.port}`,
        pid: pidOf(`auth-${r}`),
      });
      components.push({
        name: `app-${r}`,
        kind: 'app',
        address: `${apps[r]!.host}:${apps[r]!.port}`,
        pid: pidOf(`app-${r}`),
      });
      if (startControllers)
        components.push({
          name: `ctl-${r}`,
          kind: 'controller',
          address: `${ctlAdmin[r]!.host}:${ctlAdmin[r]!.port}`,
          detail: 'admin /healthz /status /metrics',
          pid: pidOf(`ctl-${r}`),
        });
    }
    for (const w of spec.witnesses)
      components.push({
        name: w,
        kind: 'witness',
        address: `${witnesses[w]!.host}:${witnesses[w]!.port}`,
        pid: pidOf(w),
      });
    components.push({
      name: 'worker',
      kind: 'worker',
      address: `${workerHost}:${workerHandle.port}`,
      detail: `${leaseBackend === 'kv' ? 'legacy-kv (UNSAFE)' : 'durable'} lease Worker`,
      pid: workerHandle.workerdPid,
    });
    components.push({
      name: 'toxiproxy',
      kind: 'proxy',
      address: toxiproxyUrl.replace(/^http:\/\//, ''),
      detail: `${proxies.size} link proxies`,
    });
    components.push({ name: 'tombstone', kind: 'tombstone', address: `${tombstone.host}:${tombstone.port}` });
    for (const c of components) {
      const t = componentBoot.get(c.name);
      if (t !== undefined) c.bootSeconds = t;
    }

    const topo: Topology = {
      runId,
      octet,
      runDir,
      logsDir,
      spec,
      timing,
      leaseBackend,
      initialPrimary,
      secrets,
      pdnsApiKey,
      ...(leaseBackend === 'kv' ? {} : { workerFaultToken }),
      auths: Object.fromEntries(spec.regions.map((r) => [r, { dns: authDns[r]!, api: authApi[r]! }])),
      apps,
      tombstone,
      witnesses,
      worker: {
        url: workerHandle.url,
        host: workerHost,
        port: workerHandle.port,
        // the current workerd: a crash fault restarts it under a new PID
        get workerdPid() {
          return currentWorker?.workerdPid ?? null;
        },
      },
      controllers,
      proxies,
      toxiproxyUrl,
      supervisor,
      components,
      bootStartedAtMs,
      startController,
      restartWorker: async () => {
        const old = currentWorker;
        if (old && supervisor.has('worker') && !supervisor.get('worker').exitInfo) {
          throw new Error('worker is still running');
        }
        // miniflare's side of a killed workerd: release it (workerd is already gone)
        await old?.dispose();
        if (supervisor.isShuttingDown) throw new Error('topology is shutting down: worker not restarted');
        const h = await launchWorker(workerHandle.port);
        // a shutdown that began while it started has already run the worker cleanup
        if (supervisor.isShuttingDown) {
          await h.dispose();
          throw new Error('topology is shutting down: worker not restarted');
        }
        return supervisor.get('worker');
      },
      stop: () => supervisor.shutdown(),
    };
    return topo;
  }
}

/** Runs a short helper (sqlite3) to completion, feeding `input` on stdin. */
function runToCompletion(command: string, args: string[], input: string, name: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += String(d);
    });
    p.on('error', (e) => rej(new InfraError(`${command}: ${e.message}`, name)));
    p.on('exit', (code) =>
      code === 0 ? res() : rej(new InfraError(`${command} exited with ${code}: ${err.trim()}`, name)),
    );
    p.stdin.end(input);
  });
}
