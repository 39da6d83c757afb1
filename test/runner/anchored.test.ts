/**
 * Anchored steps on the real topology (issue #14): a small scenario whose steps start at
 * protocol instants (a's renew send, a's renew reply) runs through the CLI; each step starts
 * at or after its instant + offset, the instant is in the history, and the fault event says
 * where it was anchored. Timing is only ever compared within the history, never to a clock.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { runCli } from './cli.ts';

const out = mkdtempSync(join(tmpdir(), 'fl-anchored-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SCENARIO = `name: anchored-renewals
description: Steps anchored to a's renewals (issue 14); a stays primary.
duration: 40s
steps:
  - {at: 10s, for: 1s, fault: pause, target: app-a, anchor: {on: renew-send, region: a, offset: 150ms}}
  - {at: 20s, for: 2s, fault: latency, target: ctl-a->worker, params: {latency: 100ms}, anchor: {on: renew-reply, region: a, offset: -50ms}}
expect:
  - no-failover: true
  - primary-at-end: a
`;

type Fault = Extract<HistoryEvent, { kind: 'fault' }>;

describe('anchored steps on the real topology', () => {
  it('each step starts at its protocol instant + offset (scaled), and says so', async () => {
    const file = join(out, 'anchored-renewals.yaml');
    writeFileSync(file, SCENARIO);
    const dir = join(out, 'run');
    const res = await runCli(['run', file, '--json', '--out', dir, '--no-report']);
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout.trim()) as { ok: boolean; timeScale: number; scenarioStartT: number };
    expect(json.ok).toBe(true);
    const h = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    const scale = json.timeScale;
    const t0 = json.scenarioStartT;
    const starts = h.filter((e): e is Fault => e.kind === 'fault' && e.phase === 'start');
    expect(starts.map((e) => [e.id, e.fault, e.target, e.verified])).toEqual([
      ['f1', 'pause', 'app-a', true],
      ['f2', 'latency', 'ctl-a->worker', true],
    ]);
    const cases = [
      {
        fault: starts[0]!,
        armedT: t0 + 10_000 * scale,
        phase: 'sent',
        offsetMs: 150 * scale,
        label: 'renew-send(a)',
      },
      {
        fault: starts[1]!,
        armedT: t0 + 20_000 * scale,
        phase: 'result',
        offsetMs: -50 * scale,
        label: 'renew-reply(a)',
      },
    ] as const;
    for (const c of cases) {
      // the first renewal of a at or after the step's `at` is the instant it names
      const instant = h.find(
        (e) =>
          e.kind === 'lease' &&
          e.region === 'a' &&
          e.op === 'renew' &&
          e.phase === c.phase &&
          e.t >= c.armedT,
      )!;
      expect(instant).toBeDefined();
      expect(c.fault.detail).toContain(`anchored at ${c.label} t=${instant.t.toFixed(1)}`);
      expect(c.fault.t).toBeGreaterThanOrEqual(instant.t + c.offsetMs);
    }
  });
});
