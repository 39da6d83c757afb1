/**
 * `--driver auto|local|docker` for up, run, demo and gameday. One topology description,
 * two drivers: the local process driver (default; no containers needed) and the Docker
 * driver (src/topology/docker/topology.ts: every component in a container of the project
 * image, on the project's own bridge networks). `auto` is the local driver: the default path
 * (`npm test`, `npm run demo`) never needs a container engine. `docker` needs an engine that
 * answers (scripts/container-engine.sh sets one up), else one line and exit 3.
 * Game days stay local: their probes and rollback are written against local processes.
 */

import { InfraError } from '../errors.ts';
import { type ChosenDriver, chooseDriver } from '../topology/docker/choose-driver.ts';
import { parseDriverFlag } from '../topology/docker/driver.ts';

export { type ChosenDriver, chooseDriver };

export const DRIVER_OPTION_HELP = 'topology driver: auto (default = local), local or docker';

/** For `up`. */
export async function driverForUp(flag: string | undefined): Promise<ChosenDriver> {
  return chooseDriver(flag);
}

/** For run/demo (both drivers) and gameday (local only: docker is refused with one line, exit 3). */
export async function driverForScenarios(flag: string | undefined, command: string): Promise<ChosenDriver> {
  if (command === 'gameday' && parseDriverFlag(flag) === 'docker') {
    throw new InfraError(
      'gameday on the docker driver is not supported (probes and rollback target local processes); use --driver local',
      'docker driver',
    );
  }
  return chooseDriver(flag);
}
