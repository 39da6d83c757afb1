/**
 * The test command of `npm run mutate` (issue #14): the simulator search ALONE, no unit
 * tests, so the mutation score says what the simulator and the checker catch. A mutant of
 * the controller core, its config, the driver, the Worker's lease logic or the app fence is
 * killed when (1) a catalog scenario no longer meets its expectations or an invariant in the
 * simulator, or (2) a fixed-budget random search finds a schedule inside the documented
 * assumptions that violates an invariant, or (3) the simulator throws (an assertion inside
 * the core fired).
 *
 * Every judgement is the checker's verdict over the history (what the lease store, apps,
 * resolvers and DNS servers observed) against the design's numbers; nothing here reads a
 * controller's state, config or logs. Budgets are fixed (seeds, runs), so a mutant's fate is
 * deterministic. Not part of `npm test`: the file name does not match test/**\/*.test.ts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation as runExploration, simulateScenario } from '../../simulator/index.ts';
import { demoCatalogFiles } from '../../src/runner/catalog.ts';
import { parseScenario } from '../../src/scenario/loader.ts';
import type { Scenario } from '../../src/scenario/schema.ts';

const SEARCH_RUNS = Number(process.env.FL_MUTATION_SEARCH_RUNS ?? 500);
/** Schedules per operator mode (operator steps drawn): a few seconds each. */
const OPERATOR_SEARCH_RUNS = Number(process.env.FL_MUTATION_OPERATOR_RUNS ?? 300);
/** Catalog seeds after the first: a catalog run costs ~20 ms, so seeds are the cheap budget. */
const CATALOG_SEEDS = Number(process.env.FL_MUTATION_CATALOG_SEEDS ?? 12);

type Mode = 'automatic' | 'semi-automatic';

/** Base, incident and quirk scenarios: the quirks exercise authoritative restarts and a stale lease object. */
const catalog = demoCatalogFiles(true, true).map((file) => ({
  file,
  text: readFileSync(file, 'utf8'),
}));

function scenarioIn(text: string, file: string, mode: Mode): Scenario {
  const s = parseScenario(text, file);
  // semi-automatic: the same scenario, with the candidate waiting for the (simulated)
  // operator's approval — the design promises the same safety and expectations. A copy: the
  // schema's default `controller` is one object shared by every parse, so setting `mode` on it
  // made every later scenario in the process semi-automatic (the "automatic" runs included).
  if (mode !== 'automatic' && s.topology.controller.mode === undefined)
    s.topology.controller = { ...s.topology.controller, mode };
  return s;
}

function failingRuns(
  runs: readonly { name: string; scenario: Scenario }[],
  seeds: readonly number[],
): string[] {
  const failures: string[] = [];
  for (const { name, scenario } of runs) {
    for (const seed of seeds) {
      const r = simulateScenario(scenario, { seed });
      if (!r.verdict.ok) {
        const first = r.verdict.outcomes.find((o) => !o.ok);
        failures.push(`${name} seed ${seed}: ${first?.name} ${first?.violations[0]?.detail ?? ''}`);
        return failures; // one is enough to kill; the rest would only cost time
      }
    }
  }
  return failures;
}

/**
 * A scenario that expects a violation declares an unsafe configuration (kv-split-brain): in
 * semi-automatic mode whether the violation happens depends on when the operator approves (with
 * the simulated approver at 15-20 s, kv-split-brain's second grant missed 5-6 of 20 seeds), so
 * it runs in its own mode only.
 */
const expectsViolation = (s: Scenario) => s.expect.some((e) => 'violation-detected' in e);

const catalogIn = (mode: Mode) =>
  catalog
    .map(({ file, text }) => ({
      name: `${basename(file)} (${mode})`,
      scenario: scenarioIn(text, file, mode),
    }))
    .filter((r) => mode === 'automatic' || !expectsViolation(r.scenario));

/**
 * A lease store deployed with a TTL shorter than the design's T (issue #20): a controller must
 * not act on its grants, or its acts outlive the store's lease (lease-history,
 * act-within-safe-window); with the refusal the run has no violation.
 */
const ttlMismatch = ['5s', '29s'].map((ttl) => ({
  name: `worker TTL ${ttl}`,
  scenario: parseScenario(
    `name: ttl-mismatch\nduration: 3m\ntopology:\n  worker: {leaseTtl: ${ttl}}\nsteps:\n  - {at: 60s, for: 60s, fault: crash, target: a}\n`,
    'ttl-mismatch.yaml',
  ),
}));

/**
 * A brief cut of the primary's link to the Worker around one of its renewals (refused or
 * dropped, while the request or its reply is in flight): the design retries inside the safe
 * window, so the primary keeps its lease (no-spurious-failover judges the store's expiries).
 */
const briefCuts = ['refuse', 'drop'].flatMap((mode) =>
  ['-100ms', '250ms'].flatMap((offset) =>
    ['3s', '8s'].map((span) => ({
      name: `cut ctl-a->worker ${mode} at renew-send${offset} for ${span}`,
      scenario: parseScenario(
        `name: brief-cut-at-renewal\nduration: 3m\nsteps:\n  - {at: 50s, anchor: {on: renew-send, region: a, offset: ${offset}}, for: ${span}, fault: partition, target: ctl-a->worker, params: {mode: ${mode}}}\n`,
        'brief-cut-at-renewal.yaml',
      ),
    })),
  ),
);

/**
 * Calls held beyond d, delivered after a newer epoch was granted: outside the assumptions, where
 * the fencing token is the only defence (each file says how) — on a controller's link to its app
 * (the app's fence, after it restarted) and on its link to the Worker (a release of epoch e
 * after the same region was granted e + 1: the store's epoch check); and a Worker clock step
 * that lets the holder's lease run out early, where the store's refusal of its renewal is the
 * only thing that ends the holder's term (early-expiry-renew-refused.yaml), or a grant lost to
 * a pause beyond p, where the store's "held by you, not granted" must not read as a grant
 * (orphan-grant-refused-acquire.yaml). Automatic mode only
 * (stale-extend-after-unseen-demote.yaml says why). Not in the catalog: the real topology's
 * client timeouts need not let a held request through.
 */
const staleHooks = [
  // inside the assumptions, but its 5 ms anchor is finer than the real runner's timers
  'operator-demote-at-renewal.yaml',
  // inside the assumptions: a failover inside the DR region's hold-down (failover-liveness's
  // bound from the hold-down's end); its 1 ms renewal anchor is finer than the real runner's timers
  'peer-lost-inside-hold-down.yaml',
  // inside the assumptions, each timed finer than the real runner's timers or adding nothing to
  // the catalog's expectations (each file says which): lease answers a controller must not act on
  // — a grant heard as a standby, a previous incarnation's lease, an orphaned grant, a refusal
  // for another region's lease (unused-lease-released, release-after-revoke, lease-request-cadence)
  'grant-reply-to-withdrawn-candidate.yaml',
  'operator-demote-at-acquire.yaml',
  'restart-orphan-leases.yaml',
  'approved-after-lease-taken.yaml',
  'bootstrap-approved-after-lease-taken.yaml',
  'stale-hooks-beyond-d.yaml',
  'stale-extend-after-unseen-demote.yaml',
  'stale-release-beyond-d.yaml',
  'early-expiry-renew-refused.yaml',
  'orphan-grant-refused-acquire.yaml',
  // inside the assumptions: a witness answer that arrives after its round ended without a
  // quorum (no-internal-error judges a core that trips over it); its 400 ms link latency on one
  // witness adds nothing to the catalog's expectations
  'witness-answer-after-no-quorum.yaml',
  // outside the design (the legacy witness policy, each file says why): a failover on answers
  // that did not see the peer down, which promotion-evidence must report
  'legacy-count-unreachable-refused.yaml',
  'legacy-count-unreachable-silent.yaml',
  // inside the assumptions: a graceful stop that finds its controller fenced (the search's
  // stops rarely land in a hold-down)
  'stop-while-fenced.yaml',
  // inside the assumptions: the witnesses already agree when the peer probes start failing, so
  // only the probe count holds a failover back (failover-patience)
  'peer-loss-witnesses-already-agree.yaml',
].map((file) => ({
  name: file,
  scenario: parseScenario(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'), file),
}));

const seedsFrom = (first: number, n: number) => Array.from({ length: n }, (_, i) => first + i);

// Cheapest first: Stryker bails at the first failing test, so a mutant the catalog catches
// costs ~1 s and only a survivor pays for the whole file.
describe('simulator search as the mutation kill test', () => {
  it('every catalog scenario meets its expectations and the invariants in the simulator (seed 1)', () => {
    expect(failingRuns(catalogIn('automatic'), [1])).toEqual([]);
  });

  it('the catalog in semi-automatic mode, a store with a short TTL, brief cuts at a renewal, stale hooks and release', () => {
    expect(failingRuns(catalogIn('semi-automatic'), [1])).toEqual([]);
    expect(failingRuns(ttlMismatch, [1, 2, 3])).toEqual([]);
    expect(failingRuns(briefCuts, [1])).toEqual([]);
    expect(failingRuns(staleHooks, [1, 2, 3])).toEqual([]);
  });

  it(`the catalog in both modes at seeds 2-${CATALOG_SEEDS + 1}`, () => {
    const seeds = seedsFrom(2, CATALOG_SEEDS);
    expect(failingRuns(catalogIn('automatic'), seeds)).toEqual([]);
    expect(failingRuns(catalogIn('semi-automatic'), seeds)).toEqual([]);
  });

  // the operator's commands at random times, in the modes where the operator has a part: most
  // meet a role that does not take them (onOperator's every branch, judged by the checker)
  it(`a ${OPERATOR_SEARCH_RUNS}-schedule search in semi-automatic and in manual mode (seed 3) finds no violation inside the assumptions`, () => {
    for (const mode of ['semi-automatic', 'manual'] as const) {
      const r = runExploration({
        runs: OPERATOR_SEARCH_RUNS,
        seed: 3,
        leaseBackend: 'durable',
        durationMs: 10 * 60_000,
        property: 'all',
        mode,
      });
      expect(r.error).toBeNull();
      expect(r.failure?.result.verdict.violations.slice(0, 3) ?? []).toEqual([]);
      expect(r.otherFindings.examples.slice(0, 3)).toEqual([]);
    }
  });

  for (const [seed, property] of [
    [1, 'safety'],
    [2, 'all'],
  ] as const) {
    it(`a ${SEARCH_RUNS}-schedule search (seed ${seed}, ${property}) finds no violation inside the assumptions`, () => {
      const r = runExploration({
        runs: SEARCH_RUNS,
        seed,
        leaseBackend: 'durable',
        durationMs: 10 * 60_000,
        property,
      });
      expect(r.error).toBeNull();
      expect(r.failure?.result.verdict.violations.slice(0, 3) ?? []).toEqual([]);
      expect(r.otherFindings.examples.slice(0, 3)).toEqual([]);
    });
  }
});
