/**
 * One HTTP request with no connection reuse (agent: false), so a probe never leaves a
 * keep-alive socket that would hold the process open after the game day ends, and each
 * attempt really opens a new connection through the (possibly faulted) proxy.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  status: number;
  body: string;
}

/** Bodies larger than this are truncated: probes match small health/metrics pages. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; signal: AbortSignal },
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new Error(`invalid URL "${url}"`));
      return;
    }
    const mod = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!mod) {
      reject(new Error(`unsupported URL scheme "${parsed.protocol}"`));
      return;
    }
    const req = mod.request(
      parsed,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false, signal: opts.signal },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
