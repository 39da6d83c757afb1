/**
 * The test command of `npm run mutate` (issue #14): the simulator search ALONE, no unit
 * tests, so the mutation score says what the simulator and the checker catch. A mutant of
 * the controller core, its config, the driver, the Worker's lease logic or the app fence is
 * killed when (1) a catalog scenario no longer meets its expectations in the simulator, or
 * (2) a fixed-budget random search finds a schedule inside the documented assumptions that
 * violates an invariant, or (3) the simulator throws (an assertion inside the core fired).
 *
 * Budgets are fixed (seeds, runs), so a mutant's fate is deterministic. Not part of
 * `npm test`: the file name does not match test/**\/*.test.ts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation as runExploration, simulateScenario } from '../../simulator/index.ts';
import { demoCatalogFiles } from '../../src/runner/catalog.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const SEARCH_RUNS = Number(process.env.FL_MUTATION_SEARCH_RUNS ?? 150);

function failingCatalogRuns(seeds: readonly number[]): string[] {
  const failures: string[] = [];
  for (const file of demoCatalogFiles()) {
    const scenario = parseScenario(readFileSync(file, 'utf8'), file);
    for (const seed of seeds) {
      const r = simulateScenario(scenario, { seed });
      if (!r.verdict.ok) {
        const first = r.verdict.outcomes.find((o) => !o.ok);
        failures.push(`${basename(file)} seed ${seed}: ${first?.name} ${first?.violations[0]?.detail ?? ''}`);
      }
    }
  }
  return failures;
}

// Cheapest first: Stryker bails at the first failing test, so a mutant the catalog catches
// costs ~1 s and only a survivor pays for the whole file (~15 s uninstrumented).
describe('simulator search as the mutation kill test', () => {
  it('every catalog scenario meets its expectations in the simulator (seed 1)', () => {
    expect(failingCatalogRuns([1])).toEqual([]);
  });

  for (const [seed, property] of [
    [1, 'safety'],
    [2, 'all'],
  ] as const) {
    it(`a ${SEARCH_RUNS}-schedule search (seed ${seed}, ${property}) finds no violation inside the assumptions`, () => {
      const r = runExploration({
        runs: SEARCH_RUNS,
        seed,
        leaseBackend: 'durable',
        durationMs: 10 * 60_000,
        property,
      });
      expect(r.error).toBeNull();
      expect(r.failure?.result.verdict.violations.slice(0, 3) ?? []).toEqual([]);
      expect(r.otherFindings.examples.slice(0, 3)).toEqual([]);
    });
  }

  it('every catalog scenario meets its expectations in the simulator (seeds 2, 3)', () => {
    expect(failingCatalogRuns([2, 3])).toEqual([]);
  });
});
