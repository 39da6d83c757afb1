#!/usr/bin/env node
// The realistic bug zoo (`npm run mutate:bugs`): plants each bug of
// test/mutation/realistic-bugs.ts alone in a sandbox copy of what the mutation kill test needs
// (.bugzoo-tmp/<id>/), runs the unchanged kill test there and records whether it caught the
// bug, the first failing test, its first violation line and the seconds it took. Writes
// reports/mutation/bugs.json and prints a table. Stryker's mutants are syntactic; these are
// the mistakes the simulator is for, so caught/total is the number to watch.
//
// Usage: node scripts/bug-zoo.mjs [id ...] [--concurrency N] [--timeout S] [--out FILE]
//                                  [--rev REV] [--typecheck] [--list]
//   id ...         only these bugs (default: all); the report then goes to bugs-subset.json
//   --rev          sandboxes from that commit (git archive), not the working tree: a fixed
//                  snapshot while others edit the tree (their half-done edits are not measured)
//   --concurrency  bugs run at once (default 2: the machine has 2 cores)
//   --timeout      seconds before a run is stopped and counted as caught (timeout), default 300
//   --typecheck    instead of the kill test, run tsc over each sandbox (does the bug compile?)
//   --list         print the bugs and exit
// Heavy: run it under `flock /tmp/fl-heavy.lock`. Exit codes: 0 ran (whatever the score),
// 2 bad list or arguments, 3 infrastructure failure.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TMP = join(ROOT, '.bugzoo-tmp');
const VITEST = join(ROOT, 'node_modules/.bin/vitest');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const REPORTER = join(ROOT, 'scripts/bug-zoo-reporter.mjs');
/**
 * What the kill test reads: the code under test and the simulator, the scenario catalog
 * (src/runner/catalog.ts finds it next to the package.json that src/package-root.ts walks up
 * to, so the sandbox's own package.json makes the sandbox the package root), the test itself
 * and its config. node_modules is not copied: Node and vitest find /work/main's by walking up.
 */
const COPY = [
  'src',
  'simulator',
  'scenarios',
  'test/mutation',
  'package.json',
  'tsconfig.json',
  'vitest.mutation.config.ts',
];

function usage(msg) {
  process.stderr.write(`bug-zoo: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { ids: [], concurrency: 2, timeoutS: 300, out: null, rev: null, typecheck: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usage(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--concurrency') o.concurrency = num();
    else if (a === '--timeout') o.timeoutS = num();
    else if (a === '--out') o.out = argv[++i] ?? usage('--out needs a file');
    else if (a === '--rev') o.rev = argv[++i] ?? usage('--rev needs a commit');
    else if (a === '--typecheck') o.typecheck = true;
    else if (a === '--list') o.list = true;
    else if (a.startsWith('--')) usage(`unknown flag ${a}`);
    else o.ids.push(a);
  }
  return o;
}

const git = (args, opts = {}) => execFileSync('git', args, { cwd: ROOT, maxBuffer: 1 << 28, ...opts });

/** A file of the package: from the working tree, or from commit `rev`; null when absent. */
function sourceText(path, rev) {
  if (rev === null) return existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : null;
  try {
    return git(['show', `${rev}:${path}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
  } catch {
    return null;
  }
}

/** Every bug must name an existing file whose text holds `find` exactly once. */
function validate(bugs, rev) {
  const problems = [];
  const seen = new Set();
  for (const b of bugs) {
    if (seen.has(b.id)) problems.push(`${b.id}: duplicate id`);
    seen.add(b.id);
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(b.id)) problems.push(`${b.id}: id must be kebab-case`);
    const text = sourceText(b.file, rev);
    if (text === null) {
      problems.push(`${b.id}: no file ${b.file}`);
      continue;
    }
    const n = text.split(b.find).length - 1;
    if (n !== 1) problems.push(`${b.id}: find occurs ${n} times in ${b.file} (must be once)`);
    if (b.find === b.replace) problems.push(`${b.id}: replace equals find`);
  }
  return problems;
}

/** Sandbox copy with the bug planted. */
function makeSandbox(bug, rev) {
  const dir = join(TMP, bug.id);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (rev === null) for (const p of COPY) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  else execFileSync('tar', ['-x', '-C', dir], { input: git(['archive', rev, '--', ...COPY]) });
  if (bug.file === null) return dir; // the baseline: nothing planted
  const file = join(dir, bug.file);
  const text = readFileSync(file, 'utf8');
  const parts = text.split(bug.find);
  if (parts.length !== 2) throw new Error(`${bug.id}: find no longer occurs once in ${bug.file}`);
  writeFileSync(file, parts.join(bug.replace));
  return dir;
}

const children = new Set();

/** Runs `cmd` in its own process group; kills the group after `timeoutS`. */
function run(cmd, args, cwd, timeoutS, env = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      done({ code, timedOut, out });
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The first violation a failure shows: a catalog run's line, a search finding, or an error. */
function violationOf(failed) {
  const actual = typeof failed.actual === 'string' ? failed.actual : '';
  const catalog = / *"?([^"\n]* seed \d+: [^"\n]*)"?,?/.exec(actual);
  if (catalog) return { violation: catalog[1].trim(), detector: / seed \d+: (\S+)/.exec(catalog[1])[1] };
  const invariant = /"invariant": "([^"]+)"/.exec(actual) ?? /"invariants": \[\s*"([^"]+)"/.exec(actual);
  const detail = /"detail": "((?:[^"\\]|\\.)*)"/.exec(actual);
  if (invariant) return { violation: `${invariant[1]}: ${detail?.[1] ?? ''}`, detector: invariant[1] };
  const text = (actual || failed.message).replace(/\s+/g, ' ').trim();
  return { violation: text, detector: actual ? 'simulator error' : 'assertion' };
}

async function killTest(dir, timeoutS) {
  const resultFile = join(dir, 'bugzoo-result.json');
  const r = await run(
    VITEST,
    ['run', '--config', 'vitest.mutation.config.ts', '--bail', '1', '--reporter', REPORTER],
    dir,
    timeoutS,
    { BUGZOO_RESULT: resultFile },
  );
  if (r.timedOut) {
    return { status: 'caught', detector: 'timeout', test: null, violation: `no verdict in ${timeoutS} s` };
  }
  const res = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : null;
  if (res?.failed) {
    const { violation, detector } = violationOf(res.failed);
    return { status: 'caught', detector, test: res.failed.name, violation: violation.slice(0, 400) };
  }
  if (r.code === 0 && res && res.errors.length === 0) {
    return { status: 'missed', detector: null, test: null, violation: null };
  }
  // no verdict: the sandbox or the module load is broken (not a catch)
  const why = res?.errors.join(' | ') || r.out.split('\n').filter(Boolean).slice(-5).join(' | ');
  return { status: 'error', detector: null, test: null, violation: why.slice(0, 400) };
}

async function typecheck(dir, timeoutS) {
  const r = await run(TSC, ['--noEmit', '-p', 'tsconfig.json'], dir, timeoutS);
  if (r.timedOut) return { compiles: null, tscErrors: `tsc timed out after ${timeoutS} s` };
  const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l));
  return { compiles: r.code === 0, tscErrors: errors.slice(0, 3).join(' | ') || null };
}

async function runOne(bug, o) {
  const started = process.hrtime.bigint();
  const dir = join(TMP, bug.id);
  let r;
  try {
    makeSandbox(bug, o.rev);
    r = o.typecheck ? await typecheck(dir, o.timeoutS) : await killTest(dir, o.timeoutS);
  } catch (err) {
    // e.g. the file moved under a working-tree run: this bug has no verdict, the others may
    r = { status: 'error', detector: null, test: null, violation: String(err?.message ?? err) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { id: bug.id, file: bug.file, class: bug.class, ...r, seconds: Math.round(seconds * 10) / 10 };
}

async function runAll(bugs, o, onDone) {
  const results = new Array(bugs.length);
  let next = 0;
  const worker = async () => {
    while (next < bugs.length) {
      const i = next++;
      results[i] = await runOne(bugs[i], o);
      onDone(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, bugs.length) }, worker));
  return results;
}

function progressLine(r, done, total) {
  const what =
    r.compiles !== undefined
      ? r.compiles
        ? 'compiles'
        : `DOES NOT COMPILE: ${r.tscErrors}`
      : r.status === 'caught'
        ? `CAUGHT by ${r.detector}${r.test ? ` in "${r.test.slice(0, 60)}"` : ''}`
        : r.status === 'missed'
          ? 'missed'
          : `ERROR: ${r.violation}`;
  return `[${done}/${total}] ${r.id} (${r.seconds} s): ${what}\n`;
}

function table(results) {
  const rows = results.map((r) => [
    r.id,
    r.class,
    r.compiles !== undefined ? (r.compiles ? 'compiles' : 'no-compile') : r.status,
    r.detector ?? r.tscErrors ?? '',
    `${r.seconds}`,
  ]);
  const head = ['id', 'class', 'result', 'detector', 's'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function cleanup() {
  for (const c of children) killGroup(c);
  rmSync(TMP, { recursive: true, force: true });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { REALISTIC_BUGS } = await tsImport('../test/mutation/realistic-bugs.ts', import.meta.url);
  if (o.rev !== null) {
    try {
      o.rev = git(['rev-parse', '--verify', `${o.rev}^{commit}`], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      usage(`--rev ${o.rev}: no such commit`);
    }
  }
  const problems = validate(REALISTIC_BUGS, o.rev);
  if (problems.length > 0) usage(`the bug list is out of date:\n  ${problems.join('\n  ')}`);
  const unknown = o.ids.filter((id) => !REALISTIC_BUGS.some((b) => b.id === id));
  if (unknown.length > 0) usage(`no such bug: ${unknown.join(', ')}`);
  const bugs = o.ids.length > 0 ? REALISTIC_BUGS.filter((b) => o.ids.includes(b.id)) : REALISTIC_BUGS;
  if (o.list) {
    for (const b of bugs) console.log(`${b.id.padEnd(40)} ${b.class.padEnd(18)} ${b.file}`);
    return;
  }
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      process.stderr.write(`bug-zoo: ${sig}, removing the sandboxes\n`);
      cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  const t0 = process.hrtime.bigint();
  let done = 0;
  let results;
  let baseline;
  try {
    // Unplanted first: a kill test that fails on its own would "catch" every bug.
    baseline = await runOne({ id: 'baseline', file: null, class: null }, o);
    const ok = o.typecheck ? baseline.compiles : baseline.status === 'missed';
    process.stderr.write(
      `[baseline] unmodified sandbox (${baseline.seconds} s): ${ok ? 'passes' : 'FAILS'}\n`,
    );
    if (baseline.status !== 'missed' && !o.typecheck) {
      throw new Error(`the unmodified kill test does not pass in a sandbox: ${baseline.violation}`);
    }
    results = await runAll(bugs, o, (r) => process.stderr.write(progressLine(r, ++done, bugs.length)));
  } finally {
    cleanup();
  }
  const wallS = Math.round(Number(process.hrtime.bigint() - t0) / 1e8) / 10;
  console.log(table(results));
  const load = {
    start: loadStart.map((x) => Math.round(x * 100) / 100),
    end: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  if (o.typecheck) {
    const bad = results.filter((r) => !r.compiles);
    console.log(`\n${results.length - bad.length}/${results.length} compile; wall ${wallS} s`);
    if (bad.length > 0) process.exitCode = 2;
    return;
  }
  const caught = results.filter((r) => r.status === 'caught').length;
  const errors = results.filter((r) => r.status === 'error').length;
  const report = {
    caught,
    total: results.length,
    score: Math.round((10000 * caught) / results.length) / 100,
    errors,
    startedAt,
    wallS,
    load,
    concurrency: o.concurrency,
    baselineS: baseline.seconds,
    source: o.rev === null ? 'working tree' : `commit ${o.rev}`,
    bugs: results.map((r) => ({ ...r, why: bugs.find((b) => b.id === r.id).why })),
  };
  const out = resolve(
    ROOT,
    o.out ?? (o.ids.length > 0 ? 'reports/mutation/bugs-subset.json' : 'reports/mutation/bugs.json'),
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `\ncaught ${caught}/${results.length} (${report.score} %)${errors ? `, ${errors} errors` : ''}; wall ${wallS} s; load ${load.start.join(' ')} → ${load.end.join(' ')}; ${out}`,
  );
  if (errors > 0) process.exitCode = 3;
}

main().catch((err) => {
  process.stderr.write(`bug-zoo: ${err?.stack ?? err}\n`);
  cleanup();
  process.exit(3);
});
