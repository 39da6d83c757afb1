import type { Command } from 'commander';
import type { ExitSetter } from './main.ts';

export interface CommandModule {
  register(program: Command, setExit: ExitSetter): void;
}

/**
 * Subcommands, loaded lazily: a process runs one command, and importing all of them
 * (miniflare, playwright-free report code, the simulator...) costs start-up time and a
 * larger heap that long-running commands (controller, toxiproxy) then pay for in GC.
 * The order here is the order in --help.
 */
export const commandLoaders: Record<string, () => Promise<CommandModule>> = {
  controller: () => import('./commands/controller.ts'),
  worker: () => import('./commands/worker.ts'),
  toxiproxy: () => import('./commands/toxiproxy.ts'),
  sim: () => import('./commands/sim.ts'),
  up: () => import('./commands/up.ts'),
  run: () => import('./commands/run.ts'),
  demo: () => import('./commands/demo.ts'),
  report: () => import('./commands/report.ts'),
  gameday: () => import('./commands/gameday.ts'),
  export: () => import('./commands/export.ts'),
};

/** The modules needed for argv: just the named subcommand, or all of them (help, unknown). */
export async function loadCommandModules(argv: string[]): Promise<CommandModule[]> {
  const name = argv[2];
  const only = name !== undefined ? commandLoaders[name] : undefined;
  if (only) return [await only()];
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}
