#!/usr/bin/env node
// `npm run mutate`: Stryker over stryker.config.mjs's scope, reusing earlier results only when
// they can still be true. Stryker's incremental mode re-tests a mutant when its own code or a
// test file changed, but not when code the kill test runs without mutating it changed (the
// simulator, the checker, the scenarios, the rest of core.ts), and a reused "survived" or
// "killed" is then stale. So the run records a digest of every input the kill test can read
// beside the incremental file, and passes --force when the digest differs.
//
// The committed baseline (test/mutation/stryker-baseline.json: Stryker's incremental file of the
// last full run, with its digest) seeds a fresh clone: when its digest matches the tree, every
// result is reused and the run takes a few minutes; otherwise the run is a full one.
//   node scripts/mutate.mjs [--force] [other stryker flags]
//   node scripts/mutate.mjs --inputs-digest      (prints the digest and exits)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const INCREMENTAL = 'reports/mutation/incremental.json';
const DIGEST = 'reports/mutation/inputs.sha256';
const BASELINE = 'test/mutation/stryker-baseline.json';
/** What the kill test reads: production code, the simulator and checker, scenarios, configs. */
const INPUT_ROOTS = ['src/', 'simulator/', 'scenarios/', 'test/mutation/'];
const INPUT_FILES = ['package-lock.json', 'stryker.config.mjs', 'vitest.mutation.config.ts', 'tsconfig.json'];

/** sha256 over the tracked inputs' paths and working-tree contents (the baseline itself excluded). */
export function inputsDigest() {
  const listed = spawnSync('git', ['ls-files', '-z', '--', ...INPUT_ROOTS, ...INPUT_FILES], {
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr.trim()}`);
  const files = listed.stdout
    .split('\0')
    .filter((f) => f !== '' && f !== BASELINE && existsSync(f))
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

/** Seeds reports/mutation from the committed baseline when the run has no results of its own. */
function seedFromBaseline(digest) {
  if (existsSync(INCREMENTAL) || !existsSync(BASELINE)) return;
  const baseline = JSON.parse(readFileSync(BASELINE, 'utf8'));
  if (baseline.inputsSha256 !== digest) {
    console.error(`mutate: ${BASELINE} is for other inputs; this is a full run`);
    return;
  }
  mkdirSync(dirname(INCREMENTAL), { recursive: true });
  writeFileSync(INCREMENTAL, JSON.stringify(baseline.incremental));
  writeFileSync(DIGEST, `${digest}\n`);
  console.error(`mutate: reusing ${BASELINE} (its inputs match this tree)`);
}

function main() {
  const args = process.argv.slice(2);
  const digest = inputsDigest();
  if (args.includes('--inputs-digest')) {
    console.log(digest);
    return;
  }
  seedFromBaseline(digest);
  const recorded = existsSync(DIGEST) ? readFileSync(DIGEST, 'utf8').trim() : null;
  if (existsSync(INCREMENTAL) && recorded !== digest && !args.includes('--force')) {
    console.error(
      `mutate: inputs changed since ${INCREMENTAL} was written (simulator, checker, scenarios or core); ` +
        'running every mutant again (--force)',
    );
    args.push('--force');
  }
  const startedMs = Date.now();
  const r = spawnSync('npx', ['stryker', 'run', ...args], { stdio: 'inherit' });
  if (r.error) {
    console.error(`mutate: could not start Stryker: ${r.error.message}`);
    process.exit(3);
  }
  if (r.status === 0) writeFileSync(DIGEST, `${digest}\n`);
  console.error(`mutate: Stryker exited ${r.status} after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  process.exit(r.status ?? 3);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) main();
