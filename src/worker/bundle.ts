/**
 * A Worker variant's script for workerd: prebuilt at setup (scripts/build.mjs →
 * dist/programs/worker-<variant>.js, used while dist/ is fresh: src/prebuilt.ts), else its
 * TypeScript entry bundled into one ES module in memory (nothing written to disk; esbuild is
 * then imported, and its service stopped once the bundle is done). Node-side only. Scripts are
 * cached per variant for the life of the process: the sources do not change under a running
 * harness.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { usablePrebuilt } from '../prebuilt.ts';
import type { Variant } from './http.ts';

// From the package root, not import.meta.url: compiled, this module lives in dist/chunks/,
// while the Worker's TypeScript sources ship in src/worker/ (esbuild bundles them, no tsx).
const ENTRY_FILES: Record<Variant, string> = {
  durable: join(PACKAGE_ROOT, 'src/worker/durable.ts'),
  'legacy-kv': join(PACKAGE_ROOT, 'src/worker/legacy-kv.ts'),
};

const cache = new Map<Variant, Promise<string>>();

/** The esbuild options of a Worker script; scripts/build.mjs prebuilds with the same. */
export const WORKER_BUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // workerd supports ES2022 fully; keeping syntax as written keeps stack traces readable.
  target: 'es2022',
  external: ['cloudflare:*'],
  logLevel: 'silent',
} as const;

async function buildWorkerScript(variant: Variant): Promise<string> {
  const prebuilt = await usablePrebuilt(`worker-${variant}.js`);
  if (prebuilt) return readFile(prebuilt, 'utf8');
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    ...WORKER_BUILD_OPTIONS,
    external: [...WORKER_BUILD_OPTIONS.external],
    entryPoints: [ENTRY_FILES[variant]],
    write: false,
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${variant}`);
  return file.text;
}

export function bundleWorker(variant: Variant): Promise<string> {
  let pending = cache.get(variant);
  if (!pending) {
    pending = buildWorkerScript(variant);
    // A failed build must not poison the cache for the next attempt.
    pending.catch(() => cache.delete(variant));
    cache.set(variant, pending);
  }
  return pending;
}
