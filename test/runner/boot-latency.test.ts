/**
 * Boot latencies on the real topology (src/runner/boot-faults.ts): applied through the fault
 * proxy before any controller starts, recorded as a verified fault event, and enough to replay
 * the legacy-kv boot race — the file `sim --lease-backend kv` writes (0 fault steps, a 1 s boot
 * latency on ctl-a->worker) detects the split brain (bench/kv-replay.ts counts it over 10 runs).
 * A missing component (PowerDNS, unbound, workerd) fails the run with exit 3; the assertion
 * prints the CLI's stderr naming it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { runCli } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fl-boot-latency-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIO = `name: kv-boot-race
duration: 40s
topology: { leaseBackend: kv }
steps: []
boot:
  - { fault: latency, target: ctl-a->worker, params: { latency: 1s } }
expect:
  - violation-detected: single-primary
`;

describe('boot latency (real topology)', () => {
  it('is in force before the controllers start and replays the kv boot race', async () => {
    const file = join(dir, 'kv-boot-race.yaml');
    writeFileSync(file, SCENARIO);
    const out = join(dir, 'out');
    const res = await runCli(['run', file, '--json', '--no-report', '--out', out]);
    expect(res.code, `exit ${res.code}; stderr:\n${res.stderr}`).toBe(0);
    const history = readFileSync(join(out, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    const boot = history.find((e) => e.kind === 'fault' && e.id === 'boot1');
    expect(boot).toMatchObject({
      phase: 'start',
      fault: 'latency',
      verified: true,
      links: ['ctl-a->worker'],
    });
    const ctlStarts = history.filter(
      (e) => e.kind === 'process' && e.op === 'start' && e.component.startsWith('ctl-'),
    );
    expect(ctlStarts).toHaveLength(2);
    for (const s of ctlStarts) expect(s.t).toBeGreaterThan(boot!.t);
    // production 1 s at time scale 0.1
    expect((boot as { detail?: string }).detail).toMatch(
      /^boot latency 100 ms ± 0 ms \(scaled\) on ctl-a->worker/,
    );
  });
});
