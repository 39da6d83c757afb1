/**
 * Driver choice and the no-engine paths; no container engine needed (FL_DOCKER_SOCKETS
 * points the engine lookup at a socket that does not exist). The engine itself is exercised
 * in test/docker/engine.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDriver, driverForScenarios } from '../../src/cli/driver-flag.ts';
import { BadInputError, EXIT_BAD_INPUT, EXIT_INFRA, InfraError } from '../../src/errors.ts';
import { parseDriverFlag } from '../../src/topology/docker/driver.ts';
import {
  candidateSockets,
  connectEngine,
  ENGINE_REQUEST_TIMEOUT_MS,
  NO_ENGINE_LINE,
  PODMAN_SOCKET,
} from '../../src/topology/docker/engine.ts';
import { PROJECT_ROOT } from '../../src/topology/docker/generate.ts';

const NO_ENGINE_ENV = { ...process.env, FL_DOCKER_SOCKETS: '/nonexistent/fl-test.sock' };

describe('--driver flag and driver choice', () => {
  it('accepts auto, local, docker; undefined means auto', () => {
    expect(parseDriverFlag(undefined)).toBe('auto');
    for (const f of ['auto', 'local', 'docker'] as const) expect(parseDriverFlag(f)).toBe(f);
  });

  it('rejects anything else as bad input (exit 2)', async () => {
    for (const bad of ['Docker', '', 'podman', 'local ']) {
      const err = await chooseDriver(bad, () => {}).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).exitCode).toBe(EXIT_BAD_INPUT);
      expect((err as Error).message).toBe(`--driver: expected one of auto, local, docker, got "${bad}"`);
    }
  });

  it('auto and local are the local driver, and say so', async () => {
    const lines: string[] = [];
    expect(await chooseDriver(undefined, (l) => lines.push(l))).toBe('local');
    expect(await chooseDriver('local', (l) => lines.push(l))).toBe('local');
    expect(lines).toEqual([
      'driver: local (auto: the docker driver runs only with --driver docker)',
      'driver: local (--driver local)',
    ]);
  });

  it('engine sockets: DOCKER_HOST first, then the engine script socket, then Docker; FL_DOCKER_SOCKETS replaces them', () => {
    expect(candidateSockets({ DOCKER_HOST: 'unix:///x/d.sock' })).toEqual([
      '/x/d.sock',
      PODMAN_SOCKET,
      '/var/run/docker.sock',
    ]);
    expect(candidateSockets({ DOCKER_HOST: 'tcp://1.2.3.4:2375' })).toEqual([
      PODMAN_SOCKET,
      '/var/run/docker.sock',
    ]);
    expect(candidateSockets({ FL_DOCKER_SOCKETS: '/a.sock:/b.sock' })).toEqual(['/a.sock', '/b.sock']);
  });

  it('gameday refuses docker with one line (exit 3)', async () => {
    const err = await driverForScenarios('docker', 'gameday').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).exitCode).toBe(EXIT_INFRA);
    expect((err as Error).message).not.toContain('\n');
  });
});

function cli(args: string[], env: NodeJS.ProcessEnv = NO_ENGINE_ENV) {
  const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env,
  });
  const lines = (s: string) => s.split('\n').filter((l) => l.length > 0 && !l.includes('nodedir'));
  return { code: r.status, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

describe('no engine: the commands exit 3 with one line saying what to install', () => {
  it('run --driver docker', () => {
    const r = cli(['run', 'scenarios/primary-region-crash.yaml', '--driver', 'docker', '--no-report']);
    expect(r.code).toBe(3);
    expect(r.stdout).toEqual([]);
    expect(r.stderr).toEqual([`failover-lab: docker driver: ${NO_ENGINE_LINE}`]);
    expect(NO_ENGINE_LINE).toContain('scripts/container-engine.sh');
  });

  it('demo --driver docker and up --driver docker', () => {
    for (const args of [
      ['demo', '--driver', 'docker', '--only', 'primary-region-crash'],
      ['up', '--driver', 'docker', '--check'],
    ]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr, args.join(' ')).toEqual([`failover-lab: docker driver: ${NO_ENGINE_LINE}`]);
    }
  });

  it('a bad --driver value exits 2 before anything starts', () => {
    const r = cli(['run', 'scenarios/primary-region-crash.yaml', '--driver', 'dockerr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual(['failover-lab: --driver: expected one of auto, local, docker, got "dockerr"']);
  });
});

function engineScript(args: string[], asNobody: boolean) {
  const cmd = asNobody
    ? [
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', 'scripts/container-engine.sh', ...args],
      ]
    : ['bash', ['scripts/container-engine.sh', ...args]];
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_HOST: 'unix:///nonexistent/fl-test.sock' },
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim().split('\n').filter(Boolean) };
}

describe('scripts/container-engine.sh', () => {
  it('an unknown subcommand is bad input (exit 2, one line)', () => {
    const r = engineScript(['bogus'], false);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([
      'container-engine: unknown command "bogus" (expected start, stop, status, images or sweep)',
    ]);
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0)(
    'without a Docker engine and without root: exit 3 with one line saying what to install',
    () => {
      const r = engineScript(['start'], true);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toMatch(
        /^container-engine: no Docker engine answered .*needs root: install and start Docker/,
      );
    },
  );
});

describe('connectEngine: the ping timeout is not the request timeout', () => {
  it('a request the engine answers after longer than the ping timeout succeeds (no "socket hang up")', async () => {
    // a fake Docker API: _ping at once, /info only after 3 × the ping timeout, as podman's
    // container create/start does on two loaded cores
    const pingTimeoutMs = 200;
    const dir = mkdtempSync(join(tmpdir(), 'fl-fake-engine-'));
    const socketPath = join(dir, 'engine.sock');
    const server = createServer((req, res) => {
      const reply = () => {
        res.setHeader('content-type', 'application/json');
        res.end(req.url?.endsWith('/_ping') ? 'OK' : JSON.stringify({ ServerVersion: 'fake' }));
      };
      if (req.url?.endsWith('/_ping')) reply();
      else setTimeout(reply, pingTimeoutMs * 3);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const saved = process.env.FL_DOCKER_SOCKETS;
    process.env.FL_DOCKER_SOCKETS = socketPath;
    try {
      const { docker } = await connectEngine(pingTimeoutMs);
      expect(((await docker.info()) as { ServerVersion: string }).ServerVersion).toBe('fake');
      expect(ENGINE_REQUEST_TIMEOUT_MS).toBeGreaterThanOrEqual(60_000);
    } finally {
      if (saved === undefined) delete process.env.FL_DOCKER_SOCKETS;
      else process.env.FL_DOCKER_SOCKETS = saved;
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
