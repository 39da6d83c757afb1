/**
 * Address plan of the local topology: `127.<run>.<component>.<n>`.
 *
 * The second octet (<run>) is picked per run from 40–99 (docs/engineering.md) and held with
 * a lock file, so two concurrent runs on one machine never share an address. A lock whose
 * owner is dead is stale: the processes it recorded (PID + kernel start time, so a reused
 * PID is never hit) are killed before the octet is reused. Ports come from a free-port probe
 * (bind port 0 on the exact address), never from a fixed list.
 */

import { createSocket } from 'node:dgram';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InfraError } from '../errors.ts';

export const RUN_OCTET_MIN = 40;
export const RUN_OCTET_MAX = 99;

/** Third octet of each component family (see docs/topology.md). */
export const COMPONENT_OCTET = {
  /** region i (0-based) uses 127.R.(i+1).x: .1 authoritative, .10 app, .20 controller */
  regionBase: 1,
  witnesses: 10,
  worker: 20,
  proxyApi: 30,
  proxyListeners: 31,
  tombstone: 40,
} as const;

export const REGION_HOST = { auth: 1, app: 10, controller: 20 } as const;

export function lockDir(): string {
  return join(tmpdir(), 'failover-lab-locks');
}

export interface RunLease {
  octet: number;
  lockPath: string;
  pidsPath: string;
  /** Appends a child's identity so a later run can clean up if this one is SIGKILLed. */
  recordPid(pid: number): void;
  /** Appends a temp dir of the run, removed by a later run if this one is SIGKILLed. */
  recordDir(dir: string): void;
  release(): void;
}

/** Kernel start time of a process (field 22 of /proc/PID/stat), or null if it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 is index 19 after pid, comm
  } catch {
    return null;
  }
}

/** Process state letter from /proc (R, S, D, T, Z...), or null if it is gone. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number, startTime: string | undefined): boolean {
  const st = processStartTime(pid);
  if (st === null) return false;
  return startTime === undefined || st === startTime;
}

/** Second octets that have a socket bound right now (someone may use the range without our lock). */
export function octetsInUse(): Set<number> {
  const used = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/udp']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (!local) continue;
      const hex = local.split(':')[0] ?? '';
      // little-endian: "yyxxRR7F" for 127.RR.xx.yy
      if (hex.length === 8 && hex.endsWith('7F')) used.add(Number.parseInt(hex.slice(4, 6), 16));
    }
  }
  return used;
}

/** Only dirs a run creates in the temp dir are ever removed by a later run's reaper. */
function isRunTempDir(dir: string): boolean {
  const base = basename(dir);
  return dirname(dir) === tmpdir() && (base.startsWith('failover-lab-') || base.startsWith('fl-run-logs-'));
}

function cleanupStale(lockPath: string, pidsPath: string): void {
  let entries: Array<{ pid?: number; startTime?: string; dir?: string }> = [];
  try {
    entries = readFileSync(pidsPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { pid?: number; startTime?: string; dir?: string });
  } catch {
    /* no pid list: nothing to clean */
  }
  for (const p of entries) {
    // Only a process whose kernel start time matches is ours; a reused PID is left alone.
    if (p.pid !== undefined && p.startTime && alive(p.pid, p.startTime)) {
      for (const target of [-p.pid, p.pid]) {
        try {
          process.kill(target, 'SIGKILL'); // its process group first (children are group leaders)
        } catch {
          /* not a group leader, or already gone */
        }
      }
    }
    if (p.dir !== undefined && isRunTempDir(p.dir)) rmSync(p.dir, { recursive: true, force: true });
  }
  rmSync(pidsPath, { force: true });
  rmSync(lockPath, { force: true });
}

/**
 * Reaps every run whose harness is gone (PID dead, or reused by another process): its recorded
 * processes, its temp dirs and its lock. Decided by the owner's PID, not by whether the octet
 * still has sockets bound: a SIGKILLed run's orphans keep theirs bound forever.
 */
export function reapStaleRuns(): number {
  const dir = lockDir();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let reaped = 0;
  for (const name of names) {
    const m = /^(\d+)\.lock$/.exec(name);
    if (!m) continue;
    const lockPath = join(dir, name);
    let owner: { pid?: number; startTime?: string } = {};
    try {
      owner = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof owner;
    } catch {
      continue; // half-written by a starter right now, or just removed
    }
    if (owner.pid === undefined || alive(owner.pid, owner.startTime)) continue;
    cleanupStale(lockPath, join(dir, `${m[1]}.pids`));
    reaped++;
  }
  return reaped;
}

/**
 * Picks and locks a free run octet. Tries the octets in a random order so concurrent
 * starters rarely race for the same one; the O_EXCL create is the actual arbiter.
 */
export function acquireRunOctet(preferred?: number): RunLease {
  const dir = lockDir();
  mkdirSync(dir, { recursive: true });
  reapStaleRuns();
  const busy = octetsInUse();
  const candidates: number[] = [];
  for (let o = RUN_OCTET_MIN; o <= RUN_OCTET_MAX; o++) candidates.push(o);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  if (preferred !== undefined) candidates.unshift(preferred);
  for (const octet of candidates) {
    if (busy.has(octet)) continue;
    const lockPath = join(dir, `${octet}.lock`);
    const pidsPath = join(dir, `${octet}.pids`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeFileSync(fd, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }));
        closeSync(fd);
        rmSync(pidsPath, { force: true });
        return {
          octet,
          lockPath,
          pidsPath,
          recordPid(pid: number) {
            appendFileSync(pidsPath, `${JSON.stringify({ pid, startTime: processStartTime(pid) })}\n`);
          },
          recordDir(runTempDir: string) {
            appendFileSync(pidsPath, `${JSON.stringify({ dir: runTempDir })}\n`);
          },
          release() {
            rmSync(pidsPath, { force: true });
            rmSync(lockPath, { force: true });
            // leave no empty lock dir behind; another run holding a lock keeps it (ENOTEMPTY)
            try {
              rmdirSync(dir);
            } catch {
              /* not empty, or already gone */
            }
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // another run removed the (then empty) lock dir in between: recreate and retry
          mkdirSync(dir, { recursive: true });
          continue;
        }
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let owner: { pid?: number; startTime?: string } = {};
        try {
          owner = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof owner;
        } catch {
          // Half-written lock of a starter that is writing it right now: treat as taken.
          break;
        }
        if (owner.pid !== undefined && alive(owner.pid, owner.startTime)) break;
        cleanupStale(lockPath, pidsPath);
      }
    }
  }
  throw new InfraError(
    `no free run octet in 127.${RUN_OCTET_MIN}-${RUN_OCTET_MAX}.x.x (all locked or in use)`,
    'topology',
  );
}

/** Binds port 0 on `host` (TCP, and UDP too when asked) and returns the port the kernel chose. */
export async function freePort(host: string, opts: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen({ host, port: 0, exclusive: true }, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!opts.udp) return port;
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind({ address: host, port, exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new InfraError(`no free port on ${host}`, 'topology');
}

/** A port that is free on every one of `hosts` (TCP): probed on the first, confirmed on the rest. */
export async function sameFreePort(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(hosts[0]!);
    const ok = await Promise.all(hosts.slice(1).map((h) => portFree(h, port)));
    if (ok.every(Boolean)) return port;
  }
  throw new InfraError(`no port free on all of ${hosts.join(', ')}`, 'topology');
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
