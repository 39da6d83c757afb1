/**
 * `failover-lab gameday PLAN.yaml [--json] [--out DIR] [--allow-remote]`: run a game-day
 * plan (src/gameday). Progress on stderr; --json prints one JSON object on stdout.
 * Exit 0 all Pass, 1 any Fail/Stopped, 2 bad plan (nothing started), 3 infrastructure
 * failure or a fault that could not be verifiably reverted.
 */
import type { Command } from 'commander';
import { outcomeJson, summaryLines, writeGameDayReport } from '../../gameday/output.ts';
import { loadPlanFile } from '../../gameday/plan.ts';
import { stderrProgress } from '../../gameday/progress.ts';
import { runGameDay } from '../../gameday/runner.ts';
import { errorText } from '../../gameday/util.ts';
import type { ExitSetter } from '../command-module.ts';
import { DRIVER_OPTION_HELP, driverForScenarios } from '../driver-flag.ts';

interface GamedayFlags {
  json?: boolean;
  out?: string;
  allowRemote?: boolean;
  driver?: string;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('gameday')
    .description(
      'run a game-day plan: steady-state hypothesis, probes, faults with verified rollback, resilience score',
    )
    .argument('<plan>', 'game-day plan (YAML)')
    .option('--json', 'print the result as one JSON object on stdout')
    .option('--out <dir>', 'reports root directory (default ./reports)')
    .option('--allow-remote', 'allow targets outside 127.0.0.0/8 (staging game days)')
    .option('--driver <d>', `${DRIVER_OPTION_HELP} (for local targets)`)
    .action(async (planFile: string, flags: GamedayFlags) => {
      // Bad plans fail here with file:line:col, before any signal handler or process exists.
      const plan = loadPlanFile(planFile, { loopbackOnly: flags.allowRemote !== true });
      await driverForScenarios(flags.driver, 'gameday');
      const progress = stderrProgress();
      const interrupt = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        if (!interrupt.signal.aborted) {
          progress.line(`${sig}: stopping the game day; reverting every fault first`);
          interrupt.abort(sig);
        } else {
          // Never exit with faults in place: a second Ctrl-C only says what is going on.
          progress.line(`${sig} again: still reverting faults, please wait`);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const outcome = await runGameDay(plan, {
          interrupt: interrupt.signal,
          progress,
          allowRemote: flags.allowRemote ?? false,
        });
        let reportDir: string | null = null;
        try {
          reportDir = await writeGameDayReport(outcome, {
            ...(flags.out ? { reportsRoot: flags.out } : {}),
            finishedAt: new Date(),
          });
        } catch (err) {
          progress.line(`could not write the report: ${errorText(err)}`);
        }
        for (const l of summaryLines(outcome)) process.stderr.write(`${l}\n`);
        if (reportDir) process.stderr.write(`report: ${reportDir}\n`);
        if (flags.json) process.stdout.write(`${JSON.stringify(outcomeJson(outcome, reportDir))}\n`);
        setExit(outcome.exitCode);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
