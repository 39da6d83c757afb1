/**
 * Which driver `--driver auto|local|docker` picks on this machine: the local process driver
 * unless docker is asked for by name, and then only when a container engine answers. Used by
 * the CLI (src/cli/driver-flag.ts) and by the probe script (probe.ts); it sits here, beside
 * the engine it asks, so the probe needs nothing from the CLI.
 */
import { parseDriverFlag } from './driver.ts';
import { connectEngine } from './engine.ts';

export type ChosenDriver = 'local' | 'docker';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Validates the flag (bad value → exit 2) and checks a container engine answers for docker (else exit 3). */
export async function chooseDriver(
  flag: string | undefined,
  tell: (line: string) => void = say,
): Promise<ChosenDriver> {
  const requested = parseDriverFlag(flag);
  if (requested !== 'docker') {
    tell(
      requested === 'auto'
        ? 'driver: local (auto: the docker driver runs only with --driver docker)'
        : 'driver: local (--driver local)',
    );
    return 'local';
  }
  const { socketPath } = await connectEngine();
  tell(`driver: docker (engine at ${socketPath})`);
  return 'docker';
}
