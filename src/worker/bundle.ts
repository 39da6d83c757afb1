/**
 * A Worker variant's script for workerd: prebuilt at setup (scripts/build.mjs →
 * dist/programs/worker-<variant>.js, used while dist/ is fresh: src/prebuilt.ts), else its
 * TypeScript entry bundled with the same options (src/build-options.mjs) into one ES module in
 * memory (nothing written to disk; only then is esbuild imported). Node-side only. Scripts are
 * cached per variant for the life of the process: the sources do not change under a running
 * harness.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKER_BUILD_OPTIONS, WORKER_ENTRIES, workerFile } from '../build-options.mjs';
import { PACKAGE_ROOT } from '../package-root.ts';
import { usablePrebuilt } from '../prebuilt.ts';
import type { Variant } from './http.ts';

// From the package root, not import.meta.url: compiled, this module lives in dist/chunks/,
// while the Worker's TypeScript sources ship in src/worker/ (esbuild bundles them, no tsx).
const entryFile = (variant: Variant): string => join(PACKAGE_ROOT, WORKER_ENTRIES[variant]);

const cache = new Map<Variant, Promise<string>>();

async function buildWorkerScript(variant: Variant): Promise<string> {
  const prebuilt = await usablePrebuilt(workerFile(variant));
  if (prebuilt) return readFile(prebuilt, 'utf8');
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    ...WORKER_BUILD_OPTIONS,
    logLevel: 'silent',
    entryPoints: [entryFile(variant)],
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
