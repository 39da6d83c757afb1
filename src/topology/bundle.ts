/**
 * Child programs (app stand-in, controller agent) are bundled with esbuild into the run's
 * temp dir once per run: a bundled `node app.mjs` is answering in ~60 ms, while going
 * through tsx costs 300+ ms of transpiling per process on a 2-core machine.
 */
import { build } from 'esbuild';
import { InfraError } from '../errors.ts';

export async function bundleEntry(entryFile: string, outFile: string): Promise<string> {
  try {
    await build({
      entryPoints: [entryFile],
      outfile: outFile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      // CommonJS dependencies inside an ESM bundle still call require(): give them one.
      banner: {
        js: "import { createRequire as __flCreateRequire } from 'node:module'; const require = __flCreateRequire(import.meta.url);",
      },
      external: ['miniflare', 'esbuild', 'fsevents'],
    });
  } catch (err) {
    throw new InfraError(`could not bundle ${entryFile}: ${(err as Error).message}`, 'topology');
  }
  return outFile;
}
