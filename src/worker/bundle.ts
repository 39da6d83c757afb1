/**
 * Bundles a Worker variant's TypeScript entry into one ES module for workerd, in memory
 * (nothing written to disk). Node-side only. Bundles are cached per variant for the life of
 * the process: the sources do not change under a running harness.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Variant } from './http.ts';

const ENTRY_FILES: Record<Variant, string> = {
  durable: fileURLToPath(new URL('./durable.ts', import.meta.url)),
  'legacy-kv': fileURLToPath(new URL('./legacy-kv.ts', import.meta.url)),
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
