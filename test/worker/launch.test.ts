/**
 * startWorker's process ownership: miniflare's exit-calling signal listeners are removed,
 * dispose is idempotent, a taken port is an InfraError that leaves nothing behind, and a host
 * without signal handlers still loses no workerd and no temp dir on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, InfraError } from '../../src/errors.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/launch.ts';
import { isLiveWorkerdChild, listWorkerdChildren } from '../../src/worker/procfs.ts';
import { disposeAndAssertNoLeaks, isolateTmpdir, removeSuiteTmp, SECRETS, waitUntilGone } from './helpers.ts';

const HOST = '127.0.20.6';
const suiteTmp = isolateTmpdir('launch');
let handle: WorkerHandle | undefined;
const listenersBefore = { SIGINT: 0, SIGTERM: 0 };

beforeAll(async () => {
  listenersBefore.SIGINT = process.listenerCount('SIGINT');
  listenersBefore.SIGTERM = process.listenerCount('SIGTERM');
  handle = await startWorker({ host: HOST, port: 0, variant: 'durable', secrets: SECRETS });
});

afterAll(async () => {
  await handle?.dispose();
  removeSuiteTmp(suiteTmp);
});

describe('startWorker process ownership', () => {
  it("replaces miniflare's process.exit signal listeners with one non-exiting fallback", () => {
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore.SIGINT + 1);
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore.SIGTERM + 1);
    expect(handle?.workerdPid).toBeTypeOf('number');
    expect(isLiveWorkerdChild(handle?.workerdPid as number)).toBe(true);
  });

  it('rejects bad options before starting anything', async () => {
    await expect(
      startWorker({ host: '127.0.20.6', port: 0, variant: 'durable', secrets: {} }),
    ).rejects.toThrow(BadInputError);
    expect(listWorkerdChildren()).toEqual([handle?.workerdPid]);
  });

  it('a port in use is an InfraError naming host:port, and leaves no process or files', async () => {
    const dirsBefore = readdirSync(suiteTmp);
    const err = await startWorker({
      host: HOST,
      port: handle?.port ?? 1,
      variant: 'legacy-kv',
      secrets: SECRETS,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toBe(
      `worker: ${HOST}:${handle?.port} is already in use; stop whatever listens there or use port 0 for a free one`,
    );
    expect(listWorkerdChildren()).toEqual([handle?.workerdPid]);
    expect(readdirSync(suiteTmp)).toEqual(dirsBefore);
  });

  it('dispose is idempotent and restores the signal listeners', async () => {
    const tempDir = handle?.tempDir as string;
    expect(existsSync(tempDir)).toBe(true);
    await Promise.all([handle?.dispose(), handle?.dispose()]);
    await handle?.dispose();
    expect(existsSync(tempDir)).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore.SIGINT);
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore.SIGTERM);
    await disposeAndAssertNoLeaks(handle, suiteTmp);
  });

  it('SIGTERM to a host with no handlers of its own still takes workerd and the temp dir', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'hold-worker.ts'), HOST],
      { stdio: 'pipe', env: { ...process.env, TMPDIR: suiteTmp } },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const stderr: string[] = [];
    child.stderr.on('data', (d) => stderr.push(String(d)));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', () => reject(new Error(`fixture exited early: ${stderr.join('')}`)));
    });
    const info = JSON.parse(line) as { workerdPid: number; tempDir: string };
    expect(listWorkerdChildren(child.pid)).toEqual([info.workerdPid]);
    expect(existsSync(info.tempDir)).toBe(true);

    child.kill('SIGTERM');
    // The default action is preserved: the process still dies of SIGTERM...
    expect(await exited).toBe('SIGTERM');
    // ...but not before killing workerd and deleting its files.
    expect(await waitUntilGone(info.workerdPid)).toBe(true);
    expect(existsSync(info.tempDir)).toBe(false);
    // Only tsx's compile cache may remain in the child's TMPDIR.
    expect(readdirSync(suiteTmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
    for (const name of readdirSync(suiteTmp)) removeSuiteTmp(join(suiteTmp, name));
    await disposeAndAssertNoLeaks(undefined, suiteTmp);
  });
});
