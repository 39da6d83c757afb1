import { defineConfig } from 'vitest/config';
import LanesSequencer from './test/lanes-sequencer.ts';

// Real-component suites (workerd, PowerDNS, unbound, TCP proxies) share 2 cores in CI,
// so files run in forked workers with a modest cap and generous per-test timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // one real topology at a time, and both workers busy to the end (see the sequencer)
    sequence: { sequencer: LanesSequencer },
  },
});
