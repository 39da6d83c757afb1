/**
 * `failover-lab demo` (npm run demo): runs the whole scenario catalog on the real topology,
 * one fresh topology per scenario, with live progress on stderr; writes each scenario's
 * history.jsonl + result.json (+ logs/) under reports/<scenario>/<timestamp>/ and prints a
 * summary table of verdicts and failover times. Exit 1 if any scenario misses its
 * expectations, 3 if the infrastructure failed in any (the other scenarios still run).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { shownFailoverMs } from '../../check/verdict.ts';
import {
  BadInputError,
  EXIT_BAD_INPUT,
  EXIT_INFRA,
  EXIT_OK,
  EXIT_VIOLATION,
  exitCodeOf,
} from '../../errors.ts';
import { writeReportIndex } from '../../report/index.ts';
import { demoCatalogFiles } from '../../runner/catalog.ts';
import { type RunResult, runScenario } from '../../runner/execute.ts';
import { writeRealRunReport } from '../../runner/results.ts';
import { loadScenarioFile } from '../../scenario/loader.ts';
import type { ExitSetter } from '../command-module.ts';
import { DRIVER_OPTION_HELP, driverForScenarios } from '../driver-flag.ts';
import { parseTimeScale } from './up.ts';

interface DemoOptions {
  timeScale?: string;
  out: string;
  only?: string;
  /** --incidents: add scenarios/incidents after the base catalog */
  incidents?: boolean;
  /** --quirks: add scenarios/quirks */
  quirks?: boolean;
  json?: boolean;
  driver?: string;
}

export interface DemoRow {
  scenario: string;
  status: 'pass' | 'fail' | 'infra-error' | 'bad-input';
  detail: string;
  failoverSeconds: number | null;
  failoverProductionSeconds: number | null;
  /** true when the checker timed the failover from a region loss and judged it against the bound */
  failoverJudged: boolean;
  wallSeconds: number;
  bootSeconds: number | null;
  faultsVerified: boolean | null;
  reportDir: string | null;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('demo')
    .description('run the scenario catalog on the real topology and summarise verdicts and failover times')
    .option('--time-scale <x>', "override every scenario's time scale")
    .option('--out <dir>', 'where results go (<dir>/<scenario>/<timestamp>/)', join(process.cwd(), 'reports'))
    .option('--only <names>', 'comma-separated scenario names to run (base catalog, incidents or quirks)')
    // The base catalog alone keeps `npm run demo` under 5 minutes on 2 cores; the incident
    // catalog adds about 3 more (the Fly.io lease-service outage alone is a minute).
    .option('--incidents', 'also run the incident catalog (scenarios/incidents) after the base catalog')
    .option('--quirks', 'also run the PowerDNS/Durable Object quirk scenarios (scenarios/quirks)')
    .option('--json', 'print the summary rows as JSON')
    .option('--driver <d>', DRIVER_OPTION_HELP)
    .action(async (opts: DemoOptions) => {
      const timeScale = opts.timeScale !== undefined ? parseTimeScale(opts.timeScale) : undefined;
      const catalog = demoCatalogFiles(
        opts.incidents === true || opts.only !== undefined,
        opts.quirks === true || opts.only !== undefined,
      );
      const only = opts.only !== undefined ? onlyNames(opts.only, catalog) : null;
      const driver = await driverForScenarios(opts.driver, 'demo');
      const files = catalog.filter((f) => !only || only.has(scenarioName(f)));
      const rows: DemoRow[] = [];
      const err = (l: string) => process.stderr.write(`${l}\n`);
      err(`demo: ${files.length} scenarios on the real topology`);
      for (const [i, file] of files.entries()) {
        const name = scenarioName(file);
        const started = performance.now();
        err(`\n[${i + 1}/${files.length}] ${name}`);
        let result: RunResult | null = null;
        // component logs land in a scratch dir that the report store copies into logs/
        const scratchLogs = mkdtempSync(join(tmpdir(), 'fl-demo-logs-'));
        try {
          const scenario = await loadScenarioFile(file);
          const startedAt = new Date();
          result = await runScenario(scenario, file, {
            ...(timeScale !== undefined ? { timeScale } : {}),
            logsDir: scratchLogs,
            progress: (l) => err(`  ${l}`),
            driver,
          });
          const dir = await writeRealRunReport(result, {
            reportsRoot: opts.out,
            logsDir: scratchLogs,
            startedAt,
          });
          const bad = result.verdict.outcomes.filter((o) => !o.ok && !o.expectedViolation);
          rows.push({
            scenario: name,
            status: result.verdict.ok ? 'pass' : 'fail',
            detail: result.verdict.ok
              ? expectationSummary(result)
              : bad.map((o) => `${o.name}: ${o.detail}`).join('; '),
            ...failoverColumns(result, dir),
            wallSeconds: result.wallSeconds,
            bootSeconds: result.bootSeconds,
            faultsVerified: result.runJson.faultsVerified as boolean,
            reportDir: dir,
          });
          err(`  => ${result.verdict.ok ? 'PASS' : 'FAIL'} in ${result.wallSeconds.toFixed(1)} s (${dir})`);
        } catch (e) {
          const code = exitCodeOf(e);
          rows.push({
            scenario: name,
            status: code === EXIT_BAD_INPUT ? 'bad-input' : 'infra-error',
            detail: (e as Error).message,
            failoverSeconds: null,
            failoverProductionSeconds: null,
            failoverJudged: false,
            wallSeconds: (performance.now() - started) / 1000,
            bootSeconds: null,
            faultsVerified: null,
            reportDir: null,
          });
          err(
            `  => ${code === EXIT_BAD_INPUT ? 'BAD INPUT' : 'INFRASTRUCTURE ERROR'}: ${(e as Error).message}`,
          );
          // Ctrl-C ends the demo, not just this scenario.
          if (/interrupted by SIG/.test((e as Error).message)) break;
        } finally {
          rmSync(scratchLogs, { recursive: true, force: true });
        }
      }
      const index = await writeReportIndex(opts.out);
      err(`\nreports: ${index}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else process.stdout.write(`\n${summaryTable(rows)}\n`);
      const infra = rows.some((r) => r.status === 'infra-error' || r.status === 'bad-input');
      const failed = rows.some((r) => r.status === 'fail');
      setExit(infra ? EXIT_INFRA : failed ? EXIT_VIOLATION : EXIT_OK);
    });
}

function expectationSummary(r: RunResult): string {
  const exp = r.verdict.outcomes.filter((o) => o.kind === 'expectation').map((o) => o.detail);
  return exp.join('; ') || 'all invariants hold';
}

export function summaryTable(rows: DemoRow[]): string {
  const header = ['scenario', 'verdict', 'failover (real / production)', 'wall', 'faults verified'];
  const body = rows.map((r) => [
    r.scenario,
    r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : r.status.toUpperCase(),
    r.failoverSeconds !== null
      ? `${r.failoverSeconds.toFixed(2)} s / ${r.failoverProductionSeconds?.toFixed(1)} s${r.failoverJudged ? '' : ' *'}`
      : '-',
    `${r.wallSeconds.toFixed(1)} s`,
    r.faultsVerified === null ? '-' : r.faultsVerified ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)];
  const failing = rows.filter((r) => r.status !== 'pass');
  if (failing.length) {
    lines.push('');
    for (const r of failing) lines.push(`${r.scenario}: ${r.detail}`);
  }
  if (rows.some((r) => r.failoverSeconds !== null && !r.failoverJudged)) {
    lines.push(
      '',
      '* a change of primary without a region loss the checker could time (a demotion, a vacant lease, or other faults overlapping the loss): shown, not judged against the failover bound',
    );
  }
  const passed = rows.filter((r) => r.status === 'pass').length;
  lines.push('', `${passed}/${rows.length} scenarios passed`);
  return lines.join('\n');
}

/**
 * The failover time the table shows is the one in the run's report (result.json), so the
 * two never disagree: the checker's region-loss time, else the one derived from the
 * history. Only when the report has none (no change of primary seen) does the
 * failover-within time, counted from the first fault, fill in.
 */
function failoverColumns(
  result: RunResult,
  dir: string,
): Pick<DemoRow, 'failoverSeconds' | 'failoverProductionSeconds' | 'failoverJudged'> {
  let ms: number | undefined;
  try {
    const report = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as {
      failover?: { measuredMs?: number | null };
    };
    ms = report.failover?.measuredMs ?? undefined;
  } catch {
    // no readable report: fall back to the verdict
  }
  ms ??= shownFailoverMs(result.verdict.measurements);
  const judged = result.verdict.measurements.failoverMs !== undefined;
  if (ms === undefined)
    return { failoverSeconds: null, failoverProductionSeconds: null, failoverJudged: false };
  return {
    failoverSeconds: ms / 1000,
    failoverProductionSeconds: ms / result.timeScale / 1000,
    failoverJudged: judged,
  };
}

const scenarioName = (file: string): string => basename(file).replace(/\.ya?ml$/, '');

/** `--only a,b`: every name must be a catalog scenario, checked before anything starts. */
function onlyNames(raw: string, catalog: string[]): Set<string> {
  const known = catalog.map(scenarioName);
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new BadInputError('--only: expected comma-separated scenario names');
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new BadInputError(
      `--only: unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} (catalog: ${known.join(', ')})`,
    );
  }
  return new Set(names);
}
