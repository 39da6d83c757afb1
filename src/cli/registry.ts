import type { Command } from 'commander';
import * as controller from './commands/controller.ts';
import * as demo from './commands/demo.ts';
import * as exportCmd from './commands/export.ts';
import * as gameday from './commands/gameday.ts';
import * as report from './commands/report.ts';
import * as run from './commands/run.ts';
import * as sim from './commands/sim.ts';
import * as toxiproxy from './commands/toxiproxy.ts';
import * as up from './commands/up.ts';
import * as worker from './commands/worker.ts';
import type { ExitSetter } from './main.ts';

export interface CommandModule {
  register(program: Command, setExit: ExitSetter): void;
}

export const commandModules: CommandModule[] = [
  controller,
  worker,
  toxiproxy,
  sim,
  up,
  run,
  demo,
  report,
  gameday,
  exportCmd,
];
