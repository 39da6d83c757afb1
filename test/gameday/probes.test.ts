// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plans reference endpoints as ${endpoints.x}, literally
/** Each probe type against real local servers (127.0.102.x), plus the Prometheus text parser. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Probe, Probe as ProbeSchema } from '../../src/gameday/plan.ts';
import {
  makeProbeExecutor,
  type ProbeContext,
  runProbe,
  substitute,
} from '../../src/gameday/probes/index.ts';
import { compare, parsePromText, selectSamples } from '../../src/gameday/probes/prom-text.ts';
import { type MiniTarget, startMiniTarget } from './helpers/mini-target.ts';

let t: MiniTarget;
let ctx: ProbeContext;

beforeAll(async () => {
  t = await startMiniTarget(102);
  ctx = {
    endpoints: { 'app-a': t.appDirect, 'client->app-a': t.listen['client->app-a']! },
    metrics: { 'ctl-a': t.metricsUrl },
    resolvers: { 'auth-a': t.dns },
    hosts: { 'app-a': '127.0.1.10' },
  };
});
afterAll(async () => {
  await t.close();
});

// Generous timeout: the machine may be loaded; tests that are about timeouts set their own.
const p = (x: Record<string, unknown>): Probe =>
  ProbeSchema.parse({ name: 'p', runProperties: { timeout: 10_000 }, ...x });
const once = (probe: Probe) => runProbe(probe, makeProbeExecutor(ctx), new AbortController().signal);

describe('http probe', () => {
  it('checks status and body regex, through ${endpoints.x}', async () => {
    const ok = await once(
      p({
        type: 'http',
        http: { url: 'http://${endpoints.client->app-a}/health', expect: { body: '^OK region' } },
      }),
    );
    expect(ok.ok).toBe(true);
    const badBody = await once(
      p({ type: 'http', http: { url: 'http://${endpoints.app-a}/health', expect: { body: 'region b' } } }),
    );
    expect(badBody).toMatchObject({ ok: false });
    expect(badBody.detail).toMatch(/body does not match/);
    const notFound = await once(
      p({ type: 'http', http: { url: 'http://${endpoints.app-a}/nope', expect: { status: [200, 204] } } }),
    );
    expect(notFound.detail).toMatch(/→ 404, expected 200\|204/);
    t.state.healthy = false;
    const down = await once(
      p({ type: 'http', http: { url: 'http://${endpoints.app-a}/health', expect: { status: 503 } } }),
    );
    t.state.healthy = true;
    expect(down.ok).toBe(true);
  });

  it('an unknown reference is a failed attempt naming it', async () => {
    const r = await once(p({ type: 'http', http: { url: 'http://${endpoints.nowhere}/x' } }));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/unknown reference \$\{endpoints.nowhere\}/);
    expect(() => substitute('${hosts.app-a}', ctx)).not.toThrow();
  });
});

describe('dns probe', () => {
  it('compares the answer set over UDP and TCP, with ${hosts.x} in expectations', async () => {
    for (const transport of ['udp', 'tcp']) {
      const r = await once(
        p({
          type: 'dns',
          dns: {
            resolver: 'auth-a',
            name: 'svc.app.example',
            transport,
            expect: { answers: ['${hosts.app-a}'] },
          },
        }),
      );
      expect(r.ok, r.detail).toBe(true);
    }
    t.state.answers = ['127.0.1.10', '127.0.2.10'];
    const two = await once(
      p({
        type: 'dns',
        dns: { resolver: t.dns, name: 'svc.app.example', expect: { answers: ['127.0.1.10'] } },
      }),
    );
    const contains = await once(
      p({
        type: 'dns',
        dns: { resolver: t.dns, name: 'svc.app.example', expect: { contains: ['127.0.2.10'] } },
      }),
    );
    t.state.answers = ['127.0.1.10'];
    expect(two.ok).toBe(false);
    expect(two.detail).toMatch(/expected exactly \[127.0.1.10\]/);
    expect(contains.ok).toBe(true);
  });

  it('checks the rcode', async () => {
    const nx = await once(
      p({
        type: 'dns',
        dns: { resolver: 'auth-a', name: 'nope.app.example', expect: { rcode: 'NXDOMAIN' } },
      }),
    );
    expect(nx.ok, nx.detail).toBe(true);
    const wantOk = await once(p({ type: 'dns', dns: { resolver: 'auth-a', name: 'nope.app.example' } }));
    expect(wantOk.detail).toMatch(/NXDOMAIN.*expected rcode NOERROR/);
  });

  it('a resolver that does not answer times out', async () => {
    const r = await once(
      p({
        type: 'dns',
        runProperties: { timeout: 200 },
        dns: { resolver: '127.0.102.9:9', name: 'x.example' },
      }),
    );
    expect(r.ok).toBe(false);
  });
});

describe('prom probe', () => {
  it('selects by name and labels and compares', async () => {
    const lease = (criteria: string, value: unknown) =>
      once(
        p({
          type: 'prom',
          prom: {
            target: 'ctl-a',
            metric: 'failover_lease_status',
            labels: { region: 'a' },
            criteria,
            value,
          },
        }),
      );
    expect((await lease('==', 1)).ok).toBe(true);
    expect((await lease('!=', 1)).ok).toBe(false);
    expect((await lease('between', [0, 1])).ok).toBe(true);
    t.state.leaseStatus = 0;
    const lost = await lease('>=', 1);
    t.state.leaseStatus = 1;
    expect(lost.ok).toBe(false);
    expect(lost.detail).toMatch(/sum\(failover_lease_status\{region="a"\}\) = 0, want >= 1/);
    const count = await once(
      p({
        type: 'prom',
        prom: { url: t.metricsUrl, metric: 'failover_role', aggregate: 'count', criteria: '==', value: 2 },
      }),
    );
    expect(count.ok, count.detail).toBe(true);
    const missing = await once(
      p({ type: 'prom', prom: { target: 'ctl-a', metric: 'no_such_metric', criteria: '>', value: 0 } }),
    );
    expect(missing.detail).toMatch(/no sample/);
  });

  it('parses the text format (labels with escapes, special values)', () => {
    const s = parsePromText('# HELP x\nx{a="1",b="q\\"uote"} 3\nx{a="2"} +Inf\ny 4 1700000000000\n');
    expect(selectSamples(s, 'x', { b: 'q"uote' })[0]!.value).toBe(3);
    expect(selectSamples(s, 'x', { a: '2' })[0]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(selectSamples(s, 'y', {})[0]!.value).toBe(4);
    expect(compare(5, 'between', [5, 6])).toBe(true);
    expect(compare(7, 'between', [5, 6])).toBe(false);
  });
});

describe('cmd probe', () => {
  it('checks exit code and stdout, with no shell in between', async () => {
    const node = process.execPath;
    const ok = await once(
      p({
        type: 'cmd',
        cmd: { command: node, args: ['-e', 'console.log("lease=held")'], expect: { stdout: 'lease=held' } },
      }),
    );
    expect(ok.ok, ok.detail).toBe(true);
    const code = await once(
      p({ type: 'cmd', cmd: { command: node, args: ['-e', 'process.exit(3)'], expect: { exitCode: 3 } } }),
    );
    expect(code.ok).toBe(true);
    // "$(echo hi)" reaches the program verbatim: nothing interprets it.
    const literal = await once(
      p({
        type: 'cmd',
        cmd: {
          command: node,
          args: ['-e', 'console.log(process.argv[1])', '$(echo hi)'],
          expect: { stdout: '^\\$\\(echo hi\\)$' },
        },
      }),
    );
    expect(literal.ok, literal.detail).toBe(true);
    const missing = await once(p({ type: 'cmd', cmd: { command: '/no/such/binary' } }));
    expect(missing.detail).toMatch(/ENOENT/);
  });

  it('a command that outlives its timeout is killed', async () => {
    const marker = `gameday-probe-timeout-${process.pid}`;
    const r = await once(
      p({
        type: 'cmd',
        runProperties: { timeout: 300 },
        cmd: { command: process.execPath, args: ['-e', 'setTimeout(() => {}, 30000)', marker] },
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/timed out after 300 ms/);
    await new Promise((res) => setTimeout(res, 100));
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.stdout).not.toContain(marker);
  });
});
