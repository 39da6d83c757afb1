/**
 * Representative catalog scenarios end to end on the real topology, through the CLI (part 1):
 * primary crash → failover, inter-region cut → no failover, and a scenario whose expectation
 * is wrong → exit 1. Part 2: scenarios-store.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { roles, runScenario, runsDir } from './catalog-run.ts';
import { runCli } from './cli.ts';

const out = runsDir();
const run = (file: string, name: string) => runScenario(out, file, name);

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
