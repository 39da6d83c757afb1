/**
 * Entry point the topology bundles (esbuild) to run one production controller per region:
 * the same Agent and env contract as `failover-lab controller` (src/cli/commands/controller.ts),
 * without loading the whole CLI (every other command's dependencies) into each process —
 * a bundled controller is up in ~150 ms instead of ~1 s through tsx.
 */
import { loadAgentConfig } from '../agent/env.ts';
import { Agent } from '../agent/runtime.ts';

/**
 * CONTROLLER_START_GATE=stdin (the lab topology only): load everything, then wait for one line
 * on stdin before starting, so the peer's process start-up overlaps the initial primary's
 * bootstrap while its first lease request still comes after it (src/topology/boot/programs.ts).
 * Resolves false when stdin ends first: the harness is gone, so there is nothing to start for.
 */
function startGate(): Promise<boolean> {
  if (process.env.CONTROLLER_START_GATE !== 'stdin') return Promise.resolve(true);
  return new Promise((resolve) => {
    process.stdin.on('data', () => {
      process.stdin.destroy();
      resolve(true);
    });
    process.stdin.on('end', () => resolve(false));
  });
}

async function main(): Promise<number> {
  let config: ReturnType<typeof loadAgentConfig>;
  try {
    config = loadAgentConfig(process.env);
  } catch (err) {
    process.stderr.write(`controller: ${(err as Error).message}\n`);
    return 2;
  }
  const agent = new Agent(config);
  if (!(await startGate())) return 3;
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
