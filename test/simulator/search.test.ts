/**
 * The property-based search: the known-unsafe KV lease is caught and shrunk, the replay
 * reproduces it exactly, the counterexample file reproduces it too; the durable lease
 * holds over a few hundred schedules; runs are deterministic.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  caseToScenario,
  checkDeterminism,
  counterexampleScenario,
  replayCommand,
  runSimulation,
  simulateScenario,
} from '../../simulator/index.ts';
import { parseScenario, scenarioToYaml } from '../../src/scenario/loader.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TEN_MIN = 600_000;

describe('kv split-brain search', () => {
  const search = () =>
    runSimulation({ runs: 200, seed: 20260101, leaseBackend: 'kv', durationMs: TEN_MIN, property: 'safety' });
  const first = search();

  it('finds single-primary violated and shrinks it to at most 3 fault steps', () => {
    expect(first.ok).toBe(false);
    expect(first.error).toBeNull();
    const f = first.failure!;
    expect(f.invariant).toBe('single-primary');
    expect(f.case.steps.length).toBeLessThanOrEqual(3);
    expect(f.result.verdict.outcomes.find((o) => o.name === 'single-primary')?.ok).toBe(false);
    expect(f.path).toMatch(/^\d+(:\d+)*$/);
  });

  it('replays the same violation from (seed, path)', () => {
    const f = first.failure!;
    const again = runSimulation({
      runs: 200,
      seed: f.seed,
      path: f.path,
      leaseBackend: 'kv',
      durationMs: TEN_MIN,
      property: 'safety',
    });
    expect(again.failure?.invariant).toBe('single-primary');
    expect(again.failure?.case).toEqual(f.case);
    const v0 = f.result.verdict.outcomes.find((o) => o.name === 'single-primary')!.violations[0]!;
    const v1 = again.failure!.result.verdict.outcomes.find((o) => o.name === 'single-primary')!
      .violations[0]!;
    expect(v1).toEqual(v0);
    expect(
      replayCommand({
        seed: f.seed,
        path: f.path,
        leaseBackend: 'kv',
        durationMs: TEN_MIN,
        property: 'safety',
        runs: 200,
      }),
    ).toBe(
      `npx failover-lab sim --seed ${f.seed} --path ${f.path} --lease-backend kv --duration 10m --property safety --runs 200`,
    );
  });

  it('writes a counterexample scenario that reproduces in the simulator and passes as violation-detected', () => {
    const f = first.failure!;
    const scenario = counterexampleScenario(f, 'kv');
    const text = scenarioToYaml(scenario);
    const parsed = parseScenario(text, 'ce.yaml');
    expect(parsed.expect).toContainEqual({ 'violation-detected': 'single-primary' });
    expect(
      parsed.steps.every((s) => s.fault !== 'witness-stale') || scenario.description.includes('SIM-ONLY'),
    ).toBe(true);
    const r = simulateScenario(parsed, { seed: f.case.seed });
    expect(r.verdict.outcomes.find((o) => o.name === 'single-primary')?.ok).toBe(false);
    expect(r.verdict.ok).toBe(true);
  });
});

describe('durable lease property', () => {
  it('holds over 200 schedules of 10 simulated minutes (safety and liveness)', () => {
    const r = runSimulation({
      runs: 200,
      seed: 4242,
      leaseBackend: 'durable',
      durationMs: TEN_MIN,
      property: 'all',
    });
    expect(r.error).toBeNull();
    expect(r.failure).toBeNull();
    expect(r.otherFindings.count).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.stats.runs).toBe(200);
    // the search did exercise failovers and most fault kinds
    expect(r.coverage.promotionBases['failover'] ?? 0).toBeGreaterThan(0);
    expect(Object.keys(r.coverage.faultKinds).length).toBeGreaterThanOrEqual(10);
    expect(r.outsideAssumptions.runs).toBeGreaterThan(0);
  });
});

describe('determinism', () => {
  it('20 generated cases run twice give identical traces', () => {
    const r = checkDeterminism({ seed: 77, count: 20, durationMs: 120_000, leaseBackend: 'durable' });
    expect(r.checked).toBe(20);
    expect(r.mismatches).toEqual([]);
  });

  it('the trace hash does tell different runs apart', () => {
    const s = caseToScenario({ seed: 1, steps: [] }, { durationMs: 60_000, leaseBackend: 'durable' });
    const h = (seed: number) => simulateScenario(s, { seed, trace: true }).stats.traceHash;
    expect(h(1)).toBe(h(1));
    expect(h(1)).not.toBe(h(2));
  });
});

describe('sim CLI', () => {
  const cli = (args: string[]) =>
    run('node', [join(ROOT, 'bin/failover-lab.mjs'), 'sim', ...args], { cwd: tmp, maxBuffer: 16 << 20 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('--lease-backend kv --json: exit 1, one JSON object, a replay command and a runnable counterexample file', async () => {
    const out = join(tmp, 'ce');
    const r = await cli(['--lease-backend', 'kv', '--runs', '50', '--seed', '3', '--json', '--out', out]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j).toMatchObject({ ok: false, counterexample: { invariant: 'single-primary' } });
    expect(j.violations[0].invariant).toBe('single-primary');
    expect(j.replay).toMatch(/^npx failover-lab sim --seed 3 --path \S+ --lease-backend kv/);
    expect(j.stats.runs).toBeGreaterThan(0);
    expect(j.coverage.roleTransitions).toBeDefined();
    expect(existsSync(j.counterexampleFile)).toBe(true);
    const file = readFileSync(j.counterexampleFile, 'utf8');
    expect(file).toContain('# Replay the search case:  npx failover-lab sim --seed 3');
    expect(parseScenario(file, 'ce.yaml').topology.leaseBackend).toBe('kv');
    expect(r.stderr).toContain('coverage:');
  });

  it('bad flags exit 2 with one line', async () => {
    const r = await cli(['--runs', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'failover-lab: --runs: expected an integer in 1..10000000, got "many"',
    ]);
  });
});
