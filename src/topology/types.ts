/**
 * The shape of a running topology and of the options that start one: what startTopology
 * (local.ts) returns, and what the Docker driver (docker/) returns too. Kept apart from
 * local.ts so the boot phases (boot/) can name these types without importing the file
 * that imports them. local.ts re-exports all of them.
 */
import type { ControllerConfig } from '../controller/types.ts';
import type { LinkProtocol, TopologySpec } from '../scenario/topology-description.ts';
import type { Endpoint } from './configs.ts';
import type { LinkProxy } from './proxies.ts';
import type { Managed, Supervisor } from './supervisor.ts';
import type { ControllerOverridesInput, ScaledTiming } from './timing.ts';

export type LeaseBackend = 'durable' | 'kv';

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
   * Probe every component from the boot's start and record when each first answered
   * (Topology.readySeconds): `up --check` and the boot benchmark (src/topology/boot/readiness.ts).
   */
  watchReadiness?: boolean;
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
  /** seconds from the boot's start to each component's first answer, as recorded so far (local driver) */
  readySeconds?: ReadonlyMap<string, number>;
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
  /** SIGTERM and wait up to `graceMs` for the container to exit on its own (the `stop` fault) */
  stop(name: string, graceMs: number): Promise<{ verified: boolean | null; detail: string }>;
  restart(name: string, signal?: AbortSignal): Promise<{ verified: boolean | null; detail: string }>;
}
