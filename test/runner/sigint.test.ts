/**
 * SIGTERM during boot, Ctrl-C in the middle of a scenario: the harness stops everything it
 * started and exits 143 / 130 (never 1 or 3: esbuild's service is out of its signal path). Afterwards no
 * process of the run is alive (checked by PID in /proc, and by the run's temp dir in every
 * command line) and nothing is bound on the run's addresses.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDir } from '../../src/topology/addresses.ts';
import { aliveNotZombie, boundSocketsOnOctet, childrenOf, processesWithArg } from '../topology/leaks.ts';
import { startCli } from './cli.ts';

describe('SIGTERM while the topology boots', () => {
  it('exits 143 and leaves no process, socket or lock behind', async () => {
    const run = startCli(['run', 'scenarios/primary-region-crash.yaml', '--no-report']);
    const pid = run.child.pid!;
    // the run octet is locked, children are being spawned, workerd is starting
    let octet: number | null = null;
    const deadline = Date.now() + 45_000;
    while (octet === null && Date.now() < deadline) {
      octet = ownedOctet(pid);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(octet).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    const kids = childrenOf(pid);
    run.child.kill('SIGTERM');
    const res = await run.done;
    expect(res.code).toBe(143);
    expect(res.stderr).not.toMatch(/EPIPE|internal error/);
    await gone(kids);
    expect(kids.filter(aliveNotZombie)).toEqual([]);
    expect(boundSocketsOnOctet(octet!)).toEqual([]);
    expect(processesWithArg(`failover-lab-${octet}-`)).toEqual([]);
    expect(existsSync(join(lockDir(), `${octet}.lock`))).toBe(false);
  });
});

/** Waits (at most 2 s, the bound) until none of `pids` is alive. */
async function gone(pids: number[]): Promise<void> {
  const deadline = Date.now() + 2000;
  while (pids.some(aliveNotZombie) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** The run octet whose lock file names `pid` as its owner. */
function ownedOctet(pid: number): number | null {
  try {
    for (const f of readdirSync(lockDir())) {
      const m = /^(\d+)\.lock$/.exec(f);
      if (!m) continue;
      try {
        if ((JSON.parse(readFileSync(join(lockDir(), f), 'utf8')) as { pid?: number }).pid === pid)
          return Number(m[1]);
      } catch {
        /* being written */
      }
    }
  } catch {
    /* no lock dir yet */
  }
  return null;
}

describe('SIGINT mid-scenario', () => {
  it('leaves no process and no listening socket behind', async () => {
    const run = startCli(['run', 'scenarios/primary-region-crash.yaml', '--no-report']);
    const deadline = Date.now() + 45_000;
    while (!/scenario started/.test(run.stderrSoFar()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(run.stderrSoFar()).toMatch(/scenario started/);
    const octet = Number(/topology 127\.(\d+)\.x\.x/.exec(run.stderrSoFar())![1]);
    // mid-scenario: let the workload run a little
    await new Promise((r) => setTimeout(r, 1000));
    const kids = childrenOf(run.child.pid!);
    // pdns x2, unbound x3, apps x2, controllers x2, workerd
    expect(kids.length).toBeGreaterThanOrEqual(10);
    expect(boundSocketsOnOctet(octet).length).toBeGreaterThan(20);

    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/interrupted by SIGINT/);
    expect(res.stderr).not.toMatch(/EPIPE|internal error/);
    // the harness's watchdog (and esbuild) end on the harness's EOF, just after it
    await gone(kids);
    expect(kids.filter(aliveNotZombie)).toEqual([]);
    expect(boundSocketsOnOctet(octet)).toEqual([]);
    expect(processesWithArg(`failover-lab-${octet}-`)).toEqual([]);
    expect(existsSync(join(lockDir(), `${octet}.lock`))).toBe(false);
  });
});
