/**
 * The one Toxiproxy API client (src/toxiproxy/client.ts) against the built-in server on
 * 127.0.30.5: the calls the harness and game days make, errors that name the proxy and the
 * HTTP status, and a timeout on a server that never answers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToxiproxyApiError, ToxiproxyClient } from '../../src/toxiproxy/client.ts';
import { type RunningToxiproxyServer, startToxiproxyServer } from '../../src/toxiproxy/server.ts';

const HOST = '127.0.30.5';
let server: RunningToxiproxyServer;
let client: ToxiproxyClient;

beforeAll(async () => {
  server = await startToxiproxyServer({ host: HOST, port: 0 });
  client = new ToxiproxyClient(`${server.url}/`);
});
afterAll(async () => {
  await server?.close();
});

/** The rejection of `p`, which must be a ToxiproxyApiError. */
async function apiError(p: Promise<unknown>): Promise<ToxiproxyApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ToxiproxyApiError);
  return err as ToxiproxyApiError;
}

describe('ToxiproxyClient against the built-in server', () => {
  it('creates proxies, disables and enables one, adds and removes toxics, deletes it', async () => {
    expect(client.url).toBe(server.url);
    await client.populate([{ name: 'a__to__b', listen: `${HOST}:0`, upstream: `${HOST}:9`, enabled: true }]);
    expect(Object.keys(await client.proxies())).toContain('a__to__b');
    expect((await client.setEnabled('a__to__b', false)).enabled).toBe(false);
    const disabled = await client.proxy('a__to__b');
    expect(disabled.enabled).toBe(false);
    expect(disabled.upstream).toBe(`${HOST}:9`); // omitted fields keep their values
    await client.setEnabled('a__to__b', true);
    await client.addToxic('a__to__b', {
      name: 'slow',
      type: 'latency',
      stream: 'upstream',
      toxicity: 1,
      attributes: { latency: 100, jitter: 0 },
    });
    const withToxic = await client.proxy('a__to__b');
    expect(withToxic.toxics.map((t) => [t.name, t.type, t.attributes.latency])).toEqual([
      ['slow', 'latency', 100],
    ]);
    await client.removeToxic('a__to__b', 'slow');
    expect((await client.proxy('a__to__b')).toxics).toEqual([]);
    await client.deleteProxy('a__to__b');
    expect(Object.keys(await client.proxies())).not.toContain('a__to__b');
  });

  it('a failed call names the server, the call, the proxy and the HTTP status with the server text', async () => {
    const err = await apiError(client.proxy('no__to__such'));
    expect(err.status).toBe(404);
    expect(err.proxy).toBe('no__to__such');
    expect(err.message).toContain(
      `Toxiproxy ${server.url}: GET /proxies/no__to__such (proxy no__to__such) → HTTP 404`,
    );
    expect(err.message).toMatch(/proxy not found/);
  });

  it('removing a toxic that is gone: an error, unless ifPresent; a missing proxy always is', async () => {
    await client.populate([{ name: 'c__to__d', listen: `${HOST}:0`, upstream: `${HOST}:9` }]);
    const strict = await apiError(client.removeToxic('c__to__d', 'never-added'));
    expect(strict.status).toBe(404);
    await expect(client.removeToxic('c__to__d', 'never-added', { ifPresent: true })).resolves.toBeUndefined();
    const noProxy = await apiError(client.removeToxic('no__to__such', 'x', { ifPresent: true }));
    expect(noProxy.status).toBe(404);
    await client.deleteProxy('c__to__d');
  });

  it('reset re-enables every proxy and removes every toxic', async () => {
    await client.populate([{ name: 'e__to__f', listen: `${HOST}:0`, upstream: `${HOST}:9` }]);
    await client.setEnabled('e__to__f', false);
    await client.addToxic('e__to__f', {
      name: 't',
      type: 'timeout',
      stream: 'upstream',
      toxicity: 1,
      attributes: { timeout: 0 },
    });
    await client.reset();
    const p = await client.proxy('e__to__f');
    expect([p.enabled, p.toxics.length]).toEqual([true, 0]);
    await client.deleteProxy('e__to__f');
  });
});

describe('ToxiproxyClient timeouts and unreachable servers', () => {
  let silent: Server;
  const held: Socket[] = [];
  let silentUrl = '';

  beforeAll(async () => {
    // accepts connections and never answers: a stuck API
    silent = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
    const addr = silent.address() as { port: number };
    silentUrl = `http://${HOST}:${addr.port}`;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('a server that never answers fails the call with the timeout, naming the proxy (status null)', async () => {
    const err = await apiError(
      new ToxiproxyClient(silentUrl, { timeoutMs: 200 }).setEnabled('x__to__y', false),
    );
    expect(err.status).toBeNull();
    expect(err.message).toBe(
      `Toxiproxy ${silentUrl}: POST /proxies/x__to__y (proxy x__to__y): no answer within 200 ms`,
    );
  });

  it('a refused connection is an error with no status, saying why', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, HOST, resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await apiError(new ToxiproxyClient(`http://${HOST}:${port}`).version());
    expect(err.status).toBeNull();
    expect(err.message).toMatch(/GET \/version: .*ECONNREFUSED/);
  });
});
