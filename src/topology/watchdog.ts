/**
 * The harness's dead-man switch: one small bash process per harness, started in its own
 * session (so neither a terminal's Ctrl-C nor a SIGKILL of the harness's process group
 * reaches it), reading guard lines from a pipe the harness holds open.
 *
 * When that pipe reaches EOF — the harness exited, however it exited, SIGKILL included — the
 * watchdog SIGKILLs the process group and the PID of every guarded child that is still the
 * process it was (kernel start time compared, so a reused PID is never hit) and removes every
 * guarded directory. A clean shutdown has already stopped everything, so the same EOF then
 * finds nothing to do.
 *
 * Protocol (one line each): `pid <pid> <starttime>`, `unpid <pid>`, `dir <path>`, `undir <path>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { processStartTime } from './addresses.ts';

// Why bash: it starts in ~2 ms with ~3 MiB, and it only needs read, kill and rm.
const WATCHDOG_SCRIPT = `
declare -A pids=() dirs=()
while IFS=' ' read -r kind a b; do
  case "$kind" in
    pid) pids["$a"]="$b" ;;
    unpid) unset 'pids[$a]' ;;
    dir) dirs["$a"]=1 ;;
    undir) unset 'dirs[$a]' ;;
  esac
done
for p in "\${!pids[@]}"; do
  [ "$p" = "$$" ] && continue
  { read -r stat < "/proc/$p/stat"; } 2>/dev/null || continue
  rest=\${stat##*) }
  set -- $rest
  [ "\${20}" = "\${pids[$p]}" ] || continue
  kill -KILL -- "-$p" 2>/dev/null
  kill -KILL "$p" 2>/dev/null
done
for d in "\${!dirs[@]}"; do rm -rf -- "$d"; done
`;

export class Watchdog {
  private readonly child: ChildProcess;
  private readonly pipe: Socket;
  private broken = false;

  constructor() {
    this.child = spawn('/bin/bash', ['-c', WATCHDOG_SCRIPT], {
      detached: true, // setsid: out of the harness's session and process group
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.pipe = this.child.stdin as Socket;
    this.child.on('error', () => {
      this.broken = true;
    });
    this.pipe.on('error', () => {
      this.broken = true;
    });
    // Neither the watchdog nor its pipe may keep the harness alive.
    this.child.unref();
    this.pipe.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private send(line: string): void {
    if (this.broken || line.includes('\n')) return;
    this.pipe.write(`${line}\n`);
  }

  /** Kill `pid` (and its process group) if the harness dies while it runs. */
  guardPid(pid: number): void {
    const startTime = processStartTime(pid);
    if (startTime !== null) this.send(`pid ${pid} ${startTime}`);
  }

  unguardPid(pid: number): void {
    this.send(`unpid ${pid}`);
  }

  /** Remove `dir` if the harness dies before it removed it itself. */
  guardDir(dir: string): void {
    this.send(`dir ${dir}`);
  }

  unguardDir(dir: string): void {
    this.send(`undir ${dir}`);
  }
}

let shared: Watchdog | null = null;

/** The harness's one watchdog, started on first use. */
export function harnessWatchdog(): Watchdog {
  shared ??= new Watchdog();
  return shared;
}
