/**
 * The few Toxiproxy v2 API calls a game day needs, with a timeout on every call.
 *
 * Why not toxiproxy-node-client: its Proxy object drops the `toxics` list (revert
 * verification needs it), its errors discard the server's error body, and its fetch calls
 * have no timeout; a rollback must never hang on a stuck API.
 */
import net from 'node:net';
import { httpRequest } from './probes/http-request.ts';
import { isLoopbackHost } from './util.ts';

export interface ToxicState {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicState[];
  /** our extension (docs/toxiproxy.md): "udp" for a datagram proxy; absent means TCP */
  protocol?: 'tcp' | 'udp';
}

/** Per API call; Toxiproxy answers in milliseconds unless something is badly wrong. */
const API_TIMEOUT_MS = 5000;

export class ToxiproxyApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class ToxiproxyApi {
  constructor(readonly url: string) {}

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const res = await httpRequest(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = res.body;
    }
    if (res.status >= 300) {
      const msg = (json as { error?: string } | null)?.error ?? res.body.trim();
      throw new ToxiproxyApiError(`${method} ${this.url}${path} → ${res.status} ${msg}`, res.status);
    }
    return { status: res.status, json };
  }

  async version(): Promise<string> {
    const r = await this.call('GET', '/version');
    return typeof r.json === 'object' && r.json
      ? String((r.json as { version?: string }).version)
      : String(r.json);
  }

  async proxy(name: string): Promise<ProxyState> {
    return (await this.call('GET', `/proxies/${encodeURIComponent(name)}`)).json as ProxyState;
  }

  async setEnabled(name: string, enabled: boolean): Promise<ProxyState> {
    // POST (not PATCH) so servers older than 2.6 accept it too; omitted fields keep their values.
    return (await this.call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled })).json as ProxyState;
  }

  async addToxic(proxy: string, toxic: ToxicState): Promise<void> {
    await this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic);
  }

  /** Removes a toxic; a toxic that is already gone counts as removed. */
  async removeToxic(proxy: string, toxic: string): Promise<void> {
    try {
      await this.call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
    } catch (err) {
      if (err instanceof ToxiproxyApiError && err.status === 404) {
        // 404 for the proxy itself is a real problem; for the toxic it means "already removed".
        const p = await this.proxy(proxy);
        if (!p.toxics.some((t) => t.name === toxic)) return;
      }
      throw err;
    }
  }

  /** Re-enables every proxy and removes every toxic on this server (last-resort rollback). */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }
}

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | `error:${string}`;

/** Connect timeout; a local proxy accepts in microseconds, a remote one in a few RTTs. */
const CONNECT_TIMEOUT_MS = 2000;

export function tcpConnect(
  host: string,
  port: number,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const finish = (o: ConnectOutcome) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    sock.on('connect', () => finish('connected'));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ECONNREFUSED' ? 'refused' : `error:${e.code ?? e.message}`),
    );
  });
}

/**
 * Where to TCP-connect to test a proxy: its listen address, except that a wildcard bind, or
 * a loopback bind on a remote Toxiproxy host, is reached through the API's host.
 */
export function connectAddress(listen: string, apiUrl: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) return null;
  const listenHost = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  const apiHost = new URL(apiUrl).hostname.replace(/^\[|\]$/g, '');
  const wildcard = listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::';
  if (wildcard) return { host: apiHost, port };
  if (isLoopbackHost(listenHost) && !isLoopbackHost(apiHost)) return { host: apiHost, port };
  return { host: listenHost, port };
}
