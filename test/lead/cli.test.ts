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

describe('--driver flag', () => {
  it('rejects an unknown driver with exit 2 and one line', () => {
    const r = cli(['up', '--driver', 'bogus', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--driver');
  });

  it('run --driver docker exits 3 with one line and starts nothing', () => {
    // With or without a Docker engine: without one, the runtime is missing; with one,
    // scenario execution on containers is not supported yet. Either way: exit 3, one line.
    const r = cli(['run', 'scenarios/primary-region-crash.yaml', '--driver', 'docker']);
    expect(r.code).toBe(3);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('driver:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/docker driver/);
  });
});
