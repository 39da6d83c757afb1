import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The controller core and the simulator must never read wall time, timers or ambient
// randomness. biome enforces it (biome.json overrides + the GritQL plugin in tools/biome).
// These tests lint probe files laid out like the repo, with the repo's own config, and
// prove the guard fires on each forbidden call — and only in those folders.
const repo = resolve(import.meta.dirname, '../..');
const biome = join(repo, 'node_modules/.bin/biome');
let sandbox = '';

beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'fl-lint-'));
  cpSync(join(repo, 'biome.json'), join(sandbox, 'biome.json'));
  cpSync(join(repo, 'tools'), join(sandbox, 'tools'), { recursive: true });
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

function lintAs(relPath: string, source: string): { code: number; out: string } {
  const file = join(sandbox, relPath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  const r = spawnSync(biome, ['lint', '--vcs-enabled=false', relPath], { cwd: sandbox, encoding: 'utf8' });
  rmSync(file);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const forbidden: Array<[string, string]> = [
  ['Date.now', 'export const t = Date.now();\n'],
  ['new Date', 'export const t = new Date();\n'],
  ['setTimeout', 'setTimeout(() => undefined, 5);\n'],
  ['setInterval', 'setInterval(() => undefined, 5);\n'],
  ['performance.now', 'export const t = performance.now();\n'],
  ['Math.random', 'export const r = Math.random();\n'],
  ['process.hrtime', 'export const h = process.hrtime.bigint();\n'],
];

describe('determinism lint guard', () => {
  for (const folder of ['src/controller/probe.ts', 'simulator/probe.ts']) {
    for (const [name, src] of forbidden) {
      it(`rejects ${name} in ${folder}`, () => {
        const r = lintAs(folder, src);
        expect(r.code, r.out).not.toBe(0);
        expect(r.out).toMatch(/noRestrictedGlobals|must be deterministic/);
      });
    }
  }

  it('allows deterministic Math in the core', () => {
    const r = lintAs('src/controller/probe.ts', 'export const m = Math.max(1, 2);\n');
    expect(r.code, r.out).toBe(0);
  });

  it('does not restrict the production shell', () => {
    const r = lintAs('src/agent/probe.ts', 'export const t = Date.now() + Math.random();\n');
    expect(r.code, r.out).toBe(0);
  });
});
