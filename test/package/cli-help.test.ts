/**
 * The top-level --help is built from src/cli/registry.ts's summaries so that it loads no
 * command module; this keeps those summaries equal to what each command registers itself.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  commandLoaders,
  commandSummaries,
  loadAllCommandModules,
  loadCommandModules,
} from '../../src/cli/registry.ts';

function listing(program: Command) {
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    args: c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' '),
  }));
}

describe('top-level help', () => {
  it('summaries match every command module (name, order, description, arguments)', async () => {
    const full = new Command();
    for (const m of await loadAllCommandModules()) m.register(full, () => {});
    const fromSummaries = new Command();
    for (const m of await loadCommandModules(['node', 'failover-lab', '--help']))
      m.register(fromSummaries, () => {});
    expect(listing(fromSummaries)).toEqual(listing(full));
    expect(Object.keys(commandSummaries)).toEqual(Object.keys(commandLoaders));
  }, 60_000);

  it('a named command (also after `help`) loads that module only', async () => {
    const sim = await loadCommandModules(['node', 'failover-lab', 'help', 'sim']);
    const program = new Command();
    for (const m of sim) m.register(program, () => {});
    expect(program.commands.map((c) => c.name())).toEqual(['sim']);
    expect(program.commands[0]!.options.length).toBeGreaterThan(3); // the real command, not a summary
  });
});
