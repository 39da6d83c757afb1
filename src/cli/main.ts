/**
 * The one CLI. Thin: parses arguments and calls the modules. Each subcommand lives in
 * src/cli/commands/<name>.ts and exports `register(program)`; the command's action returns
 * an exit code (see src/errors.ts) instead of calling process.exit, so cleanup runs.
 */
import { Command, CommanderError } from 'commander';
import { BadInputError, EXIT_BAD_INPUT, EXIT_OK, exitCodeOf, InfraError } from '../errors.ts';
import type { ExitSetter } from './command-module.ts';
import { loadCommandModules } from './registry.ts';

export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const setExit: ExitSetter = (code) => {
    exitCode = code;
  };
  const program = new Command()
    .name('failover-lab')
    .description('Prove a lease-fenced DNS failover controller never splits the brain.')
    // Commander's own errors (unknown command/option, missing argument) follow the CLI's
    // contract too: one line, the failover-lab: prefix, exit 2. Subcommands inherit this.
    .configureOutput({ outputError: (text, write) => write(`${oneLineCommanderError(text)}\n`) })
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
    // One line; the stack only on request (it is for us, not for the operator).
    const stack = process.env.FAILOVER_LAB_DEBUG ? `\n${(err as Error)?.stack ?? ''}` : '';
    process.stderr.write(`failover-lab: internal error: ${oneLine(errorText(err))}${stack}\n`);
    return exitCodeOf(err);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** "error: unknown option '--x'\n(Did you mean --y?)" → "failover-lab: unknown option '--x' (Did you mean --y?) ..." */
export function oneLineCommanderError(text: string): string {
  return `failover-lab: ${oneLine(text.replace(/^error:\s*/, ''))} (run failover-lab --help for usage)`;
}
