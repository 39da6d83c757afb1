/**
 * Bundles a Worker variant's TypeScript entry into one ES module for workerd, in memory
 * (nothing written to disk). Node-side only. Bundles are cached per variant for the life of
 * the process: the sources do not change under a running harness.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { PACKAGE_ROOT } from '../package-root.ts';
import type { Variant } from './http.ts';

// From the package root, not import.meta.url: compiled, this module lives in dist/chunks/,
// while the Worker's TypeScript sources ship in src/worker/ (esbuild bundles them, no tsx).
const ENTRY_FILES: Record<Variant, string> = {
  durable: join(PACKAGE_ROOT, 'src/worker/durable.ts'),
  'legacy-kv': join(PACKAGE_ROOT, 'src/worker/legacy-kv.ts'),
};

const cache = new Map<Variant, Promise<string>>();

export function bundleWorker(variant: Variant): Promise<string> {
  let pending = cache.get(variant);
  if (!pending) {
    pending = build({
      entryPoints: [ENTRY_FILES[variant]],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      // workerd supports ES2022 fully; keeping syntax as written keeps stack traces readable.
      target: 'es2022',
      external: ['cloudflare:*'],
      write: false,
      logLevel: 'silent',
    }).then((result) => {
      const file = result.outputFiles[0];
      if (!file) throw new Error(`esbuild produced no output for ${variant}`);
      return file.text;
    });
    // A failed build must not poison the cache for the next attempt.
    pending.catch(() => cache.delete(variant));
    cache.set(variant, pending);
  }
  return pending;
}
