/**
 * Boot time of the real topology: `failover-lab up --check --json` run N times, each a cold
 * process (miniflare import, every daemon). Writes bench/results/topology.json.
 * bootSeconds = from the start of the boot until every component answered (each component's
 * first answer is watched from the boot's start: perComponentBootSeconds);
 * processSeconds = the same from process start (module loading included);
 * rssMB = the harness and every process it started, once all answered.
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
  /** RSS of the harness and every process it started, once all answered */
  memory: { totalMB: number; processes: Array<{ pid: number; command: string; rssMB: number }> } | null;
}

/**
 * The figures issue #18 measured before this work (2 cores, quiet = load below 1): cold boot
 * 1.49-1.74 s, the whole command 3.4-3.6 s, whole-topology RSS about 755 MB (harness 220 MB, two
 * controllers 162 MB, an idle esbuild service 53 MB). Per-component ready times were not
 * measured then: every component was stamped when the post-boot poll reached it.
 */
const BEFORE = {
  source: 'issue #18, measured by the session that filed it',
  bootSeconds: { min: 1.49, max: 1.74 },
  processSeconds: { min: 3.4, max: 3.6 },
  rssMB: 755,
};

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
    `run ${i + 1}/${runs}: boot ${r.bootSeconds} s, process ${r.processSeconds} s, RSS ${r.memory?.totalMB ?? '?'} MB, wall incl. teardown ${wallSeconds.toFixed(2)} s\n`,
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
  rssMB: results.every((r) => r.memory) ? stats(results.map((r) => r.memory!.totalMB)) : null,
  before: BEFORE,
  raw: results.map((r) => ({
    bootSeconds: r.bootSeconds,
    processSeconds: r.processSeconds,
    rssMB: r.memory?.totalMB ?? null,
    processesMB: r.memory?.processes.map((p) => `${p.command} ${p.rssMB}`) ?? null,
  })),
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/topology.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(
  `${JSON.stringify({ bootSeconds: out.bootSeconds, processSeconds: out.processSeconds, rssMB: out.rssMB, before: BEFORE })}\n`,
);
