/**
 * Docker driver: the second driver of the topology description (the local process driver
 * in src/topology/ stays the default). Boots the generated compose bundle through
 * testcontainers' DockerComposeEnvironment (testcontainers 11.14.0: the last line that
 * imports on Node 20) and hands back host-side endpoints plus a Toxiproxy client
 * (src/toxiproxy/client.ts) for the project's Toxiproxy container: faults use the same client
 * calls as with the built-in proxy.
 *
 * CLI-facing (the lead wires `--driver` into up/run/demo/gameday):
 *   selectDriverOrThrow(flag)  validates the flag (bad value → BadInputError, exit 2) and
 *                              resolves it: "auto" (default) picks Docker only when a
 *                              runtime *and* the compose plugin answer; "docker" without
 *                              them → InfraError with one line naming what is missing (exit 3).
 * testcontainers is imported lazily: choosing "local" never pays its ~1 s import.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BadInputError, InfraError } from '../../errors.ts';
import { ToxiproxyClient } from '../../toxiproxy/client.ts';
import { COMPOSE_FILE, type DockerBundleOptions, renderDockerBundle } from './compose.ts';
import { eventsFileOf, hostSideProxies } from './configs.ts';
import { connectEngine, PODMAN_SOCKET } from './engine.ts';
import { PROJECT_ROOT } from './generate.ts';
import { CONTAINER_PORT, type DockerPlan, TOXIPROXY_SERVICE } from './plan.ts';

export const DRIVER_REQUESTS = ['auto', 'local', 'docker'] as const;
export type DriverRequest = (typeof DRIVER_REQUESTS)[number];
export type DriverName = 'local' | 'docker';

export interface RuntimeStatus {
  available: boolean;
  /** one line: what answered, or what is missing */
  reason: string;
  /** compose is Debian's standalone docker-compose 1.x, not the `docker compose` v2 plugin */
  composeStandalone?: boolean;
  /** the engine is podman (health checks need systemd there: boot waits for ports instead) */
  podman?: boolean;
}

/**
 * testcontainers' settings for the engine scripts/container-engine.sh starts: its socket when
 * DOCKER_HOST is unset; no Ryuk (its image would be a registry pull) and mapped ports on
 * 127.0.0.1 (this VM has /.dockerenv, so testcontainers would otherwise take the bridge
 * gateway for the host). What the user set is kept.
 */
export function prepareTestcontainersEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.DOCKER_HOST === undefined && existsSync(PODMAN_SOCKET)) env.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
  if (env.DOCKER_HOST === `unix://${PODMAN_SOCKET}`) env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  if (env.DOCKER_HOST?.startsWith('unix://')) env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

/** The places testcontainers' runtime strategies look, in its order (see docs/docker.md). */
export const NO_RUNTIME_REASON =
  'no container runtime answered (tried DOCKER_HOST, ~/.testcontainers.properties, /var/run/docker.sock, rootless sockets)';
const REMEDY = 'install/start Docker or use --driver local';
const COMPONENT = 'docker driver';

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** `docker compose` (v2 plugin), else Debian's standalone `docker-compose` 1.x. */
async function composeVersion(
  timeoutMs: number,
): Promise<{ ok: true; version: string; standalone: boolean } | { ok: false; reason: string }> {
  const v2 = await composePluginVersion(timeoutMs);
  if (v2.ok) return { ...v2, standalone: false };
  const v1 = await new Promise<string | null>((resolve) =>
    execFile('docker-compose', ['version', '--short'], { timeout: timeoutMs }, (err, stdout) =>
      resolve(err ? null : stdout.trim()),
    ),
  );
  return v1 ? { ok: true, version: `${v1} (standalone docker-compose)`, standalone: true } : v2;
}

function composePluginVersion(
  timeoutMs: number,
): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    execFile('docker', ['compose', 'version', '--short'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, version: stdout.trim() });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return resolve({
          ok: false,
          reason: 'the docker CLI is not on PATH (testcontainers runs "docker compose")',
        });
      }
      const said = oneLine(stderr || err.message).split('. ')[0] ?? '';
      resolve({
        ok: false,
        reason: `the Docker Compose v2 plugin did not answer ("docker compose version": ${said})`,
      });
    });
  });
}

/**
 * Is there a container runtime the Docker driver can use? Never throws. `available` needs
 * both a runtime (testcontainers' getContainerRuntimeClient) and the compose v2 plugin,
 * because the driver boots the compose file.
 */
export async function detectContainerRuntime(opts: { timeoutMs?: number } = {}): Promise<RuntimeStatus> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  prepareTestcontainersEnv();
  let runtime: string;
  let podman = false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await withTimeout(getContainerRuntimeClient(), timeoutMs, 'the container runtime');
    const info = client.info.containerRuntime;
    runtime = `${info.operatingSystem || 'engine'} ${info.serverVersion} at ${info.host}`;
    podman =
      /podman/i.test(`${info.operatingSystem} ${JSON.stringify(info.labels ?? {})}`) ||
      (process.env.DOCKER_HOST ?? '').includes(PODMAN_SOCKET);
  } catch (err) {
    const timedOut = err instanceof Error && err.message.includes('did not answer');
    return {
      available: false,
      reason: timedOut ? `${NO_RUNTIME_REASON}: ${err.message}` : NO_RUNTIME_REASON,
    };
  }
  const compose = await composeVersion(timeoutMs);
  if (!compose.ok)
    return { available: false, reason: `a container runtime answered (${runtime}) but ${compose.reason}` };
  return {
    available: true,
    reason: `container runtime answered (${runtime}), docker compose ${compose.version}`,
    composeStandalone: compose.standalone,
    podman,
  };
}

/** Validates a `--driver` value; undefined means the default, "auto". */
export function parseDriverFlag(flag: string | undefined): DriverRequest {
  if (flag === undefined) return 'auto';
  if ((DRIVER_REQUESTS as readonly string[]).includes(flag)) return flag as DriverRequest;
  throw new BadInputError(`expected one of ${DRIVER_REQUESTS.join(', ')}, got "${flag}"`, '--driver');
}

/**
 * Resolves a driver request. `message` says which driver was chosen and why, for the
 * command to print. `detect` is injectable so the choice logic is testable anywhere.
 */
export async function resolveDriver(
  requested: DriverRequest,
  detect: () => Promise<RuntimeStatus> = detectContainerRuntime,
): Promise<{ driver: DriverName; message: string }> {
  if (requested === 'local') return { driver: 'local', message: 'driver: local (--driver local)' };
  const status = await detect();
  if (requested === 'docker') {
    if (!status.available) throw new InfraError(`${oneLine(status.reason)}; ${REMEDY}`, COMPONENT);
    return { driver: 'docker', message: `driver: docker (--driver docker; ${oneLine(status.reason)})` };
  }
  return status.available
    ? { driver: 'docker', message: `driver: docker (auto: ${oneLine(status.reason)})` }
    : { driver: 'local', message: `driver: local (auto: ${oneLine(status.reason)})` };
}

/**
 * For up/run/demo/gameday: `--driver` value in, chosen driver out. Bad value → BadInputError
 * (exit 2); "docker" without a runtime → InfraError, one line (exit 3). `onChoice` receives
 * the one-line message saying which driver was chosen and why.
 */
export async function selectDriverOrThrow(
  flag: string | undefined,
  onChoice?: (message: string) => void,
  detect?: () => Promise<RuntimeStatus>,
): Promise<DriverName> {
  const { driver, message } = await resolveDriver(parseDriverFlag(flag), detect);
  onChoice?.(message);
  return driver;
}

// ---------------------------------------------------------------------------------------
// Booting the compose topology

export interface HostEndpoint {
  host: string;
  port: number;
}

export interface DockerBootOptions extends DockerBundleOptions {
  /** start only these compose services (compose adds their depends_on); default: all */
  services?: string[];
  /** per-container wait for a healthy healthcheck (default 180 s: first boots pull and build) */
  startupTimeoutMs?: number;
  /** repository root, the Node image's build context (default: this checkout) */
  projectRoot?: string;
  detect?: () => Promise<RuntimeStatus>;
}

export interface DockerTopology {
  driver: 'docker';
  projectName: string;
  /** temp dir holding the compose file and the mounted configs (removed by dispose) */
  bundleDir: string;
  plan: DockerPlan;
  toxiproxyUrl: string;
  /** the project's Toxiproxy container, through the same client as the built-in proxy */
  toxiproxy: ToxiproxyClient;
  /** link id → Toxiproxy proxy name */
  proxyNames: Record<string, string>;
  /** host side of the client->app-* proxies (the workload's links) */
  clientLinks: Record<string, HostEndpoint>;
  /** observer endpoints on 127.0.0.1, only for started services */
  authoritatives: Record<string, { dnsTcp: HostEndpoint; dnsUdp: HostEndpoint; apiUrl: string }>;
  witnesses: Record<string, { dnsTcp: HostEndpoint; dnsUdp: HostEndpoint }>;
  apps: Record<string, { url: string }>;
  controllers: Record<string, { url: string }>;
  /**
   * JSONL event files (controllers, apps) inside their containers: component → path.
   * The Worker has no observer endpoint: it listens on the loopback of Toxiproxy's network
   * namespace, reachable only through the ctl->worker proxies.
   */
  eventsFiles: Record<string, { service: string; path: string }>;
  /** contents of a file inside a started service's container ("" if it does not exist yet) */
  readFile(service: string, path: string): Promise<string>;
  secrets: { pdnsApiKey: string; leaseSecrets: Record<string, string> };
  dispose(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

async function imageMissing(image: string): Promise<boolean> {
  try {
    const { docker } = await connectEngine();
    await docker.getImage(image).inspect();
    return false;
  } catch {
    return true;
  }
}

type DockerBundle = ReturnType<typeof renderDockerBundle>;
type ComposeEnvironment = InstanceType<typeof import('testcontainers').DockerComposeEnvironment>;
type StartedCompose = Awaited<ReturnType<ComposeEnvironment['up']>>;
type StartedContainer = ReturnType<StartedCompose['getContainer']>;

/** One compose project being booted: its name, its rendered bundle and where that is written. */
interface ComposeRun {
  projectName: string;
  bundle: DockerBundle;
  bundleDir: string;
}

/**
 * Boots the compose bundle: runtime check → bundle and secrets → files in a temp dir →
 * compose up → host-side endpoints. A failed `up` removes the bundle dir; a failure after it
 * takes the project down again (dispose) before the error propagates.
 */
export async function bootDockerTopology(opts: DockerBootOptions = {}): Promise<DockerTopology> {
  const status = await (opts.detect ?? detectContainerRuntime)();
  if (!status.available) throw new InfraError(`${oneLine(status.reason)}; ${REMEDY}`, COMPONENT);
  const projectRoot = opts.projectRoot ?? PROJECT_ROOT;
  const projectName = opts.projectName ?? `failover-lab-${randomBytes(4).toString('hex')}`;
  const bundle = renderDockerBundle({ ...opts, buildContext: projectRoot, projectName });
  const { secrets, environment } = bundleSecrets(bundle);
  const run: ComposeRun = { projectName, bundle, bundleDir: writeBundle(bundle) };
  const env = await composeEnvironment(run, environment, status, opts);
  const started = await composeUp(run, env, opts.services);
  const dispose = disposer(run, started);
  try {
    return describeStarted(run, started, secrets, dispose);
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Fresh secrets for the run, and the compose environment variables that carry them. */
function bundleSecrets(bundle: DockerBundle): {
  secrets: DockerTopology['secrets'];
  environment: Record<string, string>;
} {
  const secretValue = () => randomBytes(16).toString('hex');
  const leaseSecrets = Object.fromEntries(bundle.plan.spec.regions.map((r) => [r, secretValue()]));
  const pdnsApiKey = secretValue();
  const environment: Record<string, string> = { FL_PDNS_API_KEY: pdnsApiKey };
  for (const [r, s] of Object.entries(leaseSecrets)) environment[`FL_LEASE_SECRET_${r.toUpperCase()}`] = s;
  for (const v of bundle.secretVariables) {
    if (!(v in environment)) throw new Error(`compose secret ${v} has no value`);
  }
  return { secrets: { pdnsApiKey, leaseSecrets }, environment };
}

/** The compose file and every mounted file, in a new temp dir (returned). */
function writeBundle(bundle: DockerBundle): string {
  const bundleDir = mkdtempSync(join(tmpdir(), 'failover-lab-docker-'));
  // the containers' users (pdns uid 953, node uid 1000) read the mounted files
  chmodSync(bundleDir, 0o755);
  for (const [path, content] of Object.entries(bundle.files)) {
    const full = join(bundleDir, path);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, content, { mode: 0o644 });
  }
  return bundleDir;
}

/** testcontainers' compose environment for the bundle: project, secrets, readiness, build. */
async function composeEnvironment(
  run: ComposeRun,
  environment: Record<string, string>,
  status: RuntimeStatus,
  opts: DockerBootOptions,
): Promise<ComposeEnvironment> {
  const { bundle } = run;
  const selected = opts.services ?? Object.keys(bundle.compose.services);
  // build only when an image to build is missing (scripts/container-engine.sh images builds it
  // once; compose would otherwise rebuild it for every service that names it)
  const toBuild = [
    ...new Set(
      selected
        .map((s) => bundle.compose.services[s])
        .filter((x) => x?.build)
        .map((x) => x!.image),
    ),
  ];
  const needsBuild = (await Promise.all(toBuild.map(imageMissing))).some(Boolean);
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  let env = new DockerComposeEnvironment(run.bundleDir, COMPOSE_FILE)
    .withProjectName(run.projectName)
    .withEnvironment(environment)
    .withStartupTimeout(opts.startupTimeoutMs ?? 180_000);
  // podman runs health checks through systemd timers: without systemd they never report, so
  // there testcontainers' default (published ports listen) is the readiness signal
  if (!status.podman) env = env.withDefaultWaitStrategy(Wait.forHealthCheck());
  if (status.composeStandalone) env = env.withClientOptions({ executable: { standalone: true } });
  if (needsBuild) env = env.withBuild();
  return env;
}

/** compose up; on failure the bundle dir goes and the error is an InfraError (exit 3). */
async function composeUp(
  run: ComposeRun,
  env: ComposeEnvironment,
  services: string[] | undefined,
): Promise<StartedCompose> {
  try {
    return await env.up(services);
  } catch (err) {
    rmSync(run.bundleDir, { recursive: true, force: true });
    const msg = err instanceof Error ? err.message : String(err);
    throw new InfraError(
      `compose up of ${run.projectName} failed: ${oneLine(msg).slice(0, 300)}`,
      COMPONENT,
      msg,
    );
  }
}

/** compose down (volumes too) and the bundle dir removed, once however often it is called. */
function disposer(run: ComposeRun, started: StartedCompose): () => Promise<void> {
  let disposed = false;
  return async () => {
    if (disposed) return;
    disposed = true;
    try {
      await started.down({ removeVolumes: true, timeout: 10_000 });
    } finally {
      rmSync(run.bundleDir, { recursive: true, force: true });
    }
  };
}

/** A started service's container, or null when it is not among the started services. */
function containerOf(run: ComposeRun, started: StartedCompose, service: string): StartedContainer | null {
  try {
    // compose v2 names containers <project>-<service>-1, Debian's 1.29 <project>_<service>_1
    return started.getContainer(`${service}-1`);
  } catch {
    try {
      return started.getContainer(`${run.projectName}_${service}_1`);
    } catch {
      return null;
    }
  }
}

/** The host side of a published container port. */
function hostEndpoint(c: StartedContainer, port: number, proto = 'tcp'): HostEndpoint {
  // published ports bind 127.0.0.1 on the engine's host: only a local engine can serve them
  if (!LOOPBACK_HOSTS.has(c.getHost())) {
    throw new InfraError(
      `the runtime's host is ${c.getHost()}; published ports bind 127.0.0.1, so use a local engine`,
      COMPONENT,
    );
  }
  return { host: '127.0.0.1', port: c.getMappedPort(port, proto) };
}

const urlOf = (e: HostEndpoint): string => `http://${e.host}:${e.port}`;

/** The started project as the harness reaches it: the Toxiproxy API and the observer endpoints. */
function describeStarted(
  run: ComposeRun,
  started: StartedCompose,
  secrets: DockerTopology['secrets'],
  dispose: () => Promise<void>,
): DockerTopology {
  const { plan } = run.bundle;
  const toxi = containerOf(run, started, TOXIPROXY_SERVICE);
  if (!toxi) throw new InfraError('the toxiproxy service did not start', COMPONENT);
  const toxiproxyUrl = urlOf(hostEndpoint(toxi, CONTAINER_PORT.toxiproxyApi));
  const topo: DockerTopology = {
    driver: 'docker',
    projectName: run.projectName,
    bundleDir: run.bundleDir,
    plan,
    toxiproxyUrl,
    toxiproxy: new ToxiproxyClient(toxiproxyUrl),
    proxyNames: Object.fromEntries(plan.proxies.map((p) => [p.link.id, p.name])),
    clientLinks: Object.fromEntries(
      hostSideProxies(plan).map((p) => [p.link.id, hostEndpoint(toxi, p.listenPort)]),
    ),
    authoritatives: {},
    witnesses: {},
    apps: {},
    controllers: {},
    eventsFiles: {},
    async readFile(service, path) {
      const ct = containerOf(run, started, service);
      if (!ct) throw new InfraError(`service ${service} is not running`, COMPONENT);
      const r = await ct.exec(['cat', path]);
      return r.exitCode === 0 ? r.stdout : '';
    },
    secrets,
    dispose,
  };
  for (const c of plan.containers) {
    const ct = containerOf(run, started, c.service);
    if (ct) addObserverEndpoints(topo, c, ct);
  }
  return topo;
}

/** One started container's observer endpoints (and events file) by its kind. */
function addObserverEndpoints(
  topo: DockerTopology,
  c: DockerPlan['containers'][number],
  ct: StartedContainer,
): void {
  switch (c.kind) {
    case 'authoritative':
      topo.authoritatives[c.service] = {
        dnsTcp: hostEndpoint(ct, CONTAINER_PORT.dns, 'tcp'),
        dnsUdp: hostEndpoint(ct, CONTAINER_PORT.dns, 'udp'),
        apiUrl: urlOf(hostEndpoint(ct, CONTAINER_PORT.pdnsApi)),
      };
      break;
    case 'witness':
      topo.witnesses[c.service] = {
        dnsTcp: hostEndpoint(ct, CONTAINER_PORT.dns, 'tcp'),
        dnsUdp: hostEndpoint(ct, CONTAINER_PORT.dns, 'udp'),
      };
      break;
    case 'app':
      topo.apps[c.service] = { url: urlOf(hostEndpoint(ct, CONTAINER_PORT.app)) };
      topo.eventsFiles[c.service] = { service: c.service, path: eventsFileOf(c.service) };
      break;
    case 'controller':
      topo.controllers[c.service] = { url: urlOf(hostEndpoint(ct, CONTAINER_PORT.controllerAdmin)) };
      topo.eventsFiles[c.service] = { service: c.service, path: eventsFileOf(c.service) };
      break;
    default:
      break;
  }
}
