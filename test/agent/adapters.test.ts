import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probePeer, publishActive, runHooks } from '../../src/agent/adapters.ts';
import { askWitness } from '../../src/agent/dns-witness.ts';
import { LeaseClient } from '../../src/agent/lease-client.ts';
import { FakeDns, FakeWorker, Recorder } from './fakes.ts';

const SECRETS = { a: 'secret-a-123', b: 'secret-b-456' };

describe('lease client against a signature-checking Worker', () => {
  let worker: FakeWorker;
  beforeAll(async () => {
    worker = await new FakeWorker(SECRETS, 60_000).start();
  });
  afterAll(async () => {
    await worker.stop();
  });
  const client = (region: 'a' | 'b', secret = SECRETS[region], timeoutMs = 2000) =>
    new LeaseClient({
      workerUrl: worker.url,
      region,
      secret,
      leaseName: 'primary',
      requestTimeoutMs: timeoutMs,
    });

  it('acquire, renew, status and release follow the Worker API', async () => {
    const a = client('a');
    const b = client('b');
    expect(await a.call('status', null)).toMatchObject({ ok: true, granted: false, holder: null, epoch: 0 });
    const g = await a.call('acquire', null);
    expect(g).toMatchObject({ ok: true, granted: true, holder: 'a', epoch: 1, ttlMs: 60_000 });
    expect(g.expiresAt).toBeGreaterThan(g.serverTime!);
    expect(await b.call('acquire', null)).toMatchObject({ ok: true, granted: false, holder: 'a', epoch: 1 });
    expect(await a.call('renew', 1)).toMatchObject({ ok: true, granted: true, epoch: 1 });
    expect(await b.call('renew', 1)).toMatchObject({ ok: true, granted: false });
    expect(await a.call('release', 1)).toMatchObject({ ok: true, holder: null });
    expect(await b.call('acquire', null)).toMatchObject({ ok: true, granted: true, holder: 'b', epoch: 2 });
    expect(worker.log.map((l) => `${l.op}:${l.region}`)).toEqual([
      'status:a',
      'acquire:a',
      'acquire:b',
      'renew:a',
      'renew:b',
      'release:a',
      'acquire:b',
    ]);
  });

  it('a wrong secret is refused by the Worker and reported as ok:false', async () => {
    const r = await client('a', 'not-the-secret').call('status', null);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/HTTP 401/);
    expect(worker.rejected).toContain('bad-signature');
  });

  it('a Worker that never answers times out as ok:false', async () => {
    worker.mode = 'blackhole';
    try {
      const r = await client('a', SECRETS.a, 150).call('renew', 2);
      expect(r).toMatchObject({ ok: false, error: 'timeout' });
    } finally {
      worker.mode = 'up';
    }
  });

  it('a Worker answering 503 is ok:false, and an unreachable one too', async () => {
    worker.mode = 'down';
    try {
      expect((await client('b').call('status', null)).error).toMatch(/HTTP 503/);
    } finally {
      worker.mode = 'up';
    }
    const dead = new LeaseClient({
      workerUrl: 'http://127.0.10.1:1',
      region: 'a',
      secret: SECRETS.a,
      leaseName: 'primary',
      requestTimeoutMs: 1000,
    });
    expect((await dead.call('status', null)).ok).toBe(false);
  });
});

describe('DNS witness client (UDP and TCP)', () => {
  let dns: FakeDns;
  beforeAll(async () => {
    dns = await new FakeDns().start();
    dns.behaviour = (name) => {
      const label = name.split('.')[0];
      if (label === 'up') return { kind: 'answer', addresses: ['127.0.1.10'] };
      if (label === 'down') return { kind: 'answer', addresses: ['127.0.9.9'] };
      if (label === 'servfail') return { kind: 'rcode', rcode: 'SERVFAIL' };
      if (label === 'refused') return { kind: 'rcode', rcode: 'REFUSED' };
      if (label === 'nx') return { kind: 'rcode', rcode: 'NXDOMAIN' };
      if (label === 'other') return { kind: 'answer', addresses: ['192.0.2.1'] };
      if (label === 'big') return { kind: 'truncate', addresses: ['127.0.1.10'] };
      return { kind: 'silence' };
    };
  });
  afterAll(async () => {
    await dns.stop();
  });
  const ask = (label: string, transport: 'udp' | 'tcp' = 'udp', timeoutMs = 1000) =>
    askWitness({
      host: dns.host,
      port: dns.port,
      name: `${label}.regions.app.example`,
      transport,
      timeoutMs,
      reachableAddress: '127.0.1.10',
      tombstoneAddress: '127.0.9.9',
    });

  it.each(['udp', 'tcp'] as const)('maps answers to verdicts over %s', async (transport) => {
    expect(await ask('up', transport)).toEqual({ verdict: 'reachable', detail: 'NOERROR 127.0.1.10' });
    expect(await ask('down', transport)).toEqual({ verdict: 'unreachable', detail: 'NOERROR 127.0.9.9' });
    expect(await ask('servfail', transport)).toEqual({ verdict: 'unknown', detail: 'SERVFAIL' });
    expect(await ask('refused', transport)).toEqual({ verdict: 'unknown', detail: 'REFUSED' });
    expect(await ask('nx', transport)).toEqual({ verdict: 'unknown', detail: 'NXDOMAIN' });
    expect((await ask('other', transport)).verdict).toBe('unknown');
  });

  it('silence is a timeout, which is unknown (never unreachable)', async () => {
    expect(await ask('quiet', 'udp', 150)).toEqual({ verdict: 'unknown', detail: 'timeout' });
    expect(await ask('quiet', 'tcp', 150)).toEqual({ verdict: 'unknown', detail: 'timeout' });
  });

  it('a truncated UDP answer is retried over TCP', async () => {
    const before = dns.queries.length;
    expect((await ask('big')).verdict).toBe('reachable');
    expect(dns.queries.slice(before).map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });

  it('a witness nobody listens on is unknown', async () => {
    const r = await askWitness({
      host: '127.0.10.3',
      port: 1,
      name: 'up.regions.app.example',
      transport: 'tcp',
      timeoutMs: 500,
      reachableAddress: '127.0.1.10',
      tombstoneAddress: '127.0.9.9',
    });
    expect(r.verdict).toBe('unknown');
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });
});

describe('PowerDNS publisher', () => {
  let auth1: Recorder;
  let auth2: Recorder;
  beforeAll(async () => {
    auth1 = await new Recorder().start();
    auth2 = await new Recorder().start();
    for (const r of [auth1, auth2]) r.status = (req) => (req.headers['x-api-key'] === 'key1' ? 204 : 401);
  });
  afterAll(async () => {
    await auth1.stop();
    await auth2.stop();
  });
  const opts = () => ({
    apiUrls: [auth1.url, auth2.url],
    apiKey: 'key1',
    serverId: 'localhost',
    zone: 'app.example',
    serviceName: 'svc',
    healthUrl: 'http://svc.app.example:8080/health',
    ttlSeconds: 5,
    timeoutMs: 1000,
  });

  it('PATCHes the svc LUA record on every authoritative with the active app first', async () => {
    expect(await publishActive(opts(), '127.0.2.10', '127.0.1.10')).toEqual({ ok: true });
    for (const r of [auth1, auth2]) {
      const req = r.requests.at(-1)!;
      expect(req.method).toBe('PATCH');
      expect(req.path).toBe('/api/v1/servers/localhost/zones/app.example.');
      expect(req.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req.body)).toEqual({
        rrsets: [
          {
            name: 'svc.app.example.',
            type: 'LUA',
            ttl: 5,
            changetype: 'REPLACE',
            records: [
              {
                content:
                  "A \"ifurlup('http://svc.app.example:8080/health', {{'127.0.2.10'},{'127.0.1.10'}}, {stringmatch='OK', timeout='1'})\"",
                disabled: false,
              },
            ],
          },
        ],
      });
    }
  });

  it('with check URLs, each authoritative gets ifurlextup over its own check URLs', async () => {
    // keys as in SVC_CHECK_URLS (no trailing slash); the API list may carry one
    const checkUrls = {
      [auth1.url]: { a: 'http://127.0.10.31:7001/health', b: 'http://127.0.10.32:7002/health' },
      [auth2.url]: { a: 'http://127.0.10.33:7003/health', b: 'http://127.0.10.34:7004/health' },
    };
    const o = { ...opts(), apiUrls: [`${auth1.url}/`, auth2.url], healthUrl: null, checkUrls };
    expect(await publishActive(o, '127.0.2.10', '127.0.1.10', { active: 'b', other: 'a' })).toEqual({
      ok: true,
    });
    const contentOf = (r: Recorder) => {
      const req = r.requests.at(-1)!;
      expect(req.method).toBe('PATCH');
      expect(req.path).toBe('/api/v1/servers/localhost/zones/app.example.');
      const body = JSON.parse(req.body);
      expect(body.rrsets).toHaveLength(1);
      expect(body.rrsets[0]).toMatchObject({
        name: 'svc.app.example.',
        type: 'LUA',
        ttl: 5,
        changetype: 'REPLACE',
      });
      expect(body.rrsets[0].records).toHaveLength(1);
      return body.rrsets[0].records[0].content as string;
    };
    // answers are the apps' addresses, active first; checks go where *this* authoritative reaches each app
    expect(contentOf(auth1)).toBe(
      "A \"ifurlextup({{['127.0.2.10']='http://127.0.10.32:7002/health'},{['127.0.1.10']='http://127.0.10.31:7001/health'}}, {stringmatch='OK', timeout='1'})\"",
    );
    expect(contentOf(auth2)).toBe(
      "A \"ifurlextup({{['127.0.2.10']='http://127.0.10.34:7004/health'},{['127.0.1.10']='http://127.0.10.33:7003/health'}}, {stringmatch='OK', timeout='1'})\"",
    );
    // the other order after a failback
    expect(await publishActive(o, '127.0.1.10', '127.0.2.10', { active: 'a', other: 'b' })).toEqual({
      ok: true,
    });
    expect(contentOf(auth2)).toBe(
      "A \"ifurlextup({{['127.0.1.10']='http://127.0.10.33:7003/health'},{['127.0.2.10']='http://127.0.10.34:7004/health'}}, {stringmatch='OK', timeout='1'})\"",
    );
  });

  it('with check URLs, an authoritative without an entry fails without a request', async () => {
    const before = auth2.requests.length;
    const o = {
      ...opts(),
      healthUrl: null,
      checkUrls: {
        [auth1.url]: { a: 'http://127.0.10.31:7001/health', b: 'http://127.0.10.32:7002/health' },
      },
    };
    const r = await publishActive(o, '127.0.2.10', '127.0.1.10', { active: 'b', other: 'a' });
    expect(r.ok).toBe(false);
    expect(r.error).toContain(`${auth2.url}: no check URLs configured`);
    expect(r.error).not.toContain(`${auth1.url}:`);
    expect(auth2.requests.length).toBe(before);
  });

  it('fails when any authoritative refuses', async () => {
    auth2.status = () => 422;
    const r = await publishActive(opts(), '127.0.2.10', '127.0.1.10');
    expect(r.ok).toBe(false);
    expect(r.error).toContain('HTTP 422');
    expect(r.error).toContain(auth2.url);
    expect(r.error).not.toContain(auth1.url);
  });
});

describe('promotion hooks and peer probe', () => {
  let hook: Recorder;
  let dir: string;
  beforeAll(async () => {
    hook = await new Recorder().start();
    dir = mkdtempSync(join(tmpdir(), 'fl-agent-hook-'));
  });
  afterAll(async () => {
    await hook.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('POSTs the promotion to the webhook and runs the command with epoch and validity', async () => {
    const script = join(dir, 'hook.sh');
    const out = join(dir, 'out.txt');
    writeFileSync(script, `echo "$1 $2 $3 $FAILOVER_REGION $FAILOVER_EPOCH" >> ${out}\n`);
    const call = { action: 'promote' as const, epoch: 4, validityMs: 1234, region: 'b' };
    const r = await runHooks(
      { webhookUrl: `${hook.url}/authority`, command: `sh ${script}`, timeoutMs: 5000 },
      call,
    );
    expect(r).toEqual({ ok: true });
    expect(hook.requests.at(-1)).toMatchObject({ method: 'POST', path: '/authority' });
    expect(JSON.parse(hook.requests.at(-1)!.body)).toEqual(call);
    expect(readFileSync(out, 'utf8')).toBe('promote 4 1234 b 4\n');
  });

  it('reports a failing webhook or command', async () => {
    hook.status = () => 500;
    const r = await runHooks(
      { webhookUrl: hook.url, command: 'exit 3', timeoutMs: 5000 },
      { action: 'demote', epoch: 1, validityMs: 0, region: 'b' },
    );
    hook.status = () => 200;
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/webhook HTTP 500/);
    expect(r.error).toMatch(/command failed/);
  });

  it('no hooks configured means nothing to tell: ok', async () => {
    expect(
      await runHooks(
        { webhookUrl: null, command: null, timeoutMs: 1 },
        { action: 'extend', epoch: 1, validityMs: 5, region: 'b' },
      ),
    ).toEqual({ ok: true });
  });

  it('peer probe: 2xx is healthy, 503 and silence are not', async () => {
    expect(await probePeer(`${hook.url}/health`, 1000)).toEqual({ ok: true });
    hook.status = () => 503;
    expect(await probePeer(`${hook.url}/health`, 1000)).toEqual({ ok: false, error: 'HTTP 503' });
    hook.status = () => 0;
    expect(await probePeer(`${hook.url}/health`, 150)).toEqual({ ok: false, error: 'timeout' });
    hook.status = () => 200;
  });
});
