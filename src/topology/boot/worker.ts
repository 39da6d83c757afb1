/**
 * Boot phase: the lease Worker in workerd. Started before anything else, since workerd is the
 * slowest thing to start (0.2 s idle, 1-2 s on a busy machine); started again on the same
 * address and lease state after a crash fault.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
// Static on purpose: miniflare takes ~1 s to import; paying it while the CLI loads keeps it
// off the boot's critical path (bootSeconds counts from startTopology, see docs/topology.md).
import { startWorker, type WorkerHandle } from '../../worker/launch.ts';
import type { Managed } from '../supervisor.ts';
import type { BootRun } from './run.ts';

export interface LeaseWorker {
  host: string;
  /** the first start; its port is the Worker's for the whole run */
  first: Promise<WorkerHandle>;
  /** the current workerd: a crash fault restarts it under a new PID */
  current(): WorkerHandle | null;
  /** start the Worker again on `port` after a crash fault (refused while it still runs) */
  restart(port: number): Promise<Managed>;
}

/** Where the Worker's Durable Object and KV state persist in a run (the runner reads it too). */
export function workerStateDir(runDir: string): string {
  return join(runDir, 'worker-state');
}

/** Starts the Worker at host:port; its cleanup is registered before the start finishes. */
export function launchLeaseWorker(run: BootRun, host: string, port: number): LeaseWorker {
  const { supervisor, leaseBackend, timing } = run;
  const workerLog = join(run.logsDir, 'worker.log');
  // The lease state lives in runDir, not in the Worker's own temp dir, so a Worker started
  // again after a crash fault finds the lease (and its epoch) as the crash left it.
  const persistDir = workerStateDir(run.runDir);
  let current: WorkerHandle | null = null;
  const launch = async (atPort: number): Promise<WorkerHandle> => {
    const h = await supervisor.guardOwnChildrenDuring(
      startWorker({
        host,
        port: atPort,
        variant: leaseBackend === 'kv' ? 'legacy-kv' : 'durable',
        secrets: run.secrets,
        leaseTtlMs: run.opts.workerLeaseTtlMs ?? timing.controllers[run.initialPrimary]!.leaseTtlMs,
        ...(leaseBackend === 'kv'
          ? { kvCacheTtlMs: timing.kvCacheTtlMs, kvMinExpirationTtlMs: timing.kvMinExpirationTtlMs }
          : {}),
        log: (line) => appendFileSync(workerLog, `${line}\n`),
        persistDir,
        tempParent: run.runDir,
        ...(leaseBackend === 'kv' ? {} : { faultSeamToken: run.workerFaultToken }),
      }),
    );
    current = h;
    if (h.workerdPid !== null) supervisor.adopt('worker', h.workerdPid, workerLog);
    return h;
  };
  const first = launch(port).then((h) => {
    run.markUp('worker');
    return h;
  });
  // Registered now, not when the start finishes: a boot that fails meanwhile must still
  // wait for workerd and stop it.
  supervisor.addCleanup('worker', async () => {
    await first.catch(() => null);
    await current?.dispose();
  });
  first.catch(() => undefined); // awaited by the boot; this only marks the rejection handled

  const restart = async (atPort: number): Promise<Managed> => {
    const old = current;
    if (old && supervisor.has('worker') && !supervisor.get('worker').exitInfo) {
      throw new Error('worker is still running');
    }
    // miniflare's side of a killed workerd: release it (workerd is already gone)
    await old?.dispose();
    if (supervisor.isShuttingDown) throw new Error('topology is shutting down: worker not restarted');
    const h = await launch(atPort);
    // a shutdown that began while it started has already run the worker cleanup
    if (supervisor.isShuttingDown) {
      await h.dispose();
      throw new Error('topology is shutting down: worker not restarted');
    }
    return supervisor.get('worker');
  };
  return { host, first, current: () => current, restart };
}
