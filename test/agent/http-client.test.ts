/**
 * The agent's HTTP client (node:http instead of fetch): what the lease client, the peer probe,
 * the PowerDNS publisher and the webhook relied on from fetch still holds — connection reuse,
 * a timeout that bounds the reply body too and is reported as "timeout", transport errors
 * with their code, any status handed back for the caller to judge.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probePeer } from '../../src/agent/adapters.ts';
import { httpRequest } from '../../src/agent/http-client.ts';
import { describeError, LeaseClient } from '../../src/agent/lease-client.ts';
import { HOST } from './fakes.ts';

describe('agent HTTP client', () => {
  let server: http.Server;
  let base = '';
  let connections = 0;
  const seen: Array<{ method: string; path: string; length: string | undefined; body: string }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          length: req.headers['content-length'],
          body,
        });
        if (req.url?.startsWith('/half')) {
          // headers and part of the body, then nothing: only the timeout ends this exchange
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"holder":');
          return;
        }
        if (req.url === '/cut') {
          res.writeHead(200, { 'content-length': '100' });
          // once the first part is out, so the client is inside the reply when the connection goes
          res.write('{"holder":', () => res.socket?.destroy());
          return;
        }
        res.writeHead(req.url === '/teapot' ? 418 : 200).end(`echo ${body}`);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, HOST, r));
    base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends method, body and its length, and hands back any status with the body', async () => {
    expect(await httpRequest(`${base}/x?y=1`, { method: 'PATCH', body: 'é1', timeoutMs: 2000 })).toEqual({
      status: 200,
      body: 'echo é1',
    });
    expect(seen.at(-1)).toEqual({ method: 'PATCH', path: '/x?y=1', length: '3', body: 'é1' });
    expect(await httpRequest(`${base}/teapot`, { timeoutMs: 2000 })).toEqual({ status: 418, body: 'echo ' });
  });

  it('reuses one connection for requests in a row (keep-alive, as fetch did)', async () => {
    await httpRequest(`${base}/warm`, { timeoutMs: 2000 });
    const before = connections;
    for (let i = 0; i < 3; i++)
      await httpRequest(`${base}/again`, { method: 'POST', body: '{}', timeoutMs: 2000 });
    expect(connections).toBe(before);
  });

  it('a reply whose body stops coming is a timeout, for the lease client too', async () => {
    const err = await httpRequest(`${base}/half`, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(describeError(err)).toBe('timeout');
    const lease = new LeaseClient({
      workerUrl: `${base}/half`,
      region: 'a',
      secret: 's',
      leaseName: 'primary',
      requestTimeoutMs: 150,
    });
    expect(await lease.call('status', null)).toMatchObject({ ok: false, error: 'timeout' });
  });

  it('a connection closed mid-reply is an error, not a reply', async () => {
    await expect(httpRequest(`${base}/cut`, { timeoutMs: 2000 })).rejects.toThrow();
  });

  it('an unreachable server is a transport error carrying its code, not a timeout', async () => {
    const err = await httpRequest('http://127.0.10.1:1/healthz', { timeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    const probe = await probePeer('http://127.0.10.1:1/healthz', 2000);
    expect(probe.ok).toBe(false);
    expect(probe.error).toMatch(/ECONNREFUSED/);
  });

  it('https URLs go through TLS (a plain server fails the handshake); other schemes are refused', async () => {
    const err = await httpRequest(base.replace('http:', 'https:'), { timeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(describeError(err)).not.toMatch(/scheme|timeout/);
    await expect(httpRequest('ftp://127.0.10.1/x', { timeoutMs: 2000 })).rejects.toThrow(
      /unsupported URL scheme/,
    );
  });
});
