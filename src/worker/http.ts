/**
 * The HTTP front shared by both Worker variants, so the durable and the legacy-kv Worker
 * answer the same paths, methods, errors and shapes, and one controller can talk to either.
 *
 * Order of checks (each stops the request, none touches lease state):
 *   1. route: unknown path → 404, wrong method → 405
 *   2. size: body above MAX_BODY_BYTES → 400
 *   3. authentication on the raw bytes (verifySignature) → 401; the body is not parsed yet
 *   4. parse and validate → 400
 *   5. the variant's backend, which also consumes the nonce (replay → 401)
 * Runs in workerd; no Node imports.
 */
import {
  type LeaseRequest,
  type LeaseResponse,
  type LeaseStatusResponse,
  MAX_BODY_BYTES,
  parsePostBody,
  parseStatusQuery,
  ROUTES,
} from './protocol.ts';
import { verifySignature } from './signing.ts';

export type Variant = 'durable' | 'legacy-kv';

export interface AuthContext {
  /** the authenticated region: the only source of "who is asking" */
  region: string;
  nonce: string;
  timestampMs: number;
}

export type BackendResult =
  | { kind: 'ok'; body: LeaseResponse | LeaseStatusResponse }
  | { kind: 'replay' }
  | { kind: 'stale' };

export interface Backend {
  variant: Variant;
  execute(request: LeaseRequest, auth: AuthContext): Promise<BackendResult>;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

let cachedSecretsRaw: unknown;
let cachedSecrets: Record<string, string> | null = null;

/** LEASE_SECRETS is a JSON object {"region":"secret"}: a string (wrangler secret) or an object. */
export function parseSecrets(raw: unknown): Record<string, string> {
  if (raw === cachedSecretsRaw && cachedSecrets) return cachedSecrets;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error('LEASE_SECRETS is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('LEASE_SECRETS must be a JSON object {"<region>":"<secret>"}');
  }
  const secrets: Record<string, string> = Object.create(null);
  for (const [region, secret] of Object.entries(value)) {
    if (typeof secret !== 'string' || secret.length === 0 || region.length === 0) {
      throw new Error('LEASE_SECRETS values must be non-empty strings');
    }
    secrets[region] = secret;
  }
  if (Object.keys(secrets).length === 0) throw new Error('LEASE_SECRETS has no regions');
  cachedSecretsRaw = raw;
  cachedSecrets = secrets;
  return secrets;
}

export async function handleLeaseRequest(
  request: Request,
  secretsRaw: unknown,
  backend: Backend,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const headers = { 'x-fl-variant': backend.variant, ...extraHeaders };
  const fail = (status: number, error: string, more: Record<string, string> = {}) =>
    jsonResponse(status, { error }, { ...headers, ...more });

  const url = new URL(request.url);
  const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
  if (!route) return fail(404, `unknown path ${url.pathname}`);
  if (request.method !== route.method) {
    return fail(405, `${url.pathname} accepts ${route.method} only`, { allow: route.method });
  }

  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > MAX_BODY_BYTES) return fail(400, `body larger than ${MAX_BODY_BYTES} bytes`);
  const body = await request.text();
  if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
    return fail(400, `body larger than ${MAX_BODY_BYTES} bytes`);
  }

  let secrets: Record<string, string>;
  try {
    secrets = parseSecrets(secretsRaw);
  } catch (err) {
    // A deployment error, not the caller's: fail closed, say what is wrong.
    return fail(500, `server misconfigured: ${(err as Error).message}`);
  }
  const auth = await verifySignature({
    headers: request.headers,
    method: request.method,
    pathWithQuery: url.pathname + url.search,
    body,
    serverTimeMs: Date.now(),
    secrets,
  });
  if (!auth.ok) return fail(401, `unauthorized: ${auth.reason}`);

  const parsed =
    route.op === 'status' ? parseStatusQuery(url.searchParams, body) : parsePostBody(route.op, body);
  if (!parsed.ok) return fail(400, parsed.error);

  const result = await backend.execute(parsed.request, {
    region: auth.region,
    nonce: auth.nonce,
    timestampMs: auth.timestampMs,
  });
  if (result.kind === 'replay') return fail(401, 'unauthorized: replay');
  if (result.kind === 'stale') return fail(401, 'unauthorized: stale');
  return jsonResponse(200, result.body, headers);
}

/** Last-resort handler: a bug must still answer JSON, never leak a stack trace. */
export function internalError(err: unknown, variant: Variant): Response {
  console.error(`lease worker (${variant}) internal error: ${(err as Error)?.stack ?? String(err)}`);
  return jsonResponse(500, { error: 'internal error' }, { 'x-fl-variant': variant });
}
