/**
 * `--driver auto|local|docker` for up, run, demo and gameday. One topology description,
 * two drivers: the local process driver (default; no Docker needed) and the Docker driver
 * (src/topology/docker). The Docker driver can boot the topology (`up`); executing
 * scenarios and game days on containers (process and clock faults inside containers) is
 * not built yet, so for those commands `auto` stays local and `docker` is refused with
 * one clear line (exit 3) instead of half-running.
 */
import { type DriverName, detectContainerRuntime, selectDriverOrThrow } from '../topology/docker/driver.ts';
import { InfraError } from './errors.ts';

export const DRIVER_OPTION_HELP = 'topology driver: auto (default), local or docker';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** For `up`: auto picks Docker only when a container runtime answers. */
export async function driverForUp(flag: string | undefined): Promise<DriverName> {
  return selectDriverOrThrow(flag, say);
}

/** For run/demo/gameday: validates the flag; docker is refused (not yet supported there). */
export async function driverForScenarios(flag: string | undefined, command: string): Promise<'local'> {
  if (flag === undefined || flag === 'auto') {
    say('driver: local (auto: scenario execution runs on the local process driver)');
    return 'local';
  }
  const chosen = await selectDriverOrThrow(flag, say, detectContainerRuntime);
  if (chosen === 'docker') {
    throw new InfraError(
      `${command} on the docker driver is not supported yet (only \`up --driver docker\` boots containers); use --driver local`,
      'docker driver',
    );
  }
  return 'local';
}
