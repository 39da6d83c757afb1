import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('failover-lab CLI', () => {
  it('lists every subcommand in --help and exits 0', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of [
      'controller',
      'worker',
      'toxiproxy',
      'sim',
      'up',
      'run',
      'demo',
      'report',
      'gameday',
      'export',
    ]) {
      expect(r.stdout).toContain(c);
    }
  });

  it('exits 2 on an unknown command', () => {
    const r = cli(['no-such-command']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('exits 2 on an unknown option', () => {
    const r = cli(['sim', '--no-such-flag']);
    expect(r.code).toBe(2);
  });
});

describe('scripts/setup.sh', () => {
  it('is idempotent: a rerun with nothing to do succeeds silently', () => {
    const r = spawnSync('bash', ['scripts/setup.sh'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });
});
