/**
 * The topology description run in containers (`--driver docker` on up/run/demo): the same
 * components, links, proxy names, configs and timing as the local driver, each component in
 * its own container of the project image, on the plan's bridge networks (plan.ts) with static
 * addresses; every link through the built-in Toxiproxy server in its own container. Returns
 * the local driver's `Topology`, so the runner, faults, checker and reports are unchanged;
 * process faults use the engine (`containers`: pause/unpause, kill, start).
 *
 * The harness reaches the containers on the bridge (the host is each network's gateway): no
 * published ports. Every container's DNS is pinned to its network's gateway (aardvark), and
 * nothing in the topology resolves names anyway: all addresses are IP literals.
 * Lifecycle: everything carries the run's labels (engine.ts) and is removed by topo.stop(),
 * which the Supervisor also runs on SIGINT/SIGTERM; leftovers of dead runs are swept at boot.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { InfraError } from '../../errors.ts';
import { describeTopology } from '../../scenario/topology-description.ts';
import { waitHealthy } from '../health.ts';
import type { ComponentInfo, ControllerHandle, Topology, TopologyOptions } from '../local.ts';
import { type LinkProxy, linkProxyMap } from '../proxies.ts';
import { Supervisor } from '../supervisor.ts';
import { scaledTiming } from '../timing.ts';
import {
  appEnvironment,
  controllerEnvironment,
  PDNS_API_KEY_ENV,
  pdnsSettings,
  pdnsStartScript,
  witnessConf,
  workerArgs,
  zoneSqlFile,
} from './configs.ts';
import { type ContainerFaults, containerFaults } from './container-faults.ts';
import { connectEngine, ensureLabImage, LAB_IMAGE, LABEL, removeRun, sweepDeadRuns } from './engine.ts';
import { PROJECT_ROOT } from './generate.ts';
import { CONTAINER_PORT, type DockerPlan, dialOf, planDockerTopology, TOXIPROXY_SERVICE } from './plan.ts';

/** Port of the observer proxy the harness reads the Worker's /status through (no link of the topology). */
const WORKER_OBSERVER_PORT = 19999;
/** Inside every container: the run dir (configs in, event files out) */
const RUN_MOUNT = '/fl';

export interface DockerTopology extends Topology {
  driver: 'docker';
  containers: ContainerFaults;
}

export async function startDockerTopology(opts: TopologyOptions = {}): Promise<DockerTopology> {
  const bootStartedAtMs = performance.now();
  const progress = opts.progress ?? (() => {});
  const { docker, socketPath } = await connectEngine();
  const swept = await sweepDeadRuns(docker);
  if (swept > 0) progress(`docker: removed ${swept} leftovers of dead runs`);
  await ensureLabImage(docker, socketPath, PROJECT_ROOT, progress);

  const runId = `d${randomBytes(4).toString('hex')}`;
  const runDir = mkdtempSync(join(tmpdir(), `failover-lab-docker-${runId}-`));
  chmodSync(runDir, 0o755);
  const logsDir = opts.logsDir ?? join(runDir, 'logs');
  const supervisor = new Supervisor({
    logsDir,
    ...(opts.installSignalHandlers !== undefined
      ? { installSignalHandlers: opts.installSignalHandlers }
      : {}),
  });
  supervisor.addTempDir(runDir);
  const names = new Map<string, string>(); // service -> container id
  supervisor.addCleanup('containers', async () => {
    await saveLogs(docker, names, logsDir);
    await removeRun(docker, runId);
  });
  try {
    return await bootContainers({ docker, runId, runDir, logsDir, supervisor, names, opts, bootStartedAtMs });
  } catch (err) {
    await supervisor.shutdown();
    throw err;
  }
}

interface BootContext {
  docker: Dockerode;
  runId: string;
  runDir: string;
  logsDir: string;
  supervisor: Supervisor;
  names: Map<string, string>;
  opts: TopologyOptions;
  bootStartedAtMs: number;
}

/** Everything the containers are configured from, decided before any network or container exists. */
interface RunSettings {
  spec: ReturnType<typeof describeTopology>;
  leaseBackend: 'durable' | 'kv';
  initialPrimary: string;
  timing: ReturnType<typeof scaledTiming>;
  /** lease-signing secret per region */
  secrets: Record<string, string>;
  pdnsApiKey: string;
}

/** The boot once the run's networks exist: where each container goes. */
interface RunContainers extends BootContext {
  settings: RunSettings;
  plan: DockerPlan;
  /** network name → engine id */
  netIds: Record<string, string>;
}

/** The project's CLI inside the lab image. */
const CLI = ['node', 'bin/failover-lab.mjs'];

/**
 * Settings → networks → run files → containers (Toxiproxy first: the Worker lives in its
 * network namespace) → controllers → the `Topology` → every container answers.
 */
async function bootContainers(b: BootContext): Promise<DockerTopology> {
  const progress = b.opts.progress ?? (() => {});
  const settings = runSettings(b.opts);
  const { plan, netIds } = await createNetworks(b.docker, b.runId, settings.spec, settings.initialPrimary);
  writeRunFiles(b.runDir, plan, { timing: settings.timing });
  const run: RunContainers = { ...b, settings, plan, netIds };
  progress(`docker: run ${b.runId} on ${plan.subnetPrefix}.0.0/16 (${plan.networks.length} networks)`);
  await startServices(run);
  const withControllers = b.opts.startControllers !== false;
  const controllers = withControllers ? await startControllers(run) : {};
  const topo = topologyOf(run, controllers);
  await waitAllHealthy(topo, withControllers, progress);
  topo.components = componentsOf(topo, plan, b.names);
  return topo;
}

/** The run's description, timing and secrets; clock faults are refused here (no libfaketime in containers). */
function runSettings(opts: TopologyOptions): RunSettings {
  if (opts.faketime && Object.keys(opts.faketime).length > 0) {
    throw new InfraError(
      'clock faults (libfaketime) are not available on the docker driver; use --driver local',
      'docker driver',
    );
  }
  const spec = describeTopology({ dnsTransport: 'tcp' }); // as the compose bundle (compose.ts)
  const timing = scaledTiming({
    timeScale: opts.timeScale ?? 0.1,
    regions: spec.regions,
    witnesses: spec.witnesses,
    ...(opts.controllerOverrides ? { overrides: opts.controllerOverrides } : {}),
  });
  return {
    spec,
    leaseBackend: opts.leaseBackend ?? 'durable',
    initialPrimary: opts.initialPrimary ?? spec.regions[0]!,
    timing,
    secrets: Object.fromEntries(spec.regions.map((r) => [r, randomBytes(16).toString('hex')])),
    pdnsApiKey: randomBytes(12).toString('hex'),
  };
}

/** A container's first address (the one the harness dials). */
function ipOf(plan: DockerPlan, service: string): string {
  return Object.values(plan.containers.find((c) => c.service === service)!.addresses)[0]!;
}

/**
 * Creates and starts one container of the lab image, labelled for the run, on its planned
 * networks at its static addresses, or in `networkMode` (another container's namespace).
 * Returns the container id.
 */
async function startContainer(
  run: RunContainers,
  service: string,
  cmd: string[],
  env: Record<string, string> = {},
  networkMode?: string,
): Promise<string> {
  const { plan, netIds } = run;
  const c = plan.containers.find((x) => x.service === service)!;
  const nets = Object.entries(c.addresses);
  const gateway = plan.networks.find((n) => n.name === nets[0]?.[0])?.gateway;
  const created = await run.docker.createContainer({
    name: `fl-${run.runId}-${service}`,
    Image: LAB_IMAGE,
    // tini -g: a stop signal reaches the whole process group, so no container waits out the grace period
    Entrypoint: ['/usr/bin/tini', '-g', '--'],
    Cmd: cmd,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: '/app',
    Labels: { [LABEL.run]: run.runId, [LABEL.ownerPid]: String(process.pid), [LABEL.component]: service },
    StopTimeout: 2,
    HostConfig: {
      Binds: [`${run.runDir}:${RUN_MOUNT}`],
      NetworkMode: networkMode ?? netIds[nets[0]![0]]!,
      ...(networkMode ? {} : { Dns: [gateway!], DnsOptions: ['timeout:1', 'attempts:2'], DnsSearch: ['.'] }),
    },
    ...(networkMode
      ? {}
      : {
          NetworkingConfig: {
            EndpointsConfig: Object.fromEntries(
              nets.map(([n, addr]) => [
                netIds[n]!,
                { IPAMConfig: { IPv4Address: addr }, Aliases: [service] },
              ]),
            ),
          },
        }),
  });
  run.names.set(service, created.id);
  await created.start();
  return created.id;
}

/** Toxiproxy, then the Worker in its namespace, the authoritatives, apps and witnesses together. */
async function startServices(run: RunContainers): Promise<void> {
  const { spec, timing, initialPrimary, leaseBackend, secrets, pdnsApiKey } = run.settings;
  const toxiId = await startContainer(run, TOXIPROXY_SERVICE, [
    ...CLI,
    'toxiproxy',
    '--host',
    '0.0.0.0',
    // inside its own network namespace: the addresses the other containers reach it at
    '--allow-non-loopback',
    '--port',
    String(CONTAINER_PORT.toxiproxyApi),
    '--config',
    `${RUN_MOUNT}/toxiproxy.json`,
  ]);
  const jobs: Array<Promise<unknown>> = [
    startContainer(
      run,
      'worker',
      [...CLI, 'worker', ...workerCommand(timing, initialPrimary, leaseBackend, run.opts.workerLeaseTtlMs)],
      { LEASE_SECRETS: JSON.stringify(secrets) },
      `container:${toxiId}`,
    ),
  ];
  for (const r of spec.regions) {
    jobs.push(
      startContainer(run, `auth-${r}`, ['sh', `${RUN_MOUNT}/auth-${r}/start.sh`], {
        FL_CONF_DIR: `${RUN_MOUNT}/auth-${r}`,
        // the database on the host's filesystem: a SIGKILLed pdns left it locked on overlayfs
        FL_DATA_DIR: `${RUN_MOUNT}/auth-${r}/data`,
        [PDNS_API_KEY_ENV]: pdnsApiKey,
      }),
    );
    jobs.push(
      startContainer(run, `app-${r}`, ['node', '--import', 'tsx', 'src/topology/app/server.ts'], {
        ...appEnvironment(r),
        APP_EVENTS_FILE: `${RUN_MOUNT}/events/app-${r}.jsonl`,
        APP_STATE_FILE: `${RUN_MOUNT}/app-${r}.state.json`,
      }),
    );
  }
  for (const w of spec.witnesses)
    jobs.push(startContainer(run, w, ['unbound', '-d', '-c', `${RUN_MOUNT}/${w}/unbound.conf`]));
  await Promise.all(jobs);
}

/** One controller container per region, started together; their handles by region. */
async function startControllers(run: RunContainers): Promise<Record<string, ControllerHandle>> {
  const { spec, timing, secrets, pdnsApiKey } = run.settings;
  const controllers: Record<string, ControllerHandle> = {};
  await Promise.all(
    spec.regions.map((r) => {
      controllers[r] = {
        region: r,
        admin: { host: ipOf(run.plan, `ctl-${r}`), port: CONTAINER_PORT.controllerAdmin },
        eventsFile: join(run.runDir, 'events', `ctl-${r}.jsonl`),
        config: timing.controllers[r]!,
        faketime: null,
      };
      const env = controllerEnvironment(run.plan, r, timing, {
        pdnsApiKey,
        leaseSecret: (x) => secrets[x]!,
      });
      return startContainer(run, `ctl-${r}`, [...CLI, 'controller'], {
        ...env,
        EVENTS_FILE: `${RUN_MOUNT}/events/ctl-${r}.jsonl`,
      });
    }),
  );
  return controllers;
}

/** The local driver's `Topology` over the run's containers, plus the engine's process faults. */
function topologyOf(run: RunContainers, controllers: Record<string, ControllerHandle>): DockerTopology {
  const { plan, settings, runDir } = run;
  const { spec } = settings;
  const ip = (service: string) => ipOf(plan, service);
  const toxiproxyIp = plan.containers.find((c) => c.service === TOXIPROXY_SERVICE)!.addresses.shared!;
  const topo: DockerTopology = {
    driver: 'docker',
    runId: run.runId,
    octet: 0,
    runDir,
    logsDir: run.logsDir,
    spec,
    timing: settings.timing,
    leaseBackend: settings.leaseBackend,
    initialPrimary: settings.initialPrimary,
    secrets: settings.secrets,
    pdnsApiKey: settings.pdnsApiKey,
    auths: Object.fromEntries(
      spec.regions.map((r) => [
        r,
        {
          dns: { host: ip(`auth-${r}`), port: CONTAINER_PORT.dns },
          api: { host: ip(`auth-${r}`), port: CONTAINER_PORT.pdnsApi },
        },
      ]),
    ),
    apps: Object.fromEntries(
      spec.regions.map((r) => [
        r,
        {
          host: ip(`app-${r}`),
          port: CONTAINER_PORT.app,
          eventsFile: join(runDir, 'events', `app-${r}.jsonl`),
        },
      ]),
    ),
    // inside each authoritative container (127.0.0.1:8099): the harness never dials it
    tombstone: { host: plan.tombstoneAddress, port: CONTAINER_PORT.tombstone },
    witnesses: Object.fromEntries(spec.witnesses.map((w) => [w, { host: ip(w), port: CONTAINER_PORT.dns }])),
    worker: {
      url: `http://${toxiproxyIp}:${WORKER_OBSERVER_PORT}`,
      host: toxiproxyIp,
      port: WORKER_OBSERVER_PORT,
      workerdPid: null,
    },
    controllers,
    proxies: proxiesOf(plan, toxiproxyIp),
    toxiproxyUrl: `http://${toxiproxyIp}:${CONTAINER_PORT.toxiproxyApi}`,
    supervisor: run.supervisor,
    components: [],
    bootStartedAtMs: run.bootStartedAtMs,
    startController: () => {
      throw new Error('docker driver: controllers are restarted through topo.containers');
    },
    restartWorker: () =>
      Promise.reject(new Error('docker driver: the Worker is restarted through topo.containers')),
    stop: () => run.supervisor.shutdown(),
    containers: containerFaults(run.docker, run.names, () => topo),
  };
  return topo;
}

/** The Worker's flags; a scenario's own Worker lease TTL (already scaled) replaces the controllers'. */
function workerCommand(
  timing: ReturnType<typeof scaledTiming>,
  initialPrimary: string,
  leaseBackend: 'durable' | 'kv',
  workerLeaseTtlMs: number | undefined,
): string[] {
  const args = workerArgs(timing, initialPrimary, leaseBackend);
  const i = args.indexOf('--ttl-ms');
  if (workerLeaseTtlMs !== undefined && i >= 0) args[i + 1] = String(workerLeaseTtlMs);
  return args;
}

/** Subnets in use anywhere on the engine are skipped; a concurrent run taking the same one is retried. */
async function createNetworks(
  docker: Dockerode,
  runId: string,
  spec: ReturnType<typeof describeTopology>,
  initialPrimary: string,
): Promise<{ plan: DockerPlan; netIds: Record<string, string> }> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const used = new Set<string>();
    for (const n of await docker.listNetworks()) {
      for (const c of n.IPAM?.Config ?? []) {
        const m = /^(\d+\.\d+)\./.exec(c.Subnet ?? '');
        if (m) used.add(m[1]!);
      }
    }
    const free = Array.from({ length: 40 }, (_, k) => `10.${200 + k}`).filter((p) => !used.has(p));
    const prefix = free[attempt % Math.max(1, free.length)];
    if (!prefix) break;
    const plan = planDockerTopology(spec, { subnetPrefix: prefix, initialPrimary });
    const netIds: Record<string, string> = {};
    try {
      for (const n of plan.networks) {
        const net = await docker.createNetwork({
          Name: `fl-${runId}-${n.name}`,
          Driver: 'bridge',
          IPAM: { Driver: 'default', Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
          Labels: { [LABEL.run]: runId, [LABEL.ownerPid]: String(process.pid), [LABEL.component]: n.name },
        });
        netIds[n.name] = net.id;
      }
      return { plan, netIds };
    } catch (err) {
      await removeRun(docker, runId);
      if (attempt === 5)
        throw new InfraError(`cannot create the run's networks: ${(err as Error).message}`, 'docker driver');
    }
  }
  throw new InfraError('no free 10.200-239.x.x subnet for the run networks', 'docker driver');
}

/** Configs the containers read from the run dir (mounted at /fl). */
function writeRunFiles(
  runDir: string,
  plan: DockerPlan,
  s: { timing: ReturnType<typeof scaledTiming> },
): void {
  const put = (rel: string, text: string) => {
    const full = join(runDir, rel);
    mkdirSync(join(full, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(full, text, { mode: 0o644 });
  };
  mkdirSync(join(runDir, 'events'), { recursive: true });
  const populate = plan.proxies.map((p) => ({
    name: p.name,
    listen: `0.0.0.0:${p.listenPort}`,
    // IP literals: the proxy never depends on the engine's name resolution
    upstream: `${p.upstream.host === '127.0.0.1' ? '127.0.0.1' : ipOf(plan, p.upstream.service)}:${p.upstream.port}`,
    enabled: true,
  }));
  populate.push({
    name: 'observer__to__worker',
    listen: `0.0.0.0:${WORKER_OBSERVER_PORT}`,
    upstream: `127.0.0.1:${CONTAINER_PORT.worker}`,
    enabled: true,
  });
  put('toxiproxy.json', JSON.stringify(populate, null, 2));
  // the same files the checked-in compose bundle mounts (configs.ts), one directory per container
  for (const r of plan.spec.regions) {
    put(`auth-${r}/pdns.conf`, pdnsSettings(s.timing.pdnsHealthCheckIntervalS, plan.subnetPrefix));
    put(`auth-${r}/zone.sql`, zoneSqlFile(plan, `auth-${r}`));
    put(`auth-${r}/start.sh`, pdnsStartScript());
  }
  for (const w of plan.spec.witnesses) put(`${w}/unbound.conf`, witnessConf(plan, w));
}

/** The harness side of every link: where its from-side dials (container links) or the shared-network address (client links). */
function proxiesOf(plan: DockerPlan, toxiproxyIp: string): Map<string, LinkProxy> {
  return linkProxyMap(
    plan.proxies.map((p) => ({
      link: p.link,
      listen: p.dial ? dialOf(plan, p.link.id) : { host: toxiproxyIp, port: p.listenPort },
      upstream: { host: p.upstream.host, port: p.upstream.port },
    })),
  );
}

async function waitAllHealthy(
  topo: DockerTopology,
  withControllers: boolean,
  progress: (line: string) => void,
): Promise<void> {
  const names = [
    'toxiproxy',
    'worker',
    ...topo.spec.regions.flatMap((r) => [`auth-${r}`, `app-${r}`, ...(withControllers ? [`ctl-${r}`] : [])]),
    ...topo.spec.witnesses,
  ];
  const deadline = performance.now() + 120_000;
  const results = await Promise.all(
    names.map(async (n) => ({ n, h: await waitHealthy(topo, n, deadline, topo.supervisor.signal) })),
  );
  const bad = results.filter((x) => !x.h.ok);
  if (bad.length > 0) {
    throw new InfraError(
      `containers not ready within 120 s: ${bad.map((x) => `${x.n} (${x.h.detail})`).join(', ')}`,
      'docker driver',
    );
  }
  progress(
    `docker: ${names.length} containers answer (${((performance.now() - topo.bootStartedAtMs) / 1000).toFixed(1)} s)`,
  );
}

function componentsOf(topo: DockerTopology, plan: DockerPlan, names: Map<string, string>): ComponentInfo[] {
  return plan.containers
    .filter((c) => names.has(c.service))
    .map((c) => ({
      name: c.service,
      kind: c.kind,
      address: Object.values(c.addresses).join(',') || `${topo.worker.host} (toxiproxy's namespace)`,
      detail: `container fl-${topo.runId}-${c.service}`,
    }));
}

/** Container output into logsDir/<service>.log before removal (the reports link the logs dir). */
async function saveLogs(docker: Dockerode, names: Map<string, string>, logsDir: string): Promise<void> {
  mkdirSync(logsDir, { recursive: true });
  await Promise.all(
    [...names].map(async ([service, id]) => {
      try {
        const raw = (await docker
          .getContainer(id)
          .logs({ stdout: true, stderr: true, follow: false })) as Buffer;
        writeFileSync(join(logsDir, `${service}.log`), demux(raw));
      } catch {
        /* never started or already gone */
      }
    }),
  );
}

/** Docker's multiplexed log stream (8-byte frame headers) to plain text. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : Buffer.concat(out).toString('utf8');
}
