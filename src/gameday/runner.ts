/**
 * A whole game day: open the target, check the steady-state hypothesis, run the experiments
 * in order, check the hypothesis again, and leave nothing behind.
 *
 * Rollback guarantee: every fault unit goes through one RollbackLedger. Each experiment
 * reverts its own units in a finally; the game day sweeps the ledger again in its own
 * finally (a no-op unless something escaped), before the target is disposed. An interrupt
 * (SIGINT/SIGTERM, wired by the CLI to `interrupt`) only aborts waits and probes, so the
 * same finally blocks run. Exit code: 3 if any revert stayed unverified (faults may be left
 * behind) or the target failed, 1 if anything did not Pass, 0 otherwise.
 */
import { randomBytes } from 'node:crypto';
import { checkHistory } from '../check/checker.ts';
import type { CheckOutcome, Verdict } from '../check/verdict.ts';
import type { HistoryEvent } from '../contracts/history.ts';
import { EXIT_INFRA, EXIT_OK, EXIT_VIOLATION } from '../errors.ts';
import { Recorder } from '../runner/recorder.ts';
import { notRunResult, runExperiment } from './experiment.ts';
import { resolveFault } from './faults.ts';
import type { GameDayPlan, LinkBinding, Probe } from './plan.ts';
import { makeProbeExecutor, type ProbeExecutor, runProbe } from './probes/index.ts';
import type { Progress } from './progress.ts';
import { type ChaosResult, type ResilienceScore, resilienceScore } from './result.ts';
import { type RevertReport, RollbackLedger } from './rollback.ts';
import {
  checkLoopbackOnly,
  checkProbeReferences,
  type GamedayTarget,
  openTarget,
  preflight,
  type TargetOpener,
} from './target.ts';
import { childAbort, errorText, sleep } from './util.ts';

export interface HypothesisReport {
  when: 'before' | 'after';
  ok: boolean;
  probes: Array<{ name: string; ok: boolean; detail: string }>;
}

export interface GameDayOutcome {
  runId: string;
  plan: string;
  target: string;
  verdict: 'Pass' | 'Fail' | 'Stopped';
  steadyState: { title: string | null; before: HypothesisReport | null; after: HypothesisReport | null };
  experiments: ChaosResult[];
  resilience: ResilienceScore;
  rollback: { allVerified: boolean; reverted: number; leftovers: RevertReport[] };
  interrupted: string | null;
  infraFailure: string | null;
  history: HistoryEvent[];
  verdictForReport: Verdict;
  /** wall-clock ISO time the game day started (for report headers only) */
  startedAt: string;
  exitCode: number;
}

export interface GameDayOptions {
  interrupt: AbortSignal;
  progress: Progress;
  allowRemote?: boolean;
  /** tests: a scripted probe executor and/or target instead of the real ones */
  exec?: ProbeExecutor;
  openTarget?: TargetOpener;
  /** called after the final rollback sweep, before the target is disposed (tests inspect the links) */
  onBeforeDispose?: (target: GamedayTarget) => Promise<void>;
}

export async function runGameDay(plan: GameDayPlan, opts: GameDayOptions): Promise<GameDayOutcome> {
  const { progress } = opts;
  const rec = new Recorder();
  const startedAt = new Date().toISOString();
  const runId = `gameday-${randomBytes(4).toString('hex')}`;
  const ledger = new RollbackLedger();
  const open = opts.openTarget ?? openTarget;

  const target: GamedayTarget = await open(plan, { rec, progress, signal: opts.interrupt });
  // One "stop" signal for everything below: an interrupt or the target failing.
  const stop$ = childAbort(opts.interrupt, ...(target.failure ? [target.failure] : []));
  const stopAll = stop$.ctl.signal;
  const results: ChaosResult[] = [];
  let before: HypothesisReport | null = null;
  let after: HypothesisReport | null = null;
  let leftovers: RevertReport[] = [];
  let reverted = 0;
  try {
    checkProbeReferences(plan, target.probeContext);
    checkLoopbackOnly(plan, target, opts.allowRemote ?? false);
    const exec = opts.exec ?? makeProbeExecutor(target.probeContext);
    setGameDayMeta(rec, plan, target, runId);
    progress.line(`game day ${plan.name}: ${target.description}, ${plan.experiments.length} experiment(s)`);
    await preflightFaults(plan, target);
    before = await checkHypothesis(plan, exec, stopAll, rec, progress, 'before');
    await runExperiments(plan, target, { exec, ledger, rec, progress, stopAll }, before, results);
    if (!stopAll.aborted) after = await checkHypothesis(plan, exec, stopAll, rec, progress, 'after');
  } finally {
    ({ reverted, leftovers } = await sweepAndDispose(ledger, target, stop$, opts));
  }
  return gameDayOutcome(plan, opts, target, {
    rec,
    runId,
    startedAt,
    results,
    before,
    after,
    reverted,
    leftovers,
  });
}

/** The history's meta event: the target's regions, witnesses and timing (zeros for an external target). */
function setGameDayMeta(rec: Recorder, plan: GameDayPlan, target: GamedayTarget, runId: string): void {
  rec.setMeta({
    kind: 'meta',
    t: 0,
    runId,
    scenario: plan.name,
    executor: 'gameday',
    path: plan.file,
    regions: target.regions,
    witnesses: target.witnesses,
    timing: target.timing ?? {
      leaseTtlMs: 0,
      heartbeatMs: 0,
      safeWindowMs: 0,
      peerCheckIntervalMs: 0,
      peerFailureThreshold: 0,
      witnessQuorum: 0,
      failoverBoundMs: 0,
      maxClockDriftRate: 0,
    },
    withinAssumptions: true,
    ...(target.timing
      ? {}
      : { assumptionNotes: ['external target: controller timing unknown to the game day (zeros)'] }),
    ...(plan.target.kind === 'local' ? { timeScale: plan.target.timeScale } : {}),
  });
}

/** Resolves every experiment's fault now, so a target problem surfaces before anything is injected. */
async function preflightFaults(plan: GameDayPlan, target: GamedayTarget): Promise<void> {
  const touchedLinks = new Map<string, LinkBinding>();
  for (const e of plan.experiments)
    for (const id of resolveFault(e, target.faultTarget).touched) {
      const b = target.faultTarget.links[id];
      if (b) touchedLinks.set(id, b);
    }
  await preflight([...touchedLinks.values()], target.faultTarget.api);
}

/** The steady-state hypothesis, checked once (before or after the experiments); null without one or when stopped. */
async function checkHypothesis(
  plan: GameDayPlan,
  exec: ProbeExecutor,
  stopAll: AbortSignal,
  rec: Recorder,
  progress: Progress,
  when: 'before' | 'after',
): Promise<HypothesisReport | null> {
  if (!plan.steadyState) return null;
  const report: HypothesisReport = { when, ok: true, probes: [] };
  for (const p of plan.steadyState.probes) {
    const run = await runProbe(p, exec, stopAll);
    if (run.aborted) return null;
    report.probes.push({ name: p.name, ok: run.ok, detail: run.detail });
    if (!run.ok) report.ok = false;
    rec.note('gameday.steady-state', `${p.name} ${run.ok ? 'Passed' : 'Failed'} (${when})`, {
      when,
      probe: p.name,
      ok: run.ok,
      detail: run.detail,
    });
    progress.line(`steady state ${when}: ${p.name} ${run.ok ? 'Passed' : 'FAILED'}: ${run.detail}`);
  }
  return report;
}

/** The experiments in order; after a halt the rest are recorded as not run. */
async function runExperiments(
  plan: GameDayPlan,
  target: GamedayTarget,
  run: {
    exec: ProbeExecutor;
    ledger: RollbackLedger;
    rec: Recorder;
    progress: Progress;
    stopAll: AbortSignal;
  },
  before: HypothesisReport | null,
  results: ChaosResult[],
): Promise<void> {
  const { exec, ledger, rec, progress, stopAll } = run;
  let halted: string | null = null;
  if (before && !before.ok) halted = 'the steady-state hypothesis did not hold before the game day';
  const continuousHypothesis =
    plan.steadyState?.strategy === 'continuously'
      ? { probes: plan.steadyState.probes as Probe[], frequencyMs: plan.steadyState.frequencyMs }
      : undefined;

  for (const [i, exp] of plan.experiments.entries()) {
    if (stopAll.aborted) halted ??= `interrupted by ${String(stopAll.reason)}`;
    if (halted) {
      results.push(notRunResult(plan.name, exp, halted, rec.now()));
      continue;
    }
    progress.line(
      `experiment ${i + 1}/${plan.experiments.length} ${exp.name}: ${exp.fault} ${Array.isArray(exp.target) ? exp.target.join(',') : exp.target} for ${exp.duration} ms (weight ${exp.weight})`,
    );
    const outcome = await runExperiment(exp, {
      gameday: plan.name,
      exec,
      ledger,
      faultTarget: target.faultTarget,
      rec,
      progress,
      interrupt: stopAll,
      ...(continuousHypothesis ? { hypothesis: continuousHypothesis } : {}),
    });
    results.push(outcome.result);
    const s = outcome.result.status.experimentStatus;
    progress.line(
      `experiment ${exp.name}: ${s.verdict} (probe success ${s.probeSuccessPercentage}%)${s.failStep !== 'N/A' ? ` - ${s.failStep}` : ''}`,
    );
    if (outcome.halt) halted = outcome.halt;
    if (!halted && exp.cooldown > 0) await sleep(exp.cooldown, stopAll);
  }
}

/** Reverts anything still registered, lists what could not be reverted, and disposes of the target. */
async function sweepAndDispose(
  ledger: RollbackLedger,
  target: GamedayTarget,
  stop$: ReturnType<typeof childAbort>,
  opts: GameDayOptions,
): Promise<{ reverted: number; leftovers: RevertReport[] }> {
  const { progress } = opts;
  // Sweep: anything registered and not yet reverted (normally nothing) is reverted here,
  // before the target (and, locally, the Toxiproxy server itself) goes away.
  const pending = ledger.pending();
  if (pending.length > 0) progress.line(`rollback sweep: reverting ${pending.length} fault unit(s)`);
  const reports = await ledger.revert();
  const reverted = reports.filter((r) => r.verified).length;
  const leftovers = await ledger.leftovers();
  for (const l of leftovers) progress.line(`FAULT LEFT BEHIND: ${l.label}: ${l.detail}`);
  stop$.dispose();
  // The processes' own events up to now (their view of the reverts included).
  target.flushEvents?.();
  try {
    await opts.onBeforeDispose?.(target);
  } catch (err) {
    progress.line(`onBeforeDispose failed: ${errorText(err)}`);
  }
  try {
    await target.dispose();
  } catch (err) {
    progress.line(`disposing the target failed: ${errorText(err)}`);
  }
  return { reverted, leftovers };
}

/** The game day's verdict and exit code, its checks as outcomes for the report, and the outcome. */
function gameDayOutcome(
  plan: GameDayPlan,
  opts: GameDayOptions,
  target: GamedayTarget,
  run: {
    rec: Recorder;
    runId: string;
    startedAt: string;
    results: ChaosResult[];
    before: HypothesisReport | null;
    after: HypothesisReport | null;
    reverted: number;
    leftovers: RevertReport[];
  },
): GameDayOutcome {
  const { rec, runId, startedAt, results, before, after, reverted, leftovers } = run;
  const interrupted = opts.interrupt.aborted ? String(opts.interrupt.reason) : null;
  const infraFailure = target.failure?.aborted ? errorText(target.failure.reason) : null;
  const resilience = resilienceScore(
    results.map((r) => ({
      weight: r.spec.weight,
      probeSuccessPercentage: r.status.experimentStatus.probeSuccessPercentage,
    })),
  );
  // The same checker as every other executor: a game day that made the controllers split
  // the brain fails whatever its probes said (invariants not evaluable on a target that
  // reports no controller events come out "not evaluated").
  const checked = checkHistory(rec.finish(), {});
  const allPass =
    checked.ok &&
    (before?.ok ?? true) &&
    (after?.ok ?? true) &&
    results.every((r) => r.status.experimentStatus.verdict === 'Pass') &&
    leftovers.length === 0;
  const verdict: GameDayOutcome['verdict'] = interrupted
    ? 'Stopped'
    : allPass && !infraFailure
      ? 'Pass'
      : 'Fail';
  const exitCode =
    leftovers.length > 0 || infraFailure ? EXIT_INFRA : verdict === 'Pass' ? EXIT_OK : EXIT_VIOLATION;
  rec.note('gameday', `game day ${plan.name}: ${verdict}`, {
    verdict,
    resilienceScore: resilience.score,
    leftovers: leftovers.length,
  });

  const outcomes: CheckOutcome[] = [...checked.outcomes];
  const add = (name: string, ok: boolean, detail: string) =>
    outcomes.push({ name, kind: 'expectation', category: 'expectation', ok, detail, violations: [] });
  if (before) add('steady-state-before', before.ok, describeHypothesis(before));
  for (const r of results) {
    const s = r.status.experimentStatus;
    add(
      `experiment:${r.spec.experiment}`,
      s.verdict === 'Pass',
      `${s.verdict}, probe success ${s.probeSuccessPercentage}%${s.failStep !== 'N/A' ? `: ${s.failStep}` : ''}`,
    );
  }
  if (after) add('steady-state-after', after.ok, describeHypothesis(after));
  add(
    'rollback-verified',
    leftovers.length === 0,
    leftovers.length === 0
      ? `${reverted} fault unit(s) reverted and verified`
      : `${leftovers.length} fault unit(s) NOT reverted`,
  );
  const verdictForReport: Verdict = {
    ok: verdict === 'Pass',
    outcomes,
    violations: checked.violations,
    withinAssumptions: checked.withinAssumptions,
    measurements: {
      ...checked.measurements,
      ...(resilience.score !== null ? { resilienceScore: resilience.score } : {}),
      experiments: results.length,
      experimentsPassed: results.filter((r) => r.status.experimentStatus.verdict === 'Pass').length,
    },
  };

  return {
    runId,
    plan: plan.name,
    target: target.description,
    verdict,
    steadyState: { title: plan.steadyState?.title ?? null, before, after },
    experiments: results,
    resilience,
    rollback: { allVerified: leftovers.length === 0, reverted, leftovers },
    interrupted,
    infraFailure,
    history: rec.finish(),
    verdictForReport,
    startedAt,
    exitCode,
  };
}

function describeHypothesis(h: HypothesisReport): string {
  const failed = h.probes.filter((p) => !p.ok);
  return h.ok
    ? `${h.probes.length} probe(s) held`
    : `failed: ${failed.map((p) => `${p.name} (${p.detail})`).join('; ')}`;
}
