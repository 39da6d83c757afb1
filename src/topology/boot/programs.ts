/**
 * Boot phases of our own child programs: both run as bundles (prebuilt at setup, else bundled
 * for this run: src/topology/bundle.ts), then the app/database stand-ins start, and the
 * production controllers once the link proxies exist and the caller's beforeControllers hook
 * has run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_ENTRIES } from '../../build-options.mjs';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { programBundle } from '../bundle.ts';
import type { Endpoint } from '../configs.ts';
import { controllerEntry, controllerEnv, waitControllerPrimary } from '../controller-launch.ts';
import type { Managed } from '../supervisor.ts';
import type { ControllerHandle, TopologyOptions } from '../types.ts';
import type { LinkProxies } from './network.ts';
import type { LinkWiring, RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

/** How long the peer's controller waits at most for the initial primary's to be primary (durable backend). */
const INITIAL_PRIMARY_HEAD_START_MAX_MS = 10_000;

/** Paths of the bundled programs; controller is '' when the controllers are not started. */
export interface ProgramBundles {
  app: string;
  controller: string;
}

export function bundlePrograms(run: BootRun, withControllers: boolean): Promise<ProgramBundles> {
  const binDir = join(run.runDir, 'bin');
  return Promise.all([
    programBundle('app', join(PACKAGE_ROOT, PROGRAM_ENTRIES.app), join(binDir, 'app.mjs')),
    withControllers
      ? programBundle('controller', controllerEntry(PACKAGE_ROOT), join(binDir, 'controller.mjs'))
      : Promise.resolve(''),
  ]).then(([app, controller]) => ({ app, controller }));
}

/** Starts one app per region once its bundle exists. */
export function startApps(run: BootRun, a: RunAddresses, bundles: Promise<ProgramBundles>): Promise<void> {
  return bundles.then(({ app: appBundle }) => {
    for (const r of run.spec.regions) {
      run.supervisor.spawn({
        name: `app-${r}`,
        command: process.execPath,
        args: [appBundle],
        env: {
          PATH: process.env.PATH,
          APP_REGION: r,
          APP_HOST: a.apps[r]!.host,
          APP_PORT: String(a.apps[r]!.port),
          APP_EVENTS_FILE: a.apps[r]!.eventsFile,
          APP_STATE_FILE: join(run.runDir, `app-${r}.state.json`),
        },
      });
    }
  });
}

export interface ControllerLaunch {
  /** filled in as each controller is set up */
  controllers: Record<string, ControllerHandle>;
  /** (re)starts a set-up controller: same env, same faketime file */
  startController(region: string): Managed;
  /** resolves once every controller was started; done at once when controllers are off */
  started: Promise<void>;
}

/**
 * Starts the controllers, the initial primary's first. Every scenario starts with the initial
 * primary holding the lease. With the durable Worker the peer is started once the initial
 * primary's controller is primary, so a slow start on a loaded machine cannot hand the boot
 * to the peer (measured at load 10-19: the peer won 2 of 22 boots). Every controller process
 * is spawned at once and loads while it waits at its start gate (CONTROLLER_START_GATE,
 * src/topology/controller-main.ts), which opens once the Worker listens (a first lease request
 * that finds no Worker is retried only a heartbeat later) and, for the peer, once the initial
 * primary is primary: Node's start-up no longer adds to the boot. The legacy KV Worker opens
 * both gates together: its boot race is the finding kv-split-brain shows.
 */
export function launchControllers(
  run: BootRun,
  a: RunAddresses,
  wiring: LinkWiring,
  leaseName: string,
  bundles: Promise<ProgramBundles>,
  proxies: Promise<LinkProxies>,
  workerReady: Promise<unknown>,
): ControllerLaunch {
  const { supervisor } = run;
  const controllers: Record<string, ControllerHandle> = {};
  const ctlSpecs: Record<string, { env: Record<string, string | undefined>; bundle: string }> = {};
  /** (re)starts a controller; `gated`: it loads, then waits for a line on stdin to start */
  const spawnController = (region: string, gated: boolean): Managed => {
    const c = ctlSpecs[region]!;
    const h = controllers[region]!;
    if (h.faketime) h.faketime.spawnedAtMs = performance.now();
    const name = `ctl-${region}`;
    const spec = {
      name,
      command: process.execPath,
      args: [c.bundle],
      env: gated ? { ...c.env, CONTROLLER_START_GATE: 'stdin' } : c.env,
      ...(gated ? { stdin: 'pipe' as const } : {}),
    };
    return supervisor.has(name) ? supervisor.respawn(name, spec) : supervisor.spawn(spec);
  };
  const started =
    run.opts.startControllers !== false
      ? Promise.all([bundles, proxies.then(afterProxies(run.opts))]).then(async ([{ controller }]) => {
          const gated = new Map<string, Managed>();
          for (const r of run.orderedRegions) {
            const { handle, env } = controllerSetup(run, a, wiring, leaseName, r);
            controllers[r] = handle;
            ctlSpecs[r] = { env, bundle: controller };
            gated.set(r, spawnController(r, true));
          }
          const open = (r: string) => gated.get(r)?.child?.stdin?.end('start\n');
          // a lease request before the Worker listens fails and is retried only a heartbeat later
          await workerReady.catch(() => undefined);
          if (run.leaseBackend !== 'durable') {
            for (const r of run.orderedRegions) open(r);
            return;
          }
          open(run.initialPrimary);
          await waitControllerPrimary(a.ctlAdmin[run.initialPrimary]!, INITIAL_PRIMARY_HEAD_START_MAX_MS);
          for (const r of run.orderedRegions) if (r !== run.initialPrimary) open(r);
        })
      : Promise.resolve();
  const startController = (region: string): Managed => spawnController(region, false);
  return { controllers, startController, started };
}

/** Runs the caller's beforeControllers hook (awaited) once the proxies exist, then hands them on. */
function afterProxies<T extends LinkProxies>(opts: TopologyOptions) {
  return async (px: T): Promise<T> => {
    if (opts.beforeControllers) await opts.beforeControllers(px);
    return px;
  };
}

/**
 * A controller's handle and environment: it reaches the Worker, its witnesses, the
 * authoritatives' APIs, its peer and its app through its own ctl-<region>->x proxies.
 * Writes the faketime file of a controller that runs under libfaketime.
 */
function controllerSetup(
  run: BootRun,
  a: RunAddresses,
  wiring: LinkWiring,
  leaseName: string,
  r: string,
): { handle: ControllerHandle; env: Record<string, string | undefined> } {
  const { spec } = run;
  const { proxyOf } = wiring;
  const peer = spec.regions.find((x) => x !== r)!;
  const ft = run.faketimeFor[r];
  const timestampFile = join(run.runDir, `faketime-${r}.rc`);
  if (ft) writeFileSync(timestampFile, '+0\n');
  const eventsFile = join(run.runDir, 'events', `ctl-${r}.jsonl`);
  const handle: ControllerHandle = {
    region: r,
    admin: a.ctlAdmin[r]!,
    eventsFile,
    config: run.timing.controllers[r]!,
    faketime: ft ? { ...ft, timestampFile, spawnedAtMs: 0 } : null,
  };
  const url = (e: Endpoint) => `http://${e.host}:${e.port}`;
  const env = controllerEnv({
    region: r,
    peerRegion: peer,
    initialPrimary: r === run.initialPrimary,
    config: run.timing.controllers[r]!,
    workerUrl: url(proxyOf(`ctl-${r}->worker`)),
    secret: run.secrets[r]!,
    leaseName,
    witnesses: spec.witnesses.map((w) => ({ id: w, via: proxyOf(`ctl-${r}->${w}`) })),
    dnsTransport: spec.links.find((l) => l.id === `ctl-${r}->${spec.witnesses[0]}`)!.protocol,
    selfAppAddress: a.apps[r]!.host,
    peerAppAddress: a.apps[peer]!.host,
    tombstoneAddress: a.tombstone.host,
    peerHealthUrl: `${url(proxyOf(`ctl-${r}->peer`))}/healthz`,
    pdnsApiUrls: spec.regions.map((x) => url(proxyOf(`ctl-${r}->auth-${x}`))),
    pdnsApiKey: run.pdnsApiKey,
    zone: spec.zone,
    serviceLabel: spec.serviceName.replace(`.${spec.zone}`, ''),
    serviceCheckUrls: Object.fromEntries(
      spec.regions.map((x) => [
        url(proxyOf(`ctl-${r}->auth-${x}`)),
        Object.fromEntries(spec.regions.map((app) => [app, wiring.appCheckUrlOf(x, app)])),
      ]),
    ),
    webhookUrl: `${url(proxyOf(`ctl-${r}->app-${r}`))}/authority`,
    admin: a.ctlAdmin[r]!,
    eventsFile,
    faketime: ft ? { timestampFile, fakeMonotonic: ft.fakeMonotonic } : null,
  });
  return { handle, env };
}
