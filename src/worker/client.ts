/**
 * A small signed HTTP client for the Lease Worker (either variant), for tests, the
 * benchmark and anyone who needs raw access. Runtime-neutral (global fetch + WebCrypto).
 * `prepare()` returns the exact request so tests can replay, tamper with or delay it.
 */
import type { LeaseResponse, LeaseStatusResponse, ObservationsResponse } from './protocol.ts';
import { signRequest } from './signing.ts';

export interface LeaseClientOptions {
  /** base URL, e.g. http://127.0.20.1:8787 */
  url: string;
  region: string;
  secret: string;
  /** clock used for x-fl-timestamp (default Date.now) */
  nowMs?: () => number;
  /** nonce for each request (default random): a harness observer marks its own */
  nonce?: () => string;
}

export interface PreparedRequest {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: string };
}

export interface RawResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class LeaseClient {
  constructor(private readonly opts: LeaseClientOptions) {}

  get region(): string {
    return this.opts.region;
  }

  async prepare(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    pathWithQuery: string,
    body = '',
    override: { timestampMs?: number; nonce?: string } = {},
  ): Promise<PreparedRequest> {
    const nonce = override.nonce ?? this.opts.nonce?.();
    const headers = await signRequest({
      region: this.opts.region,
      secret: this.opts.secret,
      method,
      pathWithQuery,
      body,
      timestampMs: override.timestampMs ?? (this.opts.nowMs ?? Date.now)(),
      ...(nonce === undefined ? {} : { nonce }),
    });
    if (body.length > 0) headers['content-type'] = 'application/json';
    const init: PreparedRequest['init'] = { method, headers };
    if (body.length > 0) init.body = body;
    return { url: this.opts.url + pathWithQuery, init };
  }

  static async send<T = unknown>(req: PreparedRequest): Promise<RawResult<T>> {
    const res = await fetch(req.url, req.init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // non-JSON answers are returned as text for the caller to judge
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }

  async raw<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pathWithQuery: string, body = '') {
    return LeaseClient.send<T>(await this.prepare(method, pathWithQuery, body));
  }

  acquire(lease: string) {
    return this.raw<LeaseResponse>('POST', '/acquire', JSON.stringify({ lease }));
  }

  renew(lease: string, epoch: number) {
    return this.raw<LeaseResponse>('POST', '/renew', JSON.stringify({ lease, epoch }));
  }

  release(lease: string, epoch: number) {
    return this.raw<LeaseResponse>('POST', '/release', JSON.stringify({ lease, epoch }));
  }

  /** `peek`: observe without side effects (see LeaseRequest.peek); for harness observers. */
  status(lease: string, opts: { peek?: boolean } = {}) {
    const peek = opts.peek ? '&peek=1' : '';
    return this.raw<LeaseStatusResponse>('GET', `/status?lease=${encodeURIComponent(lease)}${peek}`);
  }

  /**
   * The lease store's own log (durable variant): grants, renewals, releases, refusals and
   * expiries after `since` (see LeaseObservation), at most MAX_OBSERVATIONS_PER_PAGE; call
   * again with `next` until it stops moving.
   */
  observations(lease: string, since = 0) {
    return this.raw<ObservationsResponse>(
      'GET',
      `/observations?lease=${encodeURIComponent(lease)}&since=${since}`,
    );
  }
}
