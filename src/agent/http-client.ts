/**
 * The agent's one HTTP client (lease Worker, peer probe, PowerDNS API, promotion webhook), on
 * node:http rather than the global fetch: fetch loads undici, which cost each controller
 * process 10-18 MB of resident memory (measured; issue #18), and the admin server already
 * loads node:http. What the callers relied on from fetch is kept: connections are reused
 * (keep-alive, honouring the server's Keep-Alive timeout hint as Node's agent does), the
 * timeout bounds the whole exchange including the reply body, and a timeout rejects with an
 * error named TimeoutError (describeError in lease-client.ts reports it as "timeout").
 * https URLs go through node:https, loaded only when one is used.
 */
import http from 'node:http';
import type https from 'node:https';

export interface HttpReply {
  status: number;
  body: string;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** bounds the whole exchange: connect, request, reply headers and body */
  timeoutMs: number;
}

/** how long an idle kept-alive connection is kept at most: undici's default, as fetch did */
const IDLE_SOCKET_MS = 4_000;

const httpAgent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
let httpsModule: Promise<{ mod: typeof https; agent: https.Agent }> | undefined;

function httpsTransport(): Promise<{ mod: typeof https; agent: https.Agent }> {
  httpsModule ??= import('node:https').then((mod) => ({
    mod,
    agent: new mod.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  }));
  return httpsModule;
}

/**
 * One request; resolves with any status (the caller judges it), rejects on a transport
 * failure (the Node error, with its `code`) or on the timeout (a TimeoutError).
 */
export async function httpRequest(url: string, o: HttpRequestOptions): Promise<HttpReply> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  const target = new URL(url);
  let transport: { request: typeof http.request; agent: http.Agent };
  if (target.protocol === 'http:') transport = { request: http.request, agent: httpAgent };
  else if (target.protocol === 'https:') {
    const t = await httpsTransport();
    transport = { request: t.mod.request, agent: t.agent };
  } else throw new Error(`unsupported URL scheme ${target.protocol}`);
  const headers = { ...o.headers };
  if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
  return new Promise<HttpReply>((resolve, reject) => {
    // an abort surfaces as an AbortError or, mid-reply, as a reset socket: either way the
    // timeout is what happened
    const fail = (err: unknown) => reject(signal.aborted ? signal.reason : err);
    const req = transport.request(
      target,
      { method: o.method ?? 'GET', headers, agent: transport.agent, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        // a connection closed before the reply was complete errors here (ECONNRESET "aborted")
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(o.body);
  });
}
