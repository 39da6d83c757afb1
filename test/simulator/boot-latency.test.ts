/**
 * Scenario.boot (docs/scenarios.md "Boot latency"): validated like a step, in force from t = 0
 * in the simulator, written into counterexample files whose violation hinged on the boot
 * order — the legacy-kv split brain without faults, which without it reproduces only at the
 * seeds whose boot phases put the standby's first status poll before the primary's write.
 */
import { describe, expect, it } from 'vitest';
import { counterexampleScenario, runSimulation, simulateScenario } from '../../simulator/index.ts';
import { parseScenario, scenarioToYaml } from '../../src/scenario/loader.ts';

const KV_NO_FAULTS = `name: kv-boot
duration: 80s
topology: { leaseBackend: kv }
expect:
  - violation-detected: single-primary
`;

const splitSeeds = (yaml: string, seeds: number) => {
  const s = parseScenario(yaml, 'boot.yaml');
  let n = 0;
  for (let seed = 1; seed <= seeds; seed++) if (simulateScenario(s, { seed }).verdict.ok) n++;
  return n;
};

describe('boot latency', () => {
  it('is validated like a step: links only, the latency parameters', () => {
    expect(() =>
      parseScenario(
        `${KV_NO_FAULTS}boot:\n  - { fault: latency, target: ctl-a->nowhere, params: { latency: 1s } }\n`,
        'x.yaml',
      ),
    ).toThrow(/x\.yaml:\d+:\d+.*matches no link/);
    expect(() =>
      parseScenario(
        `${KV_NO_FAULTS}boot:\n  - { fault: latency, target: ctl-a->worker, params: { lag: 1s } }\n`,
        'x.yaml',
      ),
    ).toThrow(/unknown parameter "lag"/);
    expect(() =>
      parseScenario(`${KV_NO_FAULTS}boot:\n  - { fault: partition, target: ctl-a->worker }\n`, 'x.yaml'),
    ).toThrow(/x\.yaml:\d+:\d+/);
  });

  it('is in force from t = 0 in the simulator, and survives the YAML round trip', () => {
    const s = parseScenario(
      `${KV_NO_FAULTS}boot:\n  - { fault: latency, target: ctl-a->worker, params: { latency: 2s } }\n`,
      'x.yaml',
    );
    expect(parseScenario(scenarioToYaml(s), 'y.yaml').boot).toEqual(s.boot);
    const r = simulateScenario(s, { seed: 1 });
    const fault = r.history.find((e) => e.kind === 'fault');
    expect(fault).toMatchObject({ t: 0, phase: 'start', fault: 'latency', links: ['ctl-a->worker'] });
  });

  it('orders the boot: the kv split brain without faults comes at every seed with it, not without', () => {
    const without = splitSeeds(KV_NO_FAULTS, 20);
    const withBoot = splitSeeds(
      `${KV_NO_FAULTS}boot:\n  - { fault: latency, target: ctl-a->worker, params: { latency: 1s } }\n`,
      20,
    );
    expect(without).toBeLessThan(20);
    expect(withBoot).toBe(20);
  });

  it('the kv counterexample file carries it, and replays at every seed', () => {
    const r = runSimulation({
      runs: 20,
      seed: 1,
      leaseBackend: 'kv',
      durationMs: 120_000,
      property: 'safety',
    });
    expect(r.failure?.invariant).toBe('single-primary');
    const file = counterexampleScenario(r.failure!, 'kv');
    expect(file.steps).toEqual([]);
    expect(file.boot).toEqual([{ fault: 'latency', target: 'ctl-a->worker', params: { latency: '1s' } }]);
    expect(splitSeeds(scenarioToYaml(file), 20)).toBe(20);
  });
});
