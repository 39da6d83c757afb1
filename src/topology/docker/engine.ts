/**
 * The container engine for Docker-mode runs: which Docker-API socket answers, the project
 * image (built from the Dockerfile by scripts/container-engine.sh when missing), labels and
 * the sweep of leftovers of dead runs. dockerode talks to the engine; nothing here needs the
 * docker CLI.
 *
 * Socket order: DOCKER_HOST (unix:// only), the socket scripts/container-engine.sh starts
 * podman's API service on, then Docker's default socket.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { InfraError } from '../../errors.ts';

export const ENGINE_SCRIPT = 'scripts/container-engine.sh';
/** where scripts/container-engine.sh serves podman's Docker-compatible API */
export const PODMAN_SOCKET = '/run/failover-lab/podman.sock';
export const DOCKER_SOCKET = '/var/run/docker.sock';
export const LAB_IMAGE = 'localhost/failover-lab/lab:local';

/** Labels on everything a Docker-mode run creates (containers, networks, volumes). */
export const LABEL = {
  run: 'io.failover-lab.run',
  ownerPid: 'io.failover-lab.owner-pid',
  component: 'io.failover-lab.component',
} as const;

export const NO_ENGINE_LINE =
  `no container engine answered (DOCKER_HOST, ${PODMAN_SOCKET}, ${DOCKER_SOCKET}): ` +
  `run \`sudo bash ${ENGINE_SCRIPT}\` (installs podman from Debian) or install and start Docker`;

/** FL_DOCKER_SOCKETS (colon-separated) replaces the whole list: tests use it to simulate "no engine". */
export function candidateSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.FL_DOCKER_SOCKETS !== undefined) return env.FL_DOCKER_SOCKETS.split(':').filter((s) => s !== '');
  const out: string[] = [];
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) out.push(host.slice('unix://'.length));
  out.push(PODMAN_SOCKET, DOCKER_SOCKET);
  return [...new Set(out)];
}

/**
 * Idle timeout of each request of the client connectEngine returns. Not the ping's: podman's
 * create/start/remove on two loaded cores (netavark, conmon, runc) can take longer than 5 s, and
 * dockerode turns a request timeout into "socket hang up" (every boot of the first clean-clone
 * CI run failed so). A request silent this long means the engine is stuck: an infrastructure failure.
 */
export const ENGINE_REQUEST_TIMEOUT_MS = 180_000;

/** The first socket whose engine answers a ping, as a dockerode client; InfraError otherwise. */
export async function connectEngine(
  pingTimeoutMs = 5000,
): Promise<{ docker: Dockerode; socketPath: string }> {
  const { default: Docker } = await import('dockerode');
  for (const socketPath of candidateSockets()) {
    if (!existsSync(socketPath)) continue;
    try {
      await new Docker({ socketPath, timeout: pingTimeoutMs }).ping();
      return { docker: new Docker({ socketPath, timeout: ENGINE_REQUEST_TIMEOUT_MS }), socketPath };
    } catch {
      /* next candidate */
    }
  }
  throw new InfraError(NO_ENGINE_LINE, 'docker driver');
}

/** Makes sure the project image exists: builds it through the engine script when missing. */
export async function ensureLabImage(
  docker: Dockerode,
  socketPath: string,
  projectRoot: string,
  progress: (line: string) => void,
): Promise<void> {
  try {
    await docker.getImage(LAB_IMAGE).inspect();
    return;
  } catch {
    /* missing: build it */
  }
  progress(`docker: image ${LAB_IMAGE} missing, building it (${ENGINE_SCRIPT} images)`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      'bash',
      [join(projectRoot, ENGINE_SCRIPT), 'images'],
      { cwd: projectRoot, env: { ...process.env, DOCKER_HOST: `unix://${socketPath}` }, maxBuffer: 64 << 20 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const last = stderr.trim().split('\n').pop() ?? err.message;
        reject(new InfraError(`building ${LAB_IMAGE} failed: ${last}`, 'docker driver'));
      },
    );
  });
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes containers, networks and volumes of one run (or of every run whose owner is dead). */
export async function removeRun(docker: Dockerode, runId: string): Promise<number> {
  return removeWhere(docker, [`${LABEL.run}=${runId}`], () => true);
}

/** Leftovers of runs whose owning process is gone (a SIGKILLed harness, a crashed CI job). */
export async function sweepDeadRuns(docker: Dockerode): Promise<number> {
  return removeWhere(docker, [LABEL.run], (labels) => {
    const pid = Number(labels[LABEL.ownerPid]);
    return !Number.isInteger(pid) || pid <= 0 || !pidAlive(pid);
  });
}

async function removeWhere(
  docker: Dockerode,
  labelFilter: string[],
  dead: (labels: Record<string, string>) => boolean,
): Promise<number> {
  const filters = JSON.stringify({ label: labelFilter });
  let removed = 0;
  // a container in another's network namespace (the Worker in Toxiproxy's) must go first, and
  // the engine may not report that mode in a listing: passes until nothing is left (at most 3)
  for (let pass = 0; pass < 3; pass++) {
    const left = (await docker.listContainers({ all: true, filters })).filter((c) => dead(c.Labels ?? {}));
    if (left.length === 0) break;
    removed += await removeContainers(docker, left);
  }
  const networks = await docker.listNetworks({ filters });
  for (const n of networks.filter((x) => dead(x.Labels ?? {}))) {
    try {
      await docker.getNetwork(n.Id).remove();
      removed++;
    } catch {
      /* still in use by a container being removed elsewhere, or gone */
    }
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of (Volumes ?? []).filter((x) => dead((x.Labels as Record<string, string>) ?? {}))) {
    try {
      await docker.getVolume(v.Name).remove();
      removed++;
    } catch {
      /* gone */
    }
  }
  return removed;
}

async function removeContainers(docker: Dockerode, list: Dockerode.ContainerInfo[]): Promise<number> {
  let removed = 0;
  const sharing = (c: Dockerode.ContainerInfo) =>
    c.HostConfig?.NetworkMode?.startsWith('container:') === true;
  for (const group of [list.filter(sharing), list.filter((c) => !sharing(c))]) {
    await Promise.all(
      group.map(async (c) => {
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
          removed++;
        } catch {
          /* gone, or still needed by a container of this group: the next pass */
        }
      }),
    );
  }
  return removed;
}

/** What is left of a run (containers, networks, volumes): the SIGINT test asserts zero. */
export async function leftoversOf(
  docker: Dockerode,
  runId: string,
): Promise<{ containers: number; networks: number; volumes: number }> {
  const filters = JSON.stringify({ label: [`${LABEL.run}=${runId}`] });
  const [c, n, v] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return { containers: c.length, networks: n.length, volumes: (v.Volumes ?? []).length };
}
