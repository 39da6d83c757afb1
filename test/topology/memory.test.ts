import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { treeMemory } from '../../src/topology/memory.ts';

describe('treeMemory (up --check memory, the topology RSS figure)', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
  });

  it('counts this process and a child it started, and nothing outside its tree', async () => {
    const before = treeMemory()!;
    expect(before.processes.map((p) => p.pid)).toContain(process.pid);
    // a child that touches ~40 MB, so its RSS shows in the total
    child = spawn(process.execPath, [
      '-e',
      'globalThis.b = Buffer.alloc(40e6, 1); setInterval(() => {}, 1000)',
    ]);
    // polled, not slept: a busy machine may take seconds to start it
    let after = treeMemory()!;
    for (let i = 0; i < 200 && !((after.processes.find((p) => p.pid === child!.pid)?.rssMB ?? 0) > 40); i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = treeMemory()!;
    }
    const mine = after.processes.find((p) => p.pid === child!.pid);
    expect(mine?.rssMB).toBeGreaterThan(40);
    expect(after.totalMB).toBeGreaterThan(before.totalMB + 40);
    // pid 1 is never a descendant of a test worker
    expect(after.processes.some((p) => p.pid === 1)).toBe(false);
    expect(after.totalMB).toBeCloseTo(
      after.processes.reduce((s, p) => s + p.rssMB, 0),
      0,
    );
  });
});
