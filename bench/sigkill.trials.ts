/**
 * SIGKILL trials (issue #20): `failover-lab run scenarios/primary-region-crash.yaml` is
 * SIGKILLed at boot, mid-run and during teardown — the harness process alone, or its whole
 * process group — and we count what is left 2 s later: live processes of the run (every
 * descendant the harness ever had, tracked by PID + kernel start time), sockets bound on the
 * run's 127.<octet> addresses, and the run's dirs (before and after the next start's reaper).
 * TARGETS=group-sigint sends a terminal's Ctrl-C instead (SIGINT to the group; exit code recorded).
 * Writes bench/results/sigkill.<phases>.<targets>.json (one file per PHASES value, so phases can run
 * under separate heavy-lock turns).
 *   flock /tmp/fl-heavy.lock npx tsx bench/sigkill.trials.ts [TRIALS=10] [PHASES=boot,mid,teardown]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockDir, processStartTime, reapStaleRuns } from '../src/topology/addresses.ts';
import { childPidsOf } from '../src/topology/supervisor.ts';
import { aliveNotZombie, boundSocketsOnOctet } from '../test/topology/leaks.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const trials = Number(process.env.TRIALS ?? '10');
const phases = (process.env.PHASES ?? 'boot,mid,teardown').split(',') as Phase[];
const SCENARIO = 'scenarios/primary-region-crash.yaml';
const SCENARIO_SECONDS = 100 * 0.1; // duration × the default time scale

type Phase = 'boot' | 'mid' | 'teardown';
/** process/group: SIGKILL; group-sigint: a terminal's Ctrl-C (SIGINT to the whole foreground group) */
type Target = 'process' | 'group' | 'group-sigint';
const targets = (process.env.TARGETS ?? 'process,group').split(',') as Target[];

interface Trial {
  phase: Phase;
  target: Target;
  exitCode: number | null;
  exitSignal: string | null;
  killedAtSeconds: number;
  octet: number | null;
  descendantsSeen: number;
  liveAtKill: number;
  survivorsAfter2s: Array<{ pid: number; comm: string }>;
  socketsAfter2s: string[];
  runDirsAfter2s: string[];
  runDirsAfterNextStart: string[];
  locksAfterNextStart: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
};

/** Every descendant of `root`, each with its kernel start time (identity across PID reuse). */
function collectDescendants(rootPid: number, into: Map<number, string>): void {
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of childPidsOf(pid)) {
      const st = processStartTime(c);
      if (st !== null && !into.has(c)) into.set(c, st);
      stack.push(c);
    }
  }
}

function octetOf(harnessPid: number): number | null {
  try {
    for (const f of readdirSync(lockDir())) {
      const m = /^(\d+)\.lock$/.exec(f);
      if (!m) continue;
      try {
        const owner = JSON.parse(readFileSync(join(lockDir(), f), 'utf8')) as { pid?: number };
        if (owner.pid === harnessPid) return Number(m[1]);
      } catch {
        /* being written */
      }
    }
  } catch {
    /* no lock dir yet */
  }
  return null;
}

const runDirs = (octet: number | null, scratchBefore: Set<string>): string[] =>
  readdirSync(tmpdir()).filter(
    (d) =>
      (octet !== null && d.startsWith(`failover-lab-${octet}-`)) ||
      (d.startsWith('fl-run-logs-') && !scratchBefore.has(d)),
  );

async function oneTrial(phase: Phase, target: Target, reportsDir: string): Promise<Trial> {
  const scratchBefore = new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('fl-run-logs-')));
  const started = performance.now();
  // detached: its own process group, so a group kill hits the harness's group and not us
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'bin/failover-lab.mjs'), 'run', SCENARIO, '--reports-dir', reportsDir],
    { cwd: root, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const pid = child.pid!;
  const seen = new Map<number, string>();
  let octet: number | null = null;
  let maxLive = 0;
  let startedAt: number | null = null;
  let lockedAt: number | null = null;
  const jitter = Math.random(); // where in its window the kill lands (0..1)
  for (;;) {
    collectDescendants(pid, seen);
    octet ??= octetOf(pid);
    const live = [...seen.keys()].filter(aliveNotZombie).length;
    maxLive = Math.max(maxLive, live);
    const now = performance.now();
    if (startedAt === null && /scenario started/.test(stderr)) startedAt = now;
    if (lockedAt === null && octet !== null) lockedAt = now;
    // boot: anywhere in the 2.5 s after the run octet is locked (spawns, bundling, workerd start)
    if (phase === 'boot' && lockedAt !== null && now - lockedAt > jitter * 2500) break;
    if (phase === 'mid' && startedAt !== null && now - startedAt > 1000 + jitter * 6000) break;
    // teardown: the first stopped child after the scenario's end, plus up to 0.5 s
    if (
      phase === 'teardown' &&
      startedAt !== null &&
      now - startedAt > SCENARIO_SECONDS * 1000 &&
      live < maxLive
    ) {
      await sleep(jitter * 500);
      break;
    }
    if (child.exitCode !== null) throw new Error(`harness exited before the kill (${phase}): ${stderr}`);
    await sleep(phase === 'teardown' ? 20 : 50);
  }
  collectDescendants(pid, seen);
  const liveAtKill = [...seen.keys()].filter(aliveNotZombie).length;
  const killedAtSeconds = (performance.now() - started) / 1000;
  if (target === 'group-sigint') process.kill(-pid, 'SIGINT');
  else process.kill(target === 'group' ? -pid : pid, 'SIGKILL');
  await exited;
  const exitCode = child.exitCode;
  const exitSignal = child.signalCode;
  await sleep(2000);
  const survivorsAfter2s = [...seen.entries()]
    .filter(([p, st]) => processStartTime(p) === st && aliveNotZombie(p))
    .map(([p]) => ({ pid: p, comm: comm(p) }));
  const socketsAfter2s = octet !== null ? boundSocketsOnOctet(octet) : [];
  const runDirsAfter2s = runDirs(octet, scratchBefore);
  reapStaleRuns(); // what the next start does first
  const runDirsAfterNextStart = runDirs(octet, scratchBefore);
  const locksAfterNextStart =
    octet !== null && existsSync(join(lockDir(), `${octet}.lock`)) ? [`${octet}.lock`] : [];
  for (const s of survivorsAfter2s) {
    try {
      process.kill(s.pid, 'SIGKILL'); // the next trial starts clean either way
    } catch {
      /* gone */
    }
  }
  return {
    phase,
    target,
    exitCode,
    exitSignal,
    killedAtSeconds,
    octet,
    descendantsSeen: seen.size,
    liveAtKill,
    survivorsAfter2s,
    socketsAfter2s,
    runDirsAfter2s,
    runDirsAfterNextStart,
    locksAfterNextStart,
  };
}

const reportsDir = mkdtempSync(join(tmpdir(), 'fl-sigkill-reports-'));
const results: Trial[] = [];
try {
  for (const phase of phases) {
    for (const target of targets) {
      for (let i = 0; i < trials; i++) {
        const t = await oneTrial(phase, target, reportsDir);
        results.push(t);
        process.stderr.write(
          `${phase}/${target} ${i + 1}/${trials}: killed at ${t.killedAtSeconds.toFixed(1)} s with ${t.liveAtKill} live; ` +
            `survivors ${t.survivorsAfter2s.length}, sockets ${t.socketsAfter2s.length}, dirs ${t.runDirsAfter2s.length}→${t.runDirsAfterNextStart.length}\n`,
        );
      }
    }
  }
} finally {
  rmSync(reportsDir, { recursive: true, force: true });
}

const summary = Object.fromEntries(
  phases.flatMap((phase) =>
    targets.map((target) => {
      const ts = results.filter((t) => t.phase === phase && t.target === target);
      return [
        `${phase}/${target}`,
        {
          trials: ts.length,
          exitCodes: [...new Set(ts.map((t) => t.exitCode ?? t.exitSignal))],
          meanLiveAtKill: ts.reduce((s, t) => s + t.liveAtKill, 0) / Math.max(1, ts.length),
          trialsWithSurvivors: ts.filter((t) => t.survivorsAfter2s.length > 0).length,
          survivors: ts.reduce((s, t) => s + t.survivorsAfter2s.length, 0),
          sockets: ts.reduce((s, t) => s + t.socketsAfter2s.length, 0),
          runDirsAfter2s: ts.reduce((s, t) => s + t.runDirsAfter2s.length, 0),
          runDirsAfterNextStart: ts.reduce((s, t) => s + t.runDirsAfterNextStart.length, 0),
          locksAfterNextStart: ts.reduce((s, t) => s + t.locksAfterNextStart.length, 0),
        },
      ];
    }),
  ),
);
const out = join(root, 'bench/results');
mkdirSync(out, { recursive: true });
const file = join(out, `sigkill.${phases.join('-')}.${targets.join('-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ scenario: SCENARIO, trialsPer: trials, loadavg: loadavg(), summary, results }, null, 2)}\n`,
);
process.stderr.write(`${JSON.stringify(summary, null, 2)}\nwrote ${file}\n`);
