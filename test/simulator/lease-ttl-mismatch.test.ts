/**
 * Issue #20 item 1 in the simulator: the lease store (the production lease logic) is deployed
 * with a TTL shorter than the one the controllers' safe window L assumes. Without the TTL check
 * the initial primary would act for L ≈ 27 s on a lease the store re-grants after 5 s; with it,
 * no controller ever hands out write authority and both say why.
 */
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const scenario = (workerTtl: string) =>
  parseScenario(
    `name: ttl-mismatch\nduration: 3m\ntopology:\n  worker: {leaseTtl: ${workerTtl}}\nsteps:\n  - {at: 60s, for: 60s, fault: crash, target: a}\n`,
    'ttl-mismatch.yaml',
  );
const notes = (h: HistoryEvent[], re: RegExp) =>
  h.filter((e) => e.kind === 'note' && re.test(e.message)).map((e) => (e.kind === 'note' ? e.source : ''));

describe('a lease store whose TTL is shorter than the controllers assume', () => {
  for (const seed of [1, 2, 3]) {
    it(`no controller ever acts on its grants (seed ${seed})`, () => {
      const r = simulateScenario(scenario('5s'), { seed });
      const grants = r.history.filter((e) => e.kind === 'app-authority' && e.op === 'grant');
      const acts = r.history.filter(
        (e) => e.kind === 'act' && (e.action === 'promote' || e.action === 'extend'),
      );
      expect(grants).toEqual([]);
      expect(acts).toEqual([]);
      expect(r.verdict.violations).toEqual([]);
      // the store did grant (so the refusal is what kept authority away) ...
      expect(r.history.some((e) => e.kind === 'lease-store' && e.holder !== null)).toBe(true);
      // ... and both controllers said why, naming both TTLs
      const refusals = notes(r.history, /not acted on: .*5000 ms is shorter than the 30000 ms/);
      expect(new Set(refusals)).toEqual(new Set(['ctl-a', 'ctl-b']));
      expect(
        notes(r.history, /lease store TTL 5000 ms is shorter than the configured LEASE_TTL_MS 30000 ms/)
          .length,
      ).toBeGreaterThan(0);
    });
  }

  it('control: with the matching TTL the same schedule has a primary with write authority', () => {
    const r = simulateScenario(scenario('30s'), { seed: 1 });
    expect(r.history.some((e) => e.kind === 'app-authority' && e.op === 'grant')).toBe(true);
    expect(notes(r.history, /not acted on/)).toEqual([]);
  });
});
