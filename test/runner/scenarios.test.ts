/**
 * Representative catalog scenarios end to end on the real topology, through the CLI:
 * primary crash → failover, inter-region cut → no failover, legacy KV Worker → split brain
 * detected, and a scenario whose expectation is wrong → exit 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { runCli } from './cli.ts';

const out = mkdtempSync(join(tmpdir(), 'fl-runner-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Run {
  code: number | null;
  json: Record<string, unknown> & {
    ok: boolean;
    outcomes: Array<{ name: string; ok: boolean; detail: string; expectedViolation?: boolean }>;
  };
  history: HistoryEvent[];
  stderr: string;
}

async function run(file: string, name: string): Promise<Run> {
  const dir = join(out, name);
  const res = await runCli(['run', file, '--json', '--out', dir, '--no-report']);
  const json = JSON.parse(res.stdout.trim() || '{}') as Run['json'];
  const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryEvent);
  return { code: res.code, json, history, stderr: res.stderr };
}

const roles = (h: HistoryEvent[]) =>
  h.filter((e): e is Extract<HistoryEvent, { kind: 'role' }> => e.kind === 'role');

describe('catalog scenarios on the real topology', () => {
  it('primary-region-crash: b takes over within the bound, never two primaries', async () => {
    const r = await run('scenarios/primary-region-crash.yaml', 'crash');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.executor).toBe('real');
    expect(r.history[0]!.kind).toBe('meta');
    const fault = r.history.find((e) => e.kind === 'fault' && e.phase === 'start');
    expect(fault, JSON.stringify(fault)).toMatchObject({ fault: 'crash', target: 'a', verified: true });
    const promo = roles(r.history).find((e) => e.region === 'b' && e.to === 'primary');
    expect(promo).toBeDefined();
    const measurements = r.json.measurements as { failoverMs: number; failoverBoundMs: number };
    expect(measurements.failoverMs).toBeGreaterThan(0);
    expect(measurements.failoverMs).toBeLessThanOrEqual(measurements.failoverBoundMs);
    // both apps accepted writes, one after the other
    const accepted = r.history.filter((e) => e.kind === 'app-write' && e.accepted);
    expect(new Set(accepted.map((e) => (e as { region: string }).region))).toEqual(new Set(['a', 'b']));
    expect(r.json.outcomes.find((o) => o.name === 'single-primary')!.ok).toBe(true);
    // result.json records the wall-clock span, so `failover-lab report DIR` can date the run
    const saved = JSON.parse(readFileSync(join(out, 'crash', 'result.json'), 'utf8')) as {
      startedAt: string;
      finishedAt: string;
    };
    expect(Date.parse(saved.finishedAt)).toBeGreaterThan(Date.parse(saved.startedAt));
    // history is ordered and sequenced
    for (let i = 1; i < r.history.length; i++) {
      expect(r.history[i]!.seq).toBe(i);
      if (i > 1) expect(r.history[i]!.t).toBeGreaterThanOrEqual(r.history[i - 1]!.t);
    }
  });

  it('inter-region-link-cut: the regions lose each other, the witnesses do not; no failover', async () => {
    const r = await run('scenarios/inter-region-link-cut.yaml', 'cut');
    expect(r.code, r.stderr).toBe(0);
    expect(roles(r.history).filter((e) => e.region === 'b' && e.to === 'primary')).toEqual([]);
    // the cut really hit b's peer probes
    expect(r.history.some((e) => e.kind === 'peer-probe' && e.region === 'b' && !e.ok)).toBe(true);
    const fault = r.history.find((e) => e.kind === 'fault' && e.phase === 'start') as Extract<
      HistoryEvent,
      { kind: 'fault' }
    >;
    expect(fault.links).toContain('ctl-b->peer');
    expect(fault.verified, fault.detail).toBe(true);
  });

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

  it('a scenario whose expectation does not hold exits 1', async () => {
    const file = join(out, 'wrong-expectation.yaml');
    writeFileSync(
      file,
      [
        'name: wrong-expectation',
        'duration: 60s',
        'steps:',
        '  - { at: 10s, fault: crash, target: a }',
        'expect:',
        '  - primary-at-end: a',
        '',
      ].join('\n'),
    );
    const res = await runCli(['run', file, '--json', '--no-report']);
    expect(res.code, res.stderr).toBe(1);
    const json = JSON.parse(res.stdout) as { ok: boolean; violations: Array<{ invariant: string }> };
    expect(json.ok).toBe(false);
    expect(json.violations.map((v) => v.invariant)).toContain('primary-at-end');
  });
});
