/**
 * The one HTTP GET of the topology's probes (health.ts) and boot waits (controller-launch.ts).
 * A leaf: it imports nothing of ours, so any file here may use it.
 */
import { request } from 'node:http';

export function httpGet(
  url: string,
  opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 1000, () =>
      req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 1000} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}
