/**
 * Entry point the topology bundles (esbuild) to run one production controller per region:
 * the same Agent and env contract as `failover-lab controller` (src/cli/commands/controller.ts),
 * without loading the whole CLI (every other command's dependencies) into each process —
 * a bundled controller is up in ~150 ms instead of ~1 s through tsx.
 */
import { loadAgentConfig } from '../agent/env.ts';
import { Agent } from '../agent/runtime.ts';

async function main(): Promise<number> {
  let config: ReturnType<typeof loadAgentConfig>;
  try {
    config = loadAgentConfig(process.env);
  } catch (err) {
    process.stderr.write(`controller: ${(err as Error).message}\n`);
    return 2;
  }
  const agent = new Agent(config);
  try {
    await agent.start();
  } catch (err) {
    process.stderr.write(`controller: cannot start: ${(err as Error).message}\n`);
    await agent.stop().catch(() => {});
    return 3;
  }
  const outcome = await new Promise<'signal' | Error>((resolve) => {
    const onSignal = () => resolve('signal');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    agent.fatal.catch((err: unknown) => resolve(err instanceof Error ? err : new Error(String(err))));
  });
  await agent.stop();
  if (outcome instanceof Error) {
    process.stderr.write(`controller: core stopped: ${outcome.message}\n`);
    return 3;
  }
  return 0;
}

process.exitCode = await main();
