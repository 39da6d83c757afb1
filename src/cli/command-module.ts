/**
 * The contract between the CLI's entry (main.ts), its lazy registry (registry.ts) and each
 * subcommand (commands/<name>.ts). It sits below all three so that no command imports
 * main.ts, which imports the registry, which loads the commands (a circle otherwise).
 */
import type { Command } from 'commander';

/** A command's action reports its exit code here instead of calling process.exit, so cleanup runs. */
export type ExitSetter = (code: number) => void;

export interface CommandModule {
  register(program: Command, setExit: ExitSetter): void;
}
