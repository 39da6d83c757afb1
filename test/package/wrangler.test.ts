/**
 * The Worker as Cloudflare would receive it: `wrangler deploy --dry-run --outdir` (wrangler
 * from devDependencies, pinned to a release whose engines include Node 20) bundles
 * wrangler.toml's entry, and wrangler's own config reader checks the Durable Object binding
 * against its migration. The bundle it wrote is then served in workerd (miniflare, the same
 * runtime Cloudflare runs) with wrangler.toml's bindings, and a signed acquire must be
 * granted epoch 1: the artifact that would be uploaded works, not just our esbuild bundle.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { LeaseClient } from '../../src/worker/client.ts';
import { COMPATIBILITY_DATE } from '../../src/worker/launch.ts';

// loopback address of this suite (the worker suites use 127.0.20.x)
const HOST = '127.0.21.1';
const SECRETS = { region1: 'region1-secret-0123456789', region2: 'region2-secret-0123456789' };

let workDir: string;
let outDir: string;
let dryRun: ReturnType<typeof spawnSync>;

beforeAll(() => {
  // wrangler writes .wrangler/ next to the config: run it on a staged copy, not the checkout
  workDir = mkdtempSync(join(tmpdir(), 'fl-wrangler-'));
  outDir = join(workDir, 'out');
  copyFileSync(join(PACKAGE_ROOT, 'wrangler.toml'), join(workDir, 'wrangler.toml'));
  symlinkSync(join(PACKAGE_ROOT, 'src'), join(workDir, 'src'), 'dir');
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const wrangler = join(PACKAGE_ROOT, 'node_modules/wrangler/bin/wrangler.js');
  dryRun = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outDir], {
    cwd: workDir,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      CI: 'true',
      WRANGLER_SEND_METRICS: 'false',
      NO_COLOR: '1',
      // wrangler's logs and user config go to the staged dir, removed after the suite
      WRANGLER_LOG_PATH: workDir,
      XDG_CONFIG_HOME: workDir,
    },
  });
}, 150_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('wrangler deploy --dry-run', () => {
  it('succeeds and reports the Durable Object binding and the TTL var, and no secret as a var', () => {
    expect(dryRun.status, `${dryRun.stdout}${dryRun.stderr}`).toBe(0);
    const out = String(dryRun.stdout);
    expect(out).toMatch(/env\.LEASE \(LeaseObject\)\s+Durable Object/);
    expect(out).toMatch(/env\.LEASE_TTL_MS \("30000"\)\s+Environment Variable/);
    expect(out).not.toMatch(/LEASE_SECRETS/);
  });

  it('bundles the durable entry only, with a source map', () => {
    const bundle = readFileSync(join(outDir, 'durable.js'), 'utf8');
    expect(bundle).toMatch(/export\s*\{[^}]*\bLeaseObject\b[^}]*\}/);
    expect(bundle).toMatch(/x-fl-variant/);
    expect(bundle).not.toMatch(/x-fl-unsafe/); // nothing of the KNOWN UNSAFE legacy-kv variant
    expect(existsSync(join(outDir, 'durable.js.map'))).toBe(true);
  });

  it("wrangler's config reader sees the binding, its SQLite migration and our compatibility date", async () => {
    const { unstable_readConfig } = await import('wrangler');
    const config = unstable_readConfig({ config: join(workDir, 'wrangler.toml') });
    expect(config.durable_objects.bindings).toEqual([{ name: 'LEASE', class_name: 'LeaseObject' }]);
    const migrated = config.migrations.flatMap(
      (m: { new_sqlite_classes?: string[] }) => m.new_sqlite_classes ?? [],
    );
    for (const b of config.durable_objects.bindings) expect(migrated).toContain(b.class_name);
    expect(config.compatibility_date).toBe(COMPATIBILITY_DATE);
    expect(config.main).toMatch(/src\/worker\/durable\.ts$/);
  });
});

describe('the dry-run bundle in workerd', () => {
  it('grants a signed acquire epoch 1 and refuses the second region', async () => {
    const { Miniflare } = await import('miniflare');
    const runtimeLog: string[] = [];
    // miniflare takes its scratch dir from os.tmpdir() in the constructor and does not remove
    // it on dispose: point TMPDIR into the staged dir for that call (as src/worker/launch.ts does)
    const savedTmpDir = process.env.TMPDIR;
    process.env.TMPDIR = workDir;
    const mf = new Miniflare({
      host: HOST,
      port: 0,
      modules: true,
      scriptPath: join(outDir, 'durable.js'),
      // module names are relative to this root; the default (the script's dir) makes workerd
      // refuse the source map's ../ paths
      modulesRoot: workDir,
      compatibilityDate: COMPATIBILITY_DATE,
      cf: false, // no request.cf data: miniflare would fetch it from the network
      liveReload: false,
      handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
        stdout.on('data', (c: Buffer) => runtimeLog.push(c.toString()));
        stderr.on('data', (c: Buffer) => runtimeLog.push(c.toString()));
      },
      durableObjects: { LEASE: { className: 'LeaseObject', useSQLite: true } },
      bindings: { LEASE_TTL_MS: '30000', LEASE_SECRETS: JSON.stringify(SECRETS) },
    });
    if (savedTmpDir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpDir;
    try {
      const url = (
        await mf.ready.catch((err: Error) =>
          Promise.reject(new Error(`${err.message}\n${runtimeLog.join('')}`)),
        )
      ).origin;
      const a = new LeaseClient({ url, region: 'region1', secret: SECRETS.region1 });
      const b = new LeaseClient({ url, region: 'region2', secret: SECRETS.region2 });
      const first = await a.acquire('primary');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ granted: true, holder: 'region1', epoch: 1 });
      const second = await b.acquire('primary');
      expect(second.body).toMatchObject({ granted: false, holder: 'region1', epoch: 1 });
    } finally {
      await mf.dispose();
    }
  }, 60_000);
});
