import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve('scripts/mutate.mjs');
const dir = mkdtempSync(join(tmpdir(), 'fl-mutate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

const digest = () => run(process.execPath, [SCRIPT, '--inputs-digest']);

// Stryker's incremental mode cannot see a change in code the kill test runs unmutated; the
// wrapper's digest is what forces a full run then, so it must move with those inputs only.
describe('scripts/mutate.mjs inputs digest', () => {
  run('git', ['init', '-q']);
  write('simulator/engine.ts', 'export const a = 1;\n');
  write('docs/simulator.md', '# notes\n');
  run('git', ['add', '.']);

  it('changes when the simulator or the kill test changes, not when docs do', () => {
    const first = digest();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    write('docs/simulator.md', '# other notes\n');
    expect(digest()).toBe(first);
    write('simulator/engine.ts', 'export const a = 2;\n');
    const second = digest();
    expect(second).not.toBe(first);
    write('test/mutation/new.yaml', 'name: x\n');
    run('git', ['add', '.']);
    expect(digest()).not.toBe(second);
  });
});
