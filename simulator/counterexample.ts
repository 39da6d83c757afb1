/**
 * Turns a shrunk failure into (a) the exact replay command and (b) a scenario that
 * `failover-lab run FILE` (real topology) and `failover-lab sim --scenario FILE --seed S`
 * execute. The scenario's duration is trimmed to a minute past the violation when the
 * trimmed run still shows it (a 10-minute schedule would take 60 s even at time scale 0.1).
 */

import type { HistoryEvent, LeaseEvent } from '../src/contracts/history.ts';
import { formatDuration } from '../src/scenario/loader.ts';
import type { BootStep, Expectation, Scenario } from '../src/scenario/schema.ts';
import type { ExploreFailure, PropertyKind, SearchMode } from './explore.ts';
import type { LeaseBackend } from './models/lease-store.ts';
import { simulateScenario } from './simulate.ts';

export interface ReplayArgs {
  seed: number;
  path: string;
  leaseBackend: LeaseBackend;
  durationMs: number;
  property: PropertyKind;
  runs: number;
  /** the controllers' operating mode of the search (absent: automatic) */
  mode?: SearchMode;
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
    ...(a.mode !== undefined && a.mode !== 'automatic' ? [`--mode ${a.mode}`] : []),
  ].join(' ');
}

const MARGIN_MS = 60_000;
const ROUND_MS = 10_000;

/**
 * The boot latency that fixes a boot order (docs/scenarios.md "Boot latency"): as long as the
 * controllers' boot spread in the simulator (simulator/boot.ts, 1 s), and a fifth of the lease
 * request timeout (H/2), so the delayed region's requests do not time out even while a
 * freshly started Worker answers slowly (measured: its first answers take 0.2-0.6 s of real
 * time; 2 s here, 200 ms real at time scale 0.1, made the delayed region's first polls time out
 * and lose the bootstrap outright in 1 of 2 real runs).
 */
export const BOOT_ORDER_LATENCY = '1s';

/**
 * A violation that hinged on the boot order: another region read the lease as vacant before
 * the first grant (with legacy-kv that read is cached as "absent" at its location, and it
 * bootstraps on it later). The real topology boots in whatever order its processes happen to
 * start, so the file carries a latency on the first grantee's link to the Worker, in force
 * from boot: every run then orders the two as the simulator did. null: no such read.
 */
export function bootOrderSteps(history: HistoryEvent[]): BootStep[] | null {
  const grant = history.find(
    (e): e is LeaseEvent =>
      e.kind === 'lease' && e.op === 'acquire' && e.phase === 'result' && e.granted === true,
  );
  if (!grant) return null;
  const vacantRead = history.some(
    (e) =>
      e.kind === 'lease' &&
      e.op === 'status' &&
      e.phase === 'result' &&
      e.ok === true &&
      e.holder === null &&
      e.region !== grant.region &&
      e.t < grant.t,
  );
  if (!vacantRead) return null;
  return [
    { fault: 'latency', target: `ctl-${grant.region}->worker`, params: { latency: BOOT_ORDER_LATENCY } },
  ];
}

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
  const violates = (s: Scenario): boolean => {
    const still = simulateScenario(s, { seed: f.case.seed, leaseBackend }).verdict.outcomes.find(
      (o) => o.name === f.invariant,
    );
    return still !== undefined && !still.ok;
  };
  let out = base;
  if (trimmed < f.scenario.duration && !violates(base)) {
    out = { ...base, duration: f.scenario.duration, steps: f.scenario.steps };
  }
  // Only a boot order the violation still shows with, at the case's own seed, is carried.
  const boot = bootOrderSteps(f.result.history);
  if (boot && (f.scenario.boot ?? []).length === 0) {
    const ordered: Scenario = {
      ...out,
      boot,
      description: `${out.description} The boot latency on ${boot.map((b) => b.target).join(', ')} fixes the boot order the violation needs (another region read the lease vacant before the first grant), so the real topology replays it on every run.`,
    };
    if (violates(ordered)) return ordered;
  }
  return out;
}
