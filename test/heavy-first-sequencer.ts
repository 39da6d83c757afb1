/**
 * Runs the slowest test files first (longest-processing-time-first), so vitest's two workers
 * finish together. Vitest orders by the durations in its cache; a fresh clone (CI) has none
 * and falls back to file size, which started the two catalog files — 35–37 s each — among
 * the last, and npm test ended ~50 s after the sum of its work divided by two. The list is
 * the CI run's slowest files (2026-12-07, seconds in the comments); files not listed keep
 * vitest's own order after them.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST_FIRST = [
  'test/runner/scenarios-store.test.ts', // 37
  'test/runner/scenarios.test.ts', // 36
  'test/package/pack-install.test.ts', // 28–50
  'test/gameday/example-plan.test.ts', // 28
  'test/runner/demo.test.ts', // 16
  'test/runner/fidelity.test.ts', // 15
  'test/runner/operator-approval.test.ts', // 14
  'test/simulator/search.test.ts', // 13
  'test/check/spec-acceptance.test.ts', // 12
  'test/simulator/parallel.test.ts', // 11
  'test/report/timeline.browser.test.ts', // 11
  'test/topology/clock.test.ts', // 9
  'test/worker/cli.test.ts', // 9
  'test/toxiproxy/conformance.test.ts', // 9
  'test/toxiproxy/udp.test.ts', // 8
  'test/runner/anchored.test.ts', // 8
];

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.indexOf(relative(root, f.moduleId));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: unlisted files keep the base order
    return base.sort((a, b) => rank(a) - rank(b));
  }
}
