/**
 * Ctrl-C in the middle of a scenario: the harness stops everything it started. Afterwards no
 * process of the run is alive (checked by PID in /proc, and by the run's temp dir in every
 * command line) and nothing is bound on the run's addresses.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDir } from '../../src/topology/addresses.ts';
import { aliveNotZombie, boundSocketsOnOctet, childrenOf, processesWithArg } from '../topology/leaks.ts';
import { startCli } from './cli.ts';

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
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/interrupted by SIGINT/);
    expect(kids.filter(aliveNotZombie)).toEqual([]);
    expect(boundSocketsOnOctet(octet)).toEqual([]);
    expect(processesWithArg(`failover-lab-${octet}-`)).toEqual([]);
    expect(existsSync(join(lockDir(), `${octet}.lock`))).toBe(false);
  });
});
