/**
 * Docker address plan: turns the topology description into networks, container addresses
 * and one Toxiproxy proxy per link. Pure data, no I/O; compose.ts renders it.
 *
 * Shape (the same links as the local driver, only the transport differs):
 *   - one bridge network per region ("region-a", ...) holding exactly that region's
 *     controller, app and authoritative, plus Toxiproxy;
 *   - one "shared" network holding the witnesses and Toxiproxy;
 *   - the lease Worker shares Toxiproxy's network namespace (compose network_mode) and
 *     listens on its 127.0.0.1 (the Worker accepts loopback addresses only), so Toxiproxy
 *     is the one way to reach it;
 *   - no component shares a network with a component of another region, so every
 *     cross-region path *must* go through Toxiproxy; intra-region links are proxied too,
 *     because every link of describeTopology() is a fault target.
 *   - the `client` component is the harness's workload on the host: it reaches the apps
 *     through the client->app-* proxies, published on 127.0.0.1.
 * Static addresses are needed where a peer cannot resolve names: unbound stub-addr and the
 * PowerDNS LUA answers (app addresses) take IP literals only.
 */
import type { ComponentSpec, LinkSpec, TopologySpec } from '../../scenario/topology-description.ts';
import { proxyNameOf } from '../proxies.ts';

/** Ports *inside* containers. Each container has its own network namespace, so these are fixed. */
export const CONTAINER_PORT = {
  dns: 53,
  pdnsApi: 8081,
  toxiproxyApi: 8474,
  app: 8080,
  controllerAdmin: 9090,
  worker: 8787,
  /** always-up health target served inside each authoritative container (see configs.ts) */
  tombstone: 8099,
} as const;

export const TOXIPROXY_SERVICE = 'toxiproxy';
export const SHARED_NETWORK = 'shared';
export const regionNetwork = (region: string): string => `region-${region}`;

export interface DockerPlanOptions {
  /** first two octets of the lab subnets: shared = <p>.0.0/24, region i = <p>.(i+1).0/24 */
  subnetPrefix?: string;
  /** Toxiproxy listen port of the first link; link i listens on first + i */
  firstProxyPort?: number;
  /** region whose app comes first in the service record before any controller publishes */
  initialPrimary?: string;
}

export const DEFAULT_SUBNET_PREFIX = '10.213';
export const DEFAULT_FIRST_PROXY_PORT = 20000;
/**
 * Answer of a region name while its app is unreachable (docs/engineering.md "tombstone").
 * TEST-NET-1 (RFC 5737): it is only ever compared, never dialled.
 */
export const TOMBSTONE_ADDRESS = '192.0.2.254';

export interface NetworkPlan {
  name: string;
  /** owning region, null for the shared network */
  region: string | null;
  subnet: string;
  gateway: string;
}

export interface ContainerPlan {
  /** compose service name: the component id, or "toxiproxy" */
  service: string;
  kind: ComponentSpec['kind'] | 'toxiproxy';
  region: string | null;
  /** network name → static IPv4 address (empty when it shares Toxiproxy's network namespace) */
  addresses: Record<string, string>;
  /** compose network_mode, e.g. "service:toxiproxy" for the Worker */
  networkMode: string | null;
}

export interface ProxyPlan {
  link: LinkSpec;
  name: string;
  listenPort: number;
  /** the container it reaches, and the address Toxiproxy dials for it */
  upstream: { service: string; host: string; port: number };
  /**
   * Where the link's `from` side dials: Toxiproxy's address on the from-component's network.
   * null for links from `client`, which come from the host through a published port.
   */
  dial: { host: string; port: number } | null;
}

export interface DockerPlan {
  spec: TopologySpec;
  subnetPrefix: string;
  initialPrimary: string;
  networks: NetworkPlan[];
  /** toxiproxy first, then the components in description order (client excluded) */
  containers: ContainerPlan[];
  proxies: ProxyPlan[];
  tombstoneAddress: string;
}

/** Host octet of each container on its network (toxiproxy is .2 everywhere; .1 is the gateway). */
const HOST_OCTET = { toxiproxy: 2, controller: 10, app: 11, authoritative: 12, witnessBase: 20 };

export const WORKER_NETWORK_MODE = `service:${TOXIPROXY_SERVICE}`;

export function planDockerTopology(spec: TopologySpec, opts: DockerPlanOptions = {}): DockerPlan {
  const subnetPrefix = opts.subnetPrefix ?? DEFAULT_SUBNET_PREFIX;
  if (!/^\d{1,3}\.\d{1,3}$/.test(subnetPrefix)) {
    throw new Error(`subnetPrefix must look like "10.213", got "${subnetPrefix}"`);
  }
  const firstProxyPort = opts.firstProxyPort ?? DEFAULT_FIRST_PROXY_PORT;
  const initialPrimary = opts.initialPrimary ?? spec.regions[0];
  if (initialPrimary === undefined || !spec.regions.includes(initialPrimary)) {
    throw new Error(`initialPrimary "${initialPrimary}" is not a region of the topology`);
  }
  if (spec.regions.length + 1 > 254) throw new Error('too many regions for the /24-per-network plan');

  const networks: NetworkPlan[] = [
    { name: SHARED_NETWORK, region: null, ...subnet(subnetPrefix, 0) },
    ...spec.regions.map((r, i) => ({ name: regionNetwork(r), region: r, ...subnet(subnetPrefix, i + 1) })),
  ];
  const netOf = (name: string): NetworkPlan => networks.find((n) => n.name === name)!;
  const ip = (net: string, host: number): string => `${netOf(net).subnet.replace(/0\/24$/, '')}${host}`;

  const containers: ContainerPlan[] = [
    {
      service: TOXIPROXY_SERVICE,
      kind: 'toxiproxy',
      region: null,
      addresses: Object.fromEntries(networks.map((n) => [n.name, ip(n.name, HOST_OCTET.toxiproxy)])),
      networkMode: null,
    },
  ];
  for (const c of spec.components) {
    if (c.kind === 'client') continue;
    if (c.kind === 'worker') {
      containers.push({
        service: c.id,
        kind: c.kind,
        region: null,
        addresses: {},
        networkMode: WORKER_NETWORK_MODE,
      });
      continue;
    }
    const net = c.region === null ? SHARED_NETWORK : regionNetwork(c.region);
    containers.push({
      service: c.id,
      kind: c.kind,
      region: c.region,
      addresses: { [net]: ip(net, hostOctet(spec, c)) },
      networkMode: null,
    });
  }

  const proxies: ProxyPlan[] = spec.links.map((link, i) => {
    const from = component(spec, link.from);
    const fromNet =
      from.kind === 'client' ? null : from.region === null ? SHARED_NETWORK : regionNetwork(from.region);
    const listenPort = firstProxyPort + i;
    return {
      link,
      name: proxyNameOf(link.id),
      listenPort,
      upstream: upstreamOf(spec, link, from),
      dial: fromNet === null ? null : { host: ip(fromNet, HOST_OCTET.toxiproxy), port: listenPort },
    };
  });
  const lastPort = firstProxyPort + proxies.length - 1;
  if (firstProxyPort < 1024 || lastPort > 65535) {
    throw new Error(`proxy ports ${firstProxyPort}-${lastPort} must lie within 1024-65535`);
  }

  return {
    spec,
    subnetPrefix,
    initialPrimary,
    networks,
    containers,
    proxies,
    tombstoneAddress: TOMBSTONE_ADDRESS,
  };
}

function subnet(prefix: string, third: number): { subnet: string; gateway: string } {
  return { subnet: `${prefix}.${third}.0/24`, gateway: `${prefix}.${third}.1` };
}

function hostOctet(spec: TopologySpec, c: ComponentSpec): number {
  switch (c.kind) {
    case 'controller':
      return HOST_OCTET.controller;
    case 'app':
      return HOST_OCTET.app;
    case 'authoritative':
      return HOST_OCTET.authoritative;
    case 'witness': {
      const n = spec.witnesses.indexOf(c.id);
      if (n < 0 || n > 8) throw new Error(`witness ${c.id} does not fit the address plan (at most 9)`);
      return HOST_OCTET.witnessBase + n + 1;
    }
    case 'worker':
      throw new Error("the Worker shares Toxiproxy's network namespace");
    case 'client':
      throw new Error('the client runs on the host, not in a container');
  }
}

function component(spec: TopologySpec, id: string): ComponentSpec {
  const c = spec.components.find((x) => x.id === id);
  if (!c) throw new Error(`link endpoint "${id}" is not a component of the topology`);
  return c;
}

/** The container and port a link's proxy forwards to; an unknown kind of link is an error, never a guess. */
function upstreamOf(spec: TopologySpec, link: LinkSpec, from: ComponentSpec): ProxyPlan['upstream'] {
  // service names: Toxiproxy sits on every network, so Docker's DNS resolves each of them
  const at = (service: string, port: number) => ({ service, host: service, port });
  if (link.to === 'peer') {
    const peers = spec.regions.filter((r) => r !== from.region);
    if (from.kind !== 'controller' || peers.length !== 1) {
      throw new Error(`link ${link.id}: "peer" needs a controller and exactly one other region`);
    }
    return at(`ctl-${peers[0]}`, CONTAINER_PORT.controllerAdmin);
  }
  const to = component(spec, link.to);
  switch (to.kind) {
    case 'worker':
      // same network namespace as Toxiproxy: its loopback
      return { service: to.id, host: '127.0.0.1', port: CONTAINER_PORT.worker };
    case 'witness':
      return at(to.id, CONTAINER_PORT.dns);
    case 'app':
      return at(to.id, CONTAINER_PORT.app);
    case 'authoritative':
      if (from.kind === 'witness') return at(to.id, CONTAINER_PORT.dns);
      if (from.kind === 'controller') return at(to.id, CONTAINER_PORT.pdnsApi);
      break;
    default:
      break;
  }
  throw new Error(`link ${link.id}: no Docker upstream for ${from.kind} -> ${to.kind}`);
}

/** Address of a container on the one network it has (every component container but the Worker has one). */
export function containerAddress(plan: DockerPlan, service: string): string {
  const c = plan.containers.find((x) => x.service === service);
  if (!c) throw new Error(`no container "${service}" in the plan`);
  const addrs = Object.values(c.addresses);
  if (addrs.length !== 1) throw new Error(`container "${service}" is on ${addrs.length} networks`);
  return addrs[0]!;
}

export function proxyFor(plan: DockerPlan, linkId: string): ProxyPlan {
  const p = plan.proxies.find((x) => x.link.id === linkId);
  if (!p) throw new Error(`no proxy for link "${linkId}"`);
  return p;
}

/** The dial address of a link from a container (links from the host-side client have none). */
export function dialOf(plan: DockerPlan, linkId: string): { host: string; port: number } {
  const p = proxyFor(plan, linkId);
  if (!p.dial) throw new Error(`link ${linkId} starts on the host; use its published port`);
  return p.dial;
}
