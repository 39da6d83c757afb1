/**
 * The Docker driver's half of "one topology description drives both drivers": turns
 * describeTopology() (+ image tags, time scale, lease backend) into a Compose model and the
 * config files its services mount. `renderDockerBundle()` is the single generator behind
 * the checked-in docker-compose.yml + docker/** (generate.ts) and behind every
 * bootDockerTopology() run (driver.ts), so the two can never disagree.
 */
import { Document, Scalar, visit } from 'yaml';
import {
  describeTopology,
  type TopologyOptions,
  type TopologySpec,
} from '../../scenario/topology-description.ts';
import { type ControllerOverridesInput, type ScaledTiming, scaledTiming } from '../timing.ts';
import {
  APP_ENTRY,
  appEnvironment,
  controllerEnvironment,
  generatedHeader,
  hostSideProxies,
  LEASE_NAME,
  type LeaseBackend,
  MOUNT,
  PDNS_API_KEY_ENV,
  pdnsSettings,
  pdnsStartScript,
  toxiproxyPopulate,
  witnessConf,
  workerArgs,
  zoneSqlFile,
} from './configs.ts';
import {
  CONTAINER_PORT,
  type ContainerPlan,
  type DockerPlan,
  type DockerPlanOptions,
  planDockerTopology,
  TOXIPROXY_SERVICE,
} from './plan.ts';

/**
 * Images per role. By default all are the project image, built locally from the Dockerfile
 * (target "lab": Debian's PowerDNS 4.7 and unbound, Node, the project): no registry pull.
 * Each is an option, so a CI with registry access can pin other images (docs/docker.md).
 */
export interface DockerImages {
  pdnsAuth: string;
  unbound: string;
  toxiproxy: string;
  node: string;
}

export const LAB_IMAGE_TAG = 'localhost/failover-lab/lab:local';

export const DEFAULT_IMAGES: DockerImages = {
  pdnsAuth: LAB_IMAGE_TAG,
  unbound: LAB_IMAGE_TAG,
  toxiproxy: LAB_IMAGE_TAG,
  node: LAB_IMAGE_TAG,
};

/** Dockerfile stage every Node service runs (`controller` is the stage for a controller-only image). */
export const NODE_IMAGE_TARGET = 'lab';
export const DEFAULT_TIME_SCALE = 0.1;
export const DEFAULT_LEASE_BACKEND: LeaseBackend = 'durable';
export const DEFAULT_PROJECT_NAME = 'failover-lab';
export const COMPOSE_FILE = 'docker-compose.yml';

export interface DockerBundleOptions extends DockerPlanOptions, TopologyOptions {
  images?: Partial<DockerImages>;
  /** production durations × timeScale (scenario topology.timeScale), as the local driver scales them */
  timeScale?: number;
  leaseBackend?: LeaseBackend;
  /** scenario controller overrides (production ms) */
  controller?: ControllerOverridesInput;
  /** build context of the Node image, as written in the compose file ("." for the checked-in file) */
  buildContext?: string;
  projectName?: string;
}

// ---------------------------------------------------------------------------------------
// Compose model (the subset of the Compose Specification this project writes)

export interface ComposeHealthcheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
}

export interface ComposeService {
  image: string;
  build?: { context: string; target: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  dns?: string[];
  dns_opt?: string[];
  stop_grace_period?: string;
  network_mode?: string;
  networks?: Record<string, { ipv4_address: string }>;
  ports?: string[];
  depends_on?: Record<string, { condition: 'service_started' }>;
  healthcheck: ComposeHealthcheck;
  labels: Record<string, string>;
}

export interface ComposeNetwork {
  driver: 'bridge';
  ipam: { config: Array<{ subnet: string; gateway: string }> };
  labels: Record<string, string>;
}

export interface ComposeFile {
  /** no top-level `name:`: Debian's docker-compose 1.29 rejects it; the project name is -p / COMPOSE_PROJECT_NAME */
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
}

export interface DockerBundle {
  plan: DockerPlan;
  compose: ComposeFile;
  /** path relative to the compose file's directory → file content (includes docker-compose.yml) */
  files: Record<string, string>;
  /** host environment variables the compose file reads (secrets; each has a dev-only default) */
  secretVariables: string[];
}

export const LABEL = {
  component: 'io.failover-lab.component',
  kind: 'io.failover-lab.kind',
  region: 'io.failover-lab.region',
} as const;

/** Bundle paths of the mounted files (relative to the compose file). */
export const BUNDLE_PATH = {
  toxiproxy: 'docker/toxiproxy.json',
  pdnsConf: 'docker/pdns/pdns.conf',
  pdnsStart: 'docker/pdns/start.sh',
  zone: (auth: string) => `docker/pdns/${auth}.sql`,
  witness: (w: string) => `docker/unbound/${w}.conf`,
} as const;

const HEALTH = { interval: '2s', timeout: '3s', retries: 30, start_period: '10s' } as const;

/**
 * Node health probe, run with `node -e` inside the Node image (it has no curl):
 * argv[1] = URL, argv[2] = highest status that counts as healthy.
 */
const NODE_HTTP_PROBE =
  'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)})' +
  '.then(r=>process.exit(r.status<=Number(process.argv[2])?0:1),()=>process.exit(1))';

/** PowerDNS health probe: API up and the zone loaded (key from the container's environment). */
const pdnsProbe = (zone: string): string =>
  `fetch('http://127.0.0.1:${CONTAINER_PORT.pdnsApi}/api/v1/servers/localhost/zones/${zone}',` +
  `{headers:{'X-API-Key':process.env.${PDNS_API_KEY_ENV}},signal:AbortSignal.timeout(2000)})` +
  '.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))';

/** unbound health probe: any DNS answer (even SERVFAIL while the authoritatives are cut off) means up. */
const WITNESS_PROBE =
  "const r=new (require('node:dns').promises.Resolver)({timeout:2000,tries:1});r.setServers(['127.0.0.1']);" +
  "r.resolveSoa(process.argv[1]).then(()=>process.exit(0),e=>process.exit(['ETIMEOUT','ECONNREFUSED'].includes(e.code)?1:0))";

/** The project CLI inside the image (no npx: one process fewer between tini and the service). */
const CLI = ['node', 'bin/failover-lab.mjs'];

const devDefault = (name: string, fallback: string): string => `\${${name}:-${fallback}}`;
const leaseSecretVar = (region: string): string => `FL_LEASE_SECRET_${region.toUpperCase()}`;
const PDNS_KEY_VAR = 'FL_PDNS_API_KEY';

/** 127.0.0.1 only, ephemeral host port: observers on the host, never a path between containers. */
const published = (port: number, proto?: 'tcp' | 'udp'): string =>
  `127.0.0.1::${port}${proto ? `/${proto}` : ''}`;

export function buildComposeModel(opts: DockerBundleOptions = {}): {
  plan: DockerPlan;
  compose: ComposeFile;
  timing: ScaledTiming;
} {
  // witness path over TCP proxies: what the Docker driver verified (the UDP path of the local
  // driver is not wired into the containers yet)
  const spec = describeTopology({
    regions: opts.regions,
    witnessCount: opts.witnessCount,
    dnsTransport: 'tcp',
  });
  const plan = planDockerTopology(spec, opts);
  const images = { ...DEFAULT_IMAGES, ...opts.images };
  const buildContext = opts.buildContext ?? '.';
  const zone = spec.zone;
  const timeScale = opts.timeScale ?? DEFAULT_TIME_SCALE;
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error(`timeScale must be in (0, 1], got ${timeScale}`);
  const timing = scaledTiming({
    timeScale,
    regions: spec.regions,
    witnesses: spec.witnesses,
    overrides: opts.controller,
  });
  const leaseBackend = opts.leaseBackend ?? DEFAULT_LEASE_BACKEND;
  const secrets = {
    pdnsApiKey: devDefault(PDNS_KEY_VAR, 'dev-only-pdns-api-key'),
    leaseSecret: (r: string) => devDefault(leaseSecretVar(r), `dev-only-lease-secret-${r}`),
  };

  const cx: ComposeContext = {
    spec,
    plan,
    images,
    build: { context: buildContext, target: NODE_IMAGE_TARGET },
    zone,
    timing,
    leaseBackend,
    secrets,
  };
  const services: Record<string, ComposeService> = {};
  for (const c of plan.containers) services[c.service] = canonicalOrder(serviceFor(cx, c));
  const networks: Record<string, ComposeNetwork> = Object.fromEntries(
    cx.plan.networks.map((n): [string, ComposeNetwork] => [
      n.name,
      {
        driver: 'bridge',
        ipam: { config: [{ subnet: n.subnet, gateway: n.gateway }] },
        labels: n.region === null ? { [LABEL.kind]: 'shared' } : { [LABEL.region]: n.region },
      },
    ]),
  );

  return { plan, compose: { services, networks }, timing };
}

/** What every service of one compose model is built from. */
interface ComposeContext {
  spec: TopologySpec;
  plan: DockerPlan;
  images: typeof DEFAULT_IMAGES;
  build: { context: string; target: string };
  zone: string;
  timing: ScaledTiming;
  leaseBackend: NonNullable<DockerBundleOptions['leaseBackend']>;
  secrets: { pdnsApiKey: string; leaseSecret: (r: string) => string };
}

/** Networks, labels, and DNS pinned to the gateway: no lookup ever leaves the bridge. */
function base(
  cx: ComposeContext,
  c: ContainerPlan,
): Pick<ComposeService, 'networks' | 'network_mode' | 'labels' | 'dns' | 'dns_opt' | 'stop_grace_period'> {
  const labels: Record<string, string> = { [LABEL.component]: c.service, [LABEL.kind]: c.kind };
  if (c.region !== null) labels[LABEL.region] = c.region;
  // tini forwards SIGTERM and every service exits on it: no stop needs the default 10 s
  const stop_grace_period = '3s';
  if (c.networkMode !== null) return { network_mode: c.networkMode, labels, stop_grace_period };
  const first = Object.keys(c.addresses)[0]!;
  return {
    dns: [cx.plan.networks.find((n) => n.name === first)!.gateway],
    dns_opt: ['timeout:1', 'attempts:2'],
    stop_grace_period,
    networks: Object.fromEntries(Object.entries(c.addresses).map(([n, a]) => [n, { ipv4_address: a }])),
    labels,
  };
}

/**
 * Start order only, not "healthy": podman runs health checks through systemd timers, so on an
 * engine without systemd a service never turns healthy and a healthy-condition would block
 * `up` forever. Every service retries its dependencies (controllers, unbound, PowerDNS's
 * LUA checks); the health checks still tell `ps` and Docker's `up --wait` when all answer.
 */
function healthy(...names: string[]): Record<string, { condition: 'service_started' }> {
  return Object.fromEntries(names.map((n) => [n, { condition: 'service_started' as const }]));
}

/** One image, several services: only the command, environment and probe differ. */
function nodeService(
  cx: ComposeContext,
  c: ContainerPlan,
  command: string[],
  environment: Record<string, string>,
  probe: { port: number; path: string; maxStatus: number },
): ComposeService {
  return {
    image: cx.images.node,
    ...(cx.images.node === LAB_IMAGE_TAG ? { build: cx.build } : {}),
    // the image's entrypoint is tini: it forwards SIGTERM and reaps
    command,
    environment,
    // a service sharing Toxiproxy's network namespace cannot publish ports of its own
    ...(c.networkMode === null ? { ports: [published(probe.port)] } : {}),
    healthcheck: {
      test: [
        'CMD',
        'node',
        '-e',
        NODE_HTTP_PROBE,
        `http://127.0.0.1:${probe.port}${probe.path}`,
        String(probe.maxStatus),
      ],
      ...HEALTH,
    },
    ...base(cx, c),
  };
}

function serviceFor(cx: ComposeContext, c: ContainerPlan): ComposeService {
  switch (c.kind) {
    case 'toxiproxy': {
      const last = cx.plan.proxies[cx.plan.proxies.length - 1];
      if (!last) throw new Error('the topology has no links');
      return {
        image: cx.images.toxiproxy,
        ...(cx.images.toxiproxy === LAB_IMAGE_TAG ? { build: cx.build } : {}),
        // the built-in Toxiproxy-compatible server; 0.0.0.0 inside its own network namespace
        command: [
          ...CLI,
          'toxiproxy',
          '--host',
          '0.0.0.0',
          // inside its own network namespace: the addresses the other containers reach it at
          '--allow-non-loopback',
          '--port',
          String(CONTAINER_PORT.toxiproxyApi),
          '--config',
          MOUNT.toxiproxyConfig,
        ],
        volumes: [`./${BUNDLE_PATH.toxiproxy}:${MOUNT.toxiproxyConfig}:ro`],
        ports: [
          published(CONTAINER_PORT.toxiproxyApi),
          ...hostSideProxies(cx.plan).map((p) => published(p.listenPort)),
        ],
        // "healthy" means the last proxy of the config file exists (they load in order)
        healthcheck: {
          test: [
            'CMD',
            'node',
            '-e',
            NODE_HTTP_PROBE,
            `http://127.0.0.1:${CONTAINER_PORT.toxiproxyApi}/proxies/${last.name}`,
            '299',
          ],
          ...HEALTH,
        },
        ...base(cx, c),
      };
    }
    case 'authoritative':
      return {
        image: cx.images.pdnsAuth,
        ...(cx.images.pdnsAuth === LAB_IMAGE_TAG ? { build: cx.build } : {}),
        command: ['/bin/sh', MOUNT.pdnsStart],
        environment: { [PDNS_API_KEY_ENV]: cx.secrets.pdnsApiKey },
        volumes: [
          `./${BUNDLE_PATH.pdnsConf}:${MOUNT.pdnsConf}:ro`,
          `./${BUNDLE_PATH.pdnsStart}:${MOUNT.pdnsStart}:ro`,
          `./${BUNDLE_PATH.zone(c.service)}:${MOUNT.pdnsZoneSql}:ro`,
        ],
        ports: [
          published(CONTAINER_PORT.dns, 'tcp'),
          published(CONTAINER_PORT.dns, 'udp'),
          published(CONTAINER_PORT.pdnsApi),
        ],
        healthcheck: { test: ['CMD', 'node', '-e', pdnsProbe(cx.zone)], ...HEALTH },
        ...base(cx, c),
      };
    case 'witness':
      return {
        image: cx.images.unbound,
        ...(cx.images.unbound === LAB_IMAGE_TAG ? { build: cx.build } : {}),
        command: ['unbound', '-d', '-c', MOUNT.unboundConf],
        volumes: [`./${BUNDLE_PATH.witness(c.service)}:${MOUNT.unboundConf}:ro`],
        ports: [published(CONTAINER_PORT.dns, 'tcp'), published(CONTAINER_PORT.dns, 'udp')],
        depends_on: healthy(TOXIPROXY_SERVICE),
        healthcheck: { test: ['CMD', 'node', '-e', WITNESS_PROBE, cx.zone], ...HEALTH },
        ...base(cx, c),
      };
    case 'worker':
      return {
        ...nodeService(
          cx,
          c,
          [...CLI, 'worker', ...workerArgs(cx.timing, cx.plan.initialPrimary, cx.leaseBackend)],
          {
            // Worker binding LEASE_SECRETS: {"<region>":"<secret>"}
            LEASE_SECRETS: `{${cx.spec.regions.map((r) => `"${r}":"${cx.secrets.leaseSecret(r)}"`).join(',')}}`,
          },
          // an unsigned request gets 401: any answer below 500 means the Worker is serving
          { port: CONTAINER_PORT.worker, path: `/status?lease=${LEASE_NAME}`, maxStatus: 499 },
        ),
        depends_on: healthy(TOXIPROXY_SERVICE),
      };
    case 'app':
      return nodeService(cx, c, ['node', '--import', 'tsx', APP_ENTRY], appEnvironment(c.region!), {
        port: CONTAINER_PORT.app,
        path: '/health',
        maxStatus: 299,
      });
    case 'controller':
      return {
        ...nodeService(
          cx,
          c,
          [...CLI, 'controller'],
          controllerEnvironment(cx.plan, c.region!, cx.timing, cx.secrets),
          {
            port: CONTAINER_PORT.controllerAdmin,
            path: '/healthz',
            maxStatus: 299,
          },
        ),
        depends_on: healthy(
          TOXIPROXY_SERVICE,
          'worker',
          ...cx.spec.witnesses,
          ...cx.spec.regions.flatMap((r) => [`auth-${r}`, `app-${r}`]),
        ),
      };
    case 'client':
      throw new Error('the client runs on the host');
  }
}

const SERVICE_KEY_ORDER: Array<keyof ComposeService> = [
  'image',
  'build',
  'entrypoint',
  'command',
  'environment',
  'volumes',
  'ports',
  'depends_on',
  'healthcheck',
  'dns',
  'dns_opt',
  'stop_grace_period',
  'network_mode',
  'networks',
  'labels',
];

/** Same key order in every service, so the generated file reads (and diffs) predictably. */
function canonicalOrder(s: ComposeService): ComposeService {
  const out: Record<string, unknown> = {};
  for (const k of SERVICE_KEY_ORDER) if (s[k] !== undefined) out[k] = s[k];
  return out as unknown as ComposeService;
}

/** Everything `docker compose up` needs next to the compose file, as path → content. */
export function renderDockerBundle(opts: DockerBundleOptions = {}): DockerBundle {
  const { plan, compose, timing } = buildComposeModel(opts);
  const { spec } = plan;
  const files: Record<string, string> = {
    [COMPOSE_FILE]: composeYaml(compose),
    [BUNDLE_PATH.toxiproxy]: `${JSON.stringify(toxiproxyPopulate(plan), null, 2)}\n`,
    [BUNDLE_PATH.pdnsConf]: pdnsSettings(timing.pdnsHealthCheckIntervalS, plan.subnetPrefix),
    [BUNDLE_PATH.pdnsStart]: pdnsStartScript(),
  };
  for (const r of spec.regions) files[BUNDLE_PATH.zone(`auth-${r}`)] = zoneSqlFile(plan, `auth-${r}`);
  for (const w of spec.witnesses) files[BUNDLE_PATH.witness(w)] = witnessConf(plan, w);
  const secretVariables = [PDNS_KEY_VAR, ...spec.regions.map(leaseSecretVar)];
  return { plan, compose, files, secretVariables };
}

export function composeYaml(compose: ComposeFile): string {
  const header = generatedHeader(
    '#',
    'Docker mode of the two-region topology (docs/docker.md); every image is built locally.\n' +
      '# By hand: bash scripts/container-engine.sh images; docker-compose up -d; docker-compose rm -fsv worker; docker-compose down\n' +
      "# (worker lives in toxiproxy's network namespace: podman removes toxiproxy only after it, and down removes in parallel)",
  );
  // Every string value quoted: "127.0.0.1::53/udp" and friends never meet a YAML 1.1 parser's
  // sexagesimal or boolean guesses. Double quotes, except single where that avoids escaping
  // (what biome's YAML formatter writes too); lineWidth 0 keeps long commands on one line.
  const doc = new Document(compose);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.includes('"') && !node.value.includes("'")) {
        node.type = Scalar.QUOTE_SINGLE;
      }
    },
  });
  const body = doc.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
  return `${header}\n${body}`;
}
