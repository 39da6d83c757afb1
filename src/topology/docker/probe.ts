/**
 * Which driver would `--driver X` pick on this machine? Prints the one-line choice and
 * follows the CLI's exit-code contract (src/errors.ts), exactly as up/run/demo report
 * through src/cli/main.ts:
 *
 *   npx tsx src/topology/docker/probe.ts [--driver auto|local|docker]
 *   → 0 with "driver: ..." on stdout; 2 for a bad value; 3 for "docker" without an engine,
 *     with one line "failover-lab: docker driver: ..." on stderr.
 */
import { exitCodeOf } from '../../errors.ts';
import { chooseDriver } from './choose-driver.ts';

export async function probeMain(argv: string[]): Promise<number> {
  const i = argv.indexOf('--driver');
  const flag = i >= 0 ? (argv[i + 1] ?? '') : argv.find((a) => a.startsWith('--driver='))?.slice(9);
  try {
    await chooseDriver(flag, (message) => process.stdout.write(`${message}\n`));
    return 0;
  } catch (err) {
    process.stderr.write(`failover-lab: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeOf(err);
  }
}

process.exitCode = await probeMain(process.argv.slice(2));
