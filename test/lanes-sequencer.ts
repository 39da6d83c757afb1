/**
 * Orders test files so vitest's two workers finish together while at most one timing-bound
 * real-topology file (a local topology at time scale 0.1, judged against second-wide bounds)
 * runs at a time: a "real" lane and a lane for everything else.
 *
 * Why: a fresh clone (CI) has no duration cache, so vitest orders by file size, which started
 * the two catalog files (35–37 s each) among the last and ended npm test ~50 s after its work
 * divided by two. Ordering the slowest files first fixed the tail but ran two real topologies
 * side by side, and two failover scenarios missed their 3.4 s bound (2026-12-07).
 *
 * How: vitest hands the next file in this order to whichever worker is free. The order is
 * made by playing that out with the estimates below: a free worker takes the next real file
 * when no real file is running at that moment, and the next other file otherwise, each queue
 * longest first. The estimates are seconds from fresh-clone runs (2026-12-07); a file not
 * listed counts as 0.4 s (the unlisted files' mean) and not real. They steer the order only:
 * a wrong one costs time, never a result.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that judge timing on the local topology (failover bounds, anchored faults, clock
 * rates at time scale 0.1): seconds. Files that boot it to check what it starts, routes or
 * leaves behind (up, svc-checks, sigint, sigkill) are not timing-bound and share the other lane.
 */
const REAL_S: Record<string, number> = {
  'test/runner/scenarios-store.test.ts': 38,
  'test/runner/scenarios.test.ts': 36,
  'test/gameday/example-plan.test.ts': 28,
  'test/runner/demo.test.ts': 17,
  'test/runner/fidelity.test.ts': 14,
  'test/runner/operator-approval.test.ts': 13,
  'test/topology/clock.test.ts': 9,
  'test/runner/boot-latency.test.ts': 8,
  'test/gameday/local.test.ts': 7,
  'test/runner/anchored.test.ts': 6,
  'test/topology/faults.test.ts': 4,
};

/** Other files over ~2 s: seconds. */
const OTHER_S: Record<string, number> = {
  'test/package/pack-install.test.ts': 25,
  'test/runner/sigint.test.ts': 7,
  'test/reliability/sigkill.test.ts': 6,
  'test/topology/svc-checks.test.ts': 5,
  'test/topology/up.test.ts': 4,
  'test/check/spec-acceptance.test.ts': 11,
  'test/report/timeline.browser.test.ts': 11,
  'test/simulator/search.test.ts': 11,
  'test/simulator/parallel.test.ts': 10,
  'test/toxiproxy/conformance.test.ts': 9,
  'test/worker/cli.test.ts': 8,
  'test/toxiproxy/udp.test.ts': 8,
  'test/package/k8s-job.test.ts': 6,
  'test/agent/runtime.test.ts': 6,
  'test/integration/lease-ttl-mismatch.test.ts': 6,
  'test/worker/durable-expiry.test.ts': 5,
  'test/docker/driver.test.ts': 5,
  'test/runner/bad-input.test.ts': 4,
  'test/lead/determinism-lint.test.ts': 4,
  'test/package/cli-help.test.ts': 4,
  'test/package/wrangler.test.ts': 4,
  'test/package/action.test.ts': 4,
  'test/lead/cli.test.ts': 4,
  'test/toxiproxy/cli.test.ts': 3,
  'test/reliability/bad-input.test.ts': 3,
  'test/worker/launch.test.ts': 3,
  'test/gameday/modes.test.ts': 3,
  'test/report/store.test.ts': 3,
  'test/gameday/external.test.ts': 3,
  'test/worker/body-cap.test.ts': 3,
};

const DEFAULT_S = 0.4;

/** Every file the estimates name, so a test can find a renamed or deleted one. */
export const estimatedFiles = (): string[] => [...Object.keys(REAL_S), ...Object.keys(OTHER_S)];
const WORKERS = 2;

interface Entry<T> {
  file: T;
  estimateS: number;
  real: boolean;
}

/** The dispatch order for `workers` workers (exported for the sequencer's own test). */
export function laneOrder<T>(entries: readonly Entry<T>[], workers = WORKERS): T[] {
  const longestFirst = (a: Entry<T>, b: Entry<T>) => b.estimateS - a.estimateS;
  const real = entries.filter((e) => e.real).sort(longestFirst);
  const other = entries.filter((e) => !e.real).sort(longestFirst);
  const freeAtS = Array.from({ length: workers }, () => 0);
  let realBusyUntilS = 0;
  const order: T[] = [];
  while (real.length + other.length > 0) {
    const w = freeAtS.indexOf(Math.min(...freeAtS));
    const nowS = freeAtS[w]!;
    const takeReal = real.length > 0 && (realBusyUntilS <= nowS || other.length === 0);
    const next = (takeReal ? real : other).shift()!;
    freeAtS[w] = nowS + next.estimateS;
    if (next.real) realBusyUntilS = freeAtS[w]!;
    order.push(next.file);
  }
  return order;
}

export default class LanesSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // the base order (file size on a fresh clone) breaks ties among unlisted files
    const base = await super.sort(files);
    const entries = base.map((file) => {
      const path = relative(root, file.moduleId);
      const realS = REAL_S[path];
      return { file, estimateS: realS ?? OTHER_S[path] ?? DEFAULT_S, real: realS !== undefined };
    });
    return laneOrder(entries);
  }
}
