/**
 * Boot time of the real topology: `failover-lab up --check --json` run N times, each a cold
 * process (tsx, miniflare import, bundles, every daemon). Writes bench/results/topology.json.
 * bootSeconds = from the start of the boot until every component answered;
 * processSeconds = the same from process start (module loading included).
 *   npm run bench:topology            (RUNS=5 by default)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.RUNS ?? '5');

interface Check {
  ok: boolean;
  bootSeconds: number;
  processSeconds: number;
  components: Array<{ name: string; bootSeconds: number | null }>;
}

const results: Check[] = [];
const loadBefore = loadavg();
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const p = spawnSync(process.execPath, [join(root, 'bin/failover-lab.mjs'), 'up', '--check', '--json'], {
    cwd: root,
    encoding: 'utf8',
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (p.status !== 0) {
    process.stderr.write(`run ${i + 1} failed (exit ${p.status}): ${p.stderr}\n`);
    process.exit(3);
  }
  const r = JSON.parse(p.stdout.trim()) as Check;
  results.push(r);
  process.stderr.write(
    `run ${i + 1}/${runs}: boot ${r.bootSeconds} s, process ${r.processSeconds} s, wall incl. teardown ${wallSeconds.toFixed(2)} s\n`,
  );
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const perComponent: Record<string, { min: number; median: number; max: number }> = {};
for (const name of results[0]!.components.map((c) => c.name)) {
  perComponent[name] = stats(
    results.map((r) => r.components.find((c) => c.name === name)!.bootSeconds ?? Number.NaN),
  );
}
const out = {
  benchmark: 'topology boot (up --check --json)',
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
    node: process.version,
  },
  runs,
  bootSeconds: stats(results.map((r) => r.bootSeconds)),
  processSeconds: stats(results.map((r) => r.processSeconds)),
  perComponentBootSeconds: perComponent,
  raw: results.map((r) => ({ bootSeconds: r.bootSeconds, processSeconds: r.processSeconds })),
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/topology.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(
  `${JSON.stringify({ bootSeconds: out.bootSeconds, processSeconds: out.processSeconds })}\n`,
);
