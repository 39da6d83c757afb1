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
  // Issue #14's files, whole. What the simulator cannot judge carries a reasoned
  // `// Stryker disable` comment in the source (validation of configs no simulated run builds,
  // the core's own assertions, observability-only code, equivalent mutants); docs/simulator.md
  // "Mutation score" lists the classes and the survivors.
  mutate: [
    'src/controller/core.ts', // the controller core
    'src/controller/config.ts', // defaults, L, the derived bounds, validation
    'src/controller/driver.ts', // the one shell: hook order, lease-result meaning, graceful stop
    'src/controller/witness-verdict.ts', // what a witness answer means
    'src/worker/lease-state.ts', // the Worker's grant/renew/expiry rules
    'src/topology/app/fence.ts', // the app's write fence
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
