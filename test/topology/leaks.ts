/** Leak checks shared by the real-topology tests: sockets bound on a run's addresses, and live processes. */
import { readdirSync, readFileSync } from 'node:fs';
import { processState } from '../../src/topology/addresses.ts';

/** Listening TCP sockets and bound UDP sockets on 127.<octet>.x.y (from /proc/net, no ss needed). */
export function boundSocketsOnOctet(octet: number): string[] {
  const out: string[] = [];
  for (const [file, wantState] of [
    ['/proc/net/tcp', '0A'], // LISTEN
    ['/proc/net/udp', '07'], // bound (UNCONN)
  ] as const) {
    const lines = readFileSync(file, 'utf8').split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== wantState) continue;
      const [hex, portHex] = local.split(':') as [string, string];
      if (hex.length !== 8 || !hex.endsWith('7F') || Number.parseInt(hex.slice(4, 6), 16) !== octet) continue;
      const ip = [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.');
      out.push(`${file.endsWith('tcp') ? 'tcp' : 'udp'} ${ip}:${Number.parseInt(portHex, 16)}`);
    }
  }
  return out;
}

/** Live (not zombie) processes whose command line contains `needle`. */
export function processesWithArg(needle: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    const st = processState(pid);
    if (cmdline.includes(needle) && st !== null && st !== 'Z') out.push({ pid, cmdline });
  }
  return out;
}

/** Direct children of `ppid` (pids), read from each process stat file in /proc. */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export const aliveNotZombie = (pid: number): boolean => {
  const st = processState(pid);
  return st !== null && st !== 'Z';
};
