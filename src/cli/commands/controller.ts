/**
 * `failover-lab controller`: runs the production failover controller (src/agent) configured
 * from environment variables (see docs/controller.md). Runs until SIGINT/SIGTERM, then
 * demotes, releases the lease if the demotion was confirmed, and exits 0. Bad configuration
 * throws BadInputError before anything starts (exit 2, one line).
 */
import type { Command } from 'commander';
import { loadAgentConfig } from '../../agent/env.ts';
import { Agent } from '../../agent/runtime.ts';
import { EXIT_OK, InfraError } from '../../errors.ts';
import type { ExitSetter } from '../command-module.ts';

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('controller')
    .description('run the failover controller for one region (configured by environment variables)')
    .option('--check-config', 'validate the environment, print the effective controller config and exit')
    .action(async (opts: { checkConfig?: boolean }) => {
      const config = loadAgentConfig(process.env);
      if (opts.checkConfig) {
        process.stdout.write(
          `${JSON.stringify({ controller: config.controller, initialRole: config.initialRole })}\n`,
        );
        setExit(EXIT_OK);
        return;
      }
      const agent = new Agent(config);
      try {
        await agent.start();
      } catch (err) {
        await agent.stop().catch(() => {});
        throw new InfraError(`cannot start: ${(err as Error).message}`, 'controller');
      }
      let signalled: NodeJS.Signals | null = null;
      await new Promise<void>((resolve, reject) => {
        const onSignal = (sig: NodeJS.Signals) => {
          signalled = sig;
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        agent.fatal.catch((err) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          reject(new InfraError(`controller core stopped: ${(err as Error).message}`, 'controller'));
        });
      });
      agent.logger.info({ signal: signalled }, 'shutting down');
      await agent.stop();
      setExit(EXIT_OK);
    });
}
