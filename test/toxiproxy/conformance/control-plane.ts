/**
 * Control-plane cases of the conformance suite (spec §11 A01–A50), registered by
 * ../conformance.test.ts against whichever server it targets. Calls go through
 * toxiproxy-node-client where it covers them, raw fetch where status codes or bytes matter.
 */
import { createServer } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addToxic,
  connectOutcome,
  connectProbe,
  createProxy,
  eventually,
  http,
  splitListen,
  startEcho,
  type Target,
  type Upstream,
  within,
} from '../helpers.ts';

/** A port nothing listens on (bound and released at once). */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const LISTEN_PATTERN = (host: string) => new RegExp(`^${host.replaceAll('.', '\\.')}:[1-9]\\d*$`);

/** Register the A cases. `getTarget` is called at run time (the target starts in beforeAll). */
export function controlPlaneCases(getTarget: () => Target, track: (u: Upstream) => void): void {
  let target: Target;
  let client: Toxiproxy;
  let echo: Upstream;
  let echo2: Upstream;

  beforeAll(async () => {
    target = getTarget();
    client = new Toxiproxy(target.url);
    echo = await startEcho(target.host);
    echo2 = await startEcho(target.host);
    track(echo);
    track(echo2);
  });

  describe('A: control plane', () => {
    it('A01 version: JSON with a string version, exact bytes and content type', async () => {
      const res = await http(target, 'GET', '/version');
      expect(res.status).toBe(200);
      expect(typeof res.json().version).toBe('string');
      expect(res.text).toBe(`{"version": "${res.json().version}"}\n`);
      expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
      expect(await client.getVersion()).toBe(res.text);
    });

    it('A02 empty list is {}', async () => {
      const res = await http(target, 'GET', '/proxies');
      expect(res.status).toBe(200);
      expect(res.text).toBe('{}');
    });

    it('A03 create with an ephemeral port: 201, real port reported, port accepts TCP', async () => {
      const res = await http(target, 'POST', '/proxies', {
        name: 'p1',
        listen: `${target.host}:0`,
        upstream: echo.address,
      });
      expect(res.status).toBe(201);
      const body = res.json();
      expect(body.name).toBe('p1');
      expect(body.listen).toMatch(LISTEN_PATTERN(target.host));
      expect(body.enabled).toBe(true);
      expect(body.toxics).toEqual([]);
      expect(await connectOutcome(body.listen)).toBe('ok');
      // Key order and the Logger field, as Go writes them.
      expect(Object.keys(body)).toEqual(['name', 'listen', 'upstream', 'enabled', 'Logger', 'toxics']);
      expect(body.Logger).toEqual({});
    });

    it('A04 localhost:0 resolves to 127.0.0.1', async () => {
      const proxy = await client.createProxy({ name: 'lh', listen: 'localhost:0', upstream: echo.address });
      expect(proxy.listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    });

    it('A05 enabled defaults to true and the port is open', async () => {
      const res = await http(target, 'POST', '/proxies', {
        name: 'e',
        listen: `${target.host}:0`,
        upstream: 'x:1',
      });
      expect(res.json().enabled).toBe(true);
      expect(await connectOutcome(res.json().listen)).toBe('ok');
    });

    it('A06 create disabled: 201, listen echoed unchanged, connect refused', async () => {
      const port = await freePort('127.0.0.1');
      const res = await http(target, 'POST', '/proxies', {
        name: 'd',
        listen: `localhost:${port}`,
        upstream: 'x:1',
        enabled: false,
      });
      expect(res.status).toBe(201);
      expect(res.json().enabled).toBe(false);
      expect(res.json().listen).toBe(`localhost:${port}`);
      expect(await connectOutcome(`127.0.0.1:${port}`)).toBe('ECONNREFUSED');
    });

    it('A07 missing name → 400 with the exact error body', async () => {
      const res = await http(target, 'POST', '/proxies', { upstream: 'x:1' });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'missing required field: name', status: 400 });
    });

    it('A08 missing upstream → 400', async () => {
      const res = await http(target, 'POST', '/proxies', { name: 'n' });
      expect(res.status).toBe(400);
      expect(res.json().error).toBe('missing required field: upstream');
    });

    it('A09 name is checked before upstream', async () => {
      const res = await http(target, 'POST', '/proxies', {});
      expect(res.status).toBe(400);
      expect(res.json().error).toBe('missing required field: name');
    });

    it('A10 malformed JSON → 400 bad request body', async () => {
      const res = await http(target, 'POST', '/proxies', '{bad');
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^bad request body: /);
      expect(res.json().error).toBe(
        "bad request body: invalid character 'b' looking for beginning of object key string",
      );
    });

    it('A11 empty body → 400 bad request body: EOF', async () => {
      const res = await fetch(`${target.url}/proxies`, {
        method: 'POST',
        headers: { 'User-Agent': 'conformance' },
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(await res.text())).toEqual({ error: 'bad request body: EOF', status: 400 });
    });

    it('A12 duplicate name → 409 and the first proxy is unaffected', async () => {
      const first = await client.createProxy({
        name: 'p1',
        listen: `${target.host}:0`,
        upstream: echo.address,
      });
      await expect(
        client.createProxy({ name: 'p1', listen: `${target.host}:0`, upstream: echo2.address }),
      ).rejects.toThrow('Request failed with status code 409');
      const res = await http(target, 'POST', '/proxies', {
        name: 'p1',
        listen: `${target.host}:0`,
        upstream: 'y:2',
      });
      expect(res.status).toBe(409);
      expect(res.json().error).toBe('proxy already exists');
      const again = await client.get('p1');
      expect(again.listen).toBe(first.listen);
      expect(again.upstream).toBe(echo.address);
      expect(await connectOutcome(first.listen)).toBe('ok');
    });

    it('A13 port conflict → 500 address already in use, nothing stored; free again after delete', async () => {
      const p1 = await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'POST', '/proxies', {
        name: 'p2',
        listen: p1.listen,
        upstream: echo.address,
      });
      expect(res.status).toBe(500);
      expect(res.json().status).toBe(500);
      expect(res.json().error).toContain('address already in use');
      expect((await http(target, 'GET', '/proxies/p2')).status).toBe(404);
      expect((await http(target, 'DELETE', '/proxies/p1')).status).toBe(204);
      const retry = await http(target, 'POST', '/proxies', {
        name: 'p2',
        listen: p1.listen,
        upstream: echo.address,
      });
      expect(retry.status).toBe(201);
      expect(retry.json().listen).toBe(p1.listen);
    });

    it('A14 show an existing proxy; a missing one is 404 proxy not found', async () => {
      await createProxy(target, 'p1', echo.address);
      const proxy = await client.get('p1');
      expect(proxy.name).toBe('p1');
      expect(proxy.upstream).toBe(echo.address);
      const missing = await http(target, 'GET', '/proxies/nope');
      expect(missing.status).toBe(404);
      expect(missing.json()).toEqual({ error: 'proxy not found', status: 404 });
    });

    it('A15 list: an object keyed by name with full proxy values', async () => {
      await createProxy(target, 'p2', echo.address);
      await createProxy(target, 'p1', echo.address);
      const all = await client.getAll();
      expect(Object.keys(all).sort()).toEqual(['p1', 'p2']);
      const raw = (await http(target, 'GET', '/proxies')).json();
      expect(Object.keys(raw)).toEqual(['p1', 'p2']); // Go sorts map keys
      for (const value of Object.values(raw) as Array<Record<string, unknown>>) {
        expect(Object.keys(value)).toEqual(
          expect.arrayContaining(['name', 'listen', 'upstream', 'enabled', 'toxics']),
        );
      }
    });

    it('A16 disable via POST: enabled false, listen unchanged, connect refused', async () => {
      const created = await client.createProxy({
        name: 'p1',
        listen: `${target.host}:0`,
        upstream: echo.address,
      });
      const updated = await created.update({
        enabled: false,
        listen: created.listen,
        upstream: created.upstream,
      });
      expect(updated.enabled).toBe(false);
      expect(updated.listen).toBe(created.listen);
      expect(await connectOutcome(created.listen)).toBe('ECONNREFUSED');
    });

    it('A17 re-enable via PATCH rebinds the same port', async () => {
      const created = await createProxy(target, 'p1', echo.address);
      await http(target, 'POST', '/proxies/p1', { enabled: false });
      const res = await http(target, 'PATCH', '/proxies/p1', { enabled: true });
      expect(res.status).toBe(200);
      expect(res.json().enabled).toBe(true);
      expect(res.json().listen).toBe(created.listen);
      expect(await connectOutcome(created.listen)).toBe('ok');
    });

    it('A18/B27 change upstream: echoed, open connection closed, new connections go to the new upstream', async () => {
      const created = await createProxy(target, 'p1', echo.address);
      const probe = await connectProbe(created.listen);
      probe.socket.write('ping');
      await probe.waitForBytes(4);
      const acceptedBefore = echo2.sockets.length;
      const res = await http(target, 'PATCH', '/proxies/p1', { upstream: echo2.address });
      expect(res.status).toBe(200);
      expect(res.json().upstream).toBe(echo2.address);
      expect(await within(probe.ended, 1000, 'still open')).not.toBe('still open');
      const second = await connectProbe(res.json().listen);
      second.socket.write('pong');
      await second.waitForBytes(4);
      expect(echo2.sockets.length).toBe(acceptedBefore + 1);
      second.socket.destroy();
    });

    it('A19 change listen to port 0: a different port, the old one refuses', async () => {
      const created = await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'PATCH', '/proxies/p1', { listen: `${target.host}:0` });
      expect(res.status).toBe(200);
      expect(res.json().listen).not.toBe(created.listen);
      expect(res.json().listen).toMatch(LISTEN_PATTERN(target.host));
      expect(await connectOutcome(created.listen)).toBe('ECONNREFUSED');
      expect(await connectOutcome(res.json().listen)).toBe('ok');
    });

    it('A20 same address given by hostname is no change: the connection survives', async () => {
      const res = await http(target, 'POST', '/proxies', {
        name: 'p1',
        listen: '127.0.0.1:0',
        upstream: echo.address,
      });
      const { port } = splitListen(res.json().listen);
      const probe = await connectProbe(res.json().listen);
      probe.socket.write('a');
      await probe.waitForBytes(1);
      const update = await http(target, 'PATCH', '/proxies/p1', { listen: `localhost:${port}` });
      expect(update.status).toBe(200);
      expect(update.json().listen).toBe(`127.0.0.1:${port}`);
      expect(await within(probe.ended, 300, 'still open')).toBe('still open');
      probe.socket.write('b');
      await probe.waitForBytes(2);
      probe.socket.destroy();
    });

    it('A21 the name cannot be changed by an update', async () => {
      await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'PATCH', '/proxies/p1', { name: 'zzz' });
      expect(res.status).toBe(200);
      expect(res.json().name).toBe('p1');
      expect((await http(target, 'GET', '/proxies/zzz')).status).toBe(404);
    });

    it('A22 update of a missing proxy → 404', async () => {
      const res = await http(target, 'PATCH', '/proxies/nope', {});
      expect(res.status).toBe(404);
      expect(res.json().error).toBe('proxy not found');
    });

    it('A23 delete: 204, gone, port refuses, open connection closed, second delete 404', async () => {
      const created = await createProxy(target, 'p1', echo.address);
      const probe = await connectProbe(created.listen);
      probe.socket.write('x');
      await probe.waitForBytes(1);
      const res = await http(target, 'DELETE', '/proxies/p1');
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await http(target, 'GET', '/proxies/p1')).status).toBe(404);
      expect(await connectOutcome(created.listen)).toBe('ECONNREFUSED');
      expect(await within(probe.ended, 1000, 'still open')).not.toBe('still open');
      expect((await http(target, 'DELETE', '/proxies/p1')).status).toBe(404);
    });

    it('A24 populate creates proxies in order, enabled and disabled', async () => {
      const res = await http(target, 'POST', '/populate', [
        { name: 'a', listen: `${target.host}:0`, upstream: 'x:1' },
        { name: 'b', listen: `${target.host}:0`, upstream: 'x:1', enabled: false },
      ]);
      expect(res.status).toBe(201);
      const proxies = res.json().proxies;
      expect(proxies.map((p: { name: string }) => p.name)).toEqual(['a', 'b']);
      expect(proxies[0].enabled).toBe(true);
      expect(proxies[1].enabled).toBe(false);
      const viaClient = await client.populate([{ name: 'c', listen: `${target.host}:0`, upstream: 'x:1' }]);
      expect(Object.keys(viaClient)).toEqual(['c']);
    });

    it('A25 populate validates every item before creating anything', async () => {
      const res = await http(target, 'POST', '/populate', [
        { name: 'a', listen: `${target.host}:0`, upstream: 'x:1' },
        { listen: `${target.host}:0` },
      ]);
      expect(res.status).toBe(400);
      expect(res.json().error).toBe('missing required field: name at proxy 2');
      expect(res.json().proxies).toBeNull();
      expect((await http(target, 'GET', '/proxies/a')).status).toBe(404);
    });

    it('A26 populate keeps an unchanged proxy (hostname listen) with its toxics', async () => {
      const res = await http(target, 'POST', '/proxies', {
        name: 'a',
        listen: '127.0.0.1:0',
        upstream: echo.address,
      });
      const { port } = splitListen(res.json().listen);
      await addToxic(target, 'a', { type: 'latency', attributes: { latency: 10 } });
      const pop = await http(target, 'POST', '/populate', [
        { name: 'a', listen: `localhost:${port}`, upstream: echo.address },
      ]);
      expect(pop.status).toBe(201);
      expect(pop.json().proxies[0].listen).toBe(`127.0.0.1:${port}`);
      expect(pop.json().proxies[0].toxics).toHaveLength(1);
    });

    it('A27 populate replaces a changed proxy and drops its toxics', async () => {
      const res = await http(target, 'POST', '/proxies', {
        name: 'a',
        listen: '127.0.0.1:0',
        upstream: echo.address,
      });
      const { port } = splitListen(res.json().listen);
      await addToxic(target, 'a', { type: 'latency', attributes: { latency: 10 } });
      const pop = await http(target, 'POST', '/populate', [
        { name: 'a', listen: `localhost:${port}`, upstream: echo2.address },
      ]);
      expect(pop.status).toBe(201);
      expect(pop.json().proxies[0].upstream).toBe(echo2.address);
      expect(pop.json().proxies[0].toxics).toEqual([]);
    });

    it('A28 populate partial failure: 500 JSON with the proxies done so far', async () => {
      const res = await http(target, 'POST', '/populate', [
        { name: 'a', listen: `${target.host}:0`, upstream: 'x:1' },
        { name: 'b', listen: 'local373', upstream: 'x:1' },
        { name: 'c', listen: `${target.host}:0`, upstream: 'x:1' },
      ]);
      expect(res.status).toBe(500);
      const body = res.json();
      expect(typeof body.error).toBe('string');
      expect(body.status).toBe(500);
      expect(body.proxies.map((p: { name: string }) => p.name)).toEqual(['a']);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await http(target, 'GET', '/proxies/a')).status).toBe(200);
      expect((await http(target, 'GET', '/proxies/b')).status).toBe(404);
      expect((await http(target, 'GET', '/proxies/c')).status).toBe(404);
    });

    it('A29 create toxic with defaults: 200 and the exact body', async () => {
      await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'POST', '/proxies/p1/toxics', { type: 'latency' });
      expect(res.status).toBe(200);
      expect(res.text).toBe(
        '{"attributes":{"latency":0,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}',
      );
    });

    it('A30 the default name uses the stream; both toxics exist', async () => {
      await createProxy(target, 'p1', echo.address);
      const up = await http(target, 'POST', '/proxies/p1/toxics', { type: 'latency', stream: 'upstream' });
      const down = await http(target, 'POST', '/proxies/p1/toxics', { type: 'latency' });
      expect(up.json().name).toBe('latency_upstream');
      expect(down.json().name).toBe('latency_downstream');
      const list = (await http(target, 'GET', '/proxies/p1/toxics')).json();
      expect(list.map((t: { name: string }) => t.name)).toEqual(['latency_upstream', 'latency_downstream']);
    });

    it('A31 explicit fields are echoed exactly (via the node client)', async () => {
      const proxy = await client.createProxy({
        name: 'p1',
        listen: `${target.host}:0`,
        upstream: echo.address,
      });
      const toxic = await proxy.addToxic({
        name: 'lat',
        type: 'latency',
        stream: 'upstream',
        toxicity: 0.5,
        attributes: { latency: 100, jitter: 10 },
      });
      expect(toxic.toJson()).toEqual({
        name: 'lat',
        type: 'latency',
        stream: 'upstream',
        toxicity: 0.5,
        attributes: { latency: 100, jitter: 10 },
      });
      const raw = await http(target, 'GET', '/proxies/p1/toxics/lat');
      expect(raw.text).toBe(
        '{"attributes":{"latency":100,"jitter":10},"name":"lat","type":"latency","stream":"upstream","toxicity":0.5}',
      );
    });

    it('A31/§3.2 stream matches case-insensitively and is echoed as sent; toxicity is not range-checked', async () => {
      await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'POST', '/proxies/p1/toxics', {
        type: 'latency',
        stream: 'UPSTREAM',
        toxicity: 2.5,
      });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ name: 'latency_UPSTREAM', stream: 'UPSTREAM', toxicity: 2.5 });
      const neg = await http(target, 'POST', '/proxies/p1/toxics', {
        name: 'neg',
        type: 'noop',
        toxicity: -1,
      });
      expect(neg.json().toxicity).toBe(-1);
      const list = (await http(target, 'GET', '/proxies/p1/toxics')).json();
      expect(list[0].name).toBe('latency_UPSTREAM'); // listed with the upstream toxics
    });

    it('A32 invalid stream (walrus, and an explicit empty string) → 400', async () => {
      await createProxy(target, 'p1', echo.address);
      for (const stream of ['walrus', '']) {
        const res = await http(target, 'POST', '/proxies/p1/toxics', { type: 'latency', stream });
        expect(res.status).toBe(400);
        expect(res.json().error).toBe('stream was invalid, can be either upstream or downstream');
      }
    });

    it('A33 invalid type (down, nope, missing) → 400 invalid toxic type', async () => {
      await createProxy(target, 'p1', echo.address);
      for (const body of [{ type: 'down' }, { type: 'nope' }, {}]) {
        const res = await http(target, 'POST', '/proxies/p1/toxics', body);
        expect(res.status).toBe(400);
        expect(res.json().error).toBe('invalid toxic type');
      }
    });

    it('A34 toxic names are unique across both streams → 409', async () => {
      await createProxy(target, 'p1', echo.address);
      await addToxic(target, 'p1', { name: 'x', type: 'latency', stream: 'upstream' });
      const res = await http(target, 'POST', '/proxies/p1/toxics', {
        name: 'x',
        type: 'latency',
        stream: 'downstream',
      });
      expect(res.status).toBe(409);
      expect(res.json().error).toBe('toxic already exists');
      const list = (await http(target, 'GET', '/proxies/p1/toxics')).json();
      expect(list).toHaveLength(1);
      expect(list[0].stream).toBe('upstream');
    });

    it('A35 noop type is accepted with attributes {}', async () => {
      await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'POST', '/proxies/p1/toxics', { name: 'n', type: 'noop' });
      expect(res.status).toBe(200);
      expect(res.json().attributes).toEqual({});
      expect(res.json().stream).toBe('downstream');
    });

    it('A36 wrong attribute type → 400 bad request body', async () => {
      await createProxy(target, 'p1', echo.address);
      const res = await http(target, 'POST', '/proxies/p1/toxics', {
        type: 'latency',
        attributes: { latency: 'abc' },
      });
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^bad request body: /);
      expect((await http(target, 'GET', '/proxies/p1/toxics')).json()).toEqual([]);
    });

    it('A37 toxic on a missing proxy → 404 proxy not found', async () => {
      const res = await http(target, 'POST', '/proxies/nope/toxics', { type: 'latency' });
      expect(res.status).toBe(404);
      expect(res.json().error).toBe('proxy not found');
    });

    it('A38 every type has its full attribute schema, zero-filled', async () => {
      await createProxy(target, 'p1', echo.address);
      const expected: Record<string, Record<string, number>> = {
        latency: { latency: 0, jitter: 0 },
        bandwidth: { rate: 0 },
        slow_close: { delay: 0 },
        timeout: { timeout: 0 },
        reset_peer: { timeout: 0 },
        limit_data: { bytes: 0 },
      };
      for (const [type, attributes] of Object.entries(expected)) {
        const res = await http(target, 'POST', '/proxies/p1/toxics', { type, name: type });
        expect(res.status).toBe(200);
        expect(res.text).toContain(`"attributes":${JSON.stringify(attributes)}`);
      }
      // slicer with only average_size (all-zero slicer attributes crash Go on first data and
      // are refused by the built-in server; see docs/toxiproxy.md): the others are zero-filled.
      const slicer = await http(target, 'POST', '/proxies/p1/toxics', {
        type: 'slicer',
        name: 'slicer',
        attributes: { average_size: 8 },
      });
      expect(slicer.status).toBe(200);
      expect(slicer.text).toContain('"attributes":{"average_size":8,"size_variation":0,"delay":0}');
    });

    it('A39 list order: upstream toxics first, each direction in creation order', async () => {
      await createProxy(target, 'p1', echo.address);
      await addToxic(target, 'p1', { name: 'down1', type: 'latency' });
      await addToxic(target, 'p1', { name: 'up1', type: 'latency', stream: 'upstream' });
      await addToxic(target, 'p1', { name: 'down2', type: 'latency' });
      const names = (await http(target, 'GET', '/proxies/p1/toxics'))
        .json()
        .map((t: { name: string }) => t.name);
      expect(names).toEqual(['up1', 'down1', 'down2']);
      const fromProxy = (await http(target, 'GET', '/proxies/p1'))
        .json()
        .toxics.map((t: { name: string }) => t.name);
      expect(fromProxy).toEqual(['up1', 'down1', 'down2']);
    });

    it('A40 update merges attributes field by field and keeps toxicity when left out', async () => {
      await createProxy(target, 'p1', echo.address);
      await addToxic(target, 'p1', {
        name: 'lat',
        type: 'latency',
        attributes: { latency: 100, jitter: 10 },
      });
      const first = await http(target, 'PATCH', '/proxies/p1/toxics/lat', {
        attributes: { latency: 1000 },
        toxicity: 0.5,
      });
      expect(first.status).toBe(200);
      expect(first.json().attributes).toEqual({ latency: 1000, jitter: 10 });
      expect(first.json().toxicity).toBe(0.5);
      const second = await http(target, 'POST', '/proxies/p1/toxics/lat', { attributes: { latency: 500 } });
      expect(second.json().attributes).toEqual({ latency: 500, jitter: 10 });
      expect(second.json().toxicity).toBe(0.5);
      // The node client's Toxic.update (POST with the full body).
      const proxy = await client.get('p1');
      const toxic = await proxy.getToxic<{ latency: number; jitter: number }>('lat');
      const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 12345, jitter: 42 } });
      expect(updated.attributes).toEqual({ latency: 12345, jitter: 42 });
    });

    it('A41 update ignores name, type and stream', async () => {
      await createProxy(target, 'p1', echo.address);
      await addToxic(target, 'p1', { name: 'lat', type: 'latency' });
      const res = await http(target, 'PATCH', '/proxies/p1/toxics/lat', {
        type: 'bandwidth',
        stream: 'upstream',
        name: 'y',
      });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ name: 'lat', type: 'latency', stream: 'downstream' });
    });

    it('A42 show, delete, and 404s for a missing toxic', async () => {
      await createProxy(target, 'p1', echo.address);
      await addToxic(target, 'p1', { name: 'lat', type: 'latency' });
      expect((await http(target, 'GET', '/proxies/p1/toxics/lat')).status).toBe(200);
      const del = await http(target, 'DELETE', '/proxies/p1/toxics/lat');
      expect(del.status).toBe(204);
      const gone = await http(target, 'GET', '/proxies/p1/toxics/lat');
      expect(gone.status).toBe(404);
      expect(gone.text).toBe('{"error":"toxic not found","status":404}\n');
      expect((await http(target, 'DELETE', '/proxies/p1/toxics/lat')).status).toBe(404);
      expect((await http(target, 'PATCH', '/proxies/p1/toxics/lat', {})).status).toBe(404);
      const proxy = await client.get('p1');
      await expect(proxy.getToxic('lat')).rejects.toThrow('status code 404');
    });

    it('A43 reset: 204, every proxy enabled and listening, all toxics removed', async () => {
      const a = await createProxy(target, 'a', echo.address);
      const b = await createProxy(target, 'b', echo.address);
      await addToxic(target, 'a', { type: 'latency' });
      await addToxic(target, 'b', { type: 'bandwidth', stream: 'upstream' });
      await http(target, 'POST', '/proxies/b', { enabled: false });
      const res = await fetch(`${target.url}/reset`, {
        method: 'POST',
        headers: { 'User-Agent': 'conformance' },
      });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      const all = (await http(target, 'GET', '/proxies')).json();
      expect(Object.keys(all)).toEqual(['a', 'b']);
      for (const proxy of Object.values(all) as Array<{ enabled: boolean; toxics: unknown[] }>) {
        expect(proxy.enabled).toBe(true);
        expect(proxy.toxics).toEqual([]);
      }
      expect(await connectOutcome(a.listen)).toBe('ok');
      expect(await connectOutcome(b.listen)).toBe('ok');
      await client.reset(); // the node client's form: POST with no body
    });

    it('A44 browser user agents get 403, others 200', async () => {
      const res = await http(target, 'GET', '/proxies', undefined, {
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)',
      });
      expect(res.status).toBe(403);
      expect(res.text).toBe('User agent not allowed\n');
      expect((await http(target, 'GET', '/proxies')).status).toBe(200);
    });

    it('A45 matched routes carry a request id', async () => {
      const first = await http(target, 'GET', '/proxies');
      const second = await http(target, 'GET', '/version');
      const a = first.headers.get('x-toxiproxy-request-id');
      const b = second.headers.get('x-toxiproxy-request-id');
      expect(a).toMatch(/^[0-9a-v]{20}$/);
      expect(b).toMatch(/^[0-9a-v]{20}$/);
      expect(a).not.toBe(b);
      const missing = await http(target, 'GET', '/proxies/nope');
      expect(missing.headers.get('x-toxiproxy-request-id')).toBeTruthy();
    });

    it('A46 unknown route → 404 text, wrong method → 405 with an empty body', async () => {
      const nope = await http(target, 'GET', '/nope');
      expect(nope.status).toBe(404);
      expect(nope.text).toBe('404 page not found\n');
      const trailing = await http(target, 'GET', '/proxies/');
      expect(trailing.status).toBe(404);
      const delVersion = await http(target, 'DELETE', '/version');
      expect(delVersion.status).toBe(405);
      expect(delVersion.text).toBe('');
      expect((await http(target, 'GET', '/reset')).status).toBe(405);
      expect((await http(target, 'PUT', '/proxies')).status).toBe(405);
    });

    it('A47 /metrics is off by default', async () => {
      expect((await http(target, 'GET', '/metrics')).status).toBe(404);
    });

    it('A48 error wire format: JSON plus newline, text/plain, nosniff', async () => {
      const res = await http(target, 'GET', '/proxies/nope');
      expect(res.text).toBe('{"error":"proxy not found","status":404}\n');
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('A49 JSON keys match case-insensitively; unknown keys are ignored', async () => {
      const res = await http(target, 'POST', '/proxies', {
        Name: 'c',
        Listen: `${target.host}:0`,
        UPSTREAM: 'x:1',
        Walrus: true,
      });
      expect(res.status).toBe(201);
      expect(res.json().name).toBe('c');
      expect(res.json().upstream).toBe('x:1');
    });

    it('A50 integer attributes reject fractions and exponents', async () => {
      await createProxy(target, 'p1', echo.address);
      for (const raw of ['100.5', '100.0', '1e3']) {
        const res = await http(
          target,
          'POST',
          '/proxies/p1/toxics',
          `{"type":"latency","attributes":{"latency":${raw}}}`,
        );
        expect(res.status).toBe(400);
      }
      const ok = await http(
        target,
        'POST',
        '/proxies/p1/toxics',
        '{"type":"latency","attributes":{"latency":100}}',
      );
      expect(ok.status).toBe(200);
    });

    it('E6 an empty update body is 400 EOF; null fields keep defaults', async () => {
      await createProxy(target, 'p1', echo.address);
      const empty = await fetch(`${target.url}/proxies/p1`, {
        method: 'PATCH',
        headers: { 'User-Agent': 'x' },
      });
      expect(empty.status).toBe(400);
      expect(JSON.parse(await empty.text()).error).toBe('bad request body: EOF');
      const nulls = await http(target, 'POST', '/proxies', {
        name: 'n',
        listen: `${target.host}:0`,
        upstream: 'x:1',
        enabled: null,
      });
      expect(nulls.json().enabled).toBe(true);
    });

    it('A03/§4.3 bad listen addresses are 500 with the Go error text', async () => {
      const noPort = await http(target, 'POST', '/proxies', {
        name: 'np',
        listen: '127.0.0.1',
        upstream: 'x:1',
      });
      expect(noPort.status).toBe(500);
      expect(noPort.json().error).toBe('listen tcp: address 127.0.0.1: missing port in address');
      const badPort = await http(target, 'POST', '/proxies', {
        name: 'bp',
        listen: '127.0.0.1:70000',
        upstream: 'x:1',
      });
      expect(badPort.status).toBe(500);
      expect(badPort.json().error).toBe('listen tcp: address 70000: invalid port');
      expect(await eventually(async () => (await http(target, 'GET', '/proxies')).text === '{}')).toBe(true);
    });
  });
}
