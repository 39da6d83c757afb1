import { mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse, type TestSuites } from 'junit2json';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type ResultJson, rerenderReport, writeReportIndex, writeRunReport } from '../../src/report/index.ts';
import { syntheticRun } from './helpers/synthetic.ts';
import { useTmpDir } from './helpers/tmp.ts';

const tmp = useTmpDir('report-store');
const startedAt = new Date('2026-11-24T06:30:00.123Z');

async function readResult(dir: string): Promise<ResultJson> {
  return JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ResultJson;
}

/** Runs the real CLI entry point, capturing stdout/stderr. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(['node', 'failover-lab', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('writeRunReport', () => {
  it('writes every artifact under <scenario>/<timestamp>/ and points latest at it', async () => {
    const root = join(tmp(), 'r1');
    const run = syntheticRun({ violation: true });
    const logsDir = join(tmp(), 'logs-src');
    await mkdir(join(logsDir, 'ctl-a'), { recursive: true });
    await writeFile(join(logsDir, 'ctl-a', 'stdout.log'), 'controller a says hi\n');
    await writeFile(join(logsDir, 'worker.log'), 'worker log\n');

    const { dir } = await writeRunReport(
      {
        scenario: 'isolate-primary',
        executor: 'real',
        history: run.history,
        verdict: run.verdict,
        startedAt,
        finishedAt: new Date(startedAt.getTime() + 4500),
        extra: { replay: 'npx failover-lab run scenarios/isolate-primary.yaml', resilienceScore: 80 },
        logsDir,
      },
      { reportsRoot: root },
    );
    expect(dir).toBe(join(root, 'isolate-primary', '20261124T063000.123Z'));
    expect((await readdir(dir)).sort()).toEqual(
      ['history.jsonl', 'junit.xml', 'logs', 'result.json', 'summary.md', 'timeline.html'].sort(),
    );
    expect(await readlink(join(root, 'isolate-primary', 'latest'))).toBe('20261124T063000.123Z');
    expect(await readFile(join(dir, 'logs', 'ctl-a', 'stdout.log'), 'utf8')).toBe('controller a says hi\n');

    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(history).toHaveLength(run.history.length);
    expect(JSON.parse(history[0]!).kind).toBe('meta');

    const r = await readResult(dir);
    expect(r.status).toBe('failed');
    expect(r.ok).toBe(false);
    expect(r.executor).toBe('real');
    expect(r.wallSeconds).toBe(4.5);
    expect(r.seed).toBe(42);
    expect(r.replay).toBe('npx failover-lab run scenarios/isolate-primary.yaml');
    expect(r.checks.map((c) => [c.name, c.outcome])).toEqual(
      run.verdict.outcomes.map((o) => [o.name, o.ok ? 'pass' : 'fail']),
    );
    expect(r.checks.find((c) => c.name === 'single-primary')!.violations[0]!.events.length).toBeGreaterThan(
      1,
    );
    expect(r.faults).toEqual([
      expect.objectContaining({
        id: 'f1',
        fault: 'isolate',
        target: 'a',
        startT: 10_000,
        endT: 30_000,
        durationMs: 20_000,
        applied: 'verified',
        reverted: 'verified',
      }),
    ]);
    expect(r.failover).toMatchObject({
      measuredMs: run.expected.failoverMs,
      boundMs: 6000,
      withinBound: true,
      source: 'verdict',
      fromRegion: 'a',
      toRegion: 'b',
    });
    expect(r.verdict).toEqual(run.verdict);
    expect(r.extra['resilienceScore']).toBe(80);
    expect(r.files['logs']).toBe('logs/');
    expect(r.stats.events).toBe(run.history.length);
  });

  it('derives the failover time from the history when the verdict has none', async () => {
    const run = syntheticRun({ verdictMeasuresFailover: false });
    const { dir } = await writeRunReport(
      { scenario: 'derived', executor: 'sim', history: run.history, verdict: run.verdict, startedAt },
      { reportsRoot: join(tmp(), 'r2') },
    );
    const r = await readResult(dir);
    expect(r.failover).toMatchObject({
      measuredMs: run.expected.failoverMs,
      boundMs: 6000,
      source: 'history',
    });
    expect(r.status).toBe('passed');
  });

  it('gives runs started in the same ms distinct, sortable directories; latest is the newest complete run', async () => {
    const root = join(tmp(), 'r3');
    const run = syntheticRun();
    const input = {
      scenario: 'same-ms',
      executor: 'sim' as const,
      history: run.history,
      verdict: run.verdict,
      startedAt,
    };
    const dirs = await Promise.all([1, 2, 3].map(() => writeRunReport(input, { reportsRoot: root })));
    const names = dirs.map((d) => basename(d.dir)).sort();
    expect(names).toEqual(['20261124T063000.123Z', '20261124T063000.123Z-001', '20261124T063000.123Z-002']);
    expect(await readlink(join(root, 'same-ms', 'latest'))).toBe('20261124T063000.123Z-002');
    const later = await writeRunReport(
      { ...input, startedAt: new Date(startedAt.getTime() + 1) },
      { reportsRoot: root },
    );
    expect(await readlink(join(root, 'same-ms', 'latest'))).toBe(basename(later.dir));
    // No temp files left next to the symlink or the artifacts.
    const leftovers = (await readdir(join(root, 'same-ms'))).filter((n) => n.includes('tmp'));
    expect(leftovers).toEqual([]);
  });

  it('latest ends at the newest complete run however concurrent writers interleave', async () => {
    // An older writer that listed the directory before a newer run completed must not leave
    // the link on its own run (this failed about once in four loaded CI runs before the fix).
    const root = join(tmp(), 'r3-race');
    const run = syntheticRun();
    for (let round = 0; round < 20; round++) {
      const scenario = `race-${round}`;
      const input = {
        scenario,
        executor: 'sim' as const,
        history: run.history,
        verdict: run.verdict,
        startedAt,
      };
      const dirs = await Promise.all(
        Array.from({ length: 8 }, () => writeRunReport(input, { reportsRoot: root })),
      );
      const newest = dirs
        .map((d) => basename(d.dir))
        .sort()
        .at(-1);
      expect(newest).toBe('20261124T063000.123Z-007');
      expect(await readlink(join(root, scenario, 'latest'))).toBe(newest);
    }
  });

  it('keeps scenario names from escaping the reports root', async () => {
    const run = syntheticRun();
    const root = join(tmp(), 'r4');
    const { dir } = await writeRunReport(
      {
        scenario: '../../etc/x y',
        executor: 'gameday',
        history: run.history,
        verdict: run.verdict,
        startedAt,
      },
      { reportsRoot: root },
    );
    expect(dir.startsWith(`${root}/`)).toBe(true);
    expect(basename(join(dir, '..'))).toBe('etc-x-y');
    expect((await readResult(dir)).scenario).toBe('../../etc/x y');
  });
});

describe('rerenderReport and `failover-lab report`', () => {
  it('re-renders deleted artifacts from history.jsonl + result.json, identical in substance', async () => {
    const run = syntheticRun({ violation: true });
    const { dir } = await writeRunReport(
      {
        scenario: 'rerender',
        executor: 'sim',
        history: run.history,
        verdict: run.verdict,
        startedAt,
        wallSeconds: 3,
      },
      { reportsRoot: join(tmp(), 'r5') },
    );
    const before = await readResult(dir);
    const junitBefore = await readFile(join(dir, 'junit.xml'), 'utf8');
    await rm(join(dir, 'timeline.html'));
    await rm(join(dir, 'junit.xml'));
    await rm(join(dir, 'summary.md'));

    const res = await cli('report', dir);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain('re-rendered');
    expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toBe(junitBefore);
    expect((await stat(join(dir, 'timeline.html'))).size).toBeGreaterThan(1000);
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toContain('FAILED');
    const after = await readResult(dir);
    expect(after).toEqual(before);
  });

  it('without result.json renders an unknown verdict and recomputes nothing', async () => {
    const run = syntheticRun({ violation: true });
    const { dir } = await writeRunReport(
      { scenario: 'no-result', executor: 'sim', history: run.history, verdict: run.verdict, startedAt },
      { reportsRoot: join(tmp(), 'r6') },
    );
    await rm(join(dir, 'result.json'));
    await rerenderReport(join(dir, '..', 'latest')); // through the symlink
    const r = await readResult(dir);
    expect(r.status).toBe('unknown');
    expect(r.verdict).toBeNull();
    expect(r.checks).toEqual([]);
    expect(r.startedAt).toBe(startedAt.toISOString()); // recovered from the directory name
    expect(r.failover.source).toBe('history');
    const junit = (await parse(await readFile(join(dir, 'junit.xml'), 'utf8'))) as TestSuites;
    expect(junit.failures).toBe(0);
    expect(junit.testsuite![0]!.skipped).toBe(1);
  });

  it('bad input exits 2 with one line naming file:line', async () => {
    const run = syntheticRun();
    const { dir } = await writeRunReport(
      { scenario: 'bad', executor: 'sim', history: run.history, verdict: run.verdict, startedAt },
      { reportsRoot: join(tmp(), 'r7') },
    );
    const lines = (await readFile(join(dir, 'history.jsonl'), 'utf8')).split('\n');
    lines[6] = '{"seq": 7, "t": 12, "kind": "role", oops}';
    await writeFile(join(dir, 'history.jsonl'), lines.join('\n'));
    const bad = await cli('report', dir);
    expect(bad.code).toBe(2);
    expect(bad.err.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(
      new RegExp(`^failover-lab: ${dir.replace(/[.]/g, '\\.')}/history\\.jsonl:7:\\d+: not valid JSON`),
    );

    const missing = await cli('report', join(tmp(), 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope: report directory not found');

    await writeFile(join(dir, 'history.jsonl'), run.history.map((e) => JSON.stringify(e)).join('\n'));
    await writeFile(join(dir, 'result.json'), '{\n  "scenario": "bad",\n  "verdict": nul\n}\n');
    const garbled = await cli('report', dir);
    expect(garbled.code).toBe(2);
    expect(garbled.err).toMatch(/result\.json:3:\d+: not valid JSON/);

    const nothing = await cli('report');
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain('give a run directory');
  });

  it('--index writes index.html with one row per run, newest first', async () => {
    const root = join(tmp(), 'r8');
    const ok = syntheticRun();
    const bad = syntheticRun({ violation: true });
    await writeRunReport(
      { scenario: 'alpha', executor: 'sim', history: ok.history, verdict: ok.verdict, startedAt },
      { reportsRoot: root },
    );
    await writeRunReport(
      {
        scenario: 'beta',
        executor: 'real',
        history: bad.history,
        verdict: bad.verdict,
        startedAt: new Date(startedAt.getTime() + 60_000),
      },
      { reportsRoot: root },
    );
    const res = await cli('report', '--index', '--reports-root', root);
    expect(res.code).toBe(0);
    const html = await readFile(join(root, 'index.html'), 'utf8');
    const rows = html.match(/<tr class="status-[a-z]+" data-testid="run-row">.*<\/tr>/g) ?? [];
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('beta');
    expect(rows[0]).toContain('failed');
    expect(rows[0]).toContain('single-primary');
    expect(rows[0]).toContain('href="beta/20261124T063100.123Z/timeline.html"');
    expect(rows[1]).toContain('alpha');
    expect(rows[1]).toContain('passed');
    expect(rows[1]).toContain(`${(ok.expected.failoverMs / 1000).toFixed(2)} s / 6.00 s`);
    expect(html).not.toMatch(/https?:\/\//);
    await expect(writeReportIndex(join(tmp(), 'no-such-root'))).rejects.toThrow(
      'reports directory not found',
    );
  });
});
