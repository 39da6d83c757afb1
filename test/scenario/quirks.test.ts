/**
 * The scenario vocabulary added for issue #15 items 4 and 5: the `stale-instance` fault
 * (target worker, params.region, durable backend only) and the `authoritatives-disagree`
 * expectation; and the scenarios of scenarios/quirks/ load.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/loader.ts';

const QUIRKS = join(import.meta.dirname, '../../scenarios/quirks');

const scenario = (step: string, extra = '') =>
  `name: t\nduration: 60s\n${extra}steps:\n  - at: 10s\n    for: 10s\n${step}\nexpect:\n  - authoritatives-disagree: true\n`;

describe('scenario vocabulary of scenarios/quirks', () => {
  it('loads every quirks scenario', () => {
    const files = readdirSync(QUIRKS).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual([
      'auth-disagree-flap.yaml',
      'auth-restart-during-failover.yaml',
      'stale-durable-object.yaml',
    ]);
    for (const f of files)
      expect(parseScenario(readFileSync(join(QUIRKS, f), 'utf8'), f).name).toBe(f.replace('.yaml', ''));
  });

  it('accepts stale-instance on the worker with a known region', () => {
    const s = parseScenario(
      scenario('    fault: stale-instance\n    target: worker\n    params: { region: a }'),
      'ok.yaml',
    );
    expect(s.steps[0]).toMatchObject({ fault: 'stale-instance', params: { region: 'a' } });
    expect(s.expect).toEqual([{ 'authoritatives-disagree': true }]);
  });

  it('refuses stale-instance without a region, with an unknown one, on another target, or on the KV backend', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['    fault: stale-instance\n    target: worker', '', /needs parameter "region"/],
      ['    fault: stale-instance\n    target: worker\n    params: { region: z }', '', /unknown region "z"/],
      [
        '    fault: stale-instance\n    target: ctl-a\n    params: { region: a }',
        '',
        /cannot target "ctl-a"/,
      ],
      [
        '    fault: stale-instance\n    target: worker\n    params: { region: a }',
        'topology:\n  leaseBackend: kv\n',
        /needs the durable lease backend/,
      ],
    ];
    for (const [step, extra, msg] of bad)
      expect(() => parseScenario(scenario(step, extra), 'bad.yaml')).toThrow(msg);
  });

  it('refuses authoritatives-disagree with anything but true', () => {
    expect(() =>
      parseScenario(
        scenario('    fault: crash\n    target: auth-b').replace(': true', ': false'),
        'bad.yaml',
      ),
    ).toThrow();
  });
});
