// Mutation testing of the verification (issue #14): `npm run mutate`.
// The test command is the simulator search alone (test/mutation/search.mutation.ts through
// vitest.mutation.config.ts), so the score says how many bugs planted in the production
// logic the simulator + checker catch — not what the unit tests catch.
// Incremental: results of unchanged code/tests are reused from reports/mutation/incremental.json.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/controller/core.ts',
    'src/controller/config.ts',
    'src/controller/driver.ts',
    'src/controller/witness-verdict.ts',
    'src/worker/lease-state.ts',
    'src/topology/app/fence.ts',
  ],
  // Log texts and human-readable reasons carry no behaviour the simulator could observe.
  mutator: { excludedMutations: [] },
  ignoreStatic: true,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
