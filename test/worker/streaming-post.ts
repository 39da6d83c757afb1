/**
 * Sends one chunked POST of up to `totalBytes` (64 KiB chunks, honouring backpressure) and
 * stops writing as soon as the answer arrives or the connection ends: what an attacker
 * streaming a huge unauthenticated body does. Shared by the body-cap test and the
 * before/after measurement in bench/worker.bench.ts.
 */
import { request } from 'node:http';

export interface StreamedPost {
  status: number | null;
  body: string;
  bytesWritten: number;
}

export function streamingPost(url: string, totalBytes: number): Promise<StreamedPost> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve) => {
    let bytesWritten = 0;
    let done = false;
    let status: number | null = null;
    let body = '';
    const finish = () => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, body, bytesWritten });
    };
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        status = res.statusCode ?? null;
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    req.on('error', finish);
    req.on('close', () => {
      if (status === null) finish();
    });
    const pump = () => {
      while (!done && status === null && bytesWritten < totalBytes) {
        bytesWritten += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done && status === null && bytesWritten >= totalBytes) req.end();
    };
    pump();
  });
}
