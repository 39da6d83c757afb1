/**
 * `failover-lab demo` (the main job) on one catalog scenario, through the CLI: the row it
 * prints, the report it writes and the index, and that its failover figure is the report's.
 * one-witness-down is the case where the figures could disagree: its first fault (a witness)
 * comes before the region loss (the crash).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryTable } from '../../src/cli/commands/demo.ts';
import { runCli } from './cli.ts';

const out = mkdtempSync(join(tmpdir(), 'fl-demo-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  scenario: string;
  status: string;
  failoverSeconds: number | null;
  failoverProductionSeconds: number | null;
  faultsVerified: boolean;
  reportDir: string;
}

describe('demo', () => {
  it('--only one scenario: a passing row, a report and an index; the failover shown is the report’s', async () => {
    const res = await runCli(['demo', '--only', 'one-witness-down', '--json', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    // live progress on stderr, the rows on stdout
    expect(res.stderr).toMatch(/one-witness-down: .*witness-down w1/);
    const rows = JSON.parse(res.stdout) as Row[];
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ scenario: 'one-witness-down', status: 'pass', faultsVerified: true });
    expect(row.reportDir.startsWith(out)).toBe(true);
    const result = JSON.parse(readFileSync(join(row.reportDir, 'result.json'), 'utf8')) as {
      status: string;
      failover: { measuredMs: number; boundMs: number; lostCause: string; withinBound: boolean | null };
    };
    expect(result.status).toBe('passed');
    // measured from the crash (the region loss), not from the witness fault before it
    expect(result.failover.lostCause).toMatch(/crash a/);
    expect(row.failoverSeconds).toBeCloseTo(result.failover.measuredMs / 1000, 6);
    expect(row.failoverProductionSeconds).toBeCloseTo(result.failover.measuredMs / 100, 6); // scale 0.1
    // a passing report never calls its failover over the bound
    expect(result.failover.withinBound).not.toBe(false);
    expect(readFileSync(join(row.reportDir, 'summary.md'), 'utf8')).not.toMatch(/OVER BOUND/);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('one-witness-down');
  });

  it('--only with an unknown scenario exits 2 with one line and runs nothing', async () => {
    const res = await runCli(['demo', '--only', 'no-such-scenario', '--out', join(out, 'none')]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/no-such-scenario/);
    expect(existsSync(join(out, 'none'))).toBe(false);
  });
});

describe('summaryTable', () => {
  const row = (scenario: string, failoverSeconds: number | null, failoverJudged: boolean) => ({
    scenario,
    status: 'pass' as const,
    detail: '',
    failoverSeconds,
    failoverProductionSeconds: failoverSeconds === null ? null : failoverSeconds * 10,
    failoverJudged,
    wallSeconds: 10,
    bootSeconds: 0.5,
    faultsVerified: true,
    reportDir: null,
  });

  it('marks a failover figure the checker did not judge against the bound, with a footnote', () => {
    const table = summaryTable([
      row('crash', 2.95, true),
      row('paused', 4.92, false),
      row('cut', null, false),
    ]);
    const lines = table.split('\n');
    expect(lines.find((l) => l.startsWith('crash'))).toMatch(/2\.95 s \/ 29\.5 s\s+10\.0 s/);
    expect(lines.find((l) => l.startsWith('paused'))).toMatch(/4\.92 s \/ 49\.2 s \*/);
    expect(lines.find((l) => l.startsWith('cut'))).toMatch(/cut\s+PASS\s+-\s/);
    expect(table).toMatch(/^\* .*not judged against the failover bound$/m);
    expect(table).toMatch(/3\/3 scenarios passed$/);
    // no footnote when every figure was judged
    expect(summaryTable([row('crash', 2.95, true)])).not.toMatch(/^\*/m);
  });
});
