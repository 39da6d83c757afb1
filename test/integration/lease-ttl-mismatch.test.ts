import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseClient } from '../../src/agent/lease-client.ts';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import {
  type ControllerState,
  createControllerState,
  defaultControllerConfig,
  step,
  view,
} from '../../src/controller/core.ts';
import type { ControllerAction, ControllerInput } from '../../src/controller/types.ts';
import { startWorker } from '../../src/worker/launch.ts';

// Issue #20 item 1, on the real Worker in workerd: the controller's safe window L is computed
// from LEASE_TTL_MS; a Worker configured with a shorter TTL can re-grant the lease to the peer
// while L is still running. The controller must read the TTL in every reply and refuse such a
// lease (no write authority at all), say so in a log line and expose it as a metric.
const secrets = { a: 'secret-a-0123456789', b: 'secret-b-0123456789' };
const CONTROLLER_TTL_MS = 3000;
let shortWorker: Awaited<ReturnType<typeof startWorker>>;
let matchingWorker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  [shortWorker, matchingWorker] = await Promise.all([
    startWorker({ host: '127.0.21.2', port: 0, variant: 'durable', secrets, leaseTtlMs: 500 }),
    startWorker({ host: '127.0.21.3', port: 0, variant: 'durable', secrets, leaseTtlMs: CONTROLLER_TTL_MS }),
  ]);
});
afterAll(async () => {
  await Promise.all([shortWorker?.dispose(), matchingWorker?.dispose()]);
});

interface Run {
  state: ControllerState;
  acts: ControllerAction[];
  metricsText: string;
}

/**
 * Runs the production core for `forMs` against a real Worker through the production lease
 * client, as the preferred initial primary (it bootstraps on the first never-held poll). Peer
 * probes fail and witness queries go unanswered, so only the lease decides.
 */
async function runController(workerUrl: string, forMs: number): Promise<Run> {
  const cfg = defaultControllerConfig({
    region: 'a',
    peerRegion: 'b',
    witnesses: ['w1', 'w2', 'w3'],
    leaseTtlMs: CONTROLLER_TTL_MS,
  });
  const client = new LeaseClient({
    workerUrl,
    region: 'a',
    secret: secrets.a,
    leaseName: 'ttl',
    requestTimeoutMs: 2000,
  });
  const metrics = new AgentMetrics('a');
  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);
  let state = createControllerState(cfg, now(), { initialRole: 'primary' });
  const acts: ControllerAction[] = [];
  const pending: ControllerAction[] = [];
  const feed = (input: ControllerInput) => {
    const r = step(state, input);
    state = r.state;
    acts.push(...r.actions);
    pending.push(...r.actions);
    metrics.update(view(state), input.nowMs);
  };
  feed({ type: 'tick', nowMs: now() });
  while (now() < forMs) {
    const a = pending.shift();
    if (!a) {
      await new Promise((r) => setTimeout(r, 20));
      feed({ type: 'tick', nowMs: now() });
      continue;
    }
    if (a.type === 'lease-status' || a.type === 'lease-acquire' || a.type === 'lease-renew') {
      const op = a.type === 'lease-status' ? 'status' : a.type === 'lease-acquire' ? 'acquire' : 'renew';
      const reply = await client.call(op, a.type === 'lease-renew' ? a.epoch : null);
      feed({ type: 'lease-result', nowMs: now(), op, sentAtMs: a.sentAtMs, ...reply });
    } else if (a.type === 'peer-probe') {
      feed({ type: 'peer-result', nowMs: now(), ok: false });
    }
  }
  return { state, acts, metricsText: await metrics.registry.metrics() };
}

const errorLogs = (acts: ControllerAction[]) =>
  acts.flatMap((a) =>
    a.type === 'event' && a.event.kind === 'log' && a.event.level === 'error' ? [a.event.message] : [],
  );

describe('a Worker whose lease TTL is shorter than the controller assumes (real workerd)', () => {
  it('is never acted on: no write authority, an error naming both TTLs, and a metric', async () => {
    const run = await runController(shortWorker.url, 2500);
    // Control: the Worker does grant, and it re-grants to the peer long before the controller's L would end.
    const peer = new LeaseClient({
      workerUrl: shortWorker.url,
      region: 'b',
      secret: secrets.b,
      leaseName: 'ttl',
      requestTimeoutMs: 2000,
    });
    const acquires = run.acts.filter((a) => a.type === 'lease-acquire');
    expect(acquires.length).toBeGreaterThan(0);
    expect(
      run.acts.filter((a) => a.type === 'promote' || a.type === 'extend' || a.type === 'publish'),
    ).toEqual([]);
    expect(view(run.state).role).not.toBe('primary');
    expect(view(run.state).leaseTtlRefusalsTotal).toBeGreaterThan(0);
    expect(errorLogs(run.acts).join('\n')).toMatch(/500 ms.*3000 ms/);
    expect(run.metricsText).toMatch(/failover_lease_ttl_refusals_total\{region="a"\} [1-9]/);
    expect(run.metricsText).toMatch(/failover_lease_store_ttl_seconds\{region="a"\} 0\.5/);
    expect(run.metricsText).toMatch(/failover_lease_status\{region="a"\} 0/);
    await new Promise((r) => setTimeout(r, 600)); // > the Worker's 500 ms TTL
    expect(await peer.call('acquire', null)).toMatchObject({ ok: true, granted: true, holder: 'b' });
  });

  it('control: the same controller against a Worker with the matching TTL becomes primary', async () => {
    const run = await runController(matchingWorker.url, 1500);
    expect(run.acts.some((a) => a.type === 'promote')).toBe(true);
    expect(view(run.state).role).toBe('primary');
    expect(view(run.state).leaseTtlRefusalsTotal).toBe(0);
    expect(run.metricsText).toMatch(/failover_lease_store_ttl_seconds\{region="a"\} 3/);
  });
});
