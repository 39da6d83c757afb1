/**
 * HTTP client for the lease Worker (API in docs/engineering.md). Every request is signed
 * with the region's secret (src/worker/signing.ts) and bounded by a timeout. It never
 * throws: transport problems, bad status codes and malformed replies become ok:false, so
 * the runtime can always feed a lease-result back to the core.
 */
import { signRequest } from '../worker/signing.ts';
import { httpRequest } from './http-client.ts';

export type LeaseOp = 'acquire' | 'renew' | 'release' | 'status';

export interface LeaseReply {
  ok: boolean;
  granted: boolean;
  holder: string | null;
  epoch: number | null;
  ttlMs: number | null;
  expiresAt: number | null;
  serverTime: number | null;
  error?: string;
}

export interface LeaseClientOptions {
  workerUrl: string;
  region: string;
  secret: string;
  leaseName: string;
  requestTimeoutMs: number;
  /** wall clock for the signature timestamp (the Worker rejects > 30 s skew); injectable for tests */
  wallClockMs?: () => number;
}

export class LeaseClient {
  constructor(private readonly o: LeaseClientOptions) {}

  async call(op: LeaseOp, epoch: number | null): Promise<LeaseReply> {
    const { method, pathWithQuery, body } = leaseHttpRequest(op, epoch, this.o.leaseName);
    const isStatus = method === 'GET';
    try {
      const headers = await signRequest({
        region: this.o.region,
        secret: this.o.secret,
        method,
        pathWithQuery,
        body,
        timestampMs: (this.o.wallClockMs ?? Date.now)(),
      });
      const res = await httpRequest(this.o.workerUrl + pathWithQuery, {
        method,
        headers: isStatus ? headers : { ...headers, 'content-type': 'application/json' },
        ...(isStatus ? {} : { body }),
        timeoutMs: this.o.requestTimeoutMs,
      });
      if (res.status !== 200) return failure(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      return parseLeaseReply(op, res.body);
    } catch (err) {
      return failure(describeError(err));
    }
  }
}

/** The HTTP request of one lease call, before signing (the simulator's controllers send it too). */
export function leaseHttpRequest(
  op: LeaseOp,
  epoch: number | null,
  leaseName: string,
): { method: 'GET' | 'POST'; pathWithQuery: string; body: string } {
  if (op === 'status')
    return { method: 'GET', pathWithQuery: `/status?lease=${encodeURIComponent(leaseName)}`, body: '' };
  // JSON.stringify({ lease }) / ({ lease, epoch }) written out: the same bytes (a null or
  // non-finite epoch is `null`), one call on a string instead of an object per request
  const lease = JSON.stringify(leaseName);
  const body =
    op === 'acquire' ? `{"lease":${lease}}` : `{"lease":${lease},"epoch":${JSON.stringify(epoch)}}`;
  return { method: 'POST', pathWithQuery: `/${op}`, body };
}

function failure(error: string): LeaseReply {
  return {
    ok: false,
    granted: false,
    holder: null,
    epoch: null,
    ttlMs: null,
    expiresAt: null,
    serverTime: null,
    error,
  };
}

/** A 200 answer's body read as the core's lease result. */
export function parseLeaseReply(op: LeaseOp, text: string): LeaseReply {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return failure(`reply is not JSON: ${text.slice(0, 100)}`);
  }
  return readLeaseReply(op, j);
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The decoded JSON of a 200 answer read as the core's lease result (the simulator's
 * controllers read the Worker's answer object with it: for these plain objects the JSON
 * round trip is the identity).
 */
export function readLeaseReply(op: LeaseOp, j: unknown): LeaseReply {
  if (typeof j !== 'object' || j === null) return failure('reply is not a JSON object');
  const o = j as Record<string, unknown>;
  const holder = o.holder === null || typeof o.holder === 'string' ? (o.holder as string | null) : undefined;
  const epoch = finiteOrNull(o.epoch);
  if (holder === undefined || epoch === null) return failure('reply lacks holder/epoch');
  const granted = op === 'status' ? false : o.granted === true;
  return {
    ok: true,
    granted,
    holder,
    epoch,
    ttlMs: finiteOrNull(o.ttlMs),
    expiresAt: finiteOrNull(o.expiresAt),
    serverTime: finiteOrNull(o.serverTime),
  };
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${err.message}: ${cause.code}`;
    return err.message;
  }
  return String(err);
}
