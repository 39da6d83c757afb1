/**
 * Owns every process the local topology starts.
 *
 * - Each child is spawned directly (absolute path, no shell), in its own process group so a
 *   terminal's Ctrl-C reaches only the harness, which then stops everything in order.
 * - stdout+stderr go straight to `<logsDir>/<name>.log` (no pipe through the harness).
 * - An exit nobody asked for is an infrastructure failure: the supervisor aborts its
 *   `signal` with an InfraError naming the component and quoting its last log lines.
 * - Shutdown (normal end, error, SIGINT, SIGTERM): SIGCONT (a stopped process cannot act
 *   on SIGTERM), SIGTERM, then SIGKILL after `graceMs`, always by PID, waiting for the exit;
 *   then the registered cleanups (miniflare dispose, proxy close) and the temp dirs.
 * - A synchronous `process.on('exit')` net SIGKILLs anything still tracked, so even an
 *   uncaught exception leaves nothing running.
 * - A harness that cannot run any code at all (SIGKILL, OOM killer, CI timeout) is covered
 *   twice: each child runs under `setpriv --pdeathsig SIGKILL` (the kernel kills it when the
 *   harness dies), and the harness watchdog (watchdog.ts, its own session) kills every guarded
 *   PID/process group and removes the temp dirs when the harness's pipe closes.
 * Processes we did not spawn but own (workerd, spawned by miniflare in-process) are adopted
 * by PID and watched through /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../errors.ts';
import { clampedSleep } from '../timers.ts';
import { processState } from './addresses.ts';
import { BINARIES } from './binaries.ts';
import { harnessWatchdog } from './watchdog.ts';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** 'pipe': the harness writes to the child's stdin (a start gate); default: no stdin */
  stdin?: 'pipe';
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Managed {
  name: string;
  pid: number;
  spec: ChildSpec | null;
  logFile: string;
  child: ChildProcess | null;
  exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | null;
  /** the next exit is intended (stop, crash fault): not an infrastructure failure */
  expectExit: boolean;
  startedAtMs: number;
}

export interface SupervisorOptions {
  logsDir: string;
  /** SIGTERM → SIGKILL grace */
  graceMs?: number;
  /** called with each spawned PID (the run lease records them for stale-run cleanup) */
  onSpawn?: (pid: number) => void;
  /** called with each temp dir (the run lease records them for stale-run cleanup) */
  onTempDir?: (dir: string) => void;
  /** hook for history: process start/exit */
  onProcessEvent?: (ev: { component: string; op: 'start' | 'exit'; pid: number; detail?: string }) => void;
  installSignalHandlers?: boolean;
}

/** Waits `ms` (beyond setTimeout's 2^31 ms range too); rejects with the signal's reason on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return clampedSleep(ms, signal);
}

export function tailLines(file: string, n: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').filter(Boolean).slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Direct children of `ppid`, from /proc (a library's children included). */
export function childPidsOf(ppid: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of entries) {
    if (d.charCodeAt(0) > 57) continue; // not a PID
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export class Supervisor {
  readonly logsDir: string;
  readonly graceMs: number;
  private readonly procs = new Map<string, Managed>();
  private readonly cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  private readonly tempDirs: string[] = [];
  private readonly controller = new AbortController();
  private shuttingDown: Promise<void> | null = null;
  private readonly opts: SupervisorOptions;
  private readonly exitNet = () => this.killAllSync();
  private readonly onSignal = (sig: NodeJS.Signals) => this.handleSignal(sig);
  private adoptedTimer: NodeJS.Timeout | null = null;
  private signalsSeen = 0;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
    this.logsDir = opts.logsDir;
    this.graceMs = opts.graceMs ?? 2000;
    mkdirSync(this.logsDir, { recursive: true });
    process.on('exit', this.exitNet);
    if (opts.installSignalHandlers !== false) {
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
  }

  /** Aborted (with an InfraError) on the first unexpected exit or on SIGINT/SIGTERM. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  throwIfFailed(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  fail(err: InfraError): void {
    if (!this.controller.signal.aborted) this.controller.abort(err);
  }

  get(name: string): Managed {
    const m = this.procs.get(name);
    if (!m) throw new Error(`no such process: ${name}`);
    return m;
  }

  has(name: string): boolean {
    return this.procs.has(name);
  }

  list(): Managed[] {
    return [...this.procs.values()];
  }

  logFileOf(name: string): string {
    return join(this.logsDir, `${name}.log`);
  }

  spawn(spec: ChildSpec): Managed {
    this.throwIfFailed();
    const logFile = this.logFileOf(spec.name);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    // setpriv execs the command in place: the PID we track is still the daemon's.
    const viaSetpriv = existsSync(BINARIES.setpriv.path);
    const command = viaSetpriv ? BINARIES.setpriv.path : spec.command;
    const args = viaSetpriv ? ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args] : spec.args;
    try {
      child = spawn(command, args, {
        cwd: spec.cwd,
        env: spec.env as NodeJS.ProcessEnv | undefined,
        stdio: [spec.stdin ?? 'ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) {
      throw new InfraError(`could not start ${spec.command}`, spec.name, tailLines(logFile, 20));
    }
    const pid = child.pid;
    let resolveExit!: (e: ExitInfo) => void;
    const exited = new Promise<ExitInfo>((r) => {
      resolveExit = r;
    });
    const m: Managed = {
      name: spec.name,
      pid,
      spec,
      logFile,
      child,
      exited,
      exitInfo: null,
      expectExit: false,
      startedAtMs: performance.now(),
    };
    child.on('error', (err) => {
      // spawn failure (ENOENT...): reported as an exit
      m.exitInfo = { code: -1, signal: null };
      this.onExit(m, `spawn error: ${err.message}`);
      resolveExit(m.exitInfo);
    });
    harnessWatchdog().guardPid(pid);
    child.on('exit', (code, signal) => {
      harnessWatchdog().unguardPid(pid);
      m.exitInfo = { code, signal };
      this.onExit(m);
      resolveExit(m.exitInfo);
    });
    this.procs.set(spec.name, m);
    this.opts.onSpawn?.(pid);
    this.opts.onProcessEvent?.({ component: spec.name, op: 'start', pid });
    return m;
  }

  /** Tracks a process started by a library on our behalf (workerd under miniflare). */
  adopt(name: string, pid: number, logFile?: string): Managed {
    let resolveExit!: (e: ExitInfo) => void;
    const exited = new Promise<ExitInfo>((r) => {
      resolveExit = r;
    });
    const m: Managed & { resolveExit?: (e: ExitInfo) => void } = {
      name,
      pid,
      spec: null,
      logFile: logFile ?? this.logFileOf(name),
      child: null,
      exited,
      exitInfo: null,
      expectExit: false,
      startedAtMs: performance.now(),
      resolveExit,
    };
    this.procs.set(name, m);
    harnessWatchdog().guardPid(pid);
    this.opts.onSpawn?.(pid);
    this.opts.onProcessEvent?.({ component: name, op: 'start', pid });
    if (!this.adoptedTimer) {
      // Not our direct child: poll /proc. 'Z' counts as gone (the library reaps it).
      this.adoptedTimer = setInterval(() => this.pollAdopted(), 200);
      this.adoptedTimer.unref();
    }
    return m;
  }

  private pollAdopted(): void {
    for (const m of this.procs.values()) {
      if (m.child || m.exitInfo) continue;
      const st = processState(m.pid);
      if (st === null || st === 'Z') {
        harnessWatchdog().unguardPid(m.pid);
        m.exitInfo = { code: null, signal: null };
        this.onExit(m);
        (m as Managed & { resolveExit?: (e: ExitInfo) => void }).resolveExit?.(m.exitInfo);
      }
    }
  }

  private onExit(m: Managed, extra?: string): void {
    const how = m.exitInfo?.signal ? `signal ${m.exitInfo.signal}` : `code ${m.exitInfo?.code}`;
    this.opts.onProcessEvent?.({ component: m.name, op: 'exit', pid: m.pid, detail: extra ?? how });
    if (m.expectExit || this.shuttingDown) return;
    this.fail(
      new InfraError(
        `exited unexpectedly (pid ${m.pid}, ${how})${extra ? `: ${extra}` : ''}; log ${m.logFile}`,
        m.name,
        `--- last lines of ${m.logFile} ---\n${tailLines(m.logFile, 25)}`,
      ),
    );
  }

  /** Sends a signal by PID (pause/resume faults). */
  kill(name: string, sig: NodeJS.Signals): void {
    const m = this.get(name);
    if (m.exitInfo) return;
    try {
      process.kill(m.pid, sig);
    } catch {
      /* gone */
    }
  }

  /** Stops one process (SIGCONT, SIGTERM, SIGKILL after the grace period) and waits for it. */
  async stop(name: string, opts: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<ExitInfo> {
    const m = this.get(name);
    m.expectExit = true;
    if (m.exitInfo) return m.exitInfo;
    const sig = opts.signal ?? 'SIGTERM';
    try {
      process.kill(m.pid, 'SIGCONT');
      process.kill(m.pid, sig);
    } catch {
      /* already gone */
    }
    if (sig === 'SIGKILL') return m.exited;
    const grace = opts.graceMs ?? this.graceMs;
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), grace).unref());
    const res = await Promise.race([m.exited, timer]);
    if (res === 'timeout') {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      // Adopted processes have no exit event: the /proc poll resolves them.
      return m.exited;
    }
    return res;
  }

  /** Starts a stopped/crashed process again with the same spec, or the one given (restart fault). */
  respawn(name: string, spec?: ChildSpec): Managed {
    const old = this.get(name);
    if (!old.spec) throw new Error(`${name} was adopted, it cannot be respawned by the supervisor`);
    if (!old.exitInfo) throw new Error(`${name} is still running`);
    this.procs.delete(name);
    return this.spawn(spec ?? old.spec);
  }

  addCleanup(name: string, fn: () => Promise<void> | void): void {
    this.cleanups.push({ name, fn });
  }

  addTempDir(dir: string): void {
    this.tempDirs.push(dir);
    harnessWatchdog().guardDir(dir);
    this.opts.onTempDir?.(dir);
  }

  /**
   * Guards every direct child of the harness while `during` runs: a library that spawns a
   * process for us (miniflare's workerd) tells us its PID only once it is ready, and a harness
   * killed before then must not leave it behind.
   */
  async guardOwnChildrenDuring<T>(during: Promise<T>): Promise<T> {
    // not the watchdog itself: it would kill its own process group before its cleanup
    const seen = new Set<number>(harnessWatchdog().pid !== undefined ? [harnessWatchdog().pid!] : []);
    const scan = () => {
      for (const pid of childPidsOf(process.pid)) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        harnessWatchdog().guardPid(pid);
      }
    };
    scan();
    const timer = setInterval(scan, 50);
    timer.unref();
    try {
      return await during;
    } finally {
      clearInterval(timer);
    }
  }

  /** Idempotent. Stops every process, runs cleanups in reverse order, removes temp dirs. */
  shutdown(): Promise<void> {
    if (!this.shuttingDown) this.shuttingDown = this.doShutdown();
    return this.shuttingDown;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown !== null;
  }

  private async doShutdown(): Promise<void> {
    const errors: string[] = [];
    // Controllers first (they would otherwise log errors about everything else vanishing),
    // then everything else in parallel.
    const procs = [...this.procs.values()].filter((m) => !m.exitInfo && m.child);
    const first = procs.filter((m) => m.name.startsWith('ctl-'));
    const rest = procs.filter((m) => !m.name.startsWith('ctl-'));
    await Promise.all(first.map((m) => this.stop(m.name)));
    await Promise.all(rest.map((m) => this.stop(m.name)));
    for (const c of [...this.cleanups].reverse()) {
      try {
        await c.fn();
      } catch (err) {
        errors.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    // Adopted processes must be gone once their owner's cleanup ran; make sure.
    for (const m of this.procs.values()) {
      if (m.child || m.exitInfo) continue;
      const st = processState(m.pid);
      if (st !== null && st !== 'Z') await this.stop(m.name);
    }
    if (this.adoptedTimer) clearInterval(this.adoptedTimer);
    for (const d of this.tempDirs) {
      rmSync(d, { recursive: true, force: true });
      harnessWatchdog().unguardDir(d);
    }
    process.off('exit', this.exitNet);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (errors.length) process.stderr.write(`failover-lab: cleanup problems: ${errors.join('; ')}\n`);
  }

  /** Last-resort, synchronous: SIGKILL everything still tracked and remove temp dirs. */
  killAllSync(): void {
    for (const m of this.procs.values()) {
      if (m.exitInfo) continue;
      const st = processState(m.pid);
      if (st === null || st === 'Z') continue;
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const d of this.tempDirs) {
      try {
        if (existsSync(d)) rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  }

  private handleSignal(sig: NodeJS.Signals): void {
    this.signalsSeen++;
    if (this.signalsSeen > 1) {
      // Second Ctrl-C: no more patience.
      this.killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    this.fail(new InfraError(`interrupted by ${sig}; stopping everything`, 'harness'));
    // The run loop reacts to the abort and shuts down; if nothing is awaiting (e.g. `up --keep`
    // waiting for Ctrl-C), do it here. Either way, exit once it is done.
    // Not unref'd: the run loop may return (exit code 3, "infrastructure failure") before this
    // fires, and an interrupted run exits 128+signal, like a shell would report it.
    void this.shutdown().finally(() => {
      setTimeout(() => process.exit(sig === 'SIGINT' ? 130 : 143), 50);
    });
    setTimeout(() => {
      this.killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }, this.graceMs * 3).unref();
  }
}
