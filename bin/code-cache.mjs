// Runs a CommonJS bundle (dist/cli.cjs) with V8's code cache, so a command's start-up does not
// parse and compile the same ~2 MB of JavaScript on every run. Node 20 has no compile cache for
// ES modules (module.enableCompileCache arrived in Node 22.1); vm.Script takes one for scripts.
//
// The cache is written once per command, at the end of a run that found none (or a stale one),
// so it holds the bytecode of every function that run compiled — the simulator's included, not
// just the top level: ~100 of the ~520 ms of CPU of `sim --lease-backend kv --runs 300 --seed 1`
// (measured at load 5-9).
// One file per command: `--help` compiles little, and its cache would leave `sim` cold.
//
// Where: FAILOVER_LAB_CODE_CACHE (a directory, or 0 for none), else dist/.code-cache beside the
// bundle. Whoever can write there can already change dist/; a read-only install runs uncached.
// A cache file names the exact bundle (node version, size, mtime, inode: a rebuild renames a new
// file into place) and V8 rejects one made by another V8 or other flags; either way the run
// compiles from source and writes a fresh one. Files are written to a temp name and renamed, so a
// concurrent start reads a whole file or none.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

function cacheDirFor(bundle) {
  const env = process.env.FAILOVER_LAB_CODE_CACHE;
  if (env === '0') return null;
  return env || join(dirname(bundle), '.code-cache');
}

/** the cached data for `key`, or undefined (no file, another bundle, unreadable) */
function readCache(file, key) {
  try {
    const buf = readFileSync(file);
    const nl = buf.indexOf(10);
    return nl > 0 && buf.toString('utf8', 0, nl) === key ? buf.subarray(nl + 1) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(file, key, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${key}\n`), data]));
    renameSync(tmp, file);
  } catch {
    // read-only install, full disk: the next run compiles from source, as without a cache
  }
}

/** require() as the bundle's import() calls use it: also given a file: URL (src/prebuilt.ts) */
function requireForBundle(bundle) {
  const base = createRequire(bundle);
  const req = (id) => base(id.startsWith('file:') ? fileURLToPath(id) : id);
  req.resolve = base.resolve;
  req.cache = base.cache;
  return req;
}

/**
 * Loads `bundle` (CommonJS) and returns its exports. With `cacheName`, uses and, when it had
 * none that fitted and `cacheIf(exports)` agrees as the process exits, writes
 * <cache dir>/<cacheName>.bin then.
 */
export function loadWithCodeCache(bundle, cacheName, cacheIf = () => true) {
  const source = readFileSync(bundle, 'utf8');
  const dir = cacheName ? cacheDirFor(bundle) : null;
  const cacheFile = dir ? join(dir, `${cacheName}.bin`) : null;
  let key = '';
  let cachedData;
  if (cacheFile) {
    const st = statSync(bundle);
    key = `${process.version} ${process.arch} ${st.size} ${st.mtimeMs} ${st.ino}`;
    cachedData = readCache(cacheFile, key);
  }
  // no import() inside: the build turns it into require() (scripts/build.mjs says why)
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, requireForBundle(bundle), module, bundle, dirname(bundle));
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    process.once('exit', () => {
      if (cacheIf(module.exports)) writeCache(cacheFile, key, script.createCachedData());
    });
  }
  return module.exports;
}
