/**
 * Shared fixtures for the lease Worker suites: secrets, clients, and the leak check.
 *
 * Each suite calls isolateTmpdir() at import time: TMPDIR of this vitest worker process then
 * points at a fresh directory, so everything the launcher, miniflare or workerd write to the
 * temp dir lands there, and "no temp dirs left behind" becomes "that directory is empty"
 * even while other suites on the machine create their own miniflare dirs in /tmp.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { LeaseClient } from '../../src/worker/client.ts';
import type { WorkerHandle } from '../../src/worker/launch.ts';
import { listWorkerdChildren, readProcStat } from '../../src/worker/procfs.ts';

export const SECRETS = { a: 'secret-of-region-a-0123456789', b: 'secret-of-region-b-9876543210' };

export function clientsFor(handle: WorkerHandle): { a: LeaseClient; b: LeaseClient } {
  return {
    a: new LeaseClient({ url: handle.url, region: 'a', secret: SECRETS.a }),
    b: new LeaseClient({ url: handle.url, region: 'b', secret: SECRETS.b }),
  };
}

export function isolateTmpdir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fl-worker-test-${label}-`));
  process.env['TMPDIR'] = dir;
  return dir;
}

/** Disposes, then asserts: no workerd child of this process, nothing left in the suite's tmpdir. */
export async function disposeAndAssertNoLeaks(
  handle: WorkerHandle | undefined,
  suiteTmp: string,
): Promise<void> {
  await handle?.dispose();
  expect(listWorkerdChildren(process.pid)).toEqual([]);
  expect(readdirSync(suiteTmp)).toEqual([]);
}

/** Removes the suite's tmpdir itself (after the assertion, or on failure). */
export function removeSuiteTmp(suiteTmp: string): void {
  rmSync(suiteTmp, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lease names unique per test, so tests in one file never share a Durable Object. */
let counter = 0;
export function freshLease(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${Date.now()}`;
}

/**
 * Waits (up to 3 s) until `pid` is no longer a running process. A SIGKILLed child whose
 * parent already died is a zombie until the new parent (PID 1 here) reaps it; a zombie runs
 * nothing and holds no socket, so it counts as gone.
 */
export async function waitUntilGone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const stat = readProcStat(pid);
    if (stat === null || stat.state === 'Z') return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}
