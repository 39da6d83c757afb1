/**
 * The incident catalog (scenarios/incidents, issue #15): every incident cites its public
 * source, keeps to the scenario format, and passes in the simulator over several seeds. The
 * same files run on the real topology through `demo` (after the base catalog) and `run`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import { catalogFiles, demoCatalogFiles, INCIDENTS_DIR } from '../../src/runner/catalog.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const incidents = catalogFiles(INCIDENTS_DIR);

describe('incident catalog', () => {
  it('holds the six incidents and demo runs them after the base catalog', () => {
    expect(incidents.map((f) => basename(f, '.yaml'))).toEqual([
      'aws-us-east-1-2025-10-19',
      'cilium-operator-lease-deadline',
      'cloudflare-2020-11-02',
      'fly-2025-03-06-lease-service',
      'github-2018-10-21',
      'jepsen-etcd-343-pause',
    ]);
    const all = demoCatalogFiles();
    expect(all.slice(-incidents.length)).toEqual(incidents);
    expect(demoCatalogFiles(false)).toEqual(catalogFiles());
  });

  for (const file of incidents) {
    const text = readFileSync(file, 'utf8');
    const scenario = parseScenario(text, file);

    it(`${scenario.name}: cites its public source and is named after its file`, () => {
      expect(text).toMatch(/^# Source: https:\/\/\S+$/m);
      expect(text).toMatch(/^# What happened: /m);
      expect(text).toMatch(/^# Translated: /m);
      expect(scenario.name).toBe(basename(file, '.yaml'));
      expect(scenario.steps.length).toBeGreaterThan(0);
      expect(scenario.expect.length).toBeGreaterThan(0);
    });

    it(`${scenario.name}: passes in the simulator for seeds 1-5`, () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= 5; seed++) {
        const r = simulateScenario(scenario, { seed });
        for (const o of r.verdict.outcomes.filter((x) => !x.ok)) {
          failures.push(`seed ${seed}: ${o.name} ${o.violations[0]?.detail ?? ''}`);
        }
        // the fault must have been applied (a start and an end per step with an end)
        expect(r.history.filter((e) => e.kind === 'fault' && e.phase === 'start').length).toBe(
          scenario.steps.length,
        );
      }
      expect(failures).toEqual([]);
    });
  }
});
