// The one definition of how the topology's child programs and the Worker scripts are bundled:
// scripts/build.mjs prebuilds them into dist/programs/ at setup with these, and a boot that
// finds no usable prebuilt file bundles with the same (src/topology/bundle.ts,
// src/worker/bundle.ts), so both ways give the same program. Plain JavaScript because the
// build script runs before anything is compiled. Paths are relative to the package root.
import { dirname, join } from 'node:path';

/** the topology's child programs: name → entry (dist/programs/<name>.mjs) */
export const PROGRAM_ENTRIES = {
  app: 'src/topology/app/server.ts',
  controller: 'src/topology/controller-main.ts',
};

/** the lease Worker's variants: variant → entry (dist/programs/worker-<variant>.js) */
export const WORKER_ENTRIES = {
  durable: 'src/worker/durable.ts',
  'legacy-kv': 'src/worker/legacy-kv.ts',
};

/** dist/programs/ file name of a program */
export const programFile = (name) => `${name}.mjs`;

/** dist/programs/ file name of a Worker variant's script */
export const workerFile = (variant) => `worker-${variant}.js`;

// zod's package entry re-exports every message locale (`z.locales`, ~340 KB of the 750 KB it
// bundles to), and the CLI and the controller program parse that on every start; they only
// ever use the English messages, which zod installs itself (classic/schemas.js imports
// locales/en.js directly). Anything else reaching for `z.locales.<lang>` would get undefined.
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/** a program: one self-contained file for Node, every npm package bundled but these */
export const PROGRAM_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies inside an ESM bundle still call require(): give them one.
  banner: {
    js: "import { createRequire as __flCreateRequire } from 'node:module'; const require = __flCreateRequire(import.meta.url);",
  },
  external: ['miniflare', 'esbuild', 'fsevents'],
  // Each topology process keeps its program's source in memory: ~1 MB less per controller with
  // zod's English messages only, and without comments (whose non-ASCII characters made V8 keep
  // all 1.2 MB as a two-byte string). Names stay, so stack traces still read as the sources.
  plugins: [zodEnglishOnly],
  minifyWhitespace: true,
};

/** a Worker script: one ES module for workerd */
export const WORKER_BUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // workerd supports ES2022 fully; keeping syntax as written keeps stack traces readable.
  target: 'es2022',
  external: ['cloudflare:*'],
};
