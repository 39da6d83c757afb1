/**
 * Boot phase: the address plan of a run (docs/topology.md). Every component gets a free port
 * on its own loopback address, probed in parallel; every directed link gets a proxy listener.
 * linkWiring then answers, per link, where its proxy listens and what it forwards to.
 */
import { join } from 'node:path';
import { InfraError } from '../../errors.ts';
import type { LinkSpec } from '../../scenario/topology-description.ts';
import { COMPONENT_OCTET, freePort, REGION_HOST, sameFreePort } from '../addresses.ts';
import type { Endpoint } from '../configs.ts';
import { type BootRun, ip, regionOctet } from './run.ts';

export interface RunAddresses {
  worker: Endpoint;
  authDns: Record<string, Endpoint>;
  authApi: Record<string, Endpoint>;
  apps: Record<string, Endpoint & { eventsFile: string }>;
  ctlAdmin: Record<string, Endpoint>;
  witnesses: Record<string, Endpoint>;
  proxyApi: Endpoint;
  tombstone: Endpoint;
  /** per link id, where its proxy listens */
  listenOf: Map<string, Endpoint>;
}

/** Probes a free port for every component and link proxy of the run (in parallel). */
export async function allocateAddresses(run: BootRun, worker: Endpoint): Promise<RunAddresses> {
  const { spec, octet } = run;
  const a: RunAddresses = {
    worker,
    authDns: {},
    authApi: {},
    apps: {},
    ctlAdmin: {},
    witnesses: {},
    proxyApi: { host: '', port: 0 },
    tombstone: { host: '', port: 0 },
    listenOf: new Map(),
  };
  const portJobs: Array<Promise<void>> = [];
  const probe = (host: string, udp: boolean, set: (e: Endpoint) => void): void => {
    portJobs.push(freePort(host, { udp }).then((port) => set({ host, port })));
  };
  for (const r of spec.regions) {
    const third = regionOctet(spec, r);
    probe(ip(octet, third, REGION_HOST.auth), true, (e) => {
      a.authDns[r] = e;
    });
    probe(ip(octet, third, REGION_HOST.auth), false, (e) => {
      a.authApi[r] = e;
    });
    probe(ip(octet, third, REGION_HOST.controller), false, (e) => {
      a.ctlAdmin[r] = e;
    });
  }
  for (const [i, w] of spec.witnesses.entries()) {
    probe(ip(octet, COMPONENT_OCTET.witnesses, i + 1), true, (e) => {
      a.witnesses[w] = e;
    });
  }
  probe(ip(octet, COMPONENT_OCTET.proxyApi, 1), false, (e) => {
    a.proxyApi = e;
  });
  probe(ip(octet, COMPONENT_OCTET.tombstone, 1), false, (e) => {
    a.tombstone = e;
  });
  for (const [i, l] of spec.links.entries()) {
    probe(ip(octet, COMPONENT_OCTET.proxyListeners, i + 1), l.protocol === 'udp', (e) => {
      a.listenOf.set(l.id, e);
    });
  }
  // All apps listen on the same port (free on each app address), so the agent's ifurlup form
  // (SVC_HEALTH_URL: one URL port checked at every app address) also works here; the
  // topology itself uses the ifurlextup form (SVC_CHECK_URLS, through the auth->app proxies).
  portJobs.push(
    sameFreePort(spec.regions.map((r) => ip(octet, regionOctet(spec, r), REGION_HOST.app))).then((port) => {
      for (const r of spec.regions) {
        a.apps[r] = {
          host: ip(octet, regionOctet(spec, r), REGION_HOST.app),
          port,
          eventsFile: join(run.runDir, 'events', `app-${r}.jsonl`),
        };
      }
    }),
  );
  await Promise.all(portJobs);
  if (a.authDns.a && a.authApi.a && a.authDns.a.port === a.authApi.a.port) {
    throw new InfraError('port probe returned the same port twice', 'topology');
  }
  return a;
}

export interface LinkWiring {
  /** where the proxy of link `id` listens */
  proxyOf(id: string): Endpoint;
  /** what the proxy of a link forwards to */
  upstreamOf(link: LinkSpec): Endpoint;
  /** URL authoritative `auth` checks app `app` at: through its own auth->app proxy (IP literal). */
  appCheckUrlOf(auth: string, app: string): string;
}

export function linkWiring(run: BootRun, a: RunAddresses): LinkWiring {
  const { spec } = run;
  const proxyOf = (id: string): Endpoint => {
    const e = a.listenOf.get(id);
    if (!e) throw new InfraError(`no proxy for link ${id}`, 'topology');
    return e;
  };
  const upstreamOf = (l: LinkSpec): Endpoint => {
    const to = l.to;
    if (to === 'worker') return a.worker;
    if (to === 'peer') {
      const self = l.from.replace(/^ctl-/, '');
      const peer = spec.regions.find((r) => r !== self)!;
      return a.ctlAdmin[peer]!;
    }
    if (to.startsWith('auth-')) {
      const r = to.slice(5);
      return l.from.startsWith('ctl-') ? a.authApi[r]! : a.authDns[r]!;
    }
    if (to.startsWith('app-')) return a.apps[to.slice(4)]!;
    if (a.witnesses[to]) return a.witnesses[to]!;
    throw new InfraError(`no upstream for link ${l.id}`, 'topology');
  };
  const appCheckUrlOf = (auth: string, app: string): string => {
    const p = proxyOf(`auth-${auth}->app-${app}`);
    return `http://${p.host}:${p.port}/health`;
  };
  return { proxyOf, upstreamOf, appCheckUrlOf };
}
