import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import {
  formatDuration,
  loadScenarioFile,
  parseScenario,
  scenarioToYaml,
} from '../../src/scenario/loader.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GOOD = `name: isolate-a
duration: 5m
topology:
  leaseBackend: durable
steps:
  - at: 30s
    for: 2m
    fault: isolate
    target: a
expect:
  - failover-within: 90s
`;

/** [case, yaml, where (file:line:col), message fragments] */
const BROKEN: Array<[string, string, string, string[]]> = [
  [
    'YAML syntax: unclosed flow sequence',
    'name: x\nduration: [5m\n',
    'bad.yaml:3:1',
    ['YAML syntax error', 'Flow sequence'],
  ],
  [
    'YAML syntax: duplicate key',
    'name: x\nname: y\nduration: 5m\n',
    'bad.yaml:2:1',
    ['Map keys must be unique'],
  ],
  ['YAML syntax: tab indentation', 'name: x\nsteps:\n\t- at: 1s\n', 'bad.yaml:3:1', ['YAML syntax error']],
  ['empty file', '', 'bad.yaml:1:1', ['empty scenario file']],
  ['not a mapping', '- a\n- b\n', 'bad.yaml:1:1', ['must be a YAML mapping']],
  ['missing name (points at the mapping)', 'duration: 5m\n', 'bad.yaml:1:1', ['missing required key "name"']],
  [
    'bad name',
    'name: Bad_Name\nduration: 5m\n',
    'bad.yaml:1:7',
    ['name:', 'lowercase letters, digits and dashes'],
  ],
  [
    'bad duration value',
    'name: x\nduration: 10 minutes\n',
    'bad.yaml:2:11',
    ['duration:', 'expected a duration like 500ms'],
  ],
  [
    'unknown top-level key',
    'name: x\nduration: 5m\nsetps: []\n',
    'bad.yaml:3:1',
    ['unknown key "setps"', 'expected: name'],
  ],
  [
    'unknown fault kind',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: partitoin\n    target: ctl-a->worker\n',
    'bad.yaml:5:12',
    ['steps[0].fault', '"partition"'],
  ],
  [
    'missing fault key (points at the step mapping)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    target: a\n',
    'bad.yaml:4:5',
    ['steps[0]: missing required key "fault"'],
  ],
  [
    'unknown key in a step',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: isolate\n    target: a\n    bogus: 3\n',
    'bad.yaml:7:5',
    ['steps[0].bogus: unknown key "bogus"', 'at, for, fault, target, params'],
  ],
  [
    'link selector matching nothing (second of a list)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: partition\n    target: [ctl-a->worker, ctl-z->w1]\n',
    'bad.yaml:6:29',
    ['steps[0].target[1]', '"ctl-z->w1" matches no link'],
  ],
  [
    'isolate of an unknown region',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: isolate\n    target: c\n',
    'bad.yaml:6:13',
    ['isolate cannot target "c"', 'expected one of: a, b'],
  ],
  [
    'graceful stop of something that is not a controller',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: stop\n    target: app-a\n',
    'bad.yaml:6:13',
    ['stop cannot target "app-a"', 'expected one of: ctl-a, ctl-b'],
  ],
  [
    'operator command the admin API does not take',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: operator\n    target: ctl-b\n    params: {command: approv}\n',
    'bad.yaml:7:23',
    ['command: expected one of approve, reject, promote, demote', '"approv"'],
  ],
  [
    'operator command without a command (points at the step)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: operator\n    target: ctl-b\n',
    'bad.yaml:4:5',
    ['operator needs parameter "command"'],
  ],
  [
    'operator command to something that is not a controller',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: operator\n    target: b\n    params: {command: promote}\n',
    'bad.yaml:6:13',
    ['operator cannot target "b"', 'expected one of: ctl-a, ctl-b'],
  ],
  [
    'operator command with a duration (it is instantaneous)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    for: 10s\n    fault: operator\n    target: ctl-a\n    params: {command: demote}\n',
    'bad.yaml:5:10',
    ['steps[0].for', 'an operator command is instantaneous'],
  ],
  [
    'misspelt parameter (points at the key)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: latency\n    target: ctl-a->worker\n    params:\n      latncy: 5s\n',
    'bad.yaml:8:7',
    ['unknown parameter "latncy" for latency', 'expected: latency, jitter'],
  ],
  [
    'missing required parameter (points at the step)',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: loss\n    target: ctl-a->worker\n',
    'bad.yaml:4:5',
    ['loss needs parameter "probability"'],
  ],
  [
    'probability out of range',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: loss\n    target: ctl-a->worker\n    params: {probability: 2}\n',
    'bad.yaml:7:27',
    ['probability: expected a number in 0..1'],
  ],
  [
    'unknown cut mode',
    'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: partition\n    target: ctl-a->worker\n    params: {mode: reject}\n',
    'bad.yaml:7:20',
    ['mode: expected refuse or drop (default refuse)', '"reject"'],
  ],
  [
    'step after the end',
    'name: x\nduration: 1m\nsteps:\n  - at: 2m\n    fault: isolate\n    target: a\n',
    'bad.yaml:4:9',
    ['steps[0].at', 'after the end of the scenario'],
  ],
  [
    'bad expectation duration',
    'name: x\nduration: 5m\nexpect:\n  - failover-within: soon\n',
    'bad.yaml:4:22',
    ['expect[0].failover-within', 'expected a duration'],
  ],
  [
    'unknown expectation kind',
    'name: x\nduration: 5m\nexpect:\n  - fail-over-within: 30s\n',
    'bad.yaml:4:5',
    ['unknown expectation "fail-over-within"', 'failover-within, no-failover'],
  ],
  [
    'violation-detected of an unknown invariant',
    'name: x\nduration: 5m\nexpect:\n  - violation-detected: split-brain\n',
    'bad.yaml:4:25',
    ['unknown invariant "split-brain"', 'single-primary'],
  ],
  [
    'bad enum in topology',
    'name: x\nduration: 5m\ntopology:\n  leaseBackend: redis\n',
    'bad.yaml:4:17',
    ['topology.leaseBackend', '"durable", "kv"'],
  ],
  [
    'unusable controller timing',
    'name: x\nduration: 5m\ntopology:\n  controller:\n    leaseTtlMs: 1000\n    maxPauseMs: 2000\n',
    'bad.yaml:5:5',
    ['controller settings', 'safe window'],
  ],
  [
    'several problems: the first in the file is reported, with a count',
    'name: x\nduration: nope\nsteps:\n  - at: 1s\n    fault: nope\n    target: a\n',
    'bad.yaml:2:11',
    ['duration:', '(and 1 more problem)'],
  ],
];

describe('parseScenario', () => {
  it('parses a valid file with defaults filled in', () => {
    const s = parseScenario(GOOD, 'good.yaml');
    expect(s).toMatchObject({
      name: 'isolate-a',
      duration: 300_000,
      topology: { leaseBackend: 'durable', timeScale: 0.1, initialPrimary: 'a' },
      workload: { clients: 1, writeInterval: 1000 },
      steps: [{ at: 30_000, for: 120_000, fault: 'isolate', target: 'a', params: {} }],
      expect: [{ 'failover-within': 90_000 }],
    });
  });

  it.each(BROKEN)('%s → BadInputError at the offending node', (_name, yaml, where, fragments) => {
    let err: unknown;
    try {
      parseScenario(yaml, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    const e = err as BadInputError;
    expect(e.where).toBe(where);
    expect(e.message.startsWith(`${where}: `)).toBe(true);
    expect(e.message).not.toContain('\n');
    for (const f of fragments) expect(e.message).toContain(f);
  });

  it('round-trips through scenarioToYaml', () => {
    const s = parseScenario(
      `name: rt\nduration: 90s\ntopology: {leaseBackend: kv, controller: {leaseTtlMs: 3000}}\nworkload: {clients: 2, writeInterval: 250ms}\nsteps:\n  - {at: 1500ms, fault: partition, target: [ctl-a->worker, w*->auth-a], params: {oneway: true}}\n  - {at: 2s, for: 1m, fault: clock-drift, target: ctl-b, params: {rate: 0.0005}}\nexpect:\n  - demoted-within: {region: a, within: 10s}\n  - violation-detected: single-primary\n`,
      'rt.yaml',
    );
    const text = scenarioToYaml(s, { header: 'written by a test\nsecond line' });
    expect(text.startsWith('# written by a test\n# second line\n')).toBe(true);
    expect(parseScenario(text, 'rt2.yaml')).toEqual(s);
  });

  it('formats durations exactly', () => {
    expect([1500, 90_000, 120_000, 3_600_000, 0, -5000, 12.5].map(formatDuration)).toEqual([
      '1500ms',
      '90s',
      '2m',
      '1h',
      '0ms',
      '-5s',
      '12.5ms',
    ]);
  });
});

describe('loadScenarioFile', () => {
  it('reads a file, and names a missing one', async () => {
    const good = join(tmp, 'good.yaml');
    writeFileSync(good, GOOD);
    expect((await loadScenarioFile(good)).name).toBe('isolate-a');
    await expect(loadScenarioFile(join(tmp, 'nope.yaml'))).rejects.toThrow(
      /nope\.yaml: cannot read scenario file: no such file/,
    );
  });

  it('`sim --scenario bad.yaml` exits 2 with one line naming file:line:col', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      'name: x\nduration: 5m\nsteps:\n  - at: 1s\n    fault: partitoin\n    target: ctl-a->worker\n',
    );
    const res = await run('node', [join(ROOT, 'bin/failover-lab.mjs'), 'sim', '--scenario', bad], {
      cwd: tmp,
    }).then(
      () => ({ code: 0, stderr: '', stdout: '' }),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${bad}:5:12: steps[0].fault: must be one of`);
  });
});

describe('parsed scenarios share no defaults', () => {
  it('a default object filled in for one scenario is not the one another parse gets', () => {
    const text = 'name: t\ndescription: t\nduration: 10s\n';
    const first = parseScenario(text, 'a.yaml');
    first.topology.controller.mode = 'semi-automatic';
    first.steps.push({ at: 0, fault: 'crash', target: 'a', params: {} });
    const second = parseScenario(text, 'b.yaml');
    expect(second.topology.controller.mode).toBeUndefined();
    expect(second.steps).toEqual([]);
  });
});
