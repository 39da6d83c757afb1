/**
 * Resident memory of a process tree, read from /proc (Linux): what the whole topology costs
 * the machine — the harness and every process it started, however deep (workerd under
 * miniflare, setpriv-exec'd daemons). RSS counts shared pages once per process, as `ps` does.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeMemory {
  totalMB: number;
  /** per process: pid, command name, RSS in MB, largest first */
  processes: Array<{ pid: number; command: string; rssMB: number }>;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command sits in parentheses and may contain spaces: fields resume after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return null;
  }
}

function rssOf(pid: number): { command: string; rssMB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    const command = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
    return { command, rssMB: Math.round((kb / 1024) * 10) / 10 };
  } catch {
    return null;
  }
}

/** RSS of rootPid and all its descendants; null where /proc is not there to read. */
export function treeMemory(rootPid = process.pid): TreeMemory | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return null;
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const processes: TreeMemory['processes'] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const m = rssOf(pid);
    if (m) processes.push({ pid, ...m });
    stack.push(...(children.get(pid) ?? []));
  }
  processes.sort((x, y) => y.rssMB - x.rssMB);
  const totalMB = Math.round(processes.reduce((s, p) => s + p.rssMB, 0) * 10) / 10;
  return { totalMB, processes };
}
