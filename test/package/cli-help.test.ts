/**
 * The top-level --help is built from src/cli/registry.ts's summaries so that it loads no
 * command module; this keeps those summaries equal to what each command registers itself,
 * and checks that the commands which need no topology import none of the heavy packages.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  commandLoaders,
  commandSummaries,
  loadAllCommandModules,
  loadCommandModules,
} from '../../src/cli/registry.ts';
import { PACKAGE_ROOT } from '../../src/package-root.ts';

function listing(program: Command) {
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    args: c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' '),
  }));
}

describe('top-level help', () => {
  it('summaries match every command module (name, order, description, arguments)', async () => {
    const full = new Command();
    for (const m of await loadAllCommandModules()) m.register(full, () => {});
    const fromSummaries = new Command();
    for (const m of await loadCommandModules(['node', 'failover-lab', '--help']))
      m.register(fromSummaries, () => {});
    expect(listing(fromSummaries)).toEqual(listing(full));
    expect(Object.keys(commandSummaries)).toEqual(Object.keys(commandLoaders));
  }, 60_000);

  it('a named command (also after `help`) loads that module only', async () => {
    const sim = await loadCommandModules(['node', 'failover-lab', 'help', 'sim']);
    const program = new Command();
    for (const m of sim) m.register(program, () => {});
    expect(program.commands.map((c) => c.name())).toEqual(['sim']);
    expect(program.commands[0]!.options.length).toBeGreaterThan(3); // the real command, not a summary
  });
});

/**
 * npm packages a CLI process loads: ESM loads seen through a module.register hook, CommonJS ones
 * (the require() calls of dist/cli.cjs, which runs a named command) through Module's _compile
 */
function packagesLoadedBy(args: string[], env: Record<string, string> = {}): string[] {
  const hook = `export async function load(url, context, next) { if (url.includes('/node_modules/')) process.stderr.write('LOAD ' + url + '\\n'); return next(url, context); }`;
  const cjs = `import M from 'node:module'; const c = M.prototype._compile; M.prototype._compile = function (s, f) { if (f.includes('/node_modules/')) process.stderr.write('LOAD ' + f + '\\n'); return c.call(this, s, f); };`;
  const register = `${cjs} import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      join(PACKAGE_ROOT, 'bin/failover-lab.mjs'),
      ...args,
    ],
    { cwd: PACKAGE_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
  );
  return [
    ...new Set([...r.stderr.matchAll(/LOAD \S*\/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1]!)),
  ];
}

describe('heavy modules load only in the commands that need them', () => {
  const HEAVY = ['miniflare', 'testcontainers', 'dockerode', 'playwright-core'];

  it('--help, sim and controller load none of miniflare, testcontainers, dockerode, playwright', () => {
    const controllerEnv = {
      REGION: 'region1',
      PEER_REGION: 'region2',
      CLOUDFLARE_WORKER_URL: 'http://127.0.0.1:9',
      LEASE_SECRET: 'region1-secret-0123456789',
      DNS_WITNESSES: '127.0.0.1:9',
      PEER_APP_ADDR: '192.0.2.2',
      TOMBSTONE_ADDR: '192.0.2.254',
      PEER_HEALTH_URL: 'http://127.0.0.1:9/healthz',
    };
    for (const [args, env] of [
      [['--help'], {}],
      [['sim', '--runs', '1', '--no-report'], {}],
      [['controller', '--check-config'], controllerEnv],
    ] as const) {
      const loaded = packagesLoadedBy([...args], env);
      expect(
        loaded.filter((p) => HEAVY.includes(p)),
        args.join(' '),
      ).toEqual([]);
    }
  }, 120_000);

  it('is not vacuous: worker loads miniflare', () => {
    expect(packagesLoadedBy(['worker', '--help'])).toContain('miniflare');
  }, 60_000);
});
