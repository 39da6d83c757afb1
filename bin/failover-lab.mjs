#!/usr/bin/env node
// Entry point for `npx failover-lab`: runs the compiled CLI in dist/ (scripts/build.mjs).
//
// Installed package: dist/ is all there is (no TypeScript at run time, no tsx). A named command
// runs dist/cli.cjs through V8's code cache (code-cache.mjs); the rest runs dist/cli.js.
// Checkout (scripts/build.mjs is present): dist/ is used when it is newer than every source
// file (bin/freshness.mjs). When it is stale or missing, the sources run through tsx (a dev
// dependency) instead of rebuilding here: tests and the topology start many CLI processes at
// once, and none of them should race another on writing dist/. `npm run build` or
// `npm run setup` (which `npm test` and `npm run demo` run first) brings dist/ up to date.
//
// The launcher is also the script of the CLI's worker threads (`sim --workers N`): a worker
// gets { failoverLabEntry, compiled } as workerData and loads that entry the way its main
// thread loaded the CLI (dist/ or source), so both run the same code even if a rebuild or an
// edit lands in between.
// first: esbuild reads its binary path when it is imported (src/cli/esbuild-session.mjs says why)
import '../src/cli/esbuild-session.mjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, workerData } from 'node:worker_threads';

const root = fileURLToPath(new URL('..', import.meta.url));
/** entry → [compiled file, source file] (scripts/build.mjs ENTRY_POINTS) */
const ENTRIES = {
  cli: ['../dist/cli.js', '../src/cli/main.ts'],
  'sim-worker': ['../dist/sim-worker.js', '../simulator/parallel-worker.ts'],
};
const LAUNCHER = Symbol.for('failover-lab.launcher');

/** dist/ (true) or the sources through tsx (false) */
async function chooseCompiled() {
  if (!existsSync(new URL('../scripts/build.mjs', import.meta.url))) return true;
  // benchmarks of the installed package's start-up right after a build, in a checkout whose
  // sources other work keeps editing: FAILOVER_LAB_USE_DIST=1 skips the freshness check
  if (process.env.FAILOVER_LAB_USE_DIST === '1') return true;
  const { isBuildFresh } = await import('./freshness.mjs');
  return process.env.FAILOVER_LAB_FROM_SOURCE !== '1' && isBuildFresh(root);
}

/**
 * A named command runs dist/cli.cjs through V8's code cache (code-cache.mjs), one cache file per
 * command; `--help`, `help`, no command or an option first run the split ES build (dist/cli.js),
 * which loads no command module at all and needs no cache to start at once.
 */
function commandOf(argv) {
  const name = argv[2];
  return name !== undefined && name !== 'help' && /^[a-z][a-z0-9-]*$/.test(name) ? name : null;
}

async function loadEntry(name, compiled) {
  const [js, ts] = ENTRIES[name];
  const jsUrl = new URL(js, import.meta.url);
  const command = name === 'cli' && compiled ? commandOf(process.argv) : null;
  const bundle = new URL('../dist/cli.cjs', import.meta.url);
  if (command !== null && existsSync(bundle)) {
    const { loadWithCodeCache } = await import('./code-cache.mjs');
    // The cache keeps what this run compiled, until the next build: so only a run that did the
    // command's work writes it (exit 0 or 1), not --help or a rejected flag (a `sim --help`
    // first would leave every later `sim` compiling the simulator), and only for a real command.
    const didWork = (cli) =>
      cli.commandNames.includes(command) &&
      !process.argv.some((a) => a === '--help' || a === '-h') &&
      (process.exitCode === 0 || process.exitCode === 1);
    return loadWithCodeCache(fileURLToPath(bundle), command, didWork);
  }
  if (compiled) {
    if (!existsSync(jsUrl)) {
      process.stderr.write(`failover-lab: ${fileURLToPath(jsUrl)} is missing: this package was not built\n`);
      process.exit(3);
    }
    return import(jsUrl.href);
  }
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch (err) {
    const missing = err?.code === 'ERR_MODULE_NOT_FOUND';
    process.stderr.write(
      missing
        ? 'failover-lab: dist/ is stale or missing and tsx is not installed: run `npm run build`\n'
        : `failover-lab: dist/ is stale and tsx could not be loaded (${err?.message ?? err}): run \`npm run build\`\n`,
    );
    process.exit(3);
  }
  return import(new URL(ts, import.meta.url).href);
}

// Stack traces through the source maps (into src/*.ts) only on request: turning them on makes
// Node parse every loaded chunk's map at start-up (tens of ms), and the CLI prints an internal
// error's stack only with FAILOVER_LAB_DEBUG set anyway.
if (process.env.FAILOVER_LAB_DEBUG) process.setSourceMapsEnabled(true);
// The commands that host the real topology (miniflare and the fault proxies in this process)
// keep V8's young generation at its initial size instead of letting it double up to 16 MiB per
// semi-space while miniflare's 3.8 MB and the CLI load: that growth stays resident for the
// whole run (measured: harness RSS once the topology is up 127 -> 111 MB, boot unchanged).
// Set before anything big is loaded; V8 reads this flag at each young-generation resize.
// `sim` and the other commands keep V8's default (not measured with this setting).
const HOSTS_TOPOLOGY = new Set(['up', 'run', 'demo', 'gameday', 'fidelity', 'worker']);
if (isMainThread && HOSTS_TOPOLOGY.has(commandOf(process.argv))) {
  setFlagsFromString('--semi-space-growth-factor=1');
}
if (!isMainThread && workerData?.failoverLabEntry === 'sim-worker') {
  const { serveSearchRanges } = await loadEntry('sim-worker', workerData.compiled === true);
  serveSearchRanges();
} else {
  const compiled = await chooseCompiled();
  // what a command needs to start worker threads running this same code
  globalThis[LAUNCHER] = { script: fileURLToPath(import.meta.url), compiled };
  const { main } = await loadEntry('cli', compiled);
  process.exitCode = await main(process.argv);
}
