/**
 * The HTTP front shared by both Worker variants, so the durable and the legacy-kv Worker
 * answer the same paths, methods, errors and shapes, and one controller can talk to either.
 *
 * This file only does the I/O: routing (404/405) before reading, then reading the body as
 * a stream and stopping at MAX_BODY_BYTES (413, nothing more is buffered), then the pure
 * procedure of request.ts (auth-before-parse, parse, backend) with WebCrypto and the
 * variant's backend as its effects. Runs in workerd; no Node imports.
 */

import type { LeaseRequest } from './protocol.ts';
import { MAX_BODY_BYTES } from './protocol.ts';
import {
  type AuthContext,
  type BackendResult,
  type CallReply,
  leaseCallSteps,
  routeCall,
  runCallAsync,
  type SecretsTable,
  type Variant,
} from './request.ts';
import { hmacHex, MIN_SECRET_CHARS } from './signing.ts';

export type { AuthContext, BackendResult, Variant };

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
    if (secret.length < MIN_SECRET_CHARS) {
      throw new Error(
        `LEASE_SECRETS: the secret of region "${region}" is shorter than ${MIN_SECRET_CHARS} characters`,
      );
    }
    secrets[region] = secret;
  }
  if (Object.keys(secrets).length === 0) throw new Error('LEASE_SECRETS has no regions');
  cachedSecretsRaw = raw;
  cachedSecrets = secrets;
  return secrets;
}

function secretsTable(raw: unknown): SecretsTable {
  try {
    return { ok: true, table: parseSecrets(raw) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * How much of an oversized body is read and thrown away before the 413 is sent. workerd
 * closes a connection whose request body was not consumed with a reset, and the reset can
 * destroy the 413 in flight; draining first makes the answer arrive. Memory stays one
 * chunk: nothing past MAX_BODY_BYTES is kept. Past this limit the Worker stops reading,
 * answers at once and the sender may see a reset instead.
 */
export const OVERSIZE_DRAIN_BYTES = 1024 * 1024 * 1024;

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, limitBytes: number): Promise<void> {
  let drained = 0;
  try {
    while (drained <= limitBytes) {
      const { done, value } = await reader.read();
      if (done) return;
      drained += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the sender went away: nothing left to drain
  }
}

/**
 * Reads the body as UTF-8 text, at most MAX_BODY_BYTES: null as soon as the stream goes
 * past the cap, after draining (not keeping) the rest.
 */
export async function readCappedBody(request: Request): Promise<string | null> {
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    await drain(reader, OVERSIZE_DRAIN_BYTES);
    return null;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await drain(reader, OVERSIZE_DRAIN_BYTES);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function toResponse(reply: CallReply, headers: Record<string, string>): Response {
  return jsonResponse(reply.status, reply.body, { ...headers, ...reply.headers });
}

export async function handleLeaseRequest(
  request: Request,
  secretsRaw: unknown,
  backend: Backend,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const headers = { 'x-fl-variant': backend.variant, ...extraHeaders };
  const url = new URL(request.url);
  const route = routeCall(request.method, url.pathname);
  if (!route.ok) return toResponse(route.reply, headers);
  const body = await readCappedBody(request);
  if (body === null) return jsonResponse(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` }, headers);
  const steps = leaseCallSteps(
    { method: request.method, pathname: url.pathname, search: url.search, headers: request.headers, body },
    route.op,
    secretsTable(secretsRaw),
    Date.now(),
  );
  const reply = await runCallAsync(steps, {
    mac: hmacHex,
    backend: (req, auth) => backend.execute(req, auth),
  });
  return toResponse(reply, headers);
}

/** Last-resort handler: a bug must still answer JSON, never leak a stack trace. */
export function internalError(err: unknown, variant: Variant): Response {
  console.error(`lease worker (${variant}) internal error: ${(err as Error)?.stack ?? String(err)}`);
  return jsonResponse(500, { error: 'internal error' }, { 'x-fl-variant': variant });
}
