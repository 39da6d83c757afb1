/**
 * The stale-instance fault in the simulator (issue #15 item 5): the lease-store model runs
 * the Worker's own model of a replaced Durable Object instance (src/worker/stale-instance.ts).
 * The scenario scenarios/quirks/stale-durable-object.yaml over seeds, and a check that the
 * fault changes what a sees (its polls on the old instance fail) compared with the partition
 * alone. The answer the throw prevents is shown in workerd by test/worker/stale-instance.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/simulate.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const FILE = join(import.meta.dirname, '../../scenarios/quirks/stale-durable-object.yaml');
const scenario = parseScenario(readFileSync(FILE, 'utf8'), FILE);

function grants(history: HistoryEvent[]): Array<[string | null, number]> {
  return history
    .filter((e) => e.kind === 'lease-store' && (e as { op?: string }).op === 'grant')
    .map((e) => [(e as { holder: string | null }).holder, (e as { epoch: number }).epoch]);
}

describe('stale Durable Object instance (simulator)', () => {
  it('passes over seeds 1-5: the old instance answers nothing after the takeover, epochs never repeat', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = simulateScenario(scenario, { seed });
      expect(r.verdict.ok, `seed ${seed}`).toBe(true);
      const end = r.history.find(
        (e) => e.kind === 'fault' && e.phase === 'end' && e.fault === 'stale-instance',
      ) as { detail?: string } | undefined;
      expect(end?.detail).toMatch(/broken by a storage write; suppressed: status of a/);
      const epochs = grants(r.history).map(([, epoch]) => epoch);
      expect(new Set(epochs).size).toBe(epochs.length);
      expect(grants(r.history).at(-1)).toEqual(['b', 2]);
    }
  });

  it('the stale instance really served a: with it, the scenario differs from the partition alone', () => {
    const partitionOnly = { ...scenario, steps: scenario.steps.filter((s) => s.fault !== 'stale-instance') };
    const withStale = simulateScenario(scenario, { seed: 1 });
    const without = simulateScenario(partitionOnly, { seed: 1 });
    const failedPolls = (h: HistoryEvent[]) =>
      h.filter((e) => e.kind === 'lease' && e.phase === 'result' && e.ok === false && e.t > 60_000).length;
    expect(failedPolls(withStale.history)).toBeGreaterThan(failedPolls(without.history));
  });
});
