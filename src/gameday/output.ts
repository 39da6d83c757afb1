/**
 * Game-day output: the run report (src/report: history.jsonl, result.json with the
 * ChaosResults and resilience score in `extra`, junit.xml, summary.md, timeline.html), the
 * one-line-per-experiment terminal summary, and the --json object.
 */
import { writeRunReport } from '../report/index.ts';
import type { GameDayOutcome } from './runner.ts';

export async function writeGameDayReport(
  outcome: GameDayOutcome,
  opts: { reportsRoot?: string; logsDir?: string; finishedAt: Date },
): Promise<string> {
  const { dir } = await writeRunReport(
    {
      scenario: outcome.plan,
      executor: 'gameday',
      history: outcome.history,
      verdict: outcome.verdictForReport,
      startedAt: new Date(outcome.startedAt),
      finishedAt: opts.finishedAt,
      extra: {
        gameday: outcome.plan,
        target: outcome.target,
        gamedayVerdict: outcome.verdict,
        resilienceScore: outcome.resilience.score,
        resilience: outcome.resilience,
        chaosResults: outcome.experiments,
        steadyState: outcome.steadyState,
        rollback: outcome.rollback,
        interrupted: outcome.interrupted,
        infraFailure: outcome.infraFailure,
      },
      ...(opts.logsDir ? { logsDir: opts.logsDir } : {}),
    },
    opts.reportsRoot ? { reportsRoot: opts.reportsRoot } : {},
  );
  return dir;
}

/** The --json object: everything but the raw history (that is in the report's history.jsonl). */
export function outcomeJson(outcome: GameDayOutcome, reportDir: string | null): Record<string, unknown> {
  return {
    ok: outcome.verdict === 'Pass',
    gameday: outcome.plan,
    runId: outcome.runId,
    target: outcome.target,
    verdict: outcome.verdict,
    resilienceScore: outcome.resilience.score,
    resilience: outcome.resilience,
    steadyState: outcome.steadyState,
    experiments: outcome.experiments,
    rollback: outcome.rollback,
    interrupted: outcome.interrupted,
    infraFailure: outcome.infraFailure,
    exitCode: outcome.exitCode,
    reportDir,
  };
}

export function summaryLines(outcome: GameDayOutcome): string[] {
  const lines: string[] = [];
  for (const r of outcome.experiments) {
    const s = r.status.experimentStatus;
    lines.push(
      `  ${s.verdict.padEnd(7)} ${r.spec.experiment} (weight ${r.spec.weight}, probe success ${s.probeSuccessPercentage}%)${s.failStep !== 'N/A' ? `: ${s.failStep}` : ''}`,
    );
  }
  const rs = outcome.resilience;
  lines.push(
    `resilience score: ${rs.score === null ? 'n/a (all weights 0)' : `${rs.score}%`} (Σ weight×success ${rs.weightedSum} / Σ weight ${rs.totalWeight})`,
  );
  lines.push(
    outcome.rollback.allVerified
      ? `rollback: ${outcome.rollback.reverted} fault unit(s) reverted, every revert verified`
      : `rollback: ${outcome.rollback.leftovers.length} fault unit(s) NOT reverted - fix by hand: ${outcome.rollback.leftovers.map((l) => l.label).join('; ')}`,
  );
  lines.push(`game day ${outcome.plan}: ${outcome.verdict}`);
  return lines;
}
