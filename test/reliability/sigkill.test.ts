/**
 * A harness that cannot run any code (SIGKILL: CI timeout, OOM killer) still leaves nothing
 * behind: `failover-lab run` is SIGKILLed mid-scenario, and 2 s later no process it ever had
 * is alive, nothing is bound on its addresses, its run dir and scratch log dir are gone, and
 * the next start reaps its lock because the owner PID is dead. (bench/sigkill.trials.ts runs
 * the same at boot, mid-run and teardown, 10 times each, against process and group.)
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDir, processStartTime, reapStaleRuns } from '../../src/topology/addresses.ts';
import { childPidsOf } from '../../src/topology/supervisor.ts';
import { startCli } from '../runner/cli.ts';
import { aliveNotZombie, boundSocketsOnOctet } from '../topology/leaks.ts';

const reports = mkdtempSync(join(tmpdir(), 'fl-sigkill-test-'));
afterAll(() => rmSync(reports, { recursive: true, force: true }));

/** Every descendant of `root` with its kernel start time, so a reused PID is not mistaken for ours. */
function collectDescendants(root: number, into: Map<number, string>): void {
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of childPidsOf(pid)) {
      const st = processStartTime(c);
      if (st !== null && !into.has(c)) into.set(c, st);
      stack.push(c);
    }
  }
}

describe('SIGKILL of the harness mid-run', () => {
  it('leaves no survivor, no socket, no run dir; the next start reaps the lock', async () => {
    // with a report (the default), so the fl-run-logs-* scratch dir exists too
    const run = startCli(['run', 'scenarios/primary-region-crash.yaml', '--reports-dir', reports]);
    const pid = run.child.pid!;
    const seen = new Map<number, string>();
    const deadline = Date.now() + 60_000;
    while (!/scenario started/.test(run.stderrSoFar()) && Date.now() < deadline) {
      collectDescendants(pid, seen);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(run.stderrSoFar()).toMatch(/scenario started/);
    const octet = Number(/topology 127\.(\d+)\.x\.x/.exec(run.stderrSoFar())![1]);
    await new Promise((r) => setTimeout(r, 1000)); // mid-run: the workload is writing
    collectDescendants(pid, seen);
    // pdns x2, unbound x3, apps x2, controllers x2, workerd, the watchdog
    expect([...seen.keys()].filter(aliveNotZombie).length).toBeGreaterThanOrEqual(11);
    expect(boundSocketsOnOctet(octet).length).toBeGreaterThan(20);
    // the run's scratch log dir, read from where a child's stdout goes (other runs share /tmp)
    const scratch = [...seen.keys()]
      .map((p) => {
        try {
          return /\/fl-run-logs-[^/]+/.exec(readlinkSync(`/proc/${p}/fd/1`))?.[0] ?? null;
        } catch {
          return null;
        }
      })
      .find((d) => d !== null);
    expect(scratch).toBeTruthy();
    expect(existsSync(join(tmpdir(), scratch!))).toBe(true);

    run.child.kill('SIGKILL');
    await run.done;
    await new Promise((r) => setTimeout(r, 2000));

    const survivors = [...seen.entries()].filter(
      ([p, st]) => processStartTime(p) === st && aliveNotZombie(p),
    );
    for (const [p] of survivors) process.kill(p, 'SIGKILL'); // never leave them to the next test
    expect(survivors.map(([p]) => p)).toEqual([]);
    expect(boundSocketsOnOctet(octet)).toEqual([]);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`failover-lab-${octet}-`))).toEqual([]);
    expect(existsSync(join(tmpdir(), scratch!))).toBe(false);
    // The lock outlives a SIGKILL by design (a file cannot delete itself); the next start reaps it.
    reapStaleRuns();
    expect(readdirSync(lockDir()).filter((f) => f === `${octet}.lock` || f === `${octet}.pids`)).toEqual([]);
  }, 120_000);
});
