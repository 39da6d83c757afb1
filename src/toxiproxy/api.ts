/**
 * The HTTP control plane of Toxiproxy v2.12.0 (spec §2, §4): routes, middleware (request id,
 * browser block, 25 s handler timeout), success and error wire formats. Mux rules: exact
 * paths, 404 `404 page not found` for unknown paths, 405 with an empty body for a known path
 * with another method (HEAD included); middleware runs only on matched routes.
 *
 * API operations run one at a time (Go holds a collection lock for the same reason): two
 * concurrent creates of one name must not both bind.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as errors from './api-error.ts';
import { ApiError } from './api-error.ts';
import { bodyError, decodePopulateBody, decodeProxyFields, type ProxyCollection } from './collection.ts';
import { decodeFirstValue, GoJsonError, type JsonValue } from './gojson.ts';
import { newRequestId } from './request-id.ts';
import { goString, proxyJson, proxyListJson, proxyMapJson, toxicJson, toxicsJson } from './wire.ts';

/** The version we report: the Toxiproxy release whose API we implement. */
export const TOXIPROXY_VERSION = '2.12.0';

/** Go wraps every handler in http.TimeoutHandler(25 s). */
const HANDLER_TIMEOUT_MS = 25_000;
const TIMEOUT_BODY = '<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>';
/** Bodies beyond this are refused; the API takes small JSON documents only. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

interface Reply {
  status: number;
  body?: string;
  contentType?: string;
  /** http.Error's extra header on error replies. */
  nosniff?: boolean;
}

interface RequestContext {
  params: Record<string, string>;
  /** Read and decode the body (Go decodes only when a handler asks, after its 404 checks). */
  body(): Promise<JsonValue>;
}

type Handler = (ctx: RequestContext) => Promise<Reply>;

const json = (status: number, body: string): Reply => ({ status, body, contentType: 'application/json' });
const noContent = (): Reply => ({ status: 204 });

function apiErrorReply(err: ApiError): Reply {
  return {
    status: err.status,
    body: `{"error":${goString(err.message)},"status":${err.status}}\n`,
    contentType: 'text/plain; charset=utf-8',
    nosniff: true,
  };
}

function routes(proxies: ProxyCollection): Array<{ path: string[]; methods: Record<string, Handler> }> {
  const toxicOf = (ctx: RequestContext) => {
    const proxy = proxies.get(ctx.params['proxy']!);
    const toxic = proxy.toxics.find(ctx.params['toxic']!);
    if (!toxic) throw errors.toxicNotFound();
    return { proxy, toxic };
  };
  const updateProxy: Handler = async (ctx) => {
    const proxy = proxies.get(ctx.params['proxy']!);
    const body = await ctx.body();
    let fields: ReturnType<typeof decodeProxyFields>;
    try {
      fields = decodeProxyFields(body);
    } catch (err) {
      bodyError(err);
    }
    return json(200, proxyJson(await proxies.update(proxy, fields)));
  };
  const updateToxic: Handler = async (ctx) => {
    const { proxy, toxic } = toxicOf(ctx);
    const body = await ctx.body();
    return json(200, toxicJson(proxy.toxics.update(toxic, body)));
  };
  return [
    {
      path: ['version'],
      methods: {
        GET: async () => ({
          status: 200,
          body: `{"version": "${TOXIPROXY_VERSION}"}\n`,
          contentType: 'application/json;charset=utf-8',
        }),
      },
    },
    {
      path: ['reset'],
      methods: {
        POST: async () => {
          await proxies.reset();
          return noContent();
        },
      },
    },
    {
      path: ['populate'],
      methods: {
        POST: async (ctx) => {
          // Populate answers errors as JSON with the proxies done so far, not via apiError.
          const populateError = (err: ApiError, done: string) =>
            json(err.status, `{"error":${goString(err.message)},"status":${err.status},"proxies":${done}}`);
          let items: ReturnType<typeof decodePopulateBody>;
          try {
            try {
              items = decodePopulateBody(await ctx.body());
            } catch (err) {
              bodyError(err);
            }
            const result = await proxies.populate(items);
            if (result.error) return populateError(result.error, proxyListJson(result.proxies));
            return json(201, `{"proxies":${proxyListJson(result.proxies)}}`);
          } catch (err) {
            if (err instanceof ApiError) return populateError(err, 'null');
            throw err;
          }
        },
      },
    },
    {
      path: ['proxies'],
      methods: {
        GET: async () => json(200, proxyMapJson(proxies.list())),
        POST: async (ctx) => {
          let fields: ReturnType<typeof decodeProxyFields>;
          try {
            fields = decodeProxyFields(await ctx.body());
          } catch (err) {
            bodyError(err);
          }
          return json(201, proxyJson(await proxies.create(fields)));
        },
      },
    },
    {
      path: ['proxies', ':proxy'],
      methods: {
        GET: async (ctx) => json(200, proxyJson(proxies.get(ctx.params['proxy']!))),
        POST: updateProxy,
        PATCH: updateProxy,
        DELETE: async (ctx) => {
          await proxies.remove(proxies.get(ctx.params['proxy']!));
          return noContent();
        },
      },
    },
    {
      path: ['proxies', ':proxy', 'toxics'],
      methods: {
        GET: async (ctx) => json(200, toxicsJson(proxies.get(ctx.params['proxy']!).toxics.list())),
        POST: async (ctx) => {
          const proxy = proxies.get(ctx.params['proxy']!);
          const body = await ctx.body();
          return json(200, toxicJson(proxy.toxics.add(body)));
        },
      },
    },
    {
      path: ['proxies', ':proxy', 'toxics', ':toxic'],
      methods: {
        GET: async (ctx) => json(200, toxicJson(toxicOf(ctx).toxic)),
        POST: updateToxic,
        PATCH: updateToxic,
        DELETE: async (ctx) => {
          const { proxy, toxic } = toxicOf(ctx);
          proxy.toxics.remove(toxic);
          return noContent();
        },
      },
    },
  ];
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = segments[i]!;
    if (want.startsWith(':')) {
      if (got === '') return undefined; // {proxy} needs at least one character
      params[want.slice(1)] = got;
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) {
        reject(errors.badRequestBody('http: request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.contentType) res.setHeader('Content-Type', reply.contentType);
  if (reply.nosniff) res.setHeader('X-Content-Type-Options', 'nosniff');
  const body = reply.body ?? '';
  // A 204 carries no Content-Length (RFC 9110 §8.6); every other reply states its length.
  if (reply.status !== 204) res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(reply.status);
  res.end(body);
}

/** Build the request listener for an http.Server serving the API over `proxies`. */
export function createApiHandler(
  proxies: ProxyCollection,
): (req: IncomingMessage, res: ServerResponse) => void {
  const table = routes(proxies);
  // One operation at a time, in arrival order.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(op: () => Promise<T>): Promise<T> => {
    const result = queue.then(op, op);
    queue = result.catch(() => undefined);
    return result;
  };

  return (req, res) => {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    let path = rawPath;
    try {
      path = decodeURIComponent(rawPath); // mux matches the decoded path (%20 → space)
    } catch {
      // keep the raw path; it will simply not match
    }
    const segments = path.split('/').slice(1);
    let route: (typeof table)[number] | undefined;
    let params: Record<string, string> | undefined;
    for (const candidate of table) {
      params = matchPath(candidate.path, segments);
      if (params) {
        route = candidate;
        break;
      }
    }
    if (!route || !params) {
      send(res, { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' });
      return;
    }
    const handler = route.methods[req.method ?? ''];
    if (!handler) {
      send(res, { status: 405 });
      return;
    }
    res.setHeader('X-Toxiproxy-Request-Id', newRequestId());
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      send(res, { status: 403, body: 'User agent not allowed\n', contentType: 'text/plain; charset=utf-8' });
      return;
    }
    const ctx: RequestContext = {
      params,
      async body() {
        const text = await readBody(req);
        try {
          return decodeFirstValue(text);
        } catch (err) {
          if (err instanceof GoJsonError) throw errors.badRequestBody(err.message);
          throw err;
        }
      },
    };
    const timeout = setTimeout(() => {
      send(res, { status: 503, body: TIMEOUT_BODY, contentType: 'text/html; charset=utf-8' });
    }, HANDLER_TIMEOUT_MS);
    serialized(() => handler(ctx))
      .then(
        (reply) => send(res, reply),
        (err: unknown) => {
          if (err instanceof ApiError) send(res, apiErrorReply(err));
          else send(res, apiErrorReply(errors.internalError((err as Error)?.message ?? String(err))));
        },
      )
      .finally(() => clearTimeout(timeout));
  };
}
