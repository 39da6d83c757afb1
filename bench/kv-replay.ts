/**
 * Does the simulator's KV counterexample replay on the real topology every time? (issue #13
 * item 6). `sim --lease-backend kv` finds the legacy-kv split brain and writes the shrunk
 * counterexample as a scenario file; this runs `run FILE` on the real topology RUNS times
 * (default 10) and counts the runs that reproduce the violation. Writes
 * bench/results/kv-replay.json.
 *
 * The file expects `violation-detected: <invariant>` (simulator/counterexample.ts), so a run
 * that reproduces exits 0 and one that does not exits 1 (its expectation fails); the count
 * is read from the RunJson (the invariant's outcome violated), not only from the exit code.
 *   flock /tmp/fl-heavy.lock npm run bench:kv-replay        (RUNS=10, SEED=1 by default)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.RUNS ?? '10');
const seed = Number(process.env.SEED ?? '1');
const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/failover-lab.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });

interface Outcome {
  name: string;
  ok: boolean;
  detail: string;
}

// 1. the counterexample, as the simulator writes it
const dir = mkdtempSync(join(tmpdir(), 'fl-kv-replay-'));
// the counterexample and the runs' outputs are read here and copied into the result JSON:
// nothing of the directory outlives the bench, on any exit (it was left behind before)
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const sim = cli([
  'sim',
  '--lease-backend',
  'kv',
  '--seed',
  String(seed),
  '--out',
  dir,
  '--no-report',
  '--json',
]);
if (sim.status !== 1) {
  process.stderr.write(`sim --lease-backend kv found no violation (exit ${sim.status}): ${sim.stderr}\n`);
  process.exit(3);
}
const found = JSON.parse(sim.stdout.trim()) as {
  counterexample: { invariant: string; seed: number; steps: unknown[] };
  counterexampleFile: string;
};
const file = found.counterexampleFile;
const invariant = found.counterexample.invariant;
process.stderr.write(
  `counterexample: ${file} (${invariant}, ${found.counterexample.steps.length} fault steps, simulator seed ${found.counterexample.seed})\n`,
);

// 2. the same file on the real topology, RUNS times
const raw: Array<{
  run: number;
  exitCode: number | null;
  reproduced: boolean;
  detail: string;
  violationAtScenarioMs: number | null;
  wallSeconds: number;
}> = [];
for (let i = 1; i <= runs; i++) {
  const started = performance.now();
  const out = join(dir, `run-${i}`);
  const p = cli(['run', file, '--json', '--no-report', '--out', out]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (p.status !== 0 && p.status !== 1) {
    // e.g. the warm-up never saw the initial primary established: the run did not replay it
    const why = p.stderr.trim().split('\n').at(-1) ?? '';
    process.stderr.write(`run ${i}/${runs}: exit ${p.status}, not reproduced: ${why}\n`);
    raw.push({
      run: i,
      exitCode: p.status,
      reproduced: false,
      detail: why,
      violationAtScenarioMs: null,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
    });
    continue;
  }
  // result.json has the full verdict: an expected violation is listed under its outcome only
  const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
    verdict: { outcomes: Array<Outcome & { violations: Array<{ at: number }> }> };
    scenarioStartT: number;
    timeScale: number;
  };
  const o = r.verdict.outcomes.find((x) => x.name === invariant);
  const reproduced = o !== undefined && !o.ok;
  const v = o?.violations[0];
  raw.push({
    run: i,
    exitCode: p.status,
    reproduced,
    detail: o?.detail ?? 'no such outcome',
    // scenario (production) time of the first violation; negative = during the warm-up
    violationAtScenarioMs: v ? Math.round((v.at - r.scenarioStartT) / r.timeScale) : null,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
  });
  process.stderr.write(
    `run ${i}/${runs}: exit ${p.status}, ${reproduced ? 'REPRODUCED' : 'not reproduced'}${v ? ` at scenario t=${(raw.at(-1)!.violationAtScenarioMs! / 1000).toFixed(1)} s` : ''} (${wallSeconds.toFixed(1)} s)\n`,
  );
}

const reproducedCount = raw.filter((r) => r.reproduced).length;
const out = {
  benchmark: 'kv counterexample replay on the real topology (sim --lease-backend kv, then run FILE)',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavgAfter: loadavg(), node: process.version },
  searchSeed: seed,
  invariant,
  counterexample: readFileSync(file, 'utf8'),
  runs,
  reproduced: reproducedCount,
  raw,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/kv-replay.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify({ invariant, runs, reproduced: reproducedCount })}\n`);
