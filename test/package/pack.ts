/**
 * Packs failover-lab the way `npm publish` would and installs the tarball into an empty
 * directory, for the package tests. The package is packed from a staged copy of its files
 * (package.json `files`, plus what the build reads), not from the checkout itself: `prepack`
 * runs a clean build, which must not wipe the dist/ that other processes of this checkout
 * are running from. node_modules is linked, not copied: the build needs only esbuild and tsc.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.ts';

/** What scripts/build.mjs reads besides the package's `files`. */
const BUILD_FILES = ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'scripts/build.mjs'];

export interface PackedInstall {
  /** the consumer project: node_modules/failover-lab installed from the tarball */
  consumerDir: string;
  tarball: string;
  /** seconds spent packing (clean build included) and installing */
  packSeconds: number;
  installSeconds: number;
  cleanup(): void;
}

function stagePackage(stageDir: string): void {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  for (const entry of [...manifest.files, ...BUILD_FILES]) {
    const rel = entry.replace(/\/$/, '');
    if (rel === 'dist') continue; // prepack builds it afresh
    if (!existsSync(join(PACKAGE_ROOT, rel))) continue; // npm pack skips a missing entry too
    cpSync(join(PACKAGE_ROOT, rel), join(stageDir, rel), { recursive: true });
  }
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(stageDir, 'node_modules'), 'dir');
}

const npmEnv = {
  ...process.env,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};

/** npm pack (with its prepack build) from a staged copy, then npm install of the tarball offline. */
export function packAndInstall(): PackedInstall {
  const workDir = mkdtempSync(join(tmpdir(), 'fl-pack-'));
  const stageDir = join(workDir, 'stage');
  const consumerDir = join(workDir, 'consumer');
  const cleanup = () => rmSync(workDir, { recursive: true, force: true });
  try {
    stagePackage(stageDir);
    const packStartMs = performance.now();
    execFileSync('npm', ['pack', '--silent', '--pack-destination', workDir], {
      cwd: stageDir,
      env: npmEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const packSeconds = (performance.now() - packStartMs) / 1000;
    const tarball = readdirSync(workDir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${workDir}`);
    rmSync(stageDir, { recursive: true, force: true });

    mkdirSync(consumerDir);
    writeFileSync(
      join(consumerDir, 'package.json'),
      `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`,
    );
    const installStartMs = performance.now();
    // --prefer-offline: tarballs come from the npm cache the checkout's own install filled; only
    // package metadata missing from the cache goes to the registry.
    // --ignore-scripts: failover-lab has no install scripts (the test asserts it), and those of
    // its dependencies were 2/3 of the install's time (cpu-features compiles C++ with node-gyp
    // for ssh2, an optional speed-up of the Docker driver's SSH transport; sharp, protobufjs,
    // workerd and esbuild check their prebuilt binaries). workerd and esbuild find their
    // binaries in their per-platform optional packages without a script, as in the controller
    // image (Dockerfile). The acceptance run in docs/api.md installs with the scripts.
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(workDir, tarball)],
      { cwd: consumerDir, env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const installSeconds = (performance.now() - installStartMs) / 1000;
    return { consumerDir, tarball: join(workDir, tarball), packSeconds, installSeconds, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
