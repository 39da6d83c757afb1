/** Bad scenarios exit 2 with file:line:col and start nothing. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fl-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, lines: string[]): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

describe('run: bad input', () => {
  it('a schema error names file:line:col and nothing starts', async () => {
    const f = scenario('bad-target', [
      'name: bad-target',
      'duration: 30s',
      'steps:',
      '  - at: 5s',
      '    fault: partition',
      '    target: ctl-a->nowhere',
    ]);
    const res = await runCli(['run', f, '--json']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${f}:6:13`);
    expect(res.stderr).not.toMatch(/topology 127\./);
    expect(res.stdout).toBe('');
  });

  it('a sim-only fault is refused before anything starts, pointing at the step', async () => {
    const f = scenario('sim-only', [
      'name: sim-only',
      'duration: 30s',
      'steps:',
      '  - at: 5s',
      '    fault: witness-stale',
      '    target: w1',
      '    params: { stale: 10s }',
    ]);
    const res = await runCli(['run', f]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${f}:5:12`); // the value: witness-stale
    expect(res.stderr).toMatch(/sim-only/);
    expect(res.stderr).not.toMatch(/topology 127\./);
  });

  it('a clock fault on a component the real executor cannot fake is refused', async () => {
    const f = scenario('app-clock', [
      'name: app-clock',
      'duration: 30s',
      'steps:',
      '  - { at: 5s, fault: clock-jump, target: app-a, params: { jump: 1s } }',
    ]);
    const res = await runCli(['run', f]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/controller clocks only/);
  });

  it('a missing file is bad input', async () => {
    const res = await runCli(['run', join(dir, 'nope.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no such file/);
  });
});
