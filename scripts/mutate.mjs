#!/usr/bin/env node
// `npm run mutate`: Stryker over stryker.config.mjs's scope, reusing earlier results only when
// they can still be true. Stryker's incremental mode re-tests a mutant when its own code or a
// test file changed, but not when code the kill test runs without mutating it changed (the
// simulator, the checker, the scenarios, the rest of core.ts), and a reused "survived" or
// "killed" is then stale. So the run records a digest of every input the kill test can read
// beside the incremental file, and passes --force when the digest differs.
// A fresh clone has no incremental file and runs every mutant (39 min on 2 cores, docs/simulator.md).
//   node scripts/mutate.mjs [--force] [other stryker flags]
//   node scripts/mutate.mjs --inputs-digest      (prints the digest and exits)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

const INCREMENTAL = 'reports/mutation/incremental.json';
const DIGEST = 'reports/mutation/inputs.sha256';
/** What the kill test reads: production code, the simulator and checker, scenarios, configs. */
const INPUT_ROOTS = ['src/', 'simulator/', 'scenarios/', 'test/mutation/'];
const INPUT_FILES = ['package-lock.json', 'stryker.config.mjs', 'vitest.mutation.config.ts', 'tsconfig.json'];

/** sha256 over the tracked inputs' paths and working-tree contents. */
export function inputsDigest() {
  const listed = spawnSync('git', ['ls-files', '-z', '--', ...INPUT_ROOTS, ...INPUT_FILES], {
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr.trim()}`);
  const files = listed.stdout
    .split('\0')
    .filter((f) => f !== '' && existsSync(f))
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

function main() {
  const args = process.argv.slice(2);
  const digest = inputsDigest();
  if (args.includes('--inputs-digest')) {
    console.log(digest);
    return;
  }
  const recorded = existsSync(DIGEST) ? readFileSync(DIGEST, 'utf8').trim() : null;
  if (existsSync(INCREMENTAL) && recorded !== digest && !args.includes('--force')) {
    console.error(
      `mutate: inputs changed since ${INCREMENTAL} was written (simulator, checker, scenarios or core); ` +
        'running every mutant again (--force)',
    );
    args.push('--force');
  }
  const beforeMs = existsSync(INCREMENTAL) ? statSync(INCREMENTAL).mtimeMs : 0;
  const startedMs = Date.now();
  const r = spawnSync('npx', ['stryker', 'run', ...args], { stdio: 'inherit' });
  if (r.error) {
    console.error(`mutate: could not start Stryker: ${r.error.message}`);
    process.exit(3);
  }
  // The digest vouches for the incremental file only if this run wrote it (a --dryRunOnly run
  // or a failed one does not): otherwise the next run must not trust the old file either.
  const writtenMs = existsSync(INCREMENTAL) ? statSync(INCREMENTAL).mtimeMs : 0;
  if (r.status === 0 && writtenMs > beforeMs) writeFileSync(DIGEST, `${digest}\n`);
  else if (recorded !== digest) rmSync(DIGEST, { force: true });
  console.error(`mutate: Stryker exited ${r.status} after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  process.exit(r.status ?? 3);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) main();
