import type { Command } from 'commander';
import { InfraError } from '../errors.ts';
import type { ExitSetter } from '../main.ts';

// Placeholder until the owning module lands; replaced by the real command.
export function register(program: Command, _setExit: ExitSetter): void {
  program
    .command('report')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new InfraError('the report command is not built yet');
    });
}
