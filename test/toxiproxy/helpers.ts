/**
 * Shared fixtures for the toxiproxy suites: the server under test (TOXIPROXY_URL if set,
 * else a built-in server on 127.0.30.x, port 0), raw HTTP, in-process upstream servers
 * (echo / sink / source / scripted) and a TCP client probe that records what arrives when.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type RunningToxiproxyServer, startToxiproxyServer } from '../../src/toxiproxy/server.ts';

export interface Target {
  url: string;
  /** Host for proxy listens and test upstreams. */
  host: string;
  /** The built-in server, when we started it (undefined against an external server). */
  builtIn?: RunningToxiproxyServer;
  close(): Promise<void>;
}

/**
 * The server under test. With TOXIPROXY_URL set, that server (proxies and upstreams then use
 * TOXIPROXY_TEST_HOST, default 127.0.0.1, as a real server cannot bind our 127.0.30.x plan
 * if it runs elsewhere); otherwise a fresh built-in server on `host`.
 */
export async function startTarget(host: string, random?: () => number): Promise<Target> {
  const external = process.env['TOXIPROXY_URL']?.trim();
  if (external) {
    const testHost = process.env['TOXIPROXY_TEST_HOST'] ?? '127.0.0.1';
    return { url: external.replace(/\/+$/, ''), host: testHost, close: async () => {} };
  }
  const builtIn = await startToxiproxyServer({ host, port: 0, ...(random ? { random } : {}) });
  return { url: builtIn.url, host, builtIn, close: () => builtIn.close() };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field in tests
  json(): any;
}

/** Raw HTTP with the checklist's headers (User-Agent: conformance, JSON content type). */
export async function http(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = {
    method,
    headers: { 'User-Agent': 'conformance', 'Content-Type': 'application/json', ...headers },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${target.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Delete every proxy (the checklist's clean-up between cases). */
export async function deleteAllProxies(target: Target): Promise<void> {
  const list = await http(target, 'GET', '/proxies');
  for (const name of Object.keys(list.json())) {
    await http(target, 'DELETE', `/proxies/${encodeURIComponent(name)}`);
  }
}

export async function createProxy(
  target: Target,
  name: string,
  upstream: string,
  extra: Record<string, unknown> = {},
): Promise<{ name: string; listen: string; upstream: string; enabled: boolean }> {
  const res = await http(target, 'POST', '/proxies', {
    name,
    listen: `${target.host}:0`,
    upstream,
    ...extra,
  });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  return res.json();
}

export async function addToxic(target: Target, proxy: string, toxic: Record<string, unknown>): Promise<void> {
  const res = await http(target, 'POST', `/proxies/${proxy}/toxics`, toxic);
  if (res.status !== 200) throw new Error(`add toxic: ${res.status} ${res.text}`);
}

export function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}

// ---------------------------------------------------------------------------------------
// Upstream servers

export interface Upstream {
  address: string;
  /** Server-side sockets accepted so far. */
  sockets: Socket[];
  /** Bytes received per accepted connection, with the arrival time of the first byte. */
  received: Array<{ data: Buffer; firstAtMs?: number; closedAtMs?: number }>;
  /** Resolves when `n` connections have been accepted. */
  accepted(n: number): Promise<void>;
  close(): Promise<void>;
}

type OnConnect = (socket: Socket, record: Upstream['received'][number]) => void;

export async function startUpstream(
  host: string,
  onConnect: OnConnect = () => {},
  options: { allowHalfOpen?: boolean } = {},
): Promise<Upstream> {
  const sockets: Socket[] = [];
  const received: Upstream['received'] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server: Server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    sockets.push(socket);
    const record: Upstream['received'][number] = { data: Buffer.alloc(0) };
    received.push(record);
    socket.on('data', (d: Buffer) => {
      record.firstAtMs ??= performance.now();
      record.data = Buffer.concat([record.data, d]);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      record.closedAtMs = performance.now();
    });
    onConnect(socket, record);
    for (const w of waiters.filter((w) => sockets.length >= w.n)) w.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `${host}:${port}`,
    sockets,
    received,
    accepted: (n) =>
      sockets.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const startEcho = (host: string): Promise<Upstream> =>
  startUpstream(host, (socket) => {
    socket.on('data', (d: Buffer) => {
      if (!socket.destroyed && socket.writable) socket.write(d);
    });
  });

export const startSink = (host: string): Promise<Upstream> => startUpstream(host);

/** Writes `payload` on connect (optionally then closes). */
export const startSource = (host: string, payload: Buffer, closeAfter = false): Promise<Upstream> =>
  startUpstream(host, (socket) => {
    if (closeAfter) socket.end(payload);
    else socket.write(payload);
  });

// ---------------------------------------------------------------------------------------
// Client probe

export interface Probe {
  socket: Socket;
  connectedAtMs: number;
  data(): Buffer;
  /** Times at which each chunk arrived (ms, performance.now()). */
  arrivals: Array<{ atMs: number; bytes: number }>;
  /** Resolves with when and how the socket ended: 'end' (FIN), an error code, or 'close'. */
  ended: Promise<{ atMs: number; how: string }>;
  /** Resolves once `bytes` bytes have arrived (rejects after timeoutMs). */
  waitForBytes(bytes: number, timeoutMs?: number): Promise<number>;
}

export function connectProbe(listen: string): Promise<Probe> {
  const { host, port } = splitListen(listen);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port, noDelay: true });
    let data = Buffer.alloc(0);
    const arrivals: Probe['arrivals'] = [];
    const byteWaiters: Array<{ bytes: number; resolve: (atMs: number) => void }> = [];
    let endResolve: (v: { atMs: number; how: string }) => void = () => {};
    const ended = new Promise<{ atMs: number; how: string }>((r) => {
      endResolve = r;
    });
    socket.on('data', (d: Buffer) => {
      const atMs = performance.now();
      data = Buffer.concat([data, d]);
      arrivals.push({ atMs, bytes: d.length });
      for (const w of byteWaiters.filter((w) => data.length >= w.bytes)) w.resolve(atMs);
    });
    socket.on('end', () => endResolve({ atMs: performance.now(), how: 'end' }));
    socket.on('close', () => endResolve({ atMs: performance.now(), how: 'close' }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      endResolve({ atMs: performance.now(), how: err.code ?? 'error' });
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        connectedAtMs: performance.now(),
        data: () => data,
        arrivals,
        ended,
        waitForBytes(bytes, timeoutMs = 5000) {
          if (data.length >= bytes) return Promise.resolve(arrivals.at(-1)?.atMs ?? performance.now());
          return new Promise((res, rej) => {
            const timer = setTimeout(
              () => rej(new Error(`only ${data.length}/${bytes} bytes after ${timeoutMs} ms`)),
              timeoutMs,
            );
            byteWaiters.push({
              bytes,
              resolve: (atMs) => {
                clearTimeout(timer);
                res(atMs);
              },
            });
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

/** Resolves with the error code of a connect attempt ('ok' if it connected). */
export function connectOutcome(listen: string): Promise<string> {
  const { host, port } = splitListen(listen);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until true or time runs out. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await sleep(10);
  }
  return check();
}

/** Race a promise against a timeout: resolves to `fallback` if it has not settled. */
export function within<T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> {
  return Promise.race([promise, sleep(timeoutMs).then(() => fallback)]);
}
