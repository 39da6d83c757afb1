/**
 * Linux /proc helpers for owning workerd processes (Node-side only). miniflare does not
 * expose workerd's PID, and workerd outlives a Node process that dies without dispose()
 * (toolchain probe G3), so the launcher finds it here, and supervisors and leak checks can
 * use the same functions. Every function degrades to "nothing found" without /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..."; comm may itself contain spaces or parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

/** Live (non-zombie) workerd processes whose parent is `parentPid`. */
export function listWorkerdChildren(parentPid: number = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat && stat.ppid === parentPid && stat.comm === 'workerd' && stat.state !== 'Z')
      found.push(stat.pid);
  }
  return found.sort((a, b) => a - b);
}

/** True while `pid` is a live workerd child of `parentPid` (guards against PID reuse). */
export function isLiveWorkerdChild(pid: number, parentPid: number = process.pid): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.ppid === parentPid && stat.comm === 'workerd' && stat.state !== 'Z';
}

/** /proc/net/tcp prints IPv4 addresses as the host-order (little-endian) 32-bit value. */
function procHexIPv4(host: string): string {
  return host
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();
}

/** TCP ports `pid` is listening on at IPv4 address `host` (e.g. to learn a port-0 bind). */
export function listeningPortsOf(pid: number, host: string): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // fd closed between readdir and readlink
      }
    }
  } catch {
    return [];
  }
  let table: string;
  try {
    table = readFileSync(`/proc/${pid}/net/tcp`, 'utf8');
  } catch {
    return [];
  }
  const wantAddr = procHexIPv4(host);
  const ports: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [addr, portHex] = (cols[1] ?? '').split(':');
    const listening = cols[3] === '0A';
    if (listening && addr === wantAddr && portHex && inodes.has(cols[9] ?? ''))
      ports.push(parseInt(portHex, 16));
  }
  return ports;
}

/**
 * Resident memory of `pid` in KiB from /proc/PID/status: now (VmRSS) and the peak since the
 * process started (VmHWM), or null without /proc. The peak is what a memory test compares:
 * a buffer filled and freed between two samples still shows there.
 */
export function readMemoryKiB(pid: number): { rssKiB: number; peakKiB: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const rssKiB = field('VmRSS');
  const peakKiB = field('VmHWM');
  return Number.isFinite(rssKiB) && Number.isFinite(peakKiB) ? { rssKiB, peakKiB } : null;
}
