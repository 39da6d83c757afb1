/** Runs the real CLI (bin/failover-lab.mjs) as a child process, as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/topology/local.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[]): {
  child: ChildProcess;
  done: Promise<CliResult>;
  stderrSoFar: () => string;
} {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/failover-lab.mjs'), ...args], {
    cwd: REPO_ROOT,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stderrSoFar: () => stderr };
}

export function runCli(args: string[]): Promise<CliResult> {
  return startCli(args).done;
}
