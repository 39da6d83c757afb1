/** Plan loading: defaults, resolution, and bad input reported at file:line:col before anything starts. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import { loadPlanFile } from '../../src/gameday/plan.ts';
import { silentProgress } from '../../src/gameday/progress.ts';
import { runGameDay } from '../../src/gameday/runner.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-plan-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const f = join(dir, `plan-${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

function badInput(text: string): BadInputError {
  const f = file(text);
  try {
    loadPlanFile(f);
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return err as BadInputError;
  }
  throw new Error('expected a BadInputError');
}

const EXTERNAL = `target:
  external:
    toxiproxy: http://127.0.100.1:8474
    links:
      "ctl-a->worker": ctl-a__to__worker
      "client->app-a": { proxy: client__to__app-a, connectCheck: false }
`;

describe('game-day plans', () => {
  it('applies defaults and resolves probe references', () => {
    const plan = loadPlanFile(
      file(`name: ok
${EXTERNAL}probes:
  - name: health
    type: http
    mode: Edge
    http: { url: "http://127.0.100.2/health" }
experiments:
  - name: cut
    fault: partition
    target: ctl-a->worker
    duration: 2s
  - name: slow
    fault: latency
    target: client->app-a
    params: { latency: 250ms }
    duration: 1s
    weight: 3
    probes:
      - name: inline
        type: cmd
        mode: OnChaos
        cmd: { command: "true" }
`),
    );
    expect(plan.target.kind).toBe('external');
    const [cut, slow] = plan.experiments;
    expect(cut!.weight).toBe(10);
    expect(cut!.duration).toBe(2000);
    expect(cut!.resolvedProbes.map((r) => [r.probe.name, r.mode])).toEqual([['health', 'Edge']]);
    expect(slow!.params).toEqual({ latency: 250, jitter: 0, stream: 'downstream' });
    expect(slow!.resolvedProbes.map((r) => r.probe.name)).toEqual(['inline']);
    expect(slow!.resolvedProbes[0]!.probe.runProperties).toMatchObject({
      timeout: 2000,
      retries: 0,
      stopOnFailure: false,
    });
    if (plan.target.kind === 'external') {
      expect(plan.target.links['client->app-a']).toMatchObject({
        proxy: 'client__to__app-a',
        connectCheck: false,
        toxiproxyUrl: 'http://127.0.100.1:8474',
      });
    }
  });

  it('defaults to the local target', () => {
    const plan = loadPlanFile(
      file('name: local\nexperiments:\n  - { name: p, fault: pause, target: ctl-a, duration: 1s }\n'),
    );
    expect(plan.target).toMatchObject({ kind: 'local', timeScale: 0.1, controllers: true });
  });

  it('reports YAML syntax errors at their position', () => {
    const e = badInput('name: x\nexperiments: [\n  { name: a\n');
    expect(e.where).toMatch(/plan-\d+\.yaml:4:1$/);
    expect(e.message).toMatch(/YAML/);
  });

  it('reports an unknown field at the key', () => {
    const e = badInput(
      `name: x\n${EXTERNAL}experiments:\n  - name: a\n    fault: partition\n    target: ctl-a->worker\n    duration: 1s\n    colour: red\n`,
    );
    expect(e.message).toMatch(/unknown field "colour"/);
    expect(e.where).toMatch(/:13:5$/);
  });

  it('reports a bad parameter inside params', () => {
    const e = badInput(
      `name: x\n${EXTERNAL}experiments:\n  - name: a\n    fault: latency\n    target: ctl-a->worker\n    duration: 1s\n    params: { latency: fast }\n`,
    );
    expect(e.message).toMatch(/experiments\[0\]\.params\.latency: latency: expected a duration/);
    expect(e.where).toMatch(/:13:24$/);
  });

  it('reports an unknown probe reference, a missing mode and a weight out of range', () => {
    const base = `name: x\n${EXTERNAL}`;
    const ref = badInput(
      `${base}experiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: 1s, probes: [nope] }\n`,
    );
    expect(ref.message).toMatch(/unknown probe "nope"/);
    expect(ref.where).toMatch(/:9:80$/);
    const mode = badInput(
      `${base}probes:\n  - { name: h, type: cmd, cmd: { command: "true" } }\nexperiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: 1s }\n`,
    );
    expect(mode.message).toMatch(/probe "h" needs a mode/);
    const weight = badInput(
      `${base}experiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: 1s, weight: 11 }\n`,
    );
    expect(weight.message).toMatch(/weight/);
  });

  it('rejects process faults and unmapped links on an external target', () => {
    const pause = badInput(
      `name: x\n${EXTERNAL}experiments:\n  - { name: a, fault: pause, target: ctl-a, duration: 1s }\n`,
    );
    expect(pause.message).toMatch(/pause needs the local target/);
    const unmapped = badInput(
      `name: x\n${EXTERNAL}experiments:\n  - { name: a, fault: partition, target: ctl-b->worker, duration: 1s }\n`,
    );
    expect(unmapped.message).toMatch(/link "ctl-b->worker" has no proxy/);
    const unknown = badInput(
      `name: x\n${EXTERNAL}experiments:\n  - { name: a, fault: partition, target: ctl-a->nowhere, duration: 1s }\n`,
    );
    expect(unknown.message).toMatch(/no link matches/);
  });

  it('the CLI exits 2 with one line naming file:line:col and starts nothing', () => {
    const f = file(
      `name: x\n${EXTERNAL}experiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: soon }\n`,
    );
    const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', 'gameday', f], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`${f}:9:\\d+: experiments\\[0\\]\\.duration`));
    expect(r.stdout).toBe('');
  });

  it('the CLI exits 3 when the Toxiproxy API does not answer, before injecting anything', () => {
    // Port 9 on a gameday address: nothing listens there.
    const f = file(
      'name: x\ntarget:\n  external:\n    toxiproxy: http://127.0.100.250:9\n    links: { "ctl-a->worker": p }\nexperiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: 1s }\n',
    );
    const infra = spawnSync(
      process.execPath,
      ['bin/failover-lab.mjs', 'gameday', f, '--out', join(dir, 'reports')],
      { encoding: 'utf8' },
    );
    expect(infra.status).toBe(3);
    expect(infra.stderr).toMatch(/Toxiproxy API http:\/\/127.0.100.250:9 does not answer/);
    expect(infra.stderr).not.toMatch(/inject/);
  });

  it('a missing file is bad input', () => {
    expect(() => loadPlanFile(join(dir, 'none.yaml'))).toThrow(/file not found/);
  });

  it('refuses non-loopback targets without --allow-remote', async () => {
    const plan = loadPlanFile(
      file(
        'name: x\ntarget:\n  external:\n    toxiproxy: http://10.1.2.3:8474\n    links: { "ctl-a->worker": p }\nexperiments:\n  - { name: a, fault: partition, target: ctl-a->worker, duration: 1s }\n',
      ),
    );
    const run = runGameDay(plan, { interrupt: new AbortController().signal, progress: silentProgress });
    await expect(run).rejects.toThrow(/non-loopback host\(s\) 10.1.2.3; pass --allow-remote/);
    await expect(run).rejects.toBeInstanceOf(BadInputError);
  });
});
