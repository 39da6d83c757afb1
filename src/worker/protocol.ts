/**
 * The Lease Worker's HTTP contract (docs/engineering.md, "Lease Worker HTTP API"): request
 * validation and response shapes, shared by both Worker variants and by the Node-side
 * client. Pure and runtime-neutral (runs in workerd and in Node): no Node imports.
 */

export type LeaseOp = 'acquire' | 'renew' | 'release' | 'status' | 'observations';

/** Path → the one method it accepts. Anything else is 404 (unknown path) or 405. */
export const ROUTES: Readonly<Record<string, { op: LeaseOp; method: 'GET' | 'POST' }>> = {
  '/acquire': { op: 'acquire', method: 'POST' },
  '/renew': { op: 'renew', method: 'POST' },
  '/release': { op: 'release', method: 'POST' },
  '/status': { op: 'status', method: 'GET' },
  '/observations': { op: 'observations', method: 'GET' },
};

/** Lease names become Durable Object names and KV keys: keep them short and printable. */
export const LEASE_NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Signed bodies are tiny; refusing big ones bounds the HMAC and JSON work per request. The
 * Worker stops reading at this many bytes and answers 413 (http.ts), so an unauthenticated
 * sender cannot make it buffer more.
 */
export const MAX_BODY_BYTES = 4096;

/** Most observations one GET /observations returns; the caller pages on with `since`. */
export const MAX_OBSERVATIONS_PER_PAGE = 1000;

export interface LeaseRequest {
  op: LeaseOp;
  lease: string;
  /** present for renew and release */
  epoch?: number;
  /**
   * status only (`?peek=1`): read without side effects. The legacy-kv variant then does
   * not fill the location cache, so a harness observer cannot change what the regions see.
   * The durable variant has no cache and ignores it.
   */
  peek?: boolean;
  /** observations only: return entries with seq > since */
  since?: number;
}

/** 200 body of acquire/renew/release; release adds `released`. */
export interface LeaseResponse {
  granted: boolean;
  holder: string | null;
  epoch: number;
  ttlMs: number;
  expiresAt: number | null;
  serverTime: number;
  released?: boolean;
}

/** 200 body of GET /status. */
export interface LeaseStatusResponse {
  holder: string | null;
  epoch: number;
  ttlMs: number;
  expiresAt: number | null;
  serverTime: number;
}

/**
 * What the lease store itself saw happen, recorded by the store (the Worker), not by a
 * controller: the checker's evidence of grants and expiries. `storeMs` is the store's clock
 * (Date.now in workerd) at the moment it happened; for `expire` that is the grant's
 * expiresAt, even when the store noticed it later (at the next request).
 * - grant: a new holder under a new epoch (durable: epoch + 1; legacy-kv: a timestamp)
 * - renew: the holder's expiry moved; release: the holder freed it
 * - refuse: an acquire/renew/release that changed nothing (`requested` says which)
 * - expire: the grant of `epoch` ran out with nobody renewing it
 * holder/epoch/expiresAt describe the lease *after* the event.
 */
export interface LeaseObservation {
  seq: number;
  op: 'grant' | 'renew' | 'release' | 'refuse' | 'expire';
  /** who asked (for expire: whose grant ran out) */
  region: string;
  requested?: 'acquire' | 'renew' | 'release';
  holder: string | null;
  epoch: number;
  expiresAt: number | null;
  storeMs: number;
}

/** 200 body of GET /observations?lease=L&since=N. */
export interface ObservationsResponse {
  observations: LeaseObservation[];
  /** pass as `since` next time; equal to the request's `since` when nothing is new */
  next: number;
  serverTime: number;
}

export interface ErrorResponse {
  error: string;
}

export type ParseResult = { ok: true; request: LeaseRequest } | { ok: false; error: string };

const ALLOWED_FIELDS: Record<LeaseOp, readonly string[]> = {
  acquire: ['lease'],
  renew: ['lease', 'epoch'],
  release: ['lease', 'epoch'],
  status: ['lease'],
  observations: ['lease', 'since'],
};

function checkLease(value: unknown): string | null {
  if (value === undefined) return 'missing field "lease"';
  if (typeof value !== 'string') return '"lease" must be a string';
  if (!LEASE_NAME_PATTERN.test(value)) return '"lease" must match [A-Za-z0-9._:-]{1,128}';
  return null;
}

function checkEpoch(value: unknown): string | null {
  if (value === undefined) return 'missing field "epoch"';
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return '"epoch" must be a non-negative integer';
  }
  return null;
}

/**
 * Validates a POST body (already authenticated). Strict: unknown fields are rejected so a
 * client cannot believe it set something (e.g. "holder") that the Worker ignores.
 */
export function parsePostBody(op: Exclude<LeaseOp, 'status' | 'observations'>, body: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, error: 'body is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: 'body must be a JSON object' };
  }
  const fields = json as Record<string, unknown>;
  const allowed = ALLOWED_FIELDS[op];
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) return { ok: false, error: `unknown field "${key}"` };
  }
  const leaseError = checkLease(fields['lease']);
  if (leaseError) return { ok: false, error: leaseError };
  const request: LeaseRequest = { op, lease: fields['lease'] as string };
  if (op === 'renew' || op === 'release') {
    const epochError = checkEpoch(fields['epoch']);
    if (epochError) return { ok: false, error: epochError };
    request.epoch = fields['epoch'] as number;
  }
  return { ok: true, request };
}

/**
 * Validates GET /status: exactly one `lease` query parameter, optionally `peek=1`, and an
 * empty body.
 */
export function parseStatusQuery(search: URLSearchParams, body: string): ParseResult {
  if (body.length > 0) return { ok: false, error: 'GET /status takes no body' };
  for (const key of search.keys()) {
    if (key !== 'lease' && key !== 'peek') return { ok: false, error: `unknown query parameter "${key}"` };
  }
  const values = search.getAll('lease');
  if (values.length > 1) return { ok: false, error: 'query parameter "lease" given more than once' };
  const leaseError = checkLease(values[0]);
  if (leaseError) return { ok: false, error: leaseError };
  const peeks = search.getAll('peek');
  if (peeks.length > 1 || (peeks.length === 1 && peeks[0] !== '1')) {
    return { ok: false, error: 'query parameter "peek" must be given at most once, as peek=1' };
  }
  const request: LeaseRequest = { op: 'status', lease: values[0] as string };
  if (peeks.length === 1) request.peek = true;
  return { ok: true, request };
}

/** Validates GET /observations: `lease`, optionally `since` (a non-negative integer), no body. */
export function parseObservationsQuery(search: URLSearchParams, body: string): ParseResult {
  if (body.length > 0) return { ok: false, error: 'GET /observations takes no body' };
  for (const key of search.keys()) {
    if (key !== 'lease' && key !== 'since') return { ok: false, error: `unknown query parameter "${key}"` };
  }
  const leases = search.getAll('lease');
  if (leases.length > 1) return { ok: false, error: 'query parameter "lease" given more than once' };
  const leaseError = checkLease(leases[0]);
  if (leaseError) return { ok: false, error: leaseError };
  const sinces = search.getAll('since');
  if (sinces.length > 1 || (sinces.length === 1 && !/^\d{1,15}$/.test(sinces[0] as string))) {
    return {
      ok: false,
      error: 'query parameter "since" must be given at most once, as a non-negative integer',
    };
  }
  return {
    ok: true,
    request: { op: 'observations', lease: leases[0] as string, since: Number(sinces[0] ?? 0) },
  };
}

/** Parses a non-negative integer Worker var (vars arrive as strings), or the default. */
export function intVar(raw: unknown, fallback: number, name: string, min = 1): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`Worker var ${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
