/**
 * Writes the outcome of a real run: history.jsonl (one event per line) and result.json
 * (the RunJson plus the full verdict). The report writer (src/report) can replace this by
 * being handed the same RunResult — see `ResultWriter`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './execute.ts';

export type ResultWriter = (dir: string, result: RunResult) => Promise<void> | void;

export const writeRunResults: ResultWriter = (dir, result) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'history.jsonl'), `${result.history.map((e) => JSON.stringify(e)).join('\n')}\n`);
  writeFileSync(
    join(dir, 'result.json'),
    // startedAt/finishedAt/wallSeconds let `failover-lab report DIR` re-render with the real dates
    `${JSON.stringify(
      {
        ...result.runJson,
        startedAt: result.startedAt.toISOString(),
        finishedAt: result.finishedAt.toISOString(),
        wallSeconds: result.wallSeconds,
        verdict: result.verdict,
      },
      null,
      2,
    )}\n`,
  );
};

/** reports/<scenario>/<timestamp>/, the timestamp file-name safe */
export function reportDirFor(root: string, scenario: string, when = new Date()): string {
  return join(root, scenario, when.toISOString().replace(/[:.]/g, '-'));
}

/**
 * Writes the run through the report store (src/report): reports/<scenario>/<timestamp>/
 * with result.json, history.jsonl, junit.xml, summary.md, timeline.html and logs/ (copied
 * from `logsDir`), and moves the scenario's `latest` link. Returns the report directory.
 */
export async function writeRealRunReport(
  result: RunResult,
  opts: { reportsRoot: string; logsDir?: string; startedAt: Date },
): Promise<string> {
  const { writeRunReport } = await import('../report/index.ts');
  const { dir } = await writeRunReport(
    {
      scenario: result.scenario.name,
      executor: 'real',
      history: result.history,
      verdict: result.verdict,
      startedAt: opts.startedAt,
      finishedAt: new Date(),
      wallSeconds: result.wallSeconds,
      extra: {
        scenarioFile: result.file,
        timeScale: result.timeScale,
        bootSeconds: result.bootSeconds,
        faults: result.faults,
        failoverProductionSeconds: result.failoverProductionSeconds,
        // the driver that booted the topology (local processes or docker containers)
        driver: result.runJson.driver ?? 'local',
        replay: `npx failover-lab run ${result.file}${result.runJson.driver === 'docker' ? ' --driver docker' : ''}`,
      },
      ...(opts.logsDir ? { logsDir: opts.logsDir } : {}),
    },
    { reportsRoot: opts.reportsRoot },
  );
  return dir;
}
