/**
 * The one CLI. Thin: parses arguments and calls the modules. Each subcommand lives in
 * src/cli/commands/<name>.ts and exports `register(program)`; the command's action returns
 * an exit code (see src/cli/errors.ts) instead of calling process.exit, so cleanup runs.
 */
import { Command, CommanderError } from 'commander';
import { BadInputError, EXIT_BAD_INPUT, EXIT_OK, exitCodeOf, InfraError } from './errors.ts';
import { loadCommandModules } from './registry.ts';

export type ExitSetter = (code: number) => void;

export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const setExit: ExitSetter = (code) => {
    exitCode = code;
  };
  const program = new Command()
    .name('failover-lab')
    .description('Prove a lease-fenced DNS failover controller never splits the brain.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const mod of await loadCommandModules(argv)) mod.register(program, setExit);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; any argument error is bad input.
      if (err.exitCode === 0) return EXIT_OK;
      return EXIT_BAD_INPUT;
    }
    if (err instanceof BadInputError || err instanceof InfraError) {
      process.stderr.write(`failover-lab: ${err.message}\n`);
      if (err instanceof InfraError && err.detail) process.stderr.write(`${err.detail}\n`);
      return exitCodeOf(err);
    }
    process.stderr.write(`failover-lab: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return exitCodeOf(err);
  }
}
