/**
 * One Toxiproxy proxy per directed link of describeTopology(). The proxy server is either
 * the built-in Toxiproxy-compatible one (src/toxiproxy, started in-process) or any server
 * named by TOXIPROXY_URL; everything goes through its HTTP API (src/toxiproxy/client.ts), so
 * the fault code works unchanged against the real Toxiproxy.
 */
import { BadInputError, InfraError } from '../errors.ts';
import type { LinkProtocol, LinkSpec } from '../scenario/topology-description.ts';
import { type ProxySpec, ToxiproxyClient } from '../toxiproxy/client.ts';
import { type Endpoint, hostPort } from './configs.ts';

/**
 * A UDP link proxy forgets a client's session after this long without a datagram. DNS
 * transactions take milliseconds and every query comes from a fresh source port, so a short
 * idle time keeps the number of open sockets small.
 */
export const UDP_SESSION_IDLE_MS = 5_000;

/**
 * The witness path's transport: `explicit` if given, else FAILOVER_LAB_DNS_TRANSPORT, else
 * udp with the built-in proxy and tcp with an external Toxiproxy (a real one has no UDP).
 */
export function chooseDnsTransport(
  explicit: LinkProtocol | undefined,
  externalProxy: boolean,
  env: NodeJS.ProcessEnv = process.env,
): LinkProtocol {
  if (explicit) return explicit;
  const fromEnv = env['FAILOVER_LAB_DNS_TRANSPORT']?.trim().toLowerCase();
  if (fromEnv === 'udp' || fromEnv === 'tcp') return fromEnv;
  if (fromEnv) {
    throw new BadInputError(`expected udp or tcp, got "${fromEnv}"`, 'env FAILOVER_LAB_DNS_TRANSPORT');
  }
  return externalProxy ? 'tcp' : 'udp';
}

export interface LinkProxy {
  link: LinkSpec;
  /** Toxiproxy proxy name (link ids contain '>' which is awkward in URL paths) */
  name: string;
  listen: Endpoint;
  upstream: Endpoint;
}

export function proxyNameOf(linkId: string): string {
  return linkId.replace('->', '__to__');
}

export async function createLinkProxies(
  toxiproxyUrl: string,
  items: Array<{ link: LinkSpec; listen: Endpoint; upstream: Endpoint }>,
): Promise<Map<string, LinkProxy>> {
  const tp = new ToxiproxyClient(toxiproxyUrl);
  const body: ProxySpec[] = items.map((i) => ({
    name: proxyNameOf(i.link.id),
    listen: hostPort(i.listen),
    upstream: hostPort(i.upstream),
    enabled: true,
    // our extension (docs/toxiproxy.md); only the built-in server honours it
    ...(i.link.protocol === 'udp' ? { protocol: 'udp' as const } : {}),
  }));
  try {
    // One request for all of them (populate), instead of one round trip per link.
    await tp.populate(body);
  } catch (err) {
    throw new InfraError(`could not create the link proxies: ${(err as Error).message}`, 'toxiproxy');
  }
  return linkProxyMap(items);
}

export function linkProxyMap(
  items: Array<{ link: LinkSpec; listen: Endpoint; upstream: Endpoint }>,
): Map<string, LinkProxy> {
  const out = new Map<string, LinkProxy>();
  for (const i of items)
    out.set(i.link.id, {
      link: i.link,
      name: proxyNameOf(i.link.id),
      listen: i.listen,
      upstream: i.upstream,
    });
  return out;
}

export async function removeLinkProxies(
  toxiproxyUrl: string,
  proxies: Map<string, LinkProxy>,
): Promise<void> {
  const tp = new ToxiproxyClient(toxiproxyUrl);
  await Promise.all(
    [...proxies.values()].map(async (p) => {
      try {
        await tp.deleteProxy(p.name);
      } catch {
        /* already gone */
      }
    }),
  );
}
