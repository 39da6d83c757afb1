import type { CommandModule } from './command-module.ts';

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
  fidelity: () => import('./commands/fidelity.ts'),
  report: () => import('./commands/report.ts'),
  gameday: () => import('./commands/gameday.ts'),
  export: () => import('./commands/export.ts'),
};

/**
 * What the top-level --help lists, so that `failover-lab --help` (and an unknown command's
 * error) import no command module at all: together they pull in miniflare, the topology and
 * the simulator, ~1 s before the first line of help. Kept equal to each module's own
 * .description()/.argument() by test/package/cli-help.test.ts.
 */
export const commandSummaries: Record<string, { description: string; args?: string }> = {
  controller: {
    description: 'run the failover controller for one region (configured by environment variables)',
  },
  worker: {
    description:
      'Serve the lease Worker locally in workerd (miniflare) until SIGINT/SIGTERM; prints its URL.',
  },
  toxiproxy: {
    description: 'run the built-in Toxiproxy-compatible fault proxy (HTTP API of Toxiproxy 2.12.0)',
  },
  sim: {
    description:
      'Deterministic simulator: property-based search for split-brain schedules, or one scenario, seeded',
  },
  up: {
    description:
      'boot the real two-region topology on loopback (PowerDNS, unbound, workerd, controllers, fault proxy)',
  },
  run: {
    description: 'run a scenario YAML on the real two-region topology and check the history',
    args: '<file>',
  },
  demo: {
    description: 'run the scenario catalog on the real topology and summarise verdicts and failover times',
  },
  fidelity: {
    description:
      'measure sim↔real fidelity: each catalog scenario over N simulator seeds and on the real topology',
  },
  report: {
    description:
      're-render a run report (timeline.html, junit.xml, summary.md, result.json) or write the reports index',
    args: '[dir]',
  },
  gameday: {
    description:
      'run a game-day plan: steady-state hypothesis, probes, faults with verified rollback, resilience score',
    args: '<plan>',
  },
  export: {
    description:
      'export a scenario or game-day plan as LitmusChaos or Chaos Mesh manifests, or a sim search as a Kubernetes Indexed Job',
    args: '[file]',
  },
};

/** Registers every command by its summary only (help listing); no command module is loaded. */
const summariesOnly: CommandModule = {
  register(program) {
    for (const [name, s] of Object.entries(commandSummaries)) {
      const cmd = program
        .command(name)
        .description(s.description)
        .option('--<option>', 'see <command> --help');
      if (s.args) cmd.argument(s.args);
    }
  },
};

/**
 * The modules needed for argv: just the named subcommand (also for `help <command>`), or
 * the summaries alone (top-level help, unknown command).
 */
export async function loadCommandModules(argv: string[]): Promise<CommandModule[]> {
  const name = argv[2] === 'help' ? argv[3] : argv[2];
  const only = name !== undefined ? commandLoaders[name] : undefined;
  if (only) return [await only()];
  return [summariesOnly];
}

/** Every command module (tests compare their help with commandSummaries). */
export function loadAllCommandModules(): Promise<CommandModule[]> {
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}
