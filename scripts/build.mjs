#!/usr/bin/env node
// Compiles failover-lab to dist/ (the published package runs this, never TypeScript):
//   node scripts/build.mjs              JavaScript (esbuild, source maps) + type declarations (tsc)
//   node scripts/build.mjs --if-stale   do nothing when dist/ is newer than every source (setup.sh)
//   node scripts/build.mjs --js-only    skip the declarations (a checkout needs only the JS)
//   node scripts/build.mjs --clean      remove dist/ first (npm pack: no stale chunks shipped)
//
// One esbuild pass with code splitting: each CLI command stays its own lazily imported chunk,
// so `failover-lab sim` never loads miniflare, testcontainers or the topology (the library,
// the worker threads, `--help`); and the CLI as one CommonJS file for named commands
// (buildCliBundle). npm packages
// stay external (resolved from node_modules at run time, as they are declared dependencies).
// Outputs are written to a temp dir and renamed into dist/ file by file, so a CLI process
// started from dist/ while a rebuild runs never reads a half-written file; chunk names carry
// a content hash, so a running process that lazily imports an older chunk still finds it.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { isBuildFresh, STAMP_FILE } from '../bin/freshness.mjs';
import {
  PROGRAM_BUILD_OPTIONS,
  PROGRAM_ENTRIES,
  programFile,
  WORKER_BUILD_OPTIONS,
  WORKER_ENTRIES,
  workerFile,
  zodEnglishOnly,
} from '../src/build-options.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
// chunks of an older build kept this long for CLI processes still running from it
const STALE_CHUNK_GRACE_MS = 60 * 60 * 1000;

// Pure-JavaScript dependencies bundled into dist/ rather than resolved at run time: zod alone
// is ~95 ESM files, and resolving and loading them was most of `sim`'s start-up. Everything
// else (native binaries, worker-thread transports, miniflare, Docker clients) stays external.
const BUNDLED_PACKAGES = new Set(['zod', 'yaml', 'commander', 'fast-check', 'pure-rand']);

// commander requires node:child_process when it loads, for executable subcommands, which this
// CLI has none of; loading it (net, dgram and streams come with it) was a few ms of every
// command's start (issue #18). It is required on first use instead. A commander whose line
// reads otherwise is bundled as it is.
const CHILD_PROCESS_REQUIRE = "const childProcess = require('node:child_process');";
const commanderLazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(CHILD_PROCESS_REQUIRE)) return undefined;
      return {
        contents: source.replace(
          CHILD_PROCESS_REQUIRE,
          "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };",
        ),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

const externalUnlessBundled = {
  name: 'external-unless-bundled',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : (args.path.split('/')[0] ?? args.path);
      return BUNDLED_PACKAGES.has(name) ? undefined : { external: true };
    });
  },
};

/** dist/<name>.js ← source entry */
export const ENTRY_POINTS = {
  cli: 'src/cli/main.ts',
  index: 'src/index.ts',
  // body of `sim --workers N` threads (bin/failover-lab.mjs loads it in each worker)
  'sim-worker': 'simulator/parallel-worker.ts',
};

function parseFlags(argv) {
  const known = new Set(['--if-stale', '--js-only', '--clean', '--quiet']);
  for (const a of argv) {
    if (!known.has(a)) {
      process.stderr.write(`build: unknown flag ${a} (known: ${[...known].join(' ')})\n`);
      process.exit(2);
    }
  }
  return {
    ifStale: argv.includes('--if-stale'),
    jsOnly: argv.includes('--js-only'),
    clean: argv.includes('--clean'),
    quiet: argv.includes('--quiet'),
  };
}

async function buildJs(outDir) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [zodEnglishOnly, commanderLazyChildProcess, externalUnlessBundled],
    sourcemap: 'linked',
    // the maps point at src/ and simulator/, which ship in the package
    sourcesContent: false,
    logLevel: 'warning',
    metafile: true,
    // bundled CommonJS packages (commander, yaml) still call require() for node: builtins
    banner: {
      js: "import { createRequire as __flCreateRequire } from 'node:module'; const require = __flCreateRequire(import.meta.url);",
    },
  });
  return Object.keys(result.metafile.outputs).map((p) => relative(outDir, join(ROOT, p)));
}

// The CLI once more, as one CommonJS file (dist/cli.cjs) that bin/failover-lab.mjs runs for a
// named command through V8's code cache (bin/code-cache.mjs says why). CommonJS because Node 20
// offers a code cache only for scripts (vm.Script), not for ES modules; one file because
// esbuild splits only ES modules. Each command stays lazy inside it: esbuild wraps a module
// reached by a dynamic import() in an init function, so `sim` runs none of the topology's or
// miniflare's module code, and the cache holds only the functions a run of that command compiled.
async function buildCliBundle(outDir) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'src/cli/bundle-entry.ts' },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    plugins: [zodEnglishOnly, commanderLazyChildProcess, externalUnlessBundled],
    sourcemap: 'linked',
    sourcesContent: false,
    // no comments, which esbuild otherwise keeps with their non-ASCII characters (see asciiOnly)
    // and which only cost parse time; names stay (no identifier minification), so stack traces
    // and error names read as in the sources
    minifyWhitespace: true,
    logLevel: 'warning',
    // import.meta does not exist in CommonJS: the bundle's own URL is what it meant there too
    define: { 'import.meta.url': '__flBundleUrl' },
    // import() becomes require(): a script compiled from V8's code cache has no dynamic-import
    // callback in Node 20 ("A dynamic import callback was not specified"). What is imported
    // that way is CommonJS (esbuild, dockerode, testcontainers) or bin/freshness.mjs, an ES
    // module without top-level await, which require() loads since Node 20.19 (package engines).
    supported: { 'dynamic-import': false },
    banner: { js: "var __flBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    write: false,
  });
  for (const f of result.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.path.endsWith('.cjs') ? asciiOnly(f.text) : f.contents);
  }
}

// A pure-ASCII file is decoded at memcpy speed and kept by V8 as a one-byte string; a single
// non-ASCII character makes Node decode all 1.6 MB the slow way into a two-byte string (~20 ms
// per start, measured). esbuild escapes non-ASCII in strings and identifiers but not in regular
// expression literals (a `µs` unit in a duration pattern): \uXXXX per UTF-16 unit means the
// same there, in strings and in identifiers alike.
function asciiOnly(text) {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// The topology's child programs and the Worker scripts, one self-contained file each in
// dist/programs/, so a boot never bundles (src/prebuilt.ts says when they may be used). Entries
// and options are src/build-options.mjs, which the boot's fallback bundling uses too.
async function buildPrograms(outDir) {
  const out = (file) => join(outDir, 'programs', file);
  const programs = Object.entries(PROGRAM_ENTRIES).map(([name, entry]) =>
    build({
      ...PROGRAM_BUILD_OPTIONS,
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: out(programFile(name)),
      logLevel: 'warning',
    }),
  );
  const workers = Object.entries(WORKER_ENTRIES).map(([variant, entry]) =>
    build({
      ...WORKER_BUILD_OPTIONS,
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: out(workerFile(variant)),
      logLevel: 'warning',
    }),
  );
  await Promise.all([...programs, ...workers]);
}

function buildTypes(outDir) {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [
    tsc,
    'src/index.ts',
    '--declaration',
    '--emitDeclarationOnly',
    '--outDir',
    join(outDir, 'types'),
    '--rootDir',
    '.',
    '--rewriteRelativeImportExtensions',
    '--allowImportingTsExtensions',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2022',
    '--lib',
    'ES2023',
    '--types',
    'node',
    '--strict',
    '--skipLibCheck',
    // emit only: `npm run typecheck` (tsc -p .) is the type check; checking again here cost
    // 2.4× the CPU of the emit (12.4 s vs 5.1 s) for byte-identical declarations
    '--noCheck',
    '--verbatimModuleSyntax',
    '--resolveJsonModule',
  ];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const entryTypes = join(outDir, 'types/src/index.d.ts');
  if (!existsSync(entryTypes)) {
    throw new Error(`tsc wrote no declarations (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  // Type errors do not stop the emit: they are the typecheck's to report (npm test runs it),
  // and a half-edited file elsewhere in a shared checkout must not block every build.
  if (r.status !== 0) {
    const count = (r.stdout.match(/error TS\d+/g) ?? []).length;
    process.stderr.write(
      `build: tsc reported ${count} type error(s); declarations written anyway (see npm run typecheck)\n`,
    );
  }
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** rename every built file into dist/ (atomic per file), then drop long-stale chunks */
function install(tmpDir, outputs) {
  for (const rel of listFiles(tmpDir)) {
    mkdirSync(dirname(join(DIST, rel)), { recursive: true });
    renameSync(join(tmpDir, rel), join(DIST, rel));
  }
  const current = new Set(outputs);
  const chunksDir = join(DIST, 'chunks');
  const nowMs = Date.now();
  for (const rel of existsSync(chunksDir) ? listFiles(chunksDir) : []) {
    const path = join(chunksDir, rel);
    if (current.has(relative(DIST, path))) continue;
    if (nowMs - statSync(path).mtimeMs > STALE_CHUNK_GRACE_MS) rmSync(path, { force: true });
  }
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.ifStale && !flags.clean && isBuildFresh(ROOT)) return;
  // inputs changed after this instant make the next --if-stale rebuild
  const startedAt = new Date();
  if (flags.clean) rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const tmpDir = mkdtempSync(join(DIST, '.tmp-'));
  try {
    const [outputs] = await Promise.all([buildJs(tmpDir), buildCliBundle(tmpDir), buildPrograms(tmpDir)]);
    if (!flags.jsOnly) buildTypes(tmpDir);
    install(tmpDir, outputs);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const stamp = join(ROOT, STAMP_FILE);
  writeFileSync(stamp, `${JSON.stringify({ builtAt: startedAt.toISOString(), types: !flags.jsOnly })}\n`);
  utimesSync(stamp, startedAt, startedAt);
  if (!flags.quiet) {
    const ms = Date.now() - startedAt.getTime();
    process.stderr.write(`build: dist/ written in ${(ms / 1000).toFixed(1)} s\n`);
  }
}

await main();
