/**
 * The programmatic entry point: start a Toxiproxy-compatible server (HTTP API plus TCP
 * proxies, and UDP proxies as our extension) in this process. Used standalone by `failover-lab toxiproxy` and embedded by the
 * real-topology harness.
 *
 *   const tp = await startToxiproxyServer({ host: '127.0.30.1', port: 0 });
 *   … new Toxiproxy(tp.url) …
 *   await tp.close(); // API listener, every proxy listener and every socket
 */
import type { Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server as HttpServer } from 'node:http';
import { isIP, type Server, type Socket } from 'node:net';
import { InfraError } from '../errors.ts';
import { createApiHandler } from './api.ts';
import { ProxyCollection, type ProxyConfig } from './collection.ts';
import { validateProxyConfigs } from './config.ts';
import type { ProxyEnv } from './proxy.ts';

export { TOXIPROXY_VERSION } from './api.ts';
export type { ProxyConfig } from './collection.ts';

export interface ToxiproxyServerOptions {
  /** API bind address. Default 127.0.0.1 (Go's default is localhost). */
  host?: string;
  /** API port; 0 picks an ephemeral port. Default 8474. */
  port?: number;
  /** Proxies to create before the API listens, as POST /populate would. */
  config?: ProxyConfig[];
  /**
   * Uniform [0, 1) source for toxicity rolls, jitter and slicer splits. Default Math.random;
   * tests inject a fixed sequence to make toxicity-dependent behaviour deterministic.
   */
  random?: () => number;
  /** UDP proxies (our extension) forget a client session idle this long. Default 30 s. */
  udpIdleMs?: number;
}

export interface ToxiproxyServerCounts {
  /** Proxy listeners bound right now. */
  listeners: number;
  /** Proxy sockets (clients, upstreams, dials in progress) not yet closed. */
  sockets: number;
}

export interface RunningToxiproxyServer {
  /** Base URL for clients, e.g. http://127.0.0.1:8474 (no trailing slash). */
  url: string;
  host: string;
  port: number;
  /** Stop the API and every proxy listener and socket. Idempotent. */
  close(): Promise<void>;
  /** Open proxy resources, for leak checks. */
  counts(): ToxiproxyServerCounts;
}

/** Linux conntrack forgets an unreplied UDP flow after 30 s; our sessions do the same. */
const DEFAULT_UDP_IDLE_MS = 30_000;

/** Keep-alive API connections idle this long are closed (Go: IdleTimeout 60 s). */
const API_IDLE_TIMEOUT_MS = 60_000;
/** Go's ReadTimeout: a request must arrive within 15 s. */
const API_READ_TIMEOUT_MS = 15_000;

function listenHttp(server: HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new InfraError(`API port ${host}:${port} is already in use`, 'toxiproxy'));
      } else {
        reject(new InfraError(`cannot listen on ${host}:${port}: ${err.message}`, 'toxiproxy'));
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

export async function startToxiproxyServer(
  opts: ToxiproxyServerOptions = {},
): Promise<RunningToxiproxyServer> {
  const host = opts.host ?? '127.0.0.1';
  const requestedPort = opts.port ?? 8474;
  const config = opts.config ? validateProxyConfigs(opts.config) : [];
  const openSockets = new Set<Socket | DgramSocket>();
  const openListeners = new Set<Server | DgramSocket>();
  const env: ProxyEnv = {
    random: opts.random ?? Math.random,
    openSockets,
    openListeners,
    udpIdleMs: opts.udpIdleMs ?? DEFAULT_UDP_IDLE_MS,
  };
  const proxies = new ProxyCollection(env);

  // Like Go, config proxies exist before the API answers its first request.
  if (config.length > 0) {
    const result = await proxies.populate(config);
    if (result.error) {
      await proxies.closeAll();
      const failed = config[result.proxies.length]?.name ?? '?';
      throw new InfraError(`config proxy "${failed}": ${result.error.message}`, 'toxiproxy');
    }
  }

  const api = createServer(createApiHandler(proxies));
  api.keepAliveTimeout = API_IDLE_TIMEOUT_MS;
  api.requestTimeout = API_READ_TIMEOUT_MS;
  api.headersTimeout = API_READ_TIMEOUT_MS;
  try {
    await listenHttp(api, host, requestedPort);
  } catch (err) {
    await proxies.closeAll();
    throw err;
  }
  const address = api.address();
  const port = address !== null && typeof address === 'object' ? address.port : requestedPort;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const apiClosed = new Promise<void>((resolve) => api.close(() => resolve()));
      api.closeAllConnections();
      await Promise.all([apiClosed, proxies.closeAll()]);
    })();
    return closing;
  };

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close,
    counts: () => ({ listeners: openListeners.size, sockets: openSockets.size }),
  };
}
