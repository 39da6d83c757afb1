/**
 * The lease Worker's request handling after the body was read, as one pure, deterministic
 * procedure shared by workerd (http.ts) and the simulator (simulator/models/lease-store.ts).
 *
 * It is a generator so that the same code runs with asynchronous effects in workerd
 * (WebCrypto HMAC, Durable Object calls) and synchronous ones in the simulator (virtual
 * time cannot wait for a promise): it yields an effect, its driver performs it and resumes
 * it with the result. The order of the checks is therefore written once, here:
 *   1. secrets configured (else 500: the deployment's fault, fail closed)
 *   2. authentication on the raw bytes (signing.ts) → 401; the body is not parsed yet
 *   3. parse and validate → 400
 *   4. the variant's backend, which also consumes the nonce (replay/stale → 401)
 * Routing (404/405) and the body-size cap (413) come before, while reading (http.ts).
 * Runtime-neutral: no Node or workerd imports.
 */
import {
  type LeaseOp,
  type LeaseRequest,
  type LeaseResponse,
  type LeaseStatusResponse,
  type ObservationsResponse,
  parseObservationsQuery,
  parsePostBody,
  parseStatusQuery,
  ROUTES,
} from './protocol.ts';
import { judgeSignature, readSignatureClaim } from './signing.ts';

export type Variant = 'durable' | 'legacy-kv';

export interface AuthContext {
  /** the authenticated region: the only source of "who is asking" */
  region: string;
  nonce: string;
  timestampMs: number;
}

export type BackendResult =
  | { kind: 'ok'; body: LeaseResponse | LeaseStatusResponse | ObservationsResponse }
  | { kind: 'replay' }
  | { kind: 'stale' };

/** One request as the handler sees it once the body is read. */
export interface LeaseCall {
  method: string;
  pathname: string;
  /** '' or '?…' */
  search: string;
  headers: { get(name: string): string | null };
  body: string;
}

export interface CallReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type CallEffect =
  | { kind: 'mac'; secret: string; message: string }
  | { kind: 'backend'; request: LeaseRequest; auth: AuthContext };

/** What a driver resumes the procedure with: the MAC as lowercase hex, or the backend's result. */
export type EffectResult = string | BackendResult;

export type CallSteps = Generator<CallEffect, CallReply, EffectResult>;

const fail = (status: number, error: string, headers?: Record<string, string>): CallReply =>
  headers ? { status, body: { error }, headers } : { status, body: { error } };

/** Routing, before any byte of the body is read: 404 unknown path, 405 wrong method. */
export function routeCall(
  method: string,
  pathname: string,
): { ok: true; op: LeaseOp } | { ok: false; reply: CallReply } {
  const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
  if (!route) return { ok: false, reply: fail(404, `unknown path ${pathname}`) };
  if (method !== route.method) {
    return {
      ok: false,
      reply: fail(405, `${pathname} accepts ${route.method} only`, { allow: route.method }),
    };
  }
  return { ok: true, op: route.op };
}

function parseCall(op: LeaseOp, call: LeaseCall) {
  // the query is parsed only by the GET routes: POST bodies carry everything
  if (op === 'status') return parseStatusQuery(new URLSearchParams(call.search), call.body);
  if (op === 'observations') return parseObservationsQuery(new URLSearchParams(call.search), call.body);
  return parsePostBody(op, call.body);
}

/** LEASE_SECRETS as parsed: the region table, or why it is unusable. */
export type SecretsTable = { ok: true; table: Record<string, string> } | { ok: false; error: string };

/** Authenticate, parse, execute. `serverTimeMs` is the Worker's clock for the freshness check. */
export function* leaseCallSteps(
  call: LeaseCall,
  op: LeaseOp,
  secrets: SecretsTable,
  serverTimeMs: number,
): CallSteps {
  // A deployment error, not the caller's: fail closed, say what is wrong.
  if (!secrets.ok) return fail(500, `server misconfigured: ${secrets.error}`);
  const read = readSignatureClaim({
    headers: call.headers,
    method: call.method,
    pathWithQuery: call.pathname + call.search,
    body: call.body,
    secrets: secrets.table,
  });
  if (!read.ok) return fail(401, `unauthorized: ${read.reason}`);
  const mac = (yield { kind: 'mac', secret: read.claim.secret, message: read.claim.message }) as string;
  const auth = judgeSignature(read.claim, mac, serverTimeMs);
  if (!auth.ok) return fail(401, `unauthorized: ${auth.reason}`);

  const parsed = parseCall(op, call);
  if (!parsed.ok) return fail(400, parsed.error);

  const result = (yield {
    kind: 'backend',
    request: parsed.request,
    auth: { region: auth.region, nonce: auth.nonce, timestampMs: auth.timestampMs },
  }) as BackendResult;
  if (result.kind === 'replay') return fail(401, 'unauthorized: replay');
  if (result.kind === 'stale') return fail(401, 'unauthorized: stale');
  return { status: 200, body: result.body };
}

/** Runs the procedure with synchronous effects (the simulator). */
export function runCallSync(
  steps: CallSteps,
  port: {
    mac(secret: string, message: string): string;
    backend(r: LeaseRequest, a: AuthContext): BackendResult;
  },
): CallReply {
  let next = steps.next();
  while (!next.done) {
    const effect = next.value;
    next = steps.next(
      effect.kind === 'mac'
        ? port.mac(effect.secret, effect.message)
        : port.backend(effect.request, effect.auth),
    );
  }
  return next.value;
}

/** Runs the procedure with asynchronous effects (workerd). */
export async function runCallAsync(
  steps: CallSteps,
  port: {
    mac(secret: string, message: string): Promise<string>;
    backend(r: LeaseRequest, a: AuthContext): Promise<BackendResult>;
  },
): Promise<CallReply> {
  let next = steps.next();
  while (!next.done) {
    const effect = next.value;
    next = steps.next(
      effect.kind === 'mac'
        ? await port.mac(effect.secret, effect.message)
        : await port.backend(effect.request, effect.auth),
    );
  }
  return next.value;
}
