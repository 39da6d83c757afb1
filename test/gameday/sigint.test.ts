/**
 * SIGINT in the middle of an experiment: `node bin/failover-lab.mjs gameday plan.yaml` is
 * interrupted while two links are cut and a command probe is running. Afterwards the test
 * checks the links itself (Toxiproxy API + TCP connects), that no child process survived,
 * and what the CLI reported. The deployment (127.0.105.x) runs in this test process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpConnect } from '../../src/faults/probe.ts';
import { externalTargetYaml, type MiniTarget, startMiniTarget } from './helpers/mini-target.ts';

let dir = '';
let t: MiniTarget;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-sigint-test-'));
  t = await startMiniTarget(105);
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the exit code; rejects if the child is still running after `ms`. */
function exited(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI still running ${ms} ms after SIGINT`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('gameday CLI and SIGINT', () => {
  it('reverts every fault (verified), kills probe children and exits 1 with the experiment Stopped', async () => {
    const marker = `gameday-sigint-probe-${process.pid}`;
    const planFile = join(dir, 'plan.yaml');
    writeFileSync(
      planFile,
      `name: sigint
${externalTargetYaml(t)}
steadyState:
  probes:
    - name: app-up
      type: http
      http: { url: "http://\${endpoints.client->app-a}/health" }
experiments:
  - name: cut-two-links
    fault: partition
    target: [client->app-a, ctl-a->worker]
    duration: 60s
    probes:
      - name: long-command
        type: cmd
        mode: OnChaos
        runProperties: { timeout: 50s }
        cmd: { command: ${JSON.stringify(process.execPath)}, args: ["-e", "setTimeout(() => {}, 55000)", "${marker}"] }
  - name: never-started
    fault: latency
    target: w1->auth-a
    params: { latency: 10ms }
    duration: 1s
`,
    );
    const child = spawn(
      process.execPath,
      ['bin/failover-lab.mjs', 'gameday', planFile, '--json', '--out', join(dir, 'reports')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    const injected = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (/inject {6}partition client->app-a,ctl-a->worker .*: verified/.test(stderr)) resolve();
      });
      child.on('exit', () => reject(new Error(`CLI exited before injecting:\n${stderr}`)));
    });
    await injected;
    // Mid-experiment: both links cut, the command probe's child running.
    const during = await tcpConnect(
      ...((t.listen['client->app-a']!.split(':') as [string, string]).map((x, i) => (i ? Number(x) : x)) as [
        string,
        number,
      ]),
    );
    expect(during).toBe('refused');
    for (
      let i = 0;
      i < 50 && !spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.includes(marker);
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout).toContain(marker);

    child.kill('SIGINT');
    const code = await exited(child, 20_000);

    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/SIGINT: stopping the game day; reverting every fault first/);
    const out = JSON.parse(stdout) as {
      verdict: string;
      interrupted: string;
      rollback: { allVerified: boolean; reverted: number };
      experiments: Array<{ status: { experimentStatus: { verdict: string; failStep: string } } }>;
      reportDir: string;
    };
    expect(out.verdict).toBe('Stopped');
    expect(out.interrupted).toBe('SIGINT');
    expect(out.rollback).toMatchObject({ allVerified: true, reverted: 2 });
    expect(out.experiments.map((e) => e.status.experimentStatus.verdict)).toEqual(['Stopped', 'Stopped']);
    expect(out.experiments[0]!.status.experimentStatus.failStep).toMatch(
      /interrupted by SIGINT; faults reverted \(verified\)/,
    );

    // Nothing left cut: the API says enabled with no toxics, and connects get through.
    const proxies = (await (await fetch(`${t.toxiproxyUrl}/proxies`)).json()) as Record<
      string,
      { enabled: boolean; listen: string; toxics: unknown[] }
    >;
    for (const [name, p] of Object.entries(proxies)) {
      const [host, port] = p.listen.split(':');
      expect({
        name,
        enabled: p.enabled,
        toxics: p.toxics.length,
        connect: await tcpConnect(host!, Number(port)),
      }).toEqual({
        name,
        enabled: true,
        toxics: 0,
        connect: 'connected',
      });
    }
    // No child left behind: neither the CLI nor the probe's command.
    expect(() => process.kill(child.pid!, 0)).toThrow();
    expect(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout).not.toContain(marker);

    // The report's history shows the verified revert.
    expect(existsSync(join(out.reportDir, 'history.jsonl'))).toBe(true);
    const history = readFileSync(join(out.reportDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; phase?: string; verified?: boolean; links?: string[] });
    const ends = history.filter((e) => e.kind === 'fault' && e.phase === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ verified: true, links: ['client->app-a', 'ctl-a->worker'] });
  }, 45_000);
});
