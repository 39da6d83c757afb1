/**
 * `failover-lab run FILE`: runs one scenario on the real topology (src/runner) and prints
 * the same RunJson as `sim --json`. Exit 0 when every invariant and expectation holds,
 * 1 when one does not, 2 for a bad scenario (file:line:col, nothing started) or a fault the
 * real executor cannot inject, 3 when the infrastructure failed.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { shownFailoverMs } from '../../check/verdict.ts';
import { EXIT_OK, EXIT_VIOLATION } from '../../errors.ts';
import { runScenario } from '../../runner/execute.ts';
import { writeRealRunReport, writeRunResults } from '../../runner/results.ts';
import { loadScenarioFile } from '../../scenario/loader.ts';
import { harnessWatchdog } from '../../topology/watchdog.ts';
import type { ExitSetter } from '../command-module.ts';
import { DRIVER_OPTION_HELP, driverForScenarios } from '../driver-flag.ts';
import { parseTimeScale } from './up.ts';

interface RunCliOptions {
  json?: boolean;
  timeScale?: string;
  out?: string;
  report?: boolean;
  reportsDir?: string;
  driver?: string;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('run')
    .description('run a scenario YAML on the real two-region topology and check the history')
    .argument('<file>', 'scenario file (scenarios/*.yaml)')
    .option('--json', 'print the RunJson object (same shape as sim --json)')
    .option('--time-scale <x>', "override the scenario's topology.timeScale (0 < x <= 1)")
    .option('--out <dir>', 'write history.jsonl, result.json and the component logs there')
    .option('--reports-dir <dir>', 'root of the report store (reports/<scenario>/<timestamp>/)', 'reports')
    .option('--no-report', 'write no report directory')
    .option('--driver <d>', DRIVER_OPTION_HELP)
    .action(async (file: string, opts: RunCliOptions) => {
      const timeScale = opts.timeScale !== undefined ? parseTimeScale(opts.timeScale) : undefined;
      const scenario = await loadScenarioFile(file);
      const driver = await driverForScenarios(opts.driver, 'run');
      const progress = opts.json ? undefined : (l: string) => process.stderr.write(`${l}\n`);
      const startedAt = new Date();
      // Component logs go to --out, or to a scratch dir the report copies into its logs/.
      const scratchLogs =
        opts.out || opts.report === false ? null : mkdtempSync(join(tmpdir(), 'fl-run-logs-'));
      const removeScratch = () => {
        if (scratchLogs) rmSync(scratchLogs, { recursive: true, force: true });
      };
      // A signal ends the process from the supervisor (process.exit), past the finally below;
      // a SIGKILL runs nothing at all: the watchdog removes the dir then.
      if (scratchLogs) {
        harnessWatchdog().guardDir(scratchLogs);
        process.once('exit', removeScratch);
      }
      const logsDir = opts.out ? join(opts.out, 'logs') : scratchLogs;
      let result: Awaited<ReturnType<typeof runScenario>>;
      try {
        result = await runScenario(scenario, file, {
          ...(timeScale !== undefined ? { timeScale } : {}),
          ...(logsDir ? { logsDir } : {}),
          ...(progress ? { progress } : {}),
          driver,
        });
        if (opts.out) await writeRunResults(opts.out, result);
        if (opts.report !== false) {
          const dir = await writeRealRunReport(result, {
            reportsRoot: resolve(opts.reportsDir ?? 'reports'),
            startedAt,
            ...(logsDir ? { logsDir } : {}),
          });
          (result.runJson as Record<string, unknown>).reportDir = dir;
          process.stderr.write(`report: ${dir}\n`);
        }
      } finally {
        removeScratch();
        process.off('exit', removeScratch);
        if (scratchLogs) harnessWatchdog().unguardDir(scratchLogs);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(result.runJson)}\n`);
      else process.stdout.write(`${humanSummary(result)}\n`);
      setExit(result.verdict.ok ? EXIT_OK : EXIT_VIOLATION);
    });
}

export function humanSummary(r: Awaited<ReturnType<typeof runScenario>>): string {
  const lines = [
    `${r.verdict.ok ? 'PASS' : 'FAIL'} ${r.scenario.name} (real topology, time scale ${r.timeScale}, ${r.wallSeconds.toFixed(1)} s wall)`,
  ];
  for (const o of r.verdict.outcomes) {
    const mark = o.ok ? 'ok  ' : o.expectedViolation ? 'exp ' : 'FAIL';
    lines.push(`  ${mark} ${o.name}: ${o.detail}`);
  }
  for (const f of r.faults) {
    lines.push(
      `  fault ${f.id} ${f.fault} ${f.target}: applied verified=${f.startVerified}, reverted verified=${f.endVerified}`,
    );
  }
  if (r.failoverProductionSeconds !== null) {
    lines.push(
      `  failover ${(shownFailoverMs(r.verdict.measurements)! / 1000).toFixed(2)} s measured = ${r.failoverProductionSeconds.toFixed(1)} s at production timings`,
    );
  }
  return lines.join('\n');
}
