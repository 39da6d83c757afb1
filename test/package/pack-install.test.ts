/**
 * The published package, end to end: `npm pack` (its prepack runs the clean build), install
 * the tarball into an empty project, then use it only through what a consumer has — the
 * `failover-lab` bin and `import 'failover-lab'` — with no tsx and no sources of the checkout.
 * The real-topology commands (run, demo) are exercised up to their catalog lookup here; a
 * full `demo --only primary-region-crash` from the tarball is the acceptance run in
 * docs/api.md (it needs the topology's Debian packages and ~1 min).
 *
 * One pack and one install serve every test. The tests after it are independent (each reads
 * the install and writes only its own files in the consumer directory) and run concurrently:
 * most of their time is the `worker`/`controller` pair waiting for a lease and tsc type-checking
 * the consumer, which overlap well on two cores.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { type PackedInstall, packAndInstall } from './pack.ts';

const SECRETS = { region1: 'region1-secret-0123456789', region2: 'region2-secret-0123456789' };
let pkg: PackedInstall;
// a consumer's shell, not vitest's environment (vitest sets MODE=test, which the agent reads)
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const children: ChildProcess[] = [];
let testsStartMs = 0;

interface Exited {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking the event loop (the tests run concurrently). */
function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: pkg.consumerDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The installed CLI, in a consumer's shell. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Exited> {
  return runToEnd(join(pkg.consumerDir, 'node_modules/.bin/failover-lab'), args, { ...baseEnv, ...env });
}

/** Starts the installed CLI and resolves with the first stdout/stderr match of `ready`. */
function startCli(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const bin = join(pkg.consumerDir, 'node_modules/.bin/failover-lab');
  const child = spawn(bin, args, {
    cwd: pkg.consumerDir,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let seen = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(ready);
      if (match) resolve({ child, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code} before ready:\n${seen}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  // a child ended by a signal has exitCode null and will not emit 'exit' again
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

beforeAll(() => {
  pkg = packAndInstall();
  // measured, not asserted: docs/api.md quotes these figures
  process.stderr.write(
    `pack-install: npm pack ${pkg.packSeconds.toFixed(1)} s, npm install ${pkg.installSeconds.toFixed(1)} s\n`,
  );
  testsStartMs = performance.now();
}, 900_000);

afterAll(async () => {
  // SIGTERM first: a SIGKILLed `worker` could not stop its workerd child, which would outlive
  // the test; SIGKILL only what is still running after a grace period
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill('SIGTERM');
  const graceMs = 10_000;
  await Promise.race([Promise.all(running.map(exitOf)), new Promise((r) => setTimeout(r, graceMs))]);
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map(exitOf));
  const cleanupStartMs = performance.now();
  pkg?.cleanup();
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  process.stderr.write(
    `pack-install: tests ${seconds(cleanupStartMs - testsStartMs)} s, cleanup ${seconds(performance.now() - cleanupStartMs)} s\n`,
  );
});

describe.concurrent('the tarball', () => {
  it('holds the compiled CLI, its types, the Worker sources, the catalog and the deploy files, and nothing of the repo', ({
    expect,
  }) => {
    const files = execFileSync('tar', ['tzf', pkg.tarball], { encoding: 'utf8' })
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'bin/failover-lab.mjs',
      'dist/cli.js',
      'dist/cli.js.map',
      // what a named command runs, through V8's code cache (bin/code-cache.mjs)
      'dist/cli.cjs',
      'bin/code-cache.mjs',
      'dist/index.js',
      'dist/types/src/index.d.ts',
      // the topology's child programs, prebuilt so no boot bundles (src/topology/bundle.ts)
      'dist/programs/app.mjs',
      'dist/programs/controller.mjs',
      'dist/programs/worker-durable.js',
      'dist/programs/worker-legacy-kv.js',
      'src/worker/durable.ts',
      'src/topology/controller-main.ts',
      'scenarios/primary-region-crash.yaml',
      'wrangler.toml',
      'deploy/kubernetes/base/kustomization.yaml',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(
      files.filter((f) => /^(test|scripts|bench|node_modules|reports)\/|^dist\/\.(tmp-|code-cache)/.test(f)),
    ).toEqual([]);
  });

  it('installs without tsx and without install scripts of its own', ({ expect }) => {
    const installed = JSON.parse(
      readFileSync(join(pkg.consumerDir, 'node_modules/failover-lab/package.json'), 'utf8'),
    );
    expect(Object.keys(installed.dependencies)).not.toContain('tsx');
    expect(existsSync(join(pkg.consumerDir, 'node_modules/tsx'))).toBe(false);
    // the test installs with --ignore-scripts (pack.ts): that must skip nothing of ours
    const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'];
    expect(Object.keys(installed.scripts ?? {}).filter((s) => lifecycle.includes(s))).toEqual([]);
  });
});

describe.concurrent('the installed CLI', () => {
  it('--help lists every command', async ({ expect }) => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['controller', 'worker', 'sim', 'run', 'demo', 'report', 'gameday', 'export'])
      expect(r.stdout).toContain(`  ${c} `);
  });

  it('sim finds the known-unsafe KV design: exit 1 with the shrunk counterexample', async ({ expect }) => {
    const r = await cli(['sim', '--lease-backend', 'kv', '--runs', '50', '--seed', '1', '--no-report']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/VIOLATION single-primary/);
    expect(r.stdout).toMatch(/replay: npx failover-lab sim --seed 1 /);
    const yaml = r.stdout.match(/scenario: (\S+\.yaml)/)?.[1];
    expect(yaml && existsSync(yaml)).toBe(true);
    expect(yaml?.startsWith(pkg.consumerDir)).toBe(true); // into the consumer's cwd, not node_modules
  });

  it('sim on the durable Worker holds: exit 0', async ({ expect }) => {
    const r = await cli(['sim', '--runs', '5', '--seed', '3', '--no-report']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('run and demo find the bundled catalog (stopping at bad input, before booting anything)', async ({
    expect,
  }) => {
    const [demo, run] = await Promise.all([
      cli(['demo', '--only', 'no-such-scenario']),
      cli(['run', 'missing.yaml']),
    ]);
    expect(demo.status).toBe(2);
    expect(demo.stderr).toMatch(/unknown scenario "no-such-scenario" \(catalog: .*primary-region-crash/);
    expect(run.status).toBe(2);
  });

  it('worker serves the durable Worker bundled from the shipped sources; controller leases from it', async ({
    expect,
  }) => {
    const { child: worker, match } = await startCli(
      ['worker', '--host', '127.0.0.1', '--port', '0', '--ttl-ms', '3000'],
      { LEASE_SECRETS: JSON.stringify(SECRETS) },
      /serving durable on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const workerUrl = match[1]!;
    const status = await fetch(`${workerUrl}/status?lease=primary`);
    expect(status.headers.get('x-fl-variant')).toBe('durable');
    expect(status.status).toBe(401); // unsigned requests are refused

    const controllerEnv = {
      REGION: 'region1',
      PEER_REGION: 'region2',
      INITIAL_ROLE: 'primary',
      CLOUDFLARE_WORKER_URL: workerUrl,
      LEASE_SECRET: SECRETS.region1,
      LEASE_TTL_MS: '3000',
      DNS_WITNESSES: '127.0.0.1:9,127.0.0.1:19,127.0.0.1:29',
      PEER_APP_ADDR: '192.0.2.2',
      TOMBSTONE_ADDR: '192.0.2.254',
      PEER_HEALTH_URL: 'http://127.0.0.1:9/healthz',
      ADMIN_ADDR: '127.0.0.1:0',
    };
    const [check, badQuorum] = await Promise.all([
      cli(['controller', '--check-config'], controllerEnv),
      cli(['controller', '--check-config'], { ...controllerEnv, QUORUM: 'abc' }),
    ]);
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).controller.region).toBe('region1');
    expect(badQuorum.status).toBe(2);

    const { child: controller, match: admin } = await startCli(
      ['controller'],
      controllerEnv,
      /http:\/\/127\.0\.0\.1:\d+/,
    );
    let metrics = '';
    for (let i = 0; i < 100 && !/failover_lease_status\{[^}]*\} 1/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 200));
      metrics = await (await fetch(`${admin[0]}/metrics`)).text();
    }
    expect(metrics).toMatch(/failover_lease_status\{[^}]*\} 1/); // it acquired the lease: primary
    controller.kill('SIGTERM');
    expect(await exitOf(controller)).toBe(0);
    worker.kill('SIGTERM');
    expect(await exitOf(worker)).toBe(0);
  }, 120_000);
});

describe.concurrent('the programmatic API', () => {
  it('runs a search, a scenario, the checker and a report through `import "failover-lab"`', async ({
    expect,
  }) => {
    const script = join(pkg.consumerDir, 'api-check.mjs');
    writeFileSync(
      script,
      `import * as lab from 'failover-lab';
const search = lab.runSearch({ leaseBackend: 'kv', runs: 30, seed: 1 });
const scenario = await lab.loadScenario('primary-region-crash');
const sim = lab.simulateScenario(scenario, { seed: 7 });
const verdict = lab.checkHistory(sim.history);
const { dir } = await lab.renderReport(lab.simulationReportInput(scenario, sim), { reportsRoot: 'api-reports' });
console.log(JSON.stringify({ searchOk: search.ok, invariant: search.failure?.invariant, catalog: lab.catalogScenarios(),
  simOk: sim.verdict.ok, recheckOk: verdict.ok, failed: verdict.outcomes.filter((o) => !o.ok).map((o) => o.name), dir }));
`,
    );
    const r = await runToEnd(process.execPath, [script], baseEnv);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.searchOk).toBe(false);
    expect(out.invariant).toBe('single-primary');
    expect(out.catalog).toContain('primary-region-crash');
    expect(out.simOk, out.failed.join(', ')).toBe(true);
    expect(out.recheckOk).toBe(true);
    for (const f of ['result.json', 'junit.xml', 'summary.md', 'timeline.html'])
      expect(existsSync(join(out.dir, f)), f).toBe(true);
  }, 120_000);

  it('is typed: a consumer project type-checks against the shipped declarations', async ({ expect }) => {
    writeFileSync(
      join(pkg.consumerDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(PACKAGE_ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(pkg.consumerDir, 'consumer.ts'),
      `import { type ExploreResult, runSearch, type Verdict, checkHistory } from 'failover-lab';
const result: ExploreResult = runSearch({ runs: 10, leaseBackend: 'kv' });
const verdict: Verdict = checkHistory(result.failure?.result.history ?? []);
// @ts-expect-error runs is a number: without the shipped types this line would not be an error
runSearch({ runs: 'many' });
export const ok: boolean = verdict.ok;
`,
    );
    const tsc = join(PACKAGE_ROOT, 'node_modules/typescript/bin/tsc');
    const r = await runToEnd(process.execPath, [tsc, '-p', pkg.consumerDir], process.env);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);
});
