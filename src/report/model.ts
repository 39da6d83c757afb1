/**
 * The report model: one normalised view of a run (history + verdict + run metadata) that
 * every renderer (result.json, junit.xml, summary.md, timeline.html) reads, so the four files
 * can never disagree about what a check's outcome was or how long the failover took.
 */

import type { CheckOutcome, Measurements, Verdict, Violation } from '../check/verdict.ts';
import type { ExecutorKind, HistoryEvent, MetaEvent } from '../contracts/history.ts';
import {
  deriveFacts,
  type FailoverTiming,
  type FaultWindow,
  failoverTiming,
  type ReportFacts,
} from './facts.ts';

/** What an executor hands writeRunReport. */
export interface ReportInput {
  /** scenario name; also the directory name under the reports root */
  scenario: string;
  executor: ExecutorKind;
  /** every event, meta event first */
  history: HistoryEvent[];
  verdict: Verdict;
  startedAt: Date;
  finishedAt?: Date;
  wallSeconds?: number;
  /**
   * Anything else worth keeping with the run. Keys the renderers show when present:
   * `replay` (string: command that reproduces the run), `counterexample`, `resilienceScore`
   * (number), `chaosResults`; everything is kept verbatim in result.json.
   */
  extra?: Record<string, unknown>;
  /** real runs: directory of per-process logs, copied into <run>/logs/ */
  logsDir?: string;
}

/** not-exercised: the check's premise never happened (a fault without observable effect), so a pass would be vacuous */
export type CheckOutcomeKind = 'pass' | 'fail' | 'not-evaluated' | 'not-exercised' | 'expected-violation';

/** One invariant or expectation as every report shows it. */
export interface CheckRow {
  name: string;
  kind: 'invariant' | 'expectation';
  /** the checker's category when it gives one: safety, liveness or expectation */
  category: 'safety' | 'liveness' | 'expectation' | null;
  outcome: CheckOutcomeKind;
  detail: string;
  violations: Violation[];
}

export type RunStatus = 'passed' | 'failed' | 'unknown';

export interface ReportModel {
  scenario: string;
  executor: ExecutorKind;
  history: readonly HistoryEvent[];
  /** null when re-rendering a run whose result.json is missing: nothing is recomputed */
  verdict: Verdict | null;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  wallSeconds: number | null;
  extra: Record<string, unknown>;
  facts: ReportFacts;
  checks: CheckRow[];
  failover: FailoverTiming;
  replay: string | null;
  seed: number | null;
  /** seq → event, for renderers that quote violating events */
  bySeq: Map<number, HistoryEvent>;
  warnings: string[];
}

export interface BuildModelInput {
  scenario: string;
  executor: ExecutorKind;
  history: readonly HistoryEvent[];
  verdict: Verdict | null;
  startedAt: Date;
  finishedAt?: Date | null;
  wallSeconds?: number | null;
  extra?: Record<string, unknown>;
  warnings?: string[];
}

export function buildModel(input: BuildModelInput): ReportModel {
  const facts = deriveFacts(input.history);
  const verdict = input.verdict;
  const checks = verdict ? checkRows(verdict) : [];
  const extra = input.extra ?? {};
  const bySeq = new Map<number, HistoryEvent>();
  for (const e of input.history) bySeq.set(e.seq, e);
  const wallSeconds =
    input.wallSeconds ??
    (input.finishedAt ? (input.finishedAt.getTime() - input.startedAt.getTime()) / 1000 : null);
  const seedFromExtra = typeof extra['seed'] === 'number' ? extra['seed'] : null;
  return {
    scenario: input.scenario,
    executor: input.executor,
    history: input.history,
    verdict,
    status: verdict === null ? 'unknown' : verdict.ok ? 'passed' : 'failed',
    startedAt: input.startedAt,
    finishedAt: input.finishedAt ?? null,
    wallSeconds,
    extra,
    facts,
    checks,
    failover: failoverTiming(facts, verdict?.measurements),
    replay: typeof extra['replay'] === 'string' ? extra['replay'] : null,
    seed: facts.meta?.seed ?? seedFromExtra,
    bySeq,
    warnings: [...(input.warnings ?? []), ...facts.warnings],
  };
}

/**
 * Checks as reported: every outcome of the verdict, plus a row for any violation whose
 * invariant has no outcome (so a violation can never vanish from junit.xml), plus a
 * "verdict" row when the verdict failed without naming a failing check.
 */
export function checkRows(verdict: Verdict): CheckRow[] {
  const rows: CheckRow[] = verdict.outcomes.map((o) => ({
    name: o.name,
    kind: o.kind,
    category: o.category ?? null,
    outcome: outcomeOf(o, verdict.ok),
    detail: o.detail,
    violations: o.violations,
  }));
  const named = new Set(rows.map((r) => r.name));
  const orphans = new Map<string, Violation[]>();
  for (const v of verdict.violations) {
    if (named.has(v.invariant)) continue;
    const list = orphans.get(v.invariant) ?? [];
    list.push(v);
    orphans.set(v.invariant, list);
  }
  for (const [name, violations] of orphans) {
    rows.push({
      name,
      kind: 'invariant',
      category: null,
      outcome: verdict.ok ? 'expected-violation' : 'fail',
      detail: violations[0]!.detail,
      violations,
    });
  }
  if (!verdict.ok && !rows.some((r) => r.outcome === 'fail')) {
    rows.push({
      name: 'verdict',
      kind: 'invariant',
      category: null,
      outcome: 'fail',
      detail: 'the checker reported the run as failed without naming a failing check',
      violations: [],
    });
  }
  return rows;
}

/**
 * The checker marks a violation the scenario expected (`violation-detected`) with
 * expectedViolation; older verdicts only say so by being ok overall despite a failed check.
 */
function outcomeOf(o: CheckOutcome, verdictOk: boolean): CheckOutcomeKind {
  if (o.expectedViolation === true && o.violations.length > 0) return 'expected-violation';
  if (!o.ok) return verdictOk ? 'expected-violation' : 'fail';
  if (o.status === 'not-exercised') return 'not-exercised';
  return o.evaluated === false ? 'not-evaluated' : 'pass';
}

/** First violation of a failing check (by time), for "why did it fail" headlines. */
export function firstViolation(model: ReportModel): Violation | null {
  let best: Violation | null = null;
  for (const row of model.checks) {
    if (row.outcome !== 'fail') continue;
    for (const v of row.violations) if (!best || v.at < best.at) best = v;
  }
  return best;
}

export type FaultVerification = 'verified' | 'not-verified' | 'not-checkable';

/** Collapses a verified flag (true / false / null) into a word for reports. */
export function verificationOf(flag: boolean | null): FaultVerification {
  return flag === true ? 'verified' : flag === false ? 'not-verified' : 'not-checkable';
}

export interface ResultFault {
  id: string;
  fault: string;
  target: string;
  startT: number;
  endT: number | null;
  durationMs: number | null;
  applied: FaultVerification;
  reverted: FaultVerification | 'never-ended';
  detail: string | null;
  links: string[] | null;
  components: string[] | null;
  startSeq: number;
  endSeq: number | null;
}

/** result.json: the machine-readable record of one run. Change additively. */
export interface ResultJson {
  schema: 'failover-lab.result/1';
  scenario: string;
  runId: string | null;
  executor: ExecutorKind;
  status: RunStatus;
  ok: boolean | null;
  withinAssumptions: boolean | null;
  assumptionNotes: string[];
  startedAt: string;
  finishedAt: string | null;
  wallSeconds: number | null;
  seed: number | null;
  path: string | null;
  replay: string | null;
  leaseBackend: MetaEvent['leaseBackend'] | null;
  timeScale: number | null;
  timing: MetaEvent['timing'] | null;
  failover: {
    measuredMs: number | null;
    boundMs: number | null;
    withinBound: boolean | null;
    /** 'verdict' = the checker's measurement; 'history' = derived by the report from role/fault events */
    source: 'verdict' | 'history' | null;
    fromRegion: string | null;
    toRegion: string | null;
    lostAtT: number | null;
    lostCause: string | null;
    promotedAtT: number | null;
  };
  checks: CheckRow[];
  violations: Violation[];
  faults: ResultFault[];
  writes: ReportFacts['writes'];
  /** components that failed by an unexpected exception (bugs, not faults) */
  processErrors: ReportFacts['processErrors'];
  stats: {
    events: number;
    historyMs: number;
    roleTransitions: number;
    failovers: number;
    countsByKind: Record<string, number>;
  };
  measurements: Measurements | null;
  /** the checker's verdict verbatim; `report DIR` re-renders from it */
  verdict: Verdict | null;
  extra: Record<string, unknown>;
  warnings: string[];
  files: Record<string, string>;
}

export function resultFault(w: FaultWindow): ResultFault {
  return {
    id: w.id,
    fault: w.fault,
    target: w.target,
    startT: w.startT,
    endT: w.ended ? w.endT : null,
    durationMs: w.ended ? w.endT - w.startT : null,
    applied: verificationOf(w.verifiedStart),
    reverted: w.ended ? verificationOf(w.verifiedEnd) : 'never-ended',
    detail: w.detail,
    links: w.links,
    components: w.components,
    startSeq: w.startSeq,
    endSeq: w.endSeq,
  };
}

export function buildResultJson(model: ReportModel, files: Record<string, string>): ResultJson {
  const meta = model.facts.meta;
  const first = model.facts.failovers[0] ?? null;
  return {
    schema: 'failover-lab.result/1',
    scenario: model.scenario,
    runId: meta?.runId ?? null,
    executor: model.executor,
    status: model.status,
    ok: model.verdict?.ok ?? null,
    withinAssumptions: model.verdict?.withinAssumptions ?? meta?.withinAssumptions ?? null,
    assumptionNotes: meta?.assumptionNotes ?? [],
    startedAt: model.startedAt.toISOString(),
    finishedAt: model.finishedAt?.toISOString() ?? null,
    wallSeconds: model.wallSeconds,
    seed: model.seed,
    path: meta?.path ?? null,
    replay: model.replay,
    leaseBackend: meta?.leaseBackend ?? null,
    timeScale: meta?.timeScale ?? null,
    timing: meta?.timing ?? null,
    failover: {
      ...model.failover,
      fromRegion: first?.fromRegion ?? null,
      toRegion: first?.toRegion ?? null,
      lostAtT: first?.lostAtT ?? null,
      lostCause: first?.lostCause ?? null,
      promotedAtT: first?.promotedAtT ?? null,
    },
    checks: model.checks,
    violations: model.verdict?.violations ?? [],
    faults: model.facts.faults.map(resultFault),
    writes: model.facts.writes,
    processErrors: model.facts.processErrors,
    stats: {
      events: model.facts.eventCount,
      historyMs: model.facts.endT - model.facts.startT,
      roleTransitions: model.facts.roleTransitions,
      failovers: model.facts.failovers.length,
      countsByKind: model.facts.countsByKind,
    },
    measurements: model.verdict?.measurements ?? null,
    verdict: model.verdict,
    extra: model.extra,
    warnings: model.warnings,
    files,
  };
}
