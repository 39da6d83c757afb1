/**
 * Representative catalog scenarios end to end on the real topology, through the CLI (part 2,
 * the lease store): legacy KV Worker → split brain detected, workerd crash → the persisted
 * epoch survives. Part 1: scenarios.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { roles, runScenario, runsDir } from './catalog-run.ts';

const out = runsDir();
const run = (file: string, name: string) => runScenario(out, file, name);

describe('catalog scenarios on the real topology: the lease store', () => {
  it('kv-split-brain: the legacy KV Worker lets both apps accept writes, and the checker says so', async () => {
    const r = await run('scenarios/kv-split-brain.yaml', 'kv');
    expect(r.code, r.stderr).toBe(0);
    const sp = r.json.outcomes.find((o) => o.name === 'single-primary')!;
    expect(sp.ok).toBe(false);
    expect(sp.expectedViolation).toBe(true);
    expect(r.json.withinAssumptions).toBe(false);
    // The path that does not hang on sub-second races: once the Worker outage (longer than
    // KV's expiry) ends, each region's first poll caches "absent" at its own location and
    // both are granted the lease.
    const outageEnd = r.history.find(
      (e) => e.kind === 'fault' && e.phase === 'end' && e.id === 'f2',
    ) as Extract<HistoryEvent, { kind: 'fault' }>;
    expect(outageEnd).toBeDefined();
    const after = roles(r.history).filter((e) => e.t > outageEnd.t && e.to === 'primary');
    expect(new Set(after.map((e) => e.region))).toEqual(new Set(['a', 'b']));
  });

  it('worker-crash: workerd is killed and restarted on its persisted state; the next grant is epoch 2', async () => {
    const r = await run('scenarios/worker-crash.yaml', 'worker-crash');
    expect(r.code, r.stderr).toBe(0);
    const fault = r.history.find((e) => e.kind === 'fault' && e.phase === 'start') as Extract<
      HistoryEvent,
      { kind: 'fault' }
    >;
    expect(fault, fault.detail).toMatchObject({ fault: 'crash', target: 'worker', verified: true });
    const end = r.history.find((e) => e.kind === 'fault' && e.phase === 'end') as Extract<
      HistoryEvent,
      { kind: 'fault' }
    >;
    expect(end.verified, end.detail).toBe(true);
    const procs = r.history.filter(
      (e): e is Extract<HistoryEvent, { kind: 'process' }> =>
        e.kind === 'process' && e.component === 'worker',
    );
    const crash = procs.find((e) => e.op === 'crash')!;
    const restart = procs.find((e) => e.op === 'restart')!;
    expect(restart.pid).not.toBe(crash.pid);
    // a stood down while nobody could renew
    expect(roles(r.history).some((e) => e.region === 'a' && e.from === 'primary' && e.t > fault.t)).toBe(
      true,
    );
    // the restarted Worker remembers epoch 1: the grant after it is 2, never 1 again
    const grantsAfter = r.history.filter(
      (e): e is Extract<HistoryEvent, { kind: 'lease-store' }> =>
        e.kind === 'lease-store' && e.t > restart.t && e.holder !== null,
    );
    expect(grantsAfter.length).toBeGreaterThan(0);
    expect(grantsAfter[0]!.epoch).toBe(2);
    expect(r.json.outcomes.find((o) => o.name === 'epoch-monotonic')!.ok).toBe(true);
  });
});
