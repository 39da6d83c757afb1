/**
 * Boots the real two-region topology on loopback, no Docker: per region a PowerDNS
 * authoritative, an app/database stand-in and a production controller process; three
 * unbound witnesses; the lease Worker in workerd; a Toxiproxy proxy on every directed link
 * of describeTopology(). Launches run in parallel (boot time matters); every process is
 * owned by the Supervisor. See docs/topology.md for the address plan and the configs.
 *
 * The boot is a list of phases, each in src/topology/boot/: plan the run (run.ts), start the
 * Worker first (worker.ts), probe the addresses (ports.ts), then start in parallel the link
 * proxies and the tombstone (network.ts), the authoritatives and witnesses (dns-servers.ts),
 * the apps and the controllers (programs.ts); wait for all, then list the components.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { describeTopology } from '../scenario/topology-description.ts';
import { toxiproxyUrl as toxiproxyUrlFromEnv, usesExternalToxiproxy } from '../toxiproxy/client.ts';
import { acquireRunOctet, COMPONENT_OCTET, freePort, type RunLease } from './addresses.ts';
import { requireTopologyBinaries } from './binaries.ts';
import { listComponents } from './boot/components.ts';
import { startAuthoritatives, startWitnesses } from './boot/dns-servers.ts';
import { startLinkProxies, startTombstone } from './boot/network.ts';
import { allocateAddresses, linkWiring } from './boot/ports.ts';
import { bundlePrograms, launchControllers, startApps } from './boot/programs.ts';
import { watchReadiness } from './boot/readiness.ts';
import { type BootRun, ip, planRun, type RunBasics } from './boot/run.ts';
import { launchLeaseWorker } from './boot/worker.ts';
import { chooseDnsTransport } from './proxies.ts';
import { Supervisor } from './supervisor.ts';
import type { Topology, TopologyOptions } from './types.ts';

/** How long a readiness watch (opts.watchReadiness) probes a component that never answers. */
const READINESS_WATCH_MAX_MS = 60_000;

export type {
  ComponentInfo,
  ContainerFaultPort,
  ControllerHandle,
  FaketimeSetup,
  LeaseBackend,
  Topology,
  TopologyOptions,
} from './types.ts';

// the package root, whether running from src/, from the compiled dist/ or an installed package
export const REPO_ROOT = PACKAGE_ROOT;

/** The lease both controllers contend for (the agent's LEASE_NAME). */
export const LEASE_NAME = 'primary';

/** Starts everything. On any failure everything already started is stopped before the error propagates. */
export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const bootStartedAtMs = performance.now();
  const basics = claimRun(opts);
  try {
    return await boot(planRun(basics, bootStartedAtMs), bootStartedAtMs);
  } catch (err) {
    await basics.supervisor.shutdown();
    throw err;
  }
}

/**
 * What is decided before the boot: the spec, the binaries checked, the run's address octet
 * (locked) and its directories, and the Supervisor that owns all of it from here on.
 */
function claimRun(opts: TopologyOptions): RunBasics {
  const leaseBackend = opts.leaseBackend ?? 'durable';
  const externalToxiproxy =
    opts.toxiproxyUrl ?? (usesExternalToxiproxy() ? toxiproxyUrlFromEnv('') : undefined);
  const spec = describeTopology({
    dnsTransport: chooseDnsTransport(opts.dnsTransport, externalToxiproxy !== undefined),
  });
  const initialPrimary = opts.initialPrimary ?? spec.regions[0]!;
  const faketimeFor = opts.faketime ?? {};
  requireTopologyBinaries({ faketime: Object.keys(faketimeFor).length > 0 });

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
  return {
    opts,
    spec,
    octet,
    runDir,
    logsDir,
    supervisor,
    leaseBackend,
    initialPrimary,
    faketimeFor,
    externalToxiproxy,
  };
}

/**
 * The boot proper: the Worker first, then the address plan, then every other component in
 * parallel; resolves once all of them started. Whatever started is the Supervisor's to stop.
 */
async function boot(run: BootRun, bootStartedAtMs: number): Promise<Topology> {
  const { spec, supervisor, octet } = run;
  const runId = `${octet}-${randomBytes(3).toString('hex')}`;
  const workerHost = ip(octet, COMPONENT_OCTET.worker, 1);
  const workerAt = { host: workerHost, port: await freePort(workerHost) };
  const worker = launchLeaseWorker(run, workerAt.host, workerAt.port);

  const a = await allocateAddresses(run, workerAt);
  if (run.opts.watchReadiness) {
    const giveUpAtMs = bootStartedAtMs + READINESS_WATCH_MAX_MS;
    watchReadiness(run, a, () => supervisor.isShuttingDown || performance.now() > giveUpAtMs);
  }
  mkdirSync(join(run.runDir, 'events'), { recursive: true });
  const wiring = linkWiring(run, a);

  const proxiesJob = startLinkProxies(run, a, wiring);
  const tombstoneJob = startTombstone(run, a);
  const authJobs = startAuthoritatives(run, a, wiring);
  const witnessJobs = startWitnesses(run, a, wiring);
  const bundles = bundlePrograms(run, run.opts.startControllers !== false);
  const appJobs = startApps(run, a, bundles);
  const ctl = launchControllers(run, a, wiring, LEASE_NAME, bundles, proxiesJob, worker.first);

  const [proxies, workerHandle] = await Promise.all([
    proxiesJob,
    worker.first,
    tombstoneJob,
    ...authJobs,
    ...witnessJobs,
    appJobs,
    ctl.started,
  ]).then((r) => [r[0], r[1]] as const);
  supervisor.throwIfFailed();
  run.opts.progress?.(`topology 127.${octet}.x.x: all processes started`);

  return {
    runId,
    octet,
    runDir: run.runDir,
    logsDir: run.logsDir,
    spec,
    timing: run.timing,
    leaseBackend: run.leaseBackend,
    initialPrimary: run.initialPrimary,
    secrets: run.secrets,
    pdnsApiKey: run.pdnsApiKey,
    ...(run.leaseBackend === 'kv' ? {} : { workerFaultToken: run.workerFaultToken }),
    auths: Object.fromEntries(spec.regions.map((r) => [r, { dns: a.authDns[r]!, api: a.authApi[r]! }])),
    apps: a.apps,
    tombstone: a.tombstone,
    witnesses: a.witnesses,
    worker: {
      url: workerHandle.url,
      host: workerAt.host,
      port: workerHandle.port,
      // the current workerd: a crash fault restarts it under a new PID
      get workerdPid() {
        return worker.current()?.workerdPid ?? null;
      },
    },
    controllers: ctl.controllers,
    proxies: proxies.proxies,
    toxiproxyUrl: proxies.url,
    supervisor,
    components: listComponents(run, a, workerHandle, proxies),
    bootStartedAtMs,
    readySeconds: run.bootSeconds,
    startController: ctl.startController,
    restartWorker: () => worker.restart(workerHandle.port),
    stop: () => supervisor.shutdown(),
  };
}
