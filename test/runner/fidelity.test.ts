/**
 * `failover-lab fidelity` through the CLI on one scenario with three simulator seeds and one
 * real run: the JSON file, the table, progress on stderr, and an exit code that says whether
 * the scenario agreed (0) or not (1) — it is a measurement, so either may come; what must hold
 * is that the code and the file say the same. A missing component (PowerDNS, unbound, workerd)
 * fails the real run with exit 3, and the assertion prints the CLI's stderr naming it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fl-fidelity-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  scenario: string;
  agree: boolean;
  verdictAgree: boolean;
  sim: { seeds: number[]; passed: number };
  real: { runs: number; passed: number };
  timed: Array<{
    name: string;
    sim: { n: number; minMs: number; maxMs: number } | null;
    real: number[];
    status: string;
  }>;
  realRuns: Array<{ status: string }>;
}

describe('fidelity', () => {
  it('one scenario, 3 sim seeds + 1 real run: file, table and exit code agree', async () => {
    const out = join(dir, 'fidelity.json');
    const res = await runCli([
      'fidelity',
      '--only',
      'primary-region-crash',
      '--sim-seeds',
      '3',
      '--out',
      out,
      '--no-report',
    ]);
    expect([0, 1], `exit ${res.code}; stderr:\n${res.stderr}`).toContain(res.code);
    expect(res.stderr).toMatch(/\[1\/1\] primary-region-crash/);
    expect(res.stderr).toMatch(/sim: 3\/3 seeds pass/);
    expect(res.stderr).toMatch(/real run 1\/1: PASS/);
    const file = JSON.parse(readFileSync(out, 'utf8')) as {
      complete: boolean;
      simSeeds: { first: number; count: number };
      scenarios: Row[];
    };
    expect(file.complete).toBe(true);
    expect(file.simSeeds).toEqual({ first: 1, count: 3 });
    const row = file.scenarios[0]!;
    expect(row).toMatchObject({ scenario: 'primary-region-crash', verdictAgree: true });
    expect(row.sim).toMatchObject({ seeds: [1, 2, 3], passed: 3 });
    expect(row.real).toMatchObject({ runs: 1, passed: 1 });
    // failover-within is its timed measurement: a figure from every seed and from the real run
    expect(row.timed.map((t) => t.name)).toEqual(['failover']);
    const failover = row.timed[0]!;
    expect(failover.sim!.n).toBe(3);
    expect(failover.real).toHaveLength(1);
    expect(failover.status).toBe(
      failover.real[0]! >= failover.sim!.minMs && failover.real[0]! <= failover.sim!.maxMs
        ? 'inside'
        : 'outside',
    );
    expect(res.code).toBe(row.agree ? 0 : 1);
    expect(res.stdout).toMatch(/primary-region-crash\s+3\/3\s+1\/1\s+agree\s+failover/);
    expect(res.stdout).toMatch(/verdict agreement: 1\/1/);
  });

  it('bad input: an unknown scenario or seed count exits 2 with one line, runs nothing', async () => {
    const out = join(dir, 'none.json');
    for (const args of [
      ['--only', 'no-such-scenario'],
      ['--only', 'primary-region-crash', '--sim-seeds', '0'],
    ]) {
      const res = await runCli(['fidelity', ...args, '--out', out, '--no-report']);
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(false);
  });
});
