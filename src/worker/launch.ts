/**
 * Runs the lease Worker locally in workerd through miniflare (Node-side only). Used by
 * `failover-lab worker`, the tests, the benchmark and the real topology.
 *
 * What it guarantees (docs/engineering.md rules, toolchain probe §4 G1–G5):
 * - `cf: false`, so miniflare never looks up workers.cloudflare.com (G1).
 * - The URL is built from the requested host and the port workerd actually bound; miniflare's
 *   `ready` URL points at an extra 127.0.0.1 socket instead (G2).
 * - workerd's PID is recorded (`workerdPid`) so a supervisor can kill it if dispose() fails or
 *   never runs (G3); a process 'exit' hook SIGKILLs any workerd still owned at exit.
 * - A port already in use becomes an InfraError naming host:port (G4).
 * - Every file miniflare writes (its own miniflare-<hex> scratch dir and the DO/KV persistence)
 *   lives under one temp dir we create and delete on dispose, also after a failed start (G5).
 *
 * Starts are serialised within the process so the new workerd child can be told apart from
 * those of other instances.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { BadInputError, InfraError } from '../errors.ts';
import { bundleWorker } from './bundle.ts';
import type { Variant } from './http.ts';
import { isLiveWorkerdChild, listeningPortsOf, listWorkerdChildren } from './procfs.ts';
import { MIN_SECRET_CHARS } from './signing.ts';

/** Must not be newer than the bundled workerd (1.20260426); keep in step with wrangler.toml. */
export const COMPATIBILITY_DATE = '2026-04-01';
export const VARIANTS: readonly Variant[] = ['durable', 'legacy-kv'];
const REGION_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const DISPOSE_TIMEOUT_MS = 10_000;
const WORKERD_EXIT_WAIT_MS = 2_000;

export interface StartWorkerOptions {
  /** IPv4 address in 127.0.0.0/8 */
  host: string;
  /** 0 = pick a free port */
  port: number;
  variant: Variant;
  /** region → HMAC secret (becomes the LEASE_SECRETS binding) */
  secrets: Record<string, string>;
  /** LEASE_TTL_MS; durable default 30000. For legacy-kv: the design TTL, raised to the KV minimum */
  leaseTtlMs?: number;
  /** legacy-kv only: KV_CACHE_TTL_MS, per-location read cache lifetime (default 60000) */
  kvCacheTtlMs?: number;
  /** legacy-kv only: KV_MIN_EXPIRATION_TTL_MS, KV's expirationTtl minimum (default 60000) */
  kvMinExpirationTtlMs?: number;
  /** receives miniflare and workerd log lines (default: dropped) */
  log?: (line: string) => void;
  /**
   * Where Durable Object and KV state persist. Owned by the caller and kept by dispose(), so
   * a Worker started again on it finds the lease as it was (a Worker crash fault). Default:
   * inside this instance's temp dir, gone with it.
   */
  persistDir?: string;
  /**
   * Where this instance's temp dir is made (default: the OS temp dir). The topology passes its
   * run dir, so a harness killed with SIGKILL leaves nothing outside it: the run dir is what
   * the watchdog and the next start remove.
   */
  tempParent?: string;
  /**
   * Turns the durable Worker's fault seams on (FAULT_SEAMS=on, FAULT_TOKEN; src/worker/fault-seam.ts):
   * the token callers present. At least 16 characters. Off when absent.
   */
  faultSeamToken?: string;
}

export interface WorkerHandle {
  /** http://host:port, built by us (G2) */
  url: string;
  host: string;
  port: number;
  variant: Variant;
  /** workerd's PID (a child of this process), null if it could not be determined */
  workerdPid: number | null;
  /** the temp dir holding all of this instance's files; gone after dispose() */
  tempDir: string;
  /** idempotent; stops workerd (SIGKILL fallback) and deletes tempDir */
  dispose(): Promise<void>;
}

/** Where each option came from, for error messages (e.g. { port: '--port' }). */
export type OptionSources = Partial<Record<keyof StartWorkerOptions, string>>;

/** Throws BadInputError naming the first bad option (by its source, if given). */
export function validateStartOptions(opts: StartWorkerOptions, sources: OptionSources = {}): void {
  const fail = (key: keyof StartWorkerOptions, message: string): never => {
    throw new BadInputError(message, sources[key] ?? key);
  };
  const checkInt = (key: keyof StartWorkerOptions, min: number, max: number) => {
    const value = opts[key];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      fail(key, `must be an integer in [${min}, ${max}], got ${String(value)}`);
    }
  };
  const octets = String(opts.host).split('.');
  const isLoopbackV4 =
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255 && String(Number(o)) === o);
  if (!isLoopbackV4) fail('host', `must be an IPv4 address in 127.0.0.0/8, got "${opts.host}"`);
  checkInt('port', 0, 65_535);
  if (!VARIANTS.includes(opts.variant)) {
    fail('variant', `must be one of ${VARIANTS.join(', ')}, got "${String(opts.variant)}"`);
  }
  if (typeof opts.secrets !== 'object' || opts.secrets === null || Array.isArray(opts.secrets)) {
    fail('secrets', 'must be a JSON object {"<region>":"<secret>"}');
  }
  const regions = Object.keys(opts.secrets);
  if (regions.length === 0) fail('secrets', 'must name at least one region');
  for (const region of regions) {
    if (!REGION_NAME_PATTERN.test(region))
      fail('secrets', `region name "${region}" must match ${REGION_NAME_PATTERN}`);
    const secret = opts.secrets[region];
    if (typeof secret !== 'string' || secret.length === 0) {
      fail('secrets', `secret of region "${region}" must be a non-empty string`);
      continue;
    }
    if (secret.length < MIN_SECRET_CHARS) {
      fail(
        'secrets',
        `secret of region "${region}" must be at least ${MIN_SECRET_CHARS} characters, got ${secret.length}`,
      );
    }
  }
  checkInt('leaseTtlMs', 1, 86_400_000);
  checkInt('kvCacheTtlMs', 0, 86_400_000);
  checkInt('kvMinExpirationTtlMs', 1, 86_400_000);
}

/** Routes miniflare's own log lines to our sink instead of console.log. */
class SinkLog extends Log {
  constructor(private readonly sink: (line: string) => void) {
    super(LogLevel.WARN, { prefix: 'mf' });
  }
  override log(message: string): void {
    this.sink(stripAnsi(message));
  }
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

/** Instances not yet disposed; exit and signal fallbacks kill their workerd and remove their files. */
interface Tracked {
  /** null while starting (or if not found): then every workerd child not in `before` is ours */
  pid: number | null;
  before: Set<number>;
  tempDir: string;
}
const live = new Set<Tracked>();

function killLiveSync(): void {
  for (const h of live) {
    const pids = h.pid !== null ? [h.pid] : listWorkerdChildren().filter((p) => !h.before.has(p));
    for (const pid of pids) {
      if (!isLiveWorkerdChild(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      rmSync(h.tempDir, { recursive: true, force: true });
    } catch {
      // best effort: the process is going away
    }
  }
  live.clear();
}

/**
 * Without any listener, SIGINT/SIGTERM end Node at once, no 'exit' event, and workerd is
 * orphaned (G3). So while instances are live we listen too, but only act when nobody else
 * does: then we clean up synchronously and re-raise the signal for its default action. When
 * the host has its own handler, it owns the shutdown and calls dispose().
 */
function onTerminatingSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killLiveSync();
  updateProcessHooks();
  process.kill(process.pid, signal);
}
const onExit = () => killLiveSync();
let hooksInstalled = false;
function updateProcessHooks(): void {
  const want = live.size > 0;
  if (want === hooksInstalled) return;
  hooksInstalled = want;
  const method = want ? 'on' : 'off';
  process[method]('exit', onExit);
  process[method]('SIGINT', onTerminatingSignal);
  process[method]('SIGTERM', onTerminatingSignal);
}

/**
 * miniflare's constructor registers SIGINT/SIGTERM (and, in a forked child, 'message')
 * listeners that call process.exit(130/143/0) at once, cutting short the host's own async
 * shutdown (the real topology must still stop pdns_server and unbound). Remove exactly the
 * listeners the constructor added; the hooks above cover the cases they were meant for.
 */
function withoutMiniflareExitListeners<T>(construct: () => T): T {
  // Typed loosely on purpose: the three events have different listener signatures.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const events = ['SIGINT', 'SIGTERM', 'message'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return construct();
  } finally {
    for (const e of events) {
      for (const listener of emitter.listeners(e)) {
        if (!before.get(e)?.has(listener)) emitter.off(e, listener as (...args: unknown[]) => void);
      }
    }
  }
}

let startChain: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = startChain.then(fn, fn);
  startChain = run.catch(() => undefined);
  return run;
}

/** miniflare reads os.tmpdir() once, in its constructor, for its scratch dir: point it at ours. */
function withTmpdir<T>(dir: string, fn: () => T): T {
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function reapWorkerd(pid: number): Promise<void> {
  const deadline = Date.now() + WORKERD_EXIT_WAIT_MS;
  while (isLiveWorkerdChild(pid) && Date.now() < deadline) await sleep(25);
  if (!isLiveWorkerdChild(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const killDeadline = Date.now() + WORKERD_EXIT_WAIT_MS;
  while (isLiveWorkerdChild(pid) && Date.now() < killDeadline) await sleep(25);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function isAddressInUse(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === 'ERR_ADDRESS_IN_USE' || /address already in use/i.test(String(e?.message ?? ''));
}

function workerBindings(opts: StartWorkerOptions): Record<string, string> {
  const bindings: Record<string, string> = { LEASE_SECRETS: JSON.stringify(opts.secrets) };
  if (opts.leaseTtlMs !== undefined) bindings['LEASE_TTL_MS'] = String(opts.leaseTtlMs);
  if (opts.faultSeamToken !== undefined) {
    bindings['FAULT_SEAMS'] = 'on';
    bindings['FAULT_TOKEN'] = opts.faultSeamToken;
  }
  if (opts.variant === 'legacy-kv') {
    if (opts.kvCacheTtlMs !== undefined) bindings['KV_CACHE_TTL_MS'] = String(opts.kvCacheTtlMs);
    if (opts.kvMinExpirationTtlMs !== undefined) {
      bindings['KV_MIN_EXPIRATION_TTL_MS'] = String(opts.kvMinExpirationTtlMs);
    }
  }
  return bindings;
}

export async function startWorker(opts: StartWorkerOptions): Promise<WorkerHandle> {
  validateStartOptions(opts);
  let script: string;
  try {
    script = await bundleWorker(opts.variant);
  } catch (err) {
    throw new InfraError(`could not bundle the ${opts.variant} Worker`, 'worker', String(err));
  }
  return serialised(() => startLocked(opts, script));
}

async function startLocked(opts: StartWorkerOptions, script: string): Promise<WorkerHandle> {
  const sink = opts.log ?? (() => {});
  if (opts.variant === 'legacy-kv') {
    sink('WARNING: starting the legacy-kv lease Worker: KNOWN UNSAFE, it can grant one lease to two regions');
  }
  const tempDir = await mkdtemp(join(opts.tempParent ?? tmpdir(), 'fl-worker-'));
  const before = new Set(listWorkerdChildren());
  const newWorkerd = () => listWorkerdChildren().filter((pid) => !before.has(pid));
  // Tracked from before the spawn, so a signal during startup still finds workerd.
  const tracked: Tracked = { pid: null, before, tempDir };
  live.add(tracked);
  updateProcessHooks();
  const pipe = (stream: Readable) => createInterface({ input: stream }).on('line', (l) => sink(stripAnsi(l)));

  let mf: Miniflare | undefined;
  try {
    mf = withTmpdir(tempDir, () =>
      withoutMiniflareExitListeners(
        () =>
          new Miniflare({
            modules: true,
            script,
            compatibilityDate: COMPATIBILITY_DATE,
            host: opts.host,
            port: opts.port,
            cf: false,
            liveReload: false,
            logRequests: false,
            defaultPersistRoot: opts.persistDir ?? join(tempDir, 'persist'),
            log: new SinkLog(sink),
            handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
              pipe(stdout);
              pipe(stderr);
            },
            bindings: workerBindings(opts),
            ...(opts.variant === 'durable'
              ? { durableObjects: { LEASE: 'LeaseObject' } }
              : { durableObjects: { NONCES: 'NonceGuard' }, kvNamespaces: ['LEASE_KV'] }),
          }),
      ),
    );
    await mf.ready;
  } catch (err) {
    await mf?.dispose().catch(() => undefined);
    await Promise.all(newWorkerd().map(reapWorkerd));
    await rm(tempDir, { recursive: true, force: true, maxRetries: 3 });
    live.delete(tracked);
    updateProcessHooks();
    if (isAddressInUse(err)) {
      throw new InfraError(
        `${opts.host}:${opts.port} is already in use; stop whatever listens there or use port 0 for a free one`,
        'worker',
      );
    }
    throw new InfraError('workerd failed to start', 'worker', String((err as Error)?.stack ?? err));
  }

  const spawned = newWorkerd();
  const workerdPid = spawned.length === 1 ? (spawned[0] ?? null) : null;
  tracked.pid = workerdPid;

  let disposing: Promise<void> | undefined;
  const started = mf;
  const dispose = (): Promise<void> => {
    disposing ??= (async () => {
      try {
        await withTimeout(started.dispose(), DISPOSE_TIMEOUT_MS, 'miniflare dispose');
      } catch (err) {
        sink(`miniflare dispose failed, killing workerd by PID: ${String(err)}`);
      }
      if (workerdPid !== null) await reapWorkerd(workerdPid);
      live.delete(tracked);
      updateProcessHooks();
      await rm(tempDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return disposing;
  };

  let port = opts.port;
  if (port === 0) {
    const ports = workerdPid === null ? [] : listeningPortsOf(workerdPid, opts.host);
    if (ports.length !== 1 || ports[0] === undefined) {
      await dispose();
      throw new InfraError(
        `could not tell which port workerd bound on ${opts.host} (found ${ports.length})`,
        'worker',
      );
    }
    port = ports[0];
  }

  return {
    url: `http://${opts.host}:${port}`,
    host: opts.host,
    port,
    variant: opts.variant,
    workerdPid,
    tempDir,
    dispose,
  };
}
