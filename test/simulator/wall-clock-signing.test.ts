/**
 * A controller signs its lease requests with its wall clock at send, and the production Worker
 * refuses a timestamp more than MAX_CLOCK_SKEW_MS from its own — in the simulator as under
 * libfaketime on the real topology (simulator/models/lease-store.ts callerWallMs).
 */
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { defaultControllerConfig } from '../../src/controller/core.ts';
import { assessSchedule } from '../../src/scenario/assumptions.ts';
import { parseScenario } from '../../src/scenario/loader.ts';
import { describeTopology } from '../../src/scenario/topology-description.ts';

const offsetScenario = (offset: string) =>
  parseScenario(
    [
      'name: wall-clock-offset',
      'description: t',
      'duration: 90s',
      'steps:',
      '  - at: 20s',
      '    for: 40s',
      '    fault: clock-offset',
      '    target: ctl-a',
      `    params: { offset: ${offset} }`,
    ].join('\n'),
    'inline.yaml',
  );
const renewalsOfA = (h: HistoryEvent[], from: number, to: number) =>
  h.filter(
    (e) => e.kind === 'lease-store' && e.op === 'renew' && e.region === 'a' && e.t >= from && e.t <= to,
  );
const roleOfA = (h: HistoryEvent[]) =>
  h.flatMap((e) =>
    e.kind === 'role' && e.region === 'a' ? [`${e.from}->${e.to}@${Math.round(e.t / 1000)}`] : [],
  );

describe('request signatures on the controller wall clock', () => {
  it('a wall clock 5 s off changes nothing: every renewal is accepted', () => {
    const r = simulateScenario(offsetScenario('5s'), { seed: 1 });
    expect(renewalsOfA(r.history, 20_000, 60_000).length).toBeGreaterThanOrEqual(3);
    expect(roleOfA(r.history)).toEqual(['standby->candidate@4', 'candidate->primary@4']);
  });

  it('a wall clock 40 s off is refused as stale: the primary cannot renew and steps down', () => {
    const r = simulateScenario(offsetScenario('40s'), { seed: 1 });
    expect(renewalsOfA(r.history, 20_500, 60_000)).toEqual([]);
    // its last accepted renewal was sent before 20 s: its safe window L runs out at ~41.6 s
    expect(roleOfA(r.history)).toContain('primary->fenced@42');
    expect(r.history.some((e) => e.kind === 'role' && e.region === 'b' && e.to === 'primary')).toBe(true);
    expect(r.withinAssumptions).toBe(false);
  });

  it('puts a schedule whose clock steps exceed the signature window outside the assumptions', () => {
    const config = defaultControllerConfig({ region: 'a', peerRegion: 'b', witnesses: ['w1', 'w2', 'w3'] });
    const spec = describeTopology();
    const step = (target: string, jump: string) => ({
      at: 1000,
      fault: 'clock-jump' as const,
      target,
      params: { jump },
    });
    expect(assessSchedule([step('ctl-a', '20s')], config, spec).withinAssumptions).toBe(true);
    const both = assessSchedule([step('ctl-a', '20s'), step('ctl-a', '15s')], config, spec);
    expect(both.withinAssumptions).toBe(false);
    expect(both.notes.join()).toContain("ctl-a's wall clock");
  });
});
