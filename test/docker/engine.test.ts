/**
 * Docker mode on a real engine: the topology in containers, container-native faults, no
 * traffic off the project's bridges, and nothing left behind after stop or SIGINT.
 * Runs when FL_DOCKER_TESTS=1 (scripts/ci-docker.sh sets it after scripts/container-engine.sh);
 * then a missing engine is a failure, not a skip. Without it these tests skip: the default
 * `npm test` never needs containers.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { queryDns } from '../../src/topology/dns.ts';
import type { ComposeFile } from '../../src/topology/docker/compose.ts';
import { bootDockerTopology, detectContainerRuntime } from '../../src/topology/docker/driver.ts';
import { connectEngine, LABEL, leftoversOf } from '../../src/topology/docker/engine.ts';
import { PROJECT_ROOT } from '../../src/topology/docker/generate.ts';
import { regionNetwork, SHARED_NETWORK } from '../../src/topology/docker/plan.ts';
import { type DockerTopology, startDockerTopology } from '../../src/topology/docker/topology.ts';

const wanted = process.env.FL_DOCKER_TESTS === '1';
const why = wanted ? 'FL_DOCKER_TESTS=1' : 'set FL_DOCKER_TESTS=1 to run (scripts/ci-docker.sh does)';

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'nothing yet';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      last = v;
      if (ok(v)) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: last result ${JSON.stringify(last)}`);
}

/** Counts packets the host forwards from the run's subnets to anywhere outside them. */
function watchEgress(prefix: string): { packets(): number; remove(): void } {
  const table = `fl_egress_${prefix.replace('.', '_')}`;
  const nft = (...args: string[]) => execFileSync('nft', args, { encoding: 'utf8' });
  nft('add', 'table', 'ip', table);
  nft('add', 'chain', 'ip', table, 'fw', '{ type filter hook forward priority -10; policy accept; }');
  nft(
    'add',
    'rule',
    'ip',
    table,
    'fw',
    'ip',
    'saddr',
    `${prefix}.0.0/16`,
    'ip',
    'daddr',
    '!=',
    `${prefix}.0.0/16`,
    'counter',
  );
  return {
    packets: () => Number(/packets (\d+)/.exec(nft('list', 'chain', 'ip', table, 'fw'))?.[1] ?? NaN),
    remove: () => nft('delete', 'table', 'ip', table),
  };
}

describe.skipIf(!wanted)(`Docker driver on a real engine (${why})`, () => {
  let topo: DockerTopology | null = null;
  let egress: ReturnType<typeof watchEgress> | null = null;

  beforeAll(async () => {
    await connectEngine(); // FL_DOCKER_TESTS=1 without an engine fails here, it does not skip
    topo = await startDockerTopology({ timeScale: 0.1, installSignalHandlers: false });
    const prefix = /^(\d+\.\d+)\./.exec(topo.apps.a!.host)![1]!;
    egress = watchEgress(prefix);
  }, 600_000);

  afterAll(async () => {
    egress?.remove();
    await topo?.stop();
  }, 120_000);

  it('every container answers on the bridge; DNS goes through the proxies to the primary app', async () => {
    const t = topo!;
    for (const w of t.spec.witnesses) {
      const ans = await eventually(
        `${w} ${t.spec.serviceName}`,
        () => queryDns(t.witnesses[w]!, t.spec.serviceName, { timeoutMs: 1000 }),
        (r) => r.rcode === 'NOERROR' && r.answers.join() === t.apps.a!.host,
      );
      expect(ans.answers).toEqual([t.apps.a!.host]);
    }
    // the controllers publish; the lease Worker answers through the observer proxy
    const status = await fetch(`${t.worker.url}/`);
    expect(status.status).toBeGreaterThan(0);
  }, 120_000);

  it('container DNS is pinned to the network gateway; no packet leaves the project bridges', async () => {
    const { docker } = await connectEngine();
    const t = topo!;
    const list = await docker.listContainers({
      filters: JSON.stringify({ label: [`${LABEL.run}=${t.runId}`] }),
    });
    expect(list.length).toBe(t.spec.regions.length * 3 + t.spec.witnesses.length + 2);
    for (const c of list) {
      const info = await docker.getContainer(c.Id).inspect();
      if (info.HostConfig.NetworkMode?.startsWith('container:')) continue; // the Worker: Toxiproxy's namespace
      const resolv = readFileSync(info.ResolvConfPath, 'utf8');
      const servers = [...resolv.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);
      const gateways = Object.values(info.NetworkSettings.Networks).map((n) => n.Gateway);
      expect(servers.length, c.Names[0]).toBeGreaterThan(0);
      for (const s of servers) expect(gateways, `${c.Names[0]} nameserver ${s}`).toContain(s);
    }
    expect(egress!.packets()).toBe(0);
  }, 120_000);

  it('pause/unpause and crash/restart are container-native and verified', async () => {
    const t = topo!;
    // Each phase's time is printed: this test usually takes ~70 s (once 1.7 s, once over its
    // 120 s bound), and the phases say where that goes.
    const phases = new Map<string, number>();
    let lastMs = performance.now();
    const mark = (phase: string) => {
      const nowMs = performance.now();
      phases.set(phase, Math.round(nowMs - lastMs));
      lastMs = nowMs;
    };
    try {
      const paused = await t.containers.pause('w2');
      expect(paused.verified).toBe(true);
      mark('pause');
      await expect(queryDns(t.witnesses.w2!, t.spec.serviceName, { timeoutMs: 500 })).rejects.toThrow();
      mark('query while paused');
      expect((await t.containers.resume('w2')).verified).toBe(true);
      mark('unpause');
      await eventually(
        'w2 answers after unpause',
        () => queryDns(t.witnesses.w2!, t.spec.serviceName, { timeoutMs: 1000 }),
        (r) => r.rcode === 'NOERROR',
      );
      mark('NOERROR after unpause');
      const crashed = await t.containers.crash('app-b');
      expect(crashed.verified).toBe(true);
      expect(await t.containers.state('app-b')).not.toBe('running');
      mark('crash');
      expect((await t.containers.restart('app-b')).verified).toBe(true);
      mark('restart');
    } finally {
      console.log(`pause/crash phases (ms): ${JSON.stringify(Object.fromEntries(phases))}`);
    }
  }, 120_000);

  it('stop removes every container, network and volume of the run, and the run dir', async () => {
    const t = topo!;
    egress?.remove();
    egress = null;
    await t.stop();
    topo = null;
    const { docker } = await connectEngine();
    expect(await leftoversOf(docker, t.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect(existsSync(t.runDir)).toBe(false);
  }, 120_000);
});

describe.skipIf(!wanted)(`SIGINT of a Docker-mode run (${why})`, () => {
  it('leaves no container, network or volume with the run label', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        'bin/failover-lab.mjs',
        'run',
        'scenarios/primary-region-crash.yaml',
        '--driver',
        'docker',
        '--no-report',
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // SIGINT once the scenario runs (containers up, faults about to start)
    await eventually(
      'scenario start',
      async () => stderr,
      (s) => /scenario started/.test(s),
      300_000,
    );
    const runId = /docker: run (d[0-9a-f]+)/.exec(stderr)?.[1];
    expect(runId, stderr).toBeDefined();
    const { docker } = await connectEngine();
    expect((await leftoversOf(docker, runId!)).containers).toBeGreaterThan(0);
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr.slice(-2000)).not.toBe(0);
    expect(await leftoversOf(docker, runId!)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  }, 600_000);
});

describe.skipIf(!wanted)(`docker-compose.yml through testcontainers on the engine (${why})`, () => {
  it('the generated compose bundle comes up (standalone docker-compose where the plugin is missing), answers DNS through its proxies, goes down leaving nothing', async () => {
    const status = await detectContainerRuntime();
    expect(status.available, status.reason).toBe(true);
    const topo = await bootDockerTopology({
      services: ['toxiproxy', 'auth-a', 'auth-b', 'w1', 'w2', 'w3'],
      subnetPrefix: '10.241',
    });
    let projectLeft = -1;
    try {
      // no app runs: each region name falls back to the tombstone, through the witness's proxies
      const ans = await eventually(
        'w1 a.regions',
        () => queryDns(topo.witnesses.w1!.dnsTcp, 'a.regions.app.example', { tcp: true, timeoutMs: 3000 }),
        // PowerDNS answers every candidate until its first health check ran: wait for the verdict
        (r) => r.rcode === 'NOERROR' && r.answers.join() === topo.plan.tombstoneAddress,
      );
      expect(ans.answers).toEqual([topo.plan.tombstoneAddress]);
      const proxies = await topo.toxiproxy.proxies();
      expect(Object.keys(proxies).length).toBe(topo.plan.spec.links.length);
    } finally {
      await topo.dispose();
      const { docker } = await connectEngine();
      const filters = JSON.stringify({ label: [`com.docker.compose.project=${topo.projectName}`] });
      projectLeft = (await docker.listContainers({ all: true, filters })).length;
    }
    expect(projectLeft).toBe(0);
  }, 600_000);
});

/** Debian's docker-compose 1.29 (or whichever `docker-compose` is on PATH) against the engine. */
function dockerCompose(socketPath: string, args: string[], timeoutMs = 300_000) {
  return spawnSync('docker-compose', ['-p', COMPOSE_TEST_PROJECT, '-f', 'docker-compose.yml', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, DOCKER_HOST: `unix://${socketPath}` },
  });
}
const COMPOSE_TEST_PROJECT = 'flcomposetest';

describe.skipIf(!wanted)(
  `the checked-in docker-compose.yml with docker-compose on the engine socket (${why})`,
  () => {
    it('comes up (every service running), answers DNS through a witness with the primary app, goes down leaving nothing', async () => {
      const { docker, socketPath } = await connectEngine();
      const compose = parse(readFileSync(`${PROJECT_ROOT}/docker-compose.yml`, 'utf8')) as ComposeFile;
      const services = Object.keys(compose.services);
      const project = JSON.stringify({ label: [`com.docker.compose.project=${COMPOSE_TEST_PROJECT}`] });
      // leftovers of an interrupted earlier run
      dockerCompose(socketPath, ['rm', '-fsv', 'worker']);
      dockerCompose(socketPath, ['down', '-v', '-t', '3']);
      let running: string[] = [];
      let answer: string[] = [];
      let left = { containers: -1, networks: -1 };
      try {
        const up = dockerCompose(socketPath, ['up', '-d', '--no-build']);
        expect(up.status, `docker-compose up: ${up.stderr.slice(-2000)}`).toBe(0);
        running = (await docker.listContainers({ filters: project }))
          .map((c) => c.Labels['com.docker.compose.service'] ?? '?')
          .sort();
        // the primary region's app, as the zone lists it first: the whole chain works (witness ->
        // proxy -> authoritative, whose LUA health check reaches app-a through the proxy)
        const w1 = compose.services.w1!.networks![SHARED_NETWORK]!.ipv4_address!;
        const appA = compose.services['app-a']!.networks![regionNetwork('a')]!.ipv4_address!;
        const ans = await eventually(
          `w1 (${w1}) svc.app.example`,
          () => queryDns({ host: w1, port: 53 }, 'svc.app.example', { tcp: true, timeoutMs: 2000 }),
          (r) => r.rcode === 'NOERROR' && r.answers.join() === appA,
          120_000,
        );
        answer = ans.answers;
        expect(answer).toEqual([appA]);
      } finally {
        // as the file's header says: the worker first (it is in toxiproxy's network namespace, and
        // docker-compose 1.29's down removes in parallel, which podman refuses for toxiproxy)
        const rmWorker = dockerCompose(socketPath, ['rm', '-fsv', 'worker']);
        expect(rmWorker.status, `docker-compose rm worker: ${rmWorker.stderr.slice(-2000)}`).toBe(0);
        const down = dockerCompose(socketPath, ['down', '-v', '-t', '3']);
        expect(down.status, `docker-compose down: ${down.stderr.slice(-2000)}`).toBe(0);
        left = {
          containers: (await docker.listContainers({ all: true, filters: project })).length,
          networks: (await docker.listNetworks({ filters: project })).length,
        };
      }
      expect(running).toEqual([...services].sort());
      expect(left).toEqual({ containers: 0, networks: 0 });
    }, 600_000);
  },
);
