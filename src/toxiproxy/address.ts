/**
 * `host:port` handling for proxy listen and upstream addresses, with Go's rules and error
 * texts (spec §4.3): `localhost` resolves to IPv4 first, a wildcard host binds dual-stack
 * `::` and is reported as `[::]:P`, and once bound a proxy reports the address it really got.
 */
import { lookup } from 'node:dns/promises';
import { isIP, type Server } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** Go's net.SplitHostPort plus port parsing, with the texts Go's net.Listen reports. */
export function splitHostPort(address: string): HostPort | { error: string } {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) return { error: `address ${address}: missing ']' in address` };
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (rest === '') return { error: `address ${address}: missing port in address` };
    if (!rest.startsWith(':')) return { error: `address ${address}: missing port in address` };
    portText = rest.slice(1);
    if (portText.includes(':')) return { error: `address ${address}: too many colons in address` };
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) return { error: `address ${address}: missing port in address` };
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) return { error: `address ${address}: too many colons in address` };
  }
  // Go reads an empty port as 0 (any port). Service names (`:http`) are not supported.
  if (portText === '') return { host, port: 0 };
  if (!/^\d+$/.test(portText)) return { error: `address ${portText}: invalid port` };
  const port = Number(portText);
  if (port > 65535) return { error: `address ${portText}: invalid port` };
  return { host, port };
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

export interface ResolvedListen {
  /** Address to bind; '' means the wildcard (all interfaces). */
  ip: string;
  port: number;
  /** Go's TCPAddr.String() of the resolved address, used for "did listen change?" checks. */
  canonical: string;
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Resolve a listen string (DNS plus port) as Go's net.ResolveTCPAddr does. Errors carry
 * Go's wording with the `listen tcp: ` prefix, ready to become a 500 body.
 */
export async function resolveListen(listen: string): Promise<ResolvedListen | { error: string }> {
  const split = splitHostPort(listen);
  if ('error' in split) return { error: `listen tcp: ${split.error}` };
  const { host, port } = split;
  if (WILDCARD_HOSTS.has(host)) {
    // Go's TCPAddr.String() prints a nil IP as ":P" and keeps an explicit 0.0.0.0 / ::.
    const canonical = host === '' ? `:${port}` : joinHostPort(host, port);
    return { ip: '', port, canonical };
  }
  if (isIP(host)) return { ip: host, port, canonical: joinHostPort(host, port) };
  if (host.toLowerCase() === 'localhost') return { ip: '127.0.0.1', port, canonical: `127.0.0.1:${port}` };
  try {
    // Go prefers an IPv4 address when a name has both.
    const found = await lookup(host, { all: true });
    const chosen = found.find((a) => a.family === 4) ?? found[0];
    if (!chosen) return { error: `listen tcp: lookup ${host}: no such host` };
    return { ip: chosen.address, port, canonical: joinHostPort(chosen.address, port) };
  } catch {
    return { error: `listen tcp: lookup ${host}: no such host` };
  }
}

const BIND_ERROR_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

function listenOnce(server: Server, ip: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: ip, port });
  });
}

/**
 * Bind `server` to a resolved listen address and return the address to report from now on
 * (the real port for port 0). Throws an Error whose message is Go's bind error text.
 */
export async function bindListen(server: Server, addr: ResolvedListen): Promise<string> {
  try {
    if (addr.ip === '') {
      try {
        // Dual-stack like Go; hosts without IPv6 fall back to IPv4 and report 0.0.0.0.
        await listenOnce(server, '::', addr.port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
        await listenOnce(server, '0.0.0.0', addr.port);
      }
    } else {
      await listenOnce(server, addr.ip, addr.port);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const text = BIND_ERROR_TEXT[code] ?? (err as Error).message;
    throw new Error(`listen tcp ${addr.canonical}: bind: ${text}`);
  }
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('listen tcp: no address after bind');
  return joinHostPort(bound.address, bound.port);
}
