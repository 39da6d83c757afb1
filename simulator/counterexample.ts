/**
 * Turns a shrunk failure into (a) the exact replay command and (b) a scenario that
 * `failover-lab run FILE` (real topology) and `failover-lab sim --scenario FILE --seed S`
 * execute. The scenario's duration is trimmed to a minute past the violation when the
 * trimmed run still shows it (a 10-minute schedule would take 60 s even at time scale 0.1).
 */
import { formatDuration } from '../src/scenario/loader.ts';
import type { Expectation, Scenario } from '../src/scenario/schema.ts';
import type { ExploreFailure, PropertyKind } from './explore.ts';
import type { LeaseBackend } from './models/lease-store.ts';
import { simulateScenario } from './simulate.ts';

export interface ReplayArgs {
  seed: number;
  path: string;
  leaseBackend: LeaseBackend;
  durationMs: number;
  property: PropertyKind;
  runs: number;
}

export function replayCommand(a: ReplayArgs): string {
  return [
    'npx failover-lab sim',
    `--seed ${a.seed}`,
    `--path ${a.path}`,
    `--lease-backend ${a.leaseBackend}`,
    `--duration ${formatDuration(a.durationMs)}`,
    `--property ${a.property}`,
    `--runs ${a.runs}`,
  ].join(' ');
}

const MARGIN_MS = 60_000;
const ROUND_MS = 10_000;

export function counterexampleScenario(f: ExploreFailure, leaseBackend: LeaseBackend): Scenario {
  const firstAt =
    f.result.verdict.outcomes.find((o) => o.name === f.invariant)?.violations[0]?.at ?? f.scenario.duration;
  const lastStepMs = f.scenario.steps.reduce((m, s) => Math.max(m, s.at + (s.for ?? 0)), 0);
  const trimmed = Math.min(
    f.scenario.duration,
    Math.ceil((Math.max(firstAt, lastStepMs) + MARGIN_MS) / ROUND_MS) * ROUND_MS,
  );
  // A known-unsafe backend is *expected* to break: the file then passes when it reproduces.
  // For the durable backend the finding is a bug: the file fails (exit 1) until it is fixed.
  // A known-unsafe backend is *expected* to break: the file then passes when it reproduces.
  // For the durable backend the finding is a bug: the file fails (exit 1) until it is fixed.
  const expect: Expectation[] = leaseBackend === 'kv' ? [{ 'violation-detected': f.invariant }] : [];
  const simOnly =
    f.simOnlyFaults.length > 0
      ? ` SIM-ONLY: uses ${f.simOnlyFaults.join(', ')}, which the real executor cannot inject.`
      : '';
  const base: Scenario = {
    ...f.scenario,
    name: `sim-${leaseBackend}-${f.invariant}-${f.seed >>> 0}`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
    description: `Shrunk counterexample found by \`failover-lab sim\` (fast-check seed ${f.seed}, path ${f.path}; simulator seed ${f.case.seed}): violates ${f.invariant}.${simOnly}`,
    duration: trimmed,
    steps: f.scenario.steps.filter((s) => s.at < trimmed),
    expect,
  };
  if (trimmed < f.scenario.duration) {
    const check = simulateScenario(base, { seed: f.case.seed, leaseBackend });
    const still = check.verdict.outcomes.find((o) => o.name === f.invariant);
    if (!still || still.ok) return { ...base, duration: f.scenario.duration, steps: f.scenario.steps };
  }
  return base;
}
