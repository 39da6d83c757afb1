/**
 * The `operator` step in the simulator (an admin-API command through ControllerModel.operator,
 * recorded as the operator's note, no fault events), the simulated approver's delay drawn per
 * run, and the search drawing operator commands in semi-automatic and manual modes.
 */
import { describe, expect, it } from 'vitest';
import { drawOperatorDelayMs, OPERATOR_DELAY_RANGE_MS } from '../../simulator/boot.ts';
import { caseToScenario, runExploration, searchKinds } from '../../simulator/explore.ts';
import { simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

/** the operator's commands (not the simulated approver's announcement) */
const operatorNotes = (h: HistoryEvent[]) =>
  h.flatMap((e) =>
    e.kind === 'note' && e.source === 'operator' && e.data?.['command'] !== undefined
      ? [{ t: e.t, data: e.data }]
      : [],
  );
const roles = (h: HistoryEvent[], region: string) =>
  h.flatMap((e) =>
    e.kind === 'role' && e.region === region ? [{ t: e.t, to: e.to, reason: e.reason }] : [],
  );

const SWITCHOVER = `name: op-switchover
duration: 90s
topology: { controller: { mode: manual } }
steps:
  - { at: 40s, fault: operator, target: ctl-a, params: { command: demote } }
  - { at: 55s, fault: operator, target: ctl-b, params: { command: promote } }
expect:
  - primary-at-end: b
`;

describe('the operator step in the simulator', () => {
  it("is the admin API's command: a demote and a promote move the lease, each recorded as the operator's note", () => {
    const r = simulateScenario(parseScenario(SWITCHOVER, 'op.yaml'), { seed: 3 });
    expect(r.verdict.violations).toEqual([]);
    expect(operatorNotes(r.history)).toEqual([
      { t: 40_000, data: { region: 'a', command: 'demote', step: 'f0' } },
      { t: 55_000, data: { region: 'b', command: 'promote', step: 'f1' } },
    ]);
    expect(roles(r.history, 'a')).toContainEqual({ t: 40_000, to: 'fenced', reason: 'operator-demote' });
    expect(roles(r.history, 'b').find((x) => x.to === 'primary')?.t).toBeGreaterThan(55_000);
    // a command, not a fault: no fault events; the coverage counts it by controller and command
    expect(r.history.some((e) => e.kind === 'fault')).toBe(false);
    expect(r.coverage.faultKinds['operator']).toBe(2);
    expect(Object.keys(r.coverage.cells).filter((c) => c.startsWith('operator|'))).toEqual([
      expect.stringMatching(/^operator\|ctl-a:demote\|/),
      expect.stringMatching(/^operator\|ctl-b:promote\|/),
    ]);
    for (const name of ['operator-approval', 'operator-demote'])
      expect(r.verdict.outcomes.find((o) => o.name === name)).toMatchObject({ ok: true, evaluated: true });
  });

  it('a command to a crashed controller is recorded but lost; a paused one takes it when continued', () => {
    const yaml = `name: op-down
duration: 60s
topology: { controller: { mode: manual } }
steps:
  - { at: 10s, for: 10s, fault: crash, target: ctl-b }
  - { at: 15s, fault: operator, target: ctl-b, params: { command: promote } }
  - { at: 30s, for: 10s, fault: pause, target: ctl-a }
  - { at: 35s, fault: operator, target: ctl-a, params: { command: demote } }
`;
    const r = simulateScenario(parseScenario(yaml, 'op.yaml'), { seed: 1 });
    expect(operatorNotes(r.history).map((n) => n.t)).toEqual([15_000, 35_000]);
    expect(roles(r.history, 'b').some((x) => x.reason === 'operator-promote')).toBe(false);
    const demoted = roles(r.history, 'a').find((x) => x.reason === 'operator-demote');
    expect(demoted?.t).toBeGreaterThanOrEqual(40_000);
  });
});

describe('the simulated approver', () => {
  const SEMI = `name: semi
duration: 150s
topology: { controller: { mode: semi-automatic } }
steps:
  - { at: 20s, for: 120s, fault: crash, target: a }
`;

  it("approves after the run's delay: drawn per seed in the documented range, or fixed by the run", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(drawOperatorDelayMs);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(OPERATOR_DELAY_RANGE_MS.min);
      expect(d).toBeLessThanOrEqual(OPERATOR_DELAY_RANGE_MS.max);
    }
    expect(new Set(delays).size).toBeGreaterThan(4);
    expect(drawOperatorDelayMs(5)).toBe(drawOperatorDelayMs(5));
    const scenario = parseScenario(SEMI, 'semi.yaml');
    for (const [seed, fixed] of [
      [4, undefined],
      [4, 12_345],
    ] as const) {
      const r = simulateScenario(scenario, { seed, ...(fixed ? { operatorDelayMs: fixed } : {}) });
      expect(r.verdict.violations).toEqual([]);
      const delay = fixed ?? drawOperatorDelayMs(seed);
      // the operator says who answers the requests: the liveness bounds count from its approvals
      expect(r.history.find((e) => e.kind === 'note' && e.source === 'operator')).toMatchObject({
        t: 0,
        data: { approver: 'simulated', delayMs: delay },
      });
      expect(r.verdict.outcomes.find((o) => o.name === 'failover-liveness')?.evaluated).toBe(true);
      const asked = roles(r.history, 'b').find((x) => x.to === 'candidate')!;
      const [approval] = operatorNotes(r.history);
      expect(approval?.data).toEqual({ region: 'b', command: 'approve' });
      expect(approval!.t - asked.t).toBe(delay);
    }
  });

  it("stays silent when the scenario's own operator steps are the operator", () => {
    const yaml = `${SEMI}  - { at: 100s, fault: operator, target: ctl-b, params: { command: approve } }\n`;
    const r = simulateScenario(parseScenario(yaml, 'semi.yaml'), { seed: 4 });
    expect(operatorNotes(r.history)).toEqual([
      { t: 100_000, data: { region: 'b', command: 'approve', step: 'f1' } },
    ]);
    expect(roles(r.history, 'b').find((x) => x.to === 'primary')?.t).toBeGreaterThanOrEqual(100_000);
  });
});

describe('the search and operator commands', () => {
  it('draws them in semi-automatic and manual modes only', () => {
    expect(searchKinds('durable')).not.toContain('operator');
    expect(searchKinds('durable', 'semi-automatic')).toContain('operator');
    expect(searchKinds('durable', 'manual')).toContain('operator');
    const s = caseToScenario(
      { seed: 1, steps: [] },
      { durationMs: 60_000, leaseBackend: 'durable', mode: 'manual' },
    );
    expect(s.topology.controller).toEqual({ mode: 'manual' });
  });

  it('a manual-mode search runs operator steps and counts them', () => {
    const r = runExploration({
      runs: 30,
      seed: 5,
      leaseBackend: 'durable',
      durationMs: 3 * 60_000,
      property: 'safety',
      mode: 'manual',
      kinds: ['operator', 'crash'],
    });
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.coverage.faultKinds['operator'] ?? 0).toBeGreaterThan(10);
    expect(Object.keys(r.coverage.cells).some((c) => c.startsWith('operator|ctl-b:promote|'))).toBe(true);
  });
});
