import { defineConfig } from 'vitest/config';

// Only the simulator-search kill test (test/mutation), for `npm run mutate` (Stryker) and
// `npm run test:search`. Never part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/mutation/**/*.mutation.ts'],
    pool: 'forks',
    testTimeout: 600_000,
  },
});
