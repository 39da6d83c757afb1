/**
 * Boot phases that run in this process: the fault proxy with one proxy per link, and the
 * tombstone (the HTTP server a fenced name points at).
 */
import { createServer, type Server } from 'node:http';
import { startToxiproxyServer } from '../../toxiproxy/server.ts';
import {
  createLinkProxies,
  type LinkProxy,
  linkProxyMap,
  proxyNameOf,
  removeLinkProxies,
  UDP_SESSION_IDLE_MS,
} from '../proxies.ts';
import type { LinkWiring, RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

export interface LinkProxies {
  url: string;
  proxies: Map<string, LinkProxy>;
}

/** The fault proxy and its proxies: the built-in server, or ours on an external one. */
export async function startLinkProxies(
  run: BootRun,
  a: RunAddresses,
  wiring: LinkWiring,
): Promise<LinkProxies> {
  const { supervisor } = run;
  const items = run.spec.links.map((link) => ({
    link,
    listen: wiring.proxyOf(link.id),
    upstream: wiring.upstreamOf(link),
  }));
  const external = run.externalToxiproxy;
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
      host: a.proxyApi.host,
      port: a.proxyApi.port,
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
  run.markUp('toxiproxy');
  return { url, proxies };
}

/** The tombstone, in-process: it only ever says OK. */
export function startTombstone(run: BootRun, a: RunAddresses): Promise<void> {
  return new Promise<Server>((res, rej) => {
    const srv = createServer((_req, resp) => {
      resp.writeHead(200, { 'content-type': 'text/plain' });
      resp.end('OK tombstone\n');
    });
    srv.once('error', rej);
    srv.listen({ host: a.tombstone.host, port: a.tombstone.port }, () => res(srv));
  }).then((srv) => {
    run.supervisor.addCleanup('tombstone', () => new Promise<void>((r) => srv.close(() => r())));
    srv.unref();
    run.markUp('tombstone');
  });
}
