/**
 * The one client of the Toxiproxy v2 HTTP API, for every caller: the local topology's link
 * proxies, the runner's link faults, the Docker driver and game days. It talks to whichever
 * server it is given: a real toxiproxy-server when `TOXIPROXY_URL` is set (e.g.
 * `TOXIPROXY_URL=http://127.0.0.1:8474`), otherwise the built-in server whose URL the caller
 * passes (from startToxiproxyServer). Both speak the same API, so callers never branch on
 * which one it is.
 *
 * Why not toxiproxy-node-client: its calls have no timeout (a fault injector or a rollback
 * must never hang on a stuck API), its errors say only "Request failed with status code N"
 * (not which proxy, nor the server's own error text), and its Proxy object drops the `toxics`
 * list that verifying a revert needs.
 */
import http from 'node:http';
import https from 'node:https';
import { BadInputError } from '../errors.ts';

/** The API base URL to use: TOXIPROXY_URL if set and non-empty, else `builtInUrl`. */
export function toxiproxyUrl(builtInUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['TOXIPROXY_URL']?.trim();
  if (!fromEnv) return builtInUrl.replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(fromEnv);
  } catch {
    throw new BadInputError(
      `not a URL: "${fromEnv}" (expected e.g. http://127.0.0.1:8474)`,
      'env TOXIPROXY_URL',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadInputError(`must be an http(s) URL, got "${fromEnv}"`, 'env TOXIPROXY_URL');
  }
  // the client appends "/proxies" etc., so no trailing slash.
  return fromEnv.replace(/\/+$/, '');
}

/** A client for TOXIPROXY_URL if set, else for the built-in server at `builtInUrl`. */
export function toxiproxyClient(builtInUrl: string, env: NodeJS.ProcessEnv = process.env): ToxiproxyClient {
  return new ToxiproxyClient(toxiproxyUrl(builtInUrl, env));
}

/** True when a real server was asked for (the harness then need not start the built-in one). */
export function usesExternalToxiproxy(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['TOXIPROXY_URL']?.trim());
}

export interface ToxicState {
  name: string;
  type: string;
  /** "upstream" or "downstream" */
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

/** A proxy to create (POST /populate). */
export interface ProxySpec {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
  /** our extension; only the built-in server honours it */
  protocol?: 'tcp' | 'udp';
}

/** Per API call; Toxiproxy answers in milliseconds unless something is badly wrong. */
export const API_TIMEOUT_MS = 5000;

/**
 * A failed API call. The message names the server, the call, the proxy and the HTTP status
 * with the server's own error text; `status` is null when no HTTP answer came (timeout,
 * connection refused).
 */
export class ToxiproxyApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly proxy?: string,
  ) {
    super(message);
    this.name = 'ToxiproxyApiError';
  }
}

export class ToxiproxyClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(url: string, opts: { timeoutMs?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? API_TIMEOUT_MS;
  }

  async version(): Promise<string> {
    const json = await this.call('GET', '/version');
    return typeof json === 'object' && json ? String((json as { version?: string }).version) : String(json);
  }

  /** Every proxy on the server, by name. */
  async proxies(): Promise<Record<string, ProxyState>> {
    return (await this.call('GET', '/proxies')) as Record<string, ProxyState>;
  }

  async proxy(name: string): Promise<ProxyState> {
    return (await this.call('GET', proxyPath(name), undefined, name)) as ProxyState;
  }

  /** Creates (or updates) all of them in one request instead of one round trip per proxy. */
  async populate(proxies: ProxySpec[]): Promise<void> {
    await this.call('POST', '/populate', proxies);
  }

  async deleteProxy(name: string): Promise<void> {
    await this.call('DELETE', proxyPath(name), undefined, name);
  }

  async setEnabled(name: string, enabled: boolean): Promise<ProxyState> {
    // POST (not PATCH) so servers older than 2.6 accept it too; omitted fields keep their values.
    return (await this.call('POST', proxyPath(name), { enabled }, name)) as ProxyState;
  }

  async addToxic(proxy: string, toxic: ToxicState): Promise<void> {
    await this.call('POST', `${proxyPath(proxy)}/toxics`, toxic, proxy);
  }

  /**
   * Removes a toxic. With `ifPresent`, a toxic that is already gone counts as removed (a
   * rollback retrying a revert whose first try took effect); a missing proxy still throws.
   */
  async removeToxic(proxy: string, toxic: string, opts: { ifPresent?: boolean } = {}): Promise<void> {
    try {
      await this.call('DELETE', `${proxyPath(proxy)}/toxics/${encodeURIComponent(toxic)}`, undefined, proxy);
    } catch (err) {
      if (opts.ifPresent && err instanceof ToxiproxyApiError && err.status === 404) {
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

  private async call(method: string, path: string, body?: unknown, proxy?: string): Promise<unknown> {
    const what = `Toxiproxy ${this.url}: ${method} ${path}${proxy === undefined ? '' : ` (proxy ${proxy})`}`;
    let res: { status: number; body: string };
    try {
      res = await request(`${this.url}${path}`, method, body, this.timeoutMs);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : `${e.code && !e.message.includes(e.code) ? `${e.code}: ` : ''}${e.message}`;
      throw new ToxiproxyApiError(`${what}: ${why}`, null, proxy);
    }
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = res.body;
    }
    if (res.status >= 300) {
      const said = (json as { error?: string } | null)?.error ?? res.body.trim();
      throw new ToxiproxyApiError(`${what} → HTTP ${res.status}${said ? ` ${said}` : ''}`, res.status, proxy);
    }
    return json;
  }
}

function proxyPath(name: string): string {
  return `/proxies/${encodeURIComponent(name)}`;
}

/**
 * One request on a fresh connection (agent: false): no keep-alive socket outlives the call
 * (a game day's process ends when its work does), and the timeout covers connect, request
 * and the whole response.
 */
function request(
  url: string,
  method: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const parsed = new URL(url);
  const mod = parsed.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> =
    payload === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve, reject) => {
    // an abort mid-response surfaces as a reset: it is still the timeout
    const fail = (err: Error) =>
      reject(signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : err);
    const req = mod.request(parsed, { method, headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(payload);
  });
}
