// Mutation testing of the verification (issue #14): `npm run mutate`.
// The test command is the simulator search alone (test/mutation/search.mutation.ts through
// vitest.mutation.config.ts), so the score says how many bugs planted in the production
// logic the simulator + checker catch — not what the unit tests catch.
// Incremental: results of unchanged code/tests are reused from reports/mutation/incremental.json.
import { readFileSync } from 'node:fs';

/**
 * `file:first-last`, the lines from top-level function `from` through the end of function
 * `to` (the line before the next top-level declaration after it, blank lines and comments
 * trimmed), so a range keeps naming the same functions when the file moves.
 */
export function functions(file, from, to) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const decl = (name) => new RegExp(`^(export )?function ${name}\\(`);
  const first = lines.findIndex((l) => decl(from).test(l));
  const toStart = lines.findIndex((l) => decl(to).test(l));
  if (first < 0 || toStart < first) throw new Error(`stryker.config.mjs: no ${from}..${to} in ${file}`);
  let last = lines.findIndex((l, i) => i > toStart && l === '}');
  if (last < 0) last = lines.length - 1;
  return `${file}:${first + 1}-${last + 1}`;
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The safety-relevant logic of issue #14's files, so a run fits its hour on 2 shared cores
  // (all six files are ~1,900 mutants, ~4 h niced). The core.ts ranges are found by function
  // name when Stryker starts (core.ts moves often; docs/simulator.md "Mutation score" lists
  // what is left out and why).
  mutate: [
    'src/topology/app/fence.ts', // the app's write fence
    'src/worker/lease-state.ts', // the Worker's grant/renew/expiry rules
    'src/controller/witness-verdict.ts', // what a witness answer means
    'src/controller/driver.ts', // the one shell: hook order, lease-result meaning, graceful stop
    functions('src/controller/config.ts', 'safeWindowMs', 'safeWindowMs'), // L (the bounds only feed reports)
    functions('src/controller/core.ts', 'runTimers', 'wakeAt'), // lease validity and expiry timers
    // grants, epochs, TTL refusal, releaseUnusedGrant, releaseOrphanedLease, promote results
    functions('src/controller/core.ts', 'onLeaseResult', 'onPromoteResult'),
    // vacancy, candidacy, becomePrimary, handAuthority, demote, toStandby, act
    functions('src/controller/core.ts', 'maybeFillVacancy', 'act'),
  ],
  // String literals are nearly all log texts and human-readable reasons, which carry no
  // behaviour the simulator could observe (and each survivor costs a full kill-test run); the
  // few behavioural strings (roles, action types) sit in decisions the other mutators cover.
  mutator: { excludedMutations: ['StringLiteral'] },
  ignoreStatic: true,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Generous: the machine is shared and the run is niced, so a slow survivor must not turn
  // into a "timeout" (Stryker counts those as killed). A real hang is rare: the simulator
  // stops a runaway controller itself (simulator/models/controller.ts countWake).
  timeoutMS: 60_000,
  timeoutFactor: 3,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: run outputs (reports/ holds `latest` symlinks to directories,
  // which Stryker's copy cannot follow) and build/test leftovers the kill test never reads.
  ignorePatterns: ['reports', 'test-output', 'bench/results', '.tmp', 'dist', '.wrangler', '.bugzoo-tmp'],
  cleanTempDir: 'always',
};
