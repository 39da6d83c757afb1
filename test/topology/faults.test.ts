/**
 * Faults really take effect on the real topology and really go away: checked with our own
 * probes (TCP connects, HTTP and DNS round trips, /proc states), not only with the
 * verification flag the fault code reports. Controllers are not started (not needed here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault, type FaultContext, LinkFaults } from '../../src/faults/index.ts';
import { linkRoundTrip, tcpConnect } from '../../src/faults/probe.ts';
import type { FaultStep } from '../../src/scenario/schema.ts';
import { isolationLinks } from '../../src/scenario/topology-description.ts';
import { processState } from '../../src/topology/addresses.ts';
import { queryDns } from '../../src/topology/dns.ts';
import { httpGet } from '../../src/topology/health.ts';
import { startTopology, type Topology } from '../../src/topology/local.ts';

let topo: Topology;
let ctx: FaultContext;
const events: string[] = [];

beforeAll(async () => {
  topo = await startTopology({ startControllers: false, installSignalHandlers: false });
  ctx = {
    topo,
    links: new LinkFaults(topo.toxiproxyUrl, topo.proxies),
    clocks: new Map(),
    signal: topo.supervisor.signal,
    hooks: {
      pauseClient: () => {},
      note: (m) => events.push(`note ${m}`),
      processEvent: (c, op) => events.push(`${op} ${c}`),
      clockEvent: () => {},
      crashed: (c) => events.push(`crashed ${c}`),
    },
  };
}, 60_000);

afterAll(async () => {
  await topo?.stop();
});

const step = (s: Partial<FaultStep> & Pick<FaultStep, 'fault' | 'target'>): FaultStep =>
  ({ at: 0, params: {}, ...s }) as FaultStep;
const never = () => performance.now() + 60_000;

describe('link faults through the Toxiproxy API', () => {
  it('a cut link refuses connections until it is healed', async () => {
    const p = topo.proxies.get('client->app-a')!;
    expect((await linkRoundTrip(p)).ok).toBe(true);
    const f = await applyFault(ctx, step({ fault: 'partition', target: 'client->app-a' }), 't1', never);
    expect(f.start.verified).toBe(true);
    expect(f.links).toEqual(['client->app-a']);
    expect(await tcpConnect(p.listen.host, p.listen.port)).toBe('refused');
    expect((await linkRoundTrip(p)).ok).toBe(false);
    // the app itself is fine: only the link is cut
    expect((await httpGet(`http://${topo.apps.a!.host}:${topo.apps.a!.port}/health`)).status).toBe(200);
    const v = await f.revert();
    expect(v.verified).toBe(true);
    expect((await linkRoundTrip(p)).ok).toBe(true);
  });

  it('a partition cuts exactly the named links, never the reverse link', async () => {
    const f = await applyFault(ctx, step({ fault: 'partition', target: 'ctl-a->peer' }), 't2', never);
    expect(f.links).toEqual(['ctl-a->peer']);
    expect((await ctx.links.state('ctl-b->peer')).enabled).toBe(true);
    expect((await f.revert()).verified).toBe(true);
  });

  it('drop: connections open but nothing comes back (the caller times out), one-way and both ways', async () => {
    const p = topo.proxies.get('auth-b->app-a')!;
    for (const [oneway, t] of [
      [true, 't3'],
      [false, 't3b'],
    ] as const) {
      const f = await applyFault(
        ctx,
        step({ fault: 'partition', target: 'auth-b->app-a', params: { oneway, mode: 'drop' } }),
        t,
        never,
      );
      try {
        expect(f.links).toEqual(['auth-b->app-a']);
        expect(f.start.verified).toBe(true);
        expect(await tcpConnect(p.listen.host, p.listen.port)).toBe('connected');
        const rt = await linkRoundTrip(p, 400);
        expect(rt.ok).toBe(false);
        expect(rt.elapsedMs).toBeGreaterThanOrEqual(350); // silence until our own timeout
      } finally {
        expect((await f.revert()).verified).toBe(true);
      }
      expect((await linkRoundTrip(p)).ok).toBe(true);
    }
  });

  it('refuse one-way: the request fails at once (long before the caller would time out)', async () => {
    const p = topo.proxies.get('client->app-b')!;
    const f = await applyFault(
      ctx,
      step({ fault: 'partition', target: 'client->app-b', params: { oneway: true } }),
      't3c',
      never,
    );
    expect(f.start.verified).toBe(true);
    const rt = await linkRoundTrip(p, 3000);
    expect(rt.ok).toBe(false);
    expect(rt.elapsedMs).toBeLessThan(2500); // refused/reset, not our 3 s timeout
    expect((await f.revert()).verified).toBe(true);
    expect((await linkRoundTrip(p)).ok).toBe(true);
  });

  it('latency is added to round trips (scaled by the time scale)', async () => {
    const p = topo.proxies.get('ctl-a->app-a')!;
    const f = await applyFault(
      ctx,
      step({ fault: 'latency', target: 'ctl-a->app-a', params: { latency: '3s' } }),
      't4',
      never,
    );
    expect(f.start.verified).toBe(true);
    const slow = await linkRoundTrip(p, 3000);
    expect(slow.ok).toBe(true);
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(280); // 3 s production at scale 0.1
    await f.revert();
    expect((await linkRoundTrip(p)).elapsedMs).toBeLessThan(250);
  });

  it('isolating a region cuts every link that leaves it and nothing inside it', async () => {
    const f = await applyFault(ctx, step({ fault: 'isolate', target: 'a' }), 't5', never);
    const expected = isolationLinks(topo.spec, 'a')
      .map((l) => l.id)
      .sort();
    expect(f.links).toEqual(expected);
    expect(f.start.verified).toBe(true);
    const inside = topo.proxies.get('auth-a->app-a')!;
    expect((await linkRoundTrip(inside)).ok).toBe(true);
    // w2->auth-a may be UDP (the witness DNS transport): check it in its own protocol
    const out = topo.proxies.get('w2->auth-a')!;
    expect((await linkRoundTrip(out, 400)).ok).toBe(false);
    expect((await f.revert()).verified).toBe(true);
    expect((await linkRoundTrip(out)).ok).toBe(true);
  });
});

describe('process faults', () => {
  it('pause stops the process (state T) and it answers again after resume', async () => {
    const pid = topo.supervisor.get('app-b').pid;
    const f = await applyFault(ctx, step({ fault: 'pause', target: 'app-b' }), 't6', never);
    expect(f.start.verified).toBe(true);
    expect(processState(pid)).toBe('T');
    await expect(
      httpGet(`http://${topo.apps.b!.host}:${topo.apps.b!.port}/health`, { timeoutMs: 300 }),
    ).rejects.toThrow(/timeout/);
    expect((await f.revert()).verified).toBe(true);
    expect(processState(pid)).not.toBe('T');
    expect((await httpGet(`http://${topo.apps.b!.host}:${topo.apps.b!.port}/health`)).status).toBe(200);
  });

  it('witness-down kills the witness (no unexpected-exit alarm) and the revert restarts it', async () => {
    const oldPid = topo.supervisor.get('w2').pid;
    const f = await applyFault(ctx, step({ fault: 'witness-down', target: 'w2' }), 't7', never);
    expect(f.start.verified).toBe(true);
    expect([null, 'Z']).toContain(processState(oldPid));
    await expect(
      queryDns(topo.witnesses.w2!, topo.spec.regionName('a'), { timeoutMs: 300 }),
    ).rejects.toThrow();
    expect((await f.revert()).verified).toBe(true);
    expect(topo.supervisor.get('w2').pid).not.toBe(oldPid);
    expect((await queryDns(topo.witnesses.w2!, topo.spec.regionName('a'), { timeoutMs: 1000 })).rcode).toBe(
      'NOERROR',
    );
    expect(topo.supervisor.signal.aborted).toBe(false);
    expect(events).toContain('crash w2');
    expect(events).toContain('restart w2');
  });
});
