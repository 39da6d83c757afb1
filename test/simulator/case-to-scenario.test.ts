/**
 * caseToScenario builds a drawn case's scenario without zod (issue #18: start-up); it must be
 * exactly what Scenario.parse makes of the same input, key order included (the counterexample
 * file and reports serialise it), and anything unusual must still go through the schema.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseArb, caseToScenario, type ExploreCase } from '../../simulator/explore.ts';
import { Scenario } from '../../src/scenario/schema.ts';

const viaSchema = (
  c: ExploreCase,
  durationMs: number,
  leaseBackend: 'durable' | 'kv',
  name = 'sim-explore',
) =>
  Scenario.parse({ name, description: '', duration: durationMs, topology: { leaseBackend }, steps: c.steps });

describe('caseToScenario', () => {
  it('equals Scenario.parse, key order included, for drawn cases of both backends', () => {
    for (const [leaseBackend, durationMs, seed] of [
      ['durable', 600_000, 1],
      ['kv', 600_000, 2],
      ['durable', 45_000, 3],
    ] as const) {
      const cases = fc.sample(caseArb(durationMs, 0.001, 8), { seed, numRuns: 300 });
      for (const c of cases) {
        const fast = caseToScenario(c, { durationMs, leaseBackend });
        expect(JSON.stringify(fast)).toBe(JSON.stringify(viaSchema(c, durationMs, leaseBackend)));
        expect(fast).toEqual(viaSchema(c, durationMs, leaseBackend));
      }
    }
  });

  it('copies what it returns: the case and the scenario share no step, target or params', () => {
    const c: ExploreCase = {
      seed: 1,
      steps: [{ at: 100, fault: 'partition', target: ['ctl-a->w1', 'ctl-a->w2'], params: { mode: 'drop' } }],
    };
    const s = caseToScenario(c, { durationMs: 60_000, leaseBackend: 'durable' });
    expect(s.steps[0]).not.toBe(c.steps[0]);
    expect(s.steps[0]?.target).not.toBe(c.steps[0]?.target);
    expect(s.steps[0]?.params).not.toBe(c.steps[0]?.params);
  });

  it('leaves what the search never draws to the schema: its transforms and its errors', () => {
    const withStrings = {
      seed: 1,
      steps: [{ at: '1s', for: '2s', fault: 'isolate', target: 'a', params: {} }],
    } as unknown as ExploreCase;
    expect(caseToScenario(withStrings, { durationMs: 60_000, leaseBackend: 'kv' }).steps[0]).toEqual({
      at: 1000,
      for: 2000,
      fault: 'isolate',
      target: 'a',
      params: {},
    });
    const bad = (steps: unknown[]) => () =>
      caseToScenario({ seed: 1, steps } as ExploreCase, { durationMs: 60_000, leaseBackend: 'durable' });
    expect(bad([{ at: 0, fault: 'meteor', target: 'a', params: {} }])).toThrow();
    expect(bad([{ at: 0, fault: 'isolate', target: [], params: {} }])).toThrow();
    expect(bad([{ at: 0, fault: 'isolate', target: 'a', params: {}, extra: 1 }])).toThrow();
    expect(bad([{ at: 0, fault: 'isolate', target: 'a', params: { x: null } }])).toThrow();
    expect(() =>
      caseToScenario(
        { seed: 1, steps: [] },
        { durationMs: 60_000, leaseBackend: 'durable', name: 'Bad Name' },
      ),
    ).toThrow();
  });
});
