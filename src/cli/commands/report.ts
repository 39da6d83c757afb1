/**
 * `failover-lab report DIR`      re-render a run's reports from its history.jsonl (+ result.json)
 * `failover-lab report --index`  write <reports-root>/index.html over every run
 * Bad input (missing directory, unreadable history line) exits 2 with one line naming file:line.
 */
import type { Command } from 'commander';
import { BadInputError, EXIT_OK } from '../../errors.ts';
import { FILES, rerenderReport, writeReportIndex } from '../../report/index.ts';
import type { ExitSetter } from '../command-module.ts';

interface ReportOptions {
  index?: boolean;
  reportsRoot: string;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('report')
    .description(
      're-render a run report (timeline.html, junit.xml, summary.md, result.json) or write the reports index',
    )
    .argument('[dir]', 'run directory, e.g. reports/isolate-primary/latest')
    .option('--index', 'write index.html over every run under the reports root')
    .option('--reports-root <dir>', 'reports root used by --index', 'reports')
    .action(async (dir: string | undefined, opts: ReportOptions) => {
      if (!dir && !opts.index) throw new BadInputError('give a run directory to re-render, or --index');
      if (dir) {
        await rerenderReport(dir);
        process.stdout.write(
          `report: re-rendered ${dir}: ${FILES.timeline}, ${FILES.junit}, ${FILES.summary}, ${FILES.result}\n`,
        );
      }
      if (opts.index) {
        const path = await writeReportIndex(opts.reportsRoot);
        process.stdout.write(`report: wrote ${path}\n`);
      }
      setExit(EXIT_OK);
    });
}
