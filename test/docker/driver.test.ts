/**
 * Driver selection everywhere; booting the compose topology only where a container runtime
 * answers. Docker-engine tests skip with the detected reason in their name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { BadInputError, EXIT_BAD_INPUT, EXIT_INFRA, InfraError } from '../../src/cli/errors.ts';
import { queryDns } from '../../src/topology/dns.ts';
import {
  bootDockerTopology,
  type DockerTopology,
  detectContainerRuntime,
  NO_RUNTIME_REASON,
  parseDriverFlag,
  type RuntimeStatus,
  resolveDriver,
  selectDriverOrThrow,
} from '../../src/topology/docker/driver.ts';
import { PROJECT_ROOT } from '../../src/topology/docker/generate.ts';
import { TOMBSTONE_ADDRESS } from '../../src/topology/docker/plan.ts';
import { proxyNameOf } from '../../src/topology/proxies.ts';

const runtime = await detectContainerRuntime();
/** Appended to the name of every test that depends on whether an engine answers. */
const here = `here: ${runtime.reason}`;
if (!runtime.available) {
  console.info(`test/docker: Docker engine tests skipped: ${runtime.reason}`);
}

const up: RuntimeStatus = { available: true, reason: 'container runtime answered (fake 27.0 at localhost)' };
const down: RuntimeStatus = { available: false, reason: NO_RUNTIME_REASON };
const fake = (s: RuntimeStatus) => vi.fn(async () => s);

describe('--driver flag and driver choice (fake runtime detector)', () => {
  it('accepts auto, local, docker; undefined means auto', () => {
    expect(parseDriverFlag(undefined)).toBe('auto');
    for (const f of ['auto', 'local', 'docker'] as const) expect(parseDriverFlag(f)).toBe(f);
  });

  it('rejects anything else as bad input (exit 2) without probing for a runtime', async () => {
    const detect = fake(up);
    for (const bad of ['Docker', '', 'podman', 'local ']) {
      const err = await selectDriverOrThrow(bad, undefined, detect).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).exitCode).toBe(EXIT_BAD_INPUT);
      expect((err as Error).message).toBe(`--driver: expected one of auto, local, docker, got "${bad}"`);
    }
    expect(detect).not.toHaveBeenCalled();
  });

  it('local never probes; auto picks docker only when a runtime answers, and says so', async () => {
    const detect = fake(up);
    expect(await resolveDriver('local', detect)).toEqual({
      driver: 'local',
      message: 'driver: local (--driver local)',
    });
    expect(detect).not.toHaveBeenCalled();

    const auto = await resolveDriver('auto', fake(up));
    expect(auto.driver).toBe('docker');
    expect(auto.message).toBe(`driver: docker (auto: ${up.reason})`);

    const fallback = await resolveDriver('auto', fake(down));
    expect(fallback.driver).toBe('local');
    expect(fallback.message).toBe(`driver: local (auto: ${NO_RUNTIME_REASON})`);
  });

  it('docker without a runtime throws InfraError (exit 3) with one line naming what is missing', async () => {
    const err = await resolveDriver('docker', fake(down)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).exitCode).toBe(EXIT_INFRA);
    const msg = (err as Error).message;
    expect(msg).toBe(`docker driver: ${NO_RUNTIME_REASON}; install/start Docker or use --driver local`);
    expect(msg).not.toContain('\n');
    // a multi-line reason still becomes one line
    const compose = { available: false, reason: 'a runtime answered\nbut the compose plugin did not' };
    const err2 = await resolveDriver('docker', fake(compose)).catch((e: unknown) => e);
    expect((err2 as Error).message).toBe(
      'docker driver: a runtime answered but the compose plugin did not; install/start Docker or use --driver local',
    );
  });

  it('selectDriverOrThrow reports the choice through onChoice', async () => {
    const lines: string[] = [];
    expect(await selectDriverOrThrow(undefined, (m) => lines.push(m), fake(down))).toBe('local');
    expect(await selectDriverOrThrow('docker', (m) => lines.push(m), fake(up))).toBe('docker');
    expect(lines).toEqual([
      `driver: local (auto: ${NO_RUNTIME_REASON})`,
      `driver: docker (--driver docker; ${up.reason})`,
    ]);
  });

  it('bootDockerTopology refuses before writing anything when no runtime answers', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('failover-lab-docker-'));
    const err = await bootDockerTopology({ detect: fake(down) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain(NO_RUNTIME_REASON);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('failover-lab-docker-'))).toEqual(before);
  });
});

/** Runs the probe entry (selectDriverOrThrow + the CLI's error reporting) as a real process. */
function probe(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/topology/docker/probe.ts', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = (s: string) => s.split('\n').filter((l) => l.length > 0 && !l.includes('nodedir'));
  return { code: r.status, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

describe('probe entry as a process', () => {
  it('exits 2 with one stderr line for a bad --driver value', () => {
    const r = probe(['--driver', 'dockerr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual(['failover-lab: --driver: expected one of auto, local, docker, got "dockerr"']);
  });

  it('exits 0 and names the driver for --driver local', () => {
    const r = probe(['--driver', 'local']);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(['driver: local (--driver local)']);
  });

  // Real detection: meaningful only where no engine answers (this machine).
  it.skipIf(runtime.available)(
    `--driver docker exits 3 with one clear stderr line (runs only without a runtime; ${here})`,
    () => {
      const r = probe(['--driver', 'docker']);
      expect(r.code).toBe(3);
      expect(r.stdout).toEqual([]);
      expect(r.stderr).toEqual([
        `failover-lab: docker driver: ${runtime.reason}; install/start Docker or use --driver local`,
      ]);
    },
  );

  it.skipIf(runtime.available)(
    `auto falls back to local and says why (runs only without a runtime; ${here})`,
    () => {
      const r = probe([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toEqual([`driver: local (auto: ${runtime.reason})`]);
    },
  );

  it.skipIf(runtime.available)(
    `real resolveDriver('docker') throws InfraError (runs only without a runtime; ${here})`,
    async () => {
      const err = await resolveDriver('docker').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfraError);
      expect((err as Error).message).toMatch(
        /^docker driver: .*; install\/start Docker or use --driver local$/,
      );
    },
  );
});

// ---------------------------------------------------------------------------------------
// Docker engine only: really boot the compose topology.

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T | string = 'nothing yet';
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: last result ${JSON.stringify(last)}`);
}

async function setEnabled(topo: DockerTopology, linkId: string, enabled: boolean) {
  const proxy = await topo.toxiproxy.get(topo.proxyNames[linkId]!);
  await proxy.update({ enabled, listen: proxy.listen, upstream: proxy.upstream });
}

async function projectContainers(project: string): Promise<number> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const all = await client.container.list();
  return all.filter((c) => c.Labels['com.docker.compose.project'] === project).length;
}

describe.skipIf(!runtime.available)(
  `Docker driver boots the compose topology (needs a container runtime; ${here})`,
  () => {
    it('DNS part (PowerDNS, unbound, Toxiproxy): answers, API, faults through toxiproxy-node-client', async () => {
      const topo = await bootDockerTopology({
        services: ['toxiproxy', 'auth-a', 'auth-b', 'w1', 'w2', 'w3'],
      });
      try {
        // the Toxiproxy container holds one proxy per link, under the names the driver reports
        const proxies = await topo.toxiproxy.getAll();
        expect(Object.keys(proxies).sort()).toEqual(
          topo.plan.spec.links.map((l) => proxyNameOf(l.id)).sort(),
        );

        // the PowerDNS API answers with the generated zone (HTTP through the published port)
        const zone = await fetch(
          `${topo.authoritatives['auth-a']!.apiUrl}/api/v1/servers/localhost/zones/app.example.`,
          {
            headers: { 'X-API-Key': topo.secrets.pdnsApiKey },
          },
        );
        expect(zone.status).toBe(200);
        expect(JSON.stringify(await zone.json())).toContain('ifurlextup');

        // no app runs: each region name falls back to the tombstone, through every witness
        for (const w of topo.plan.spec.witnesses) {
          const ans = await eventually(
            `${w} a.regions`,
            () =>
              queryDns(topo.witnesses[w]!.dnsTcp, 'a.regions.app.example', { tcp: true, timeoutMs: 3000 }),
            (r) => r.rcode === 'NOERROR' && r.answers.join() === TOMBSTONE_ADDRESS,
          );
          expect(ans.answers).toEqual([TOMBSTONE_ADDRESS]);
        }

        // cut w1 off from both authoritatives in the Toxiproxy container: w1 SERVFAILs, w2 does not
        await setEnabled(topo, 'w1->auth-a', false);
        await setEnabled(topo, 'w1->auth-b', false);
        await eventually(
          'w1 SERVFAIL when cut off',
          () => queryDns(topo.witnesses['w1']!.dnsTcp, 'svc.app.example', { tcp: true, timeoutMs: 5000 }),
          (r) => r.rcode === 'SERVFAIL',
        );
        const w2 = await queryDns(topo.witnesses['w2']!.dnsUdp, 'svc.app.example', { timeoutMs: 5000 });
        expect(w2.rcode).toBe('NOERROR');
        await setEnabled(topo, 'w1->auth-a', true);
        await setEnabled(topo, 'w1->auth-b', true);
        await eventually(
          'w1 answers again when healed',
          () => queryDns(topo.witnesses['w1']!.dnsTcp, 'svc.app.example', { tcp: true, timeoutMs: 5000 }),
          (r) => r.rcode === 'NOERROR',
        );
      } finally {
        await topo.dispose();
      }
      expect(await projectContainers(topo.projectName)).toBe(0);
      expect(existsSync(topo.bundleDir)).toBe(false);
    }, 600_000);

    it('whole topology (Node image: Worker, apps, controllers): health, client path, region failover in DNS', async () => {
      const topo = await bootDockerTopology({});
      try {
        const ips = topo.plan.containers;
        const appIp = (r: string) => Object.values(ips.find((c) => c.service === `app-${r}`)!.addresses)[0]!;
        for (const [id, c] of Object.entries(topo.controllers)) {
          expect((await fetch(`${c.url}/healthz`)).status, id).toBe(200);
        }
        // the client's path to each app goes through its client->app proxy
        for (const [link, e] of Object.entries(topo.clientLinks)) {
          const res = await fetch(`http://${e.host}:${e.port}/health`);
          expect(res.status, link).toBe(200);
          expect(await res.text()).toContain('OK');
        }
        const w1 = topo.witnesses['w1']!.dnsTcp;
        await eventually(
          'a.regions answers app-a',
          () => queryDns(w1, 'a.regions.app.example', { tcp: true, timeoutMs: 3000 }),
          (r) => r.answers.join() === appIp('a'),
        );
        // both authoritatives lose app-a: the region name turns to the tombstone, then back
        await setEnabled(topo, 'auth-a->app-a', false);
        await setEnabled(topo, 'auth-b->app-a', false);
        await eventually(
          'a.regions answers the tombstone',
          () => queryDns(w1, 'a.regions.app.example', { tcp: true, timeoutMs: 3000 }),
          (r) => r.answers.join() === TOMBSTONE_ADDRESS,
        );
        await setEnabled(topo, 'auth-a->app-a', true);
        await setEnabled(topo, 'auth-b->app-a', true);
        await eventually(
          'a.regions answers app-a again',
          () => queryDns(w1, 'a.regions.app.example', { tcp: true, timeoutMs: 3000 }),
          (r) => r.answers.join() === appIp('a'),
        );
      } finally {
        await topo.dispose();
      }
      expect(await projectContainers(topo.projectName)).toBe(0);
    }, 900_000);
  },
);
