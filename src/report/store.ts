/**
 * The results store: reports/<scenario>/<timestamp>/ with a `latest` symlink per scenario
 * (after Jepsen's store/<test>/<date>/ + latest). Every file is written to a temp name and
 * renamed into place, so a reader never sees half a file, and the symlink is replaced with
 * rename(2), so `latest` is never missing. result.json is written last: a run directory with
 * result.json is complete, and only complete runs become `latest` or appear in the index.
 */
import {
  cp,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Verdict } from '../check/verdict.ts';
import type { ExecutorKind } from '../contracts/history.ts';
import { BadInputError } from '../errors.ts';
import { describeJsonError, jsonErrorLineCol, parseHistory, serializeHistory } from './history-io.ts';
import { type IndexRow, renderIndexPage } from './index-page.ts';
import { renderJunit } from './junit.ts';
import {
  type BuildModelInput,
  buildModel,
  buildResultJson,
  type ReportInput,
  type ResultJson,
} from './model.ts';
import { renderSummary } from './summary.ts';
import { renderTimeline } from './timeline.ts';

export const FILES = {
  result: 'result.json',
  history: 'history.jsonl',
  junit: 'junit.xml',
  summary: 'summary.md',
  timeline: 'timeline.html',
  logs: 'logs',
} as const;

const LATEST = 'latest';
/** 20261124T063000.123Z, optionally -NNN when several runs of a scenario start in the same ms. */
export const RUN_DIR_RE = /^\d{8}T\d{6}\.\d{3}Z(-\d{3})?$/;
const EXECUTORS: readonly ExecutorKind[] = ['sim', 'real', 'gameday'];

/** Sortable UTC timestamp used as the run directory name. */
export function runTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/** Scenario names become directory names: keep them to a safe alphabet, never a path. */
export function scenarioDirName(scenario: string): string {
  const safe = scenario.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return safe === '' ? 'unnamed' : safe.slice(0, 100);
}

/**
 * Writes every artifact of one run and points <scenario>/latest at the newest complete run.
 * history.jsonl is written first, so a renderer failure still leaves the raw history on disk.
 */
export async function writeRunReport(
  input: ReportInput,
  opts: { reportsRoot?: string } = {},
): Promise<{ dir: string }> {
  const root = resolve(opts.reportsRoot ?? join(process.cwd(), 'reports'));
  const scenarioDir = join(root, scenarioDirName(input.scenario));
  await mkdir(scenarioDir, { recursive: true });
  const dir = await claimRunDir(scenarioDir, runTimestamp(input.startedAt));

  await writeAtomic(join(dir, FILES.history), serializeHistory(input.history));
  const warnings: string[] = [];
  if (input.logsDir) {
    try {
      await cp(input.logsDir, join(dir, FILES.logs), { recursive: true });
    } catch (err) {
      warnings.push(`could not copy logs from ${input.logsDir}: ${(err as Error).message}`);
    }
  }
  const modelInput: BuildModelInput = {
    scenario: input.scenario,
    executor: input.executor,
    history: input.history,
    verdict: input.verdict,
    startedAt: input.startedAt,
    warnings,
  };
  if (input.finishedAt) modelInput.finishedAt = input.finishedAt;
  if (input.wallSeconds !== undefined) modelInput.wallSeconds = input.wallSeconds;
  if (input.extra) modelInput.extra = input.extra;
  await renderInto(dir, modelInput, input.logsDir !== undefined && warnings.length === 0);
  await updateLatest(scenarioDir);
  return { dir };
}

/** mkdir without `recursive` fails if the name exists: that is the atomic claim. */
async function claimRunDir(scenarioDir: string, stamp: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const name = i === 0 ? stamp : `${stamp}-${String(i).padStart(3, '0')}`;
    const dir = join(scenarioDir, name);
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`more than 1000 runs of ${basename(scenarioDir)} started at ${stamp}`);
}

async function renderInto(dir: string, input: BuildModelInput, hasLogs: boolean): Promise<ResultJson> {
  const model = buildModel(input);
  await writeAtomic(join(dir, FILES.junit), renderJunit(model));
  await writeAtomic(join(dir, FILES.summary), renderSummary(model));
  await writeAtomic(join(dir, FILES.timeline), renderTimeline(model));
  const files: Record<string, string> = {
    history: FILES.history,
    junit: FILES.junit,
    summary: FILES.summary,
    timeline: FILES.timeline,
  };
  if (hasLogs) files['logs'] = `${FILES.logs}/`;
  const result = buildResultJson(model, files);
  await writeAtomic(join(dir, FILES.result), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/**
 * A temp name no other writer picks: the pid tells processes apart, the counter this process's
 * own concurrent writes, and the random part hosts sharing a reports directory. Not
 * node:crypto: loading it was a measurable part of a short `sim`'s start-up (issue #18).
 */
let tmpSeq = 0;
function tmpSuffix(): string {
  tmpSeq++;
  const rand = Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  return `${process.pid}-${tmpSeq}-${rand}`;
}

async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${tmpSuffix()}`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Points <scenarioDir>/latest at the newest run directory that has a result.json.
 * Concurrent writers race: an older run can list the directory before a newer run's
 * result.json lands and rename its link over the newer one's. So after each rename, look
 * again and repeat until the link already names the newest complete run: whoever renames
 * last then also checks last, so the link ends at the newest complete run.
 */
async function updateLatest(scenarioDir: string): Promise<void> {
  for (let pass = 0; pass < 20; pass++) {
    const newest = await newestCompleteRun(scenarioDir);
    if (!newest) return;
    if (pass > 0 && (await latestTarget(scenarioDir)) === newest) return;
    const tmp = join(scenarioDir, `.${LATEST}.tmp-${tmpSuffix()}`);
    await symlink(newest, tmp);
    try {
      await rename(tmp, join(scenarioDir, LATEST));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

async function newestCompleteRun(scenarioDir: string): Promise<string | null> {
  for (const name of (await listRunDirs(scenarioDir)).reverse()) {
    if (await exists(join(scenarioDir, name, FILES.result))) return name;
  }
  return null;
}

async function latestTarget(scenarioDir: string): Promise<string | null> {
  try {
    return await readlink(join(scenarioDir, LATEST));
  } catch {
    return null;
  }
}

/** Run directory names in a scenario directory, oldest first (the names sort by time); `latest` is a symlink, not listed. */
async function listRunDirs(scenarioDir: string): Promise<string[]> {
  const entries = await readdir(scenarioDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && RUN_DIR_RE.test(e.name))
    .map((e) => e.name)
    .sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Re-renders junit.xml, summary.md, timeline.html and result.json of a run directory from its
 * history.jsonl, taking the verdict and run metadata from result.json when it is there.
 * Nothing is recomputed: without result.json the verdict is "unknown". logs/ and `latest`
 * are left alone. Bad input (missing directory, unreadable line) → BadInputError naming file:line.
 */
export async function rerenderReport(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new BadInputError('report directory not found', dir);
  if (!info.isDirectory()) throw new BadInputError('not a report directory (expected a directory)', dir);
  const historyPath = join(dir, FILES.history);
  const historyText = await readFile(historyPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT')
      throw new BadInputError('missing history.jsonl: not a run directory', historyPath);
    throw err;
  });
  const history = parseHistory(historyText, historyPath);
  if (history.length === 0) throw new BadInputError('history is empty', `${historyPath}:1`);
  const previous = await readResultJson(join(dir, FILES.result));
  const meta = history[0]?.kind === 'meta' ? history[0] : null;
  // `report reports/x/latest` works too: the run's timestamp is the real directory's name.
  const runDirName = basename(await realpath(dir));

  const scenario = previous?.scenario ?? meta?.scenario ?? basename(dirname(await realpath(dir)));
  const executor = pickExecutor(previous?.executor) ?? pickExecutor(meta?.executor) ?? 'sim';
  const startedAt = parseDate(previous?.startedAt) ?? dateFromRunDir(runDirName) ?? new Date(0);
  const input: BuildModelInput = {
    scenario,
    executor,
    history,
    verdict: previous?.verdict ?? null,
    startedAt,
    finishedAt: parseDate(previous?.finishedAt),
    wallSeconds: typeof previous?.wallSeconds === 'number' ? previous.wallSeconds : null,
    extra: previous?.extra ?? {},
  };
  if (!previous) input.warnings = ['re-rendered without result.json: verdict unknown'];
  await renderInto(dir, input, await exists(join(dir, FILES.logs)));
}

/** Reads result.json for re-rendering; missing → null, garbled → BadInputError with line:col. */
async function readResultJson(path: string): Promise<Partial<ResultJson> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const at = jsonErrorLineCol(text);
    if (at) throw new BadInputError(`not valid JSON: ${at.problem}`, `${path}:${at.line}:${at.col}`);
    throw new BadInputError(`not valid JSON: ${describeJsonError(err, text).message}`, path);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadInputError('expected a JSON object', path);
  }
  const v = value as Partial<ResultJson>;
  if (v.verdict !== undefined && v.verdict !== null && !isVerdict(v.verdict)) {
    throw new BadInputError('"verdict" is not a checker verdict (needs ok, outcomes[], violations[])', path);
  }
  return v;
}

function isVerdict(v: unknown): v is Verdict {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['ok'] === 'boolean' && Array.isArray(o['outcomes']) && Array.isArray(o['violations']);
}

function pickExecutor(v: unknown): ExecutorKind | null {
  return EXECUTORS.includes(v as ExecutorKind) ? (v as ExecutorKind) : null;
}

function parseDate(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** 20261124T063000.123Z[-001] → Date. */
export function dateFromRunDir(name: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(name);
  if (!m) return null;
  return parseDate(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

/** Writes <reportsRoot>/index.html over every run found; returns its path. */
export async function writeReportIndex(reportsRoot: string): Promise<string> {
  const root = resolve(reportsRoot);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new BadInputError('reports directory not found', reportsRoot);
  const rows = await collectIndexRows(root);
  const path = join(root, 'index.html');
  await writeAtomic(path, renderIndexPage(rows, new Date()));
  return path;
}

/** One row per run directory, newest first; an unreadable result.json is shown, not fatal. */
export async function collectIndexRows(root: string): Promise<IndexRow[]> {
  const rows: IndexRow[] = [];
  const scenarios = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory());
  for (const s of scenarios) {
    const scenarioDir = join(root, s.name);
    for (const run of await listRunDirs(scenarioDir)) {
      const runDir = join(scenarioDir, run);
      const row: IndexRow = {
        scenario: s.name,
        runDir: run,
        relDir: `${s.name}/${run}`,
        startedAt: dateFromRunDir(run)?.toISOString() ?? null,
        executor: null,
        status: 'incomplete',
        failoverMs: null,
        failoverBoundMs: null,
        failoverWithinBound: null,
        failedChecks: [],
        hasTimeline: await exists(join(runDir, FILES.timeline)),
        problem: null,
      };
      try {
        const r = JSON.parse(await readFile(join(runDir, FILES.result), 'utf8')) as Partial<ResultJson>;
        row.scenario = typeof r.scenario === 'string' ? r.scenario : row.scenario;
        row.startedAt = typeof r.startedAt === 'string' ? r.startedAt : row.startedAt;
        row.executor = typeof r.executor === 'string' ? r.executor : null;
        row.status = typeof r.status === 'string' ? r.status : 'unknown';
        row.failoverMs = typeof r.failover?.measuredMs === 'number' ? r.failover.measuredMs : null;
        row.failoverBoundMs = typeof r.failover?.boundMs === 'number' ? r.failover.boundMs : null;
        row.failoverWithinBound =
          typeof r.failover?.withinBound === 'boolean' ? r.failover.withinBound : null;
        row.failedChecks = Array.isArray(r.checks)
          ? r.checks.filter((c) => c?.outcome === 'fail').map((c) => String(c.name))
          : [];
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        row.problem = code === 'ENOENT' ? 'no result.json (incomplete run)' : 'unreadable result.json';
      }
      rows.push(row);
    }
  }
  rows.sort(
    (a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.scenario.localeCompare(b.scenario),
  );
  return rows;
}
