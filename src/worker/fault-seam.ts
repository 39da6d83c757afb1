/**
 * The Worker's fault seam (tests and the lab's real topology only): `POST /_fault/<name>`
 * with `authorization: Bearer <FAULT_TOKEN>`. It exists only when the deployment sets
 * `FAULT_SEAMS = "on"` and a FAULT_TOKEN of at least 16 characters; otherwise the path is an
 * unknown path like any other (404, from the normal router). wrangler.toml sets neither.
 *
 * Seams: `stale-instance` — body {"lease": L, "action": "start"|"stop"|"report", "region": R}
 * (region for start): the lease object keeps an old instance serving R's requests
 * (src/worker/stale-instance.ts). Runs in workerd; no Node imports.
 */
import type { DurableObjectNamespace } from './cf-types.ts';
import { jsonResponse } from './http.ts';
import { LEASE_NAME_PATTERN } from './protocol.ts';
import { MIN_SECRET_CHARS } from './signing.ts';

export const FAULT_PATH_PREFIX = '/_fault/';

export interface FaultSeamEnv {
  LEASE: DurableObjectNamespace;
  FAULT_SEAMS?: string;
  FAULT_TOKEN?: string;
}

export interface StaleInstanceCommand {
  action: 'start' | 'stop' | 'report';
  region?: string;
}

/** Whether this deployment has the seam at all (then its paths are routed here). */
export function faultSeamsEnabled(env: FaultSeamEnv): boolean {
  return (
    env.FAULT_SEAMS === 'on' &&
    typeof env.FAULT_TOKEN === 'string' &&
    env.FAULT_TOKEN.length >= MIN_SECRET_CHARS
  );
}

/** Compares without an early exit, so the time taken says nothing about the token. */
function sameToken(given: string, want: string): boolean {
  let diff = given.length ^ want.length;
  for (let i = 0; i < want.length; i++) diff |= (given.charCodeAt(i) || 0) ^ want.charCodeAt(i);
  return diff === 0;
}

export async function handleFaultSeam(request: Request, env: FaultSeamEnv): Promise<Response> {
  const headers = { 'x-fl-variant': 'durable' };
  const given = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
  if (!sameToken(given, env.FAULT_TOKEN ?? ''))
    return jsonResponse(401, { error: 'fault seam: bad token' }, headers);
  const name = new URL(request.url).pathname.slice(FAULT_PATH_PREFIX.length);
  if (name !== 'stale-instance') return jsonResponse(404, { error: `no fault seam "${name}"` }, headers);
  if (request.method !== 'POST')
    return jsonResponse(405, { error: 'use POST' }, { ...headers, allow: 'POST' });
  let body: { lease?: unknown; action?: unknown; region?: unknown };
  try {
    body = (await request.json()) as typeof body;
  } catch {
    return jsonResponse(400, { error: 'body must be JSON' }, headers);
  }
  const { lease, action, region } = body;
  if (typeof lease !== 'string' || !LEASE_NAME_PATTERN.test(lease))
    return jsonResponse(400, { error: 'lease must be a lease name' }, headers);
  if (action !== 'start' && action !== 'stop' && action !== 'report')
    return jsonResponse(400, { error: 'action must be start, stop or report' }, headers);
  if (action === 'start' && (typeof region !== 'string' || region.length === 0))
    return jsonResponse(
      400,
      { error: 'start needs the region whose requests reach the old instance' },
      headers,
    );
  const cmd: StaleInstanceCommand = { action, ...(typeof region === 'string' ? { region } : {}) };
  const stub = env.LEASE.get(env.LEASE.idFromName(lease));
  const res = await stub.fetch('https://lease-object/fault/stale-instance', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(cmd),
  });
  return jsonResponse(res.status, await res.json(), headers);
}
