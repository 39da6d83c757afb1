/**
 * Game days against the real local topology (src/topology/local.ts: PowerDNS, unbound
 * witnesses, the Worker, apps, the built-in Toxiproxy on every link). Controllers are off
 * (`controllers: false`) so the run does not depend on the agent; the faults, probes and
 * rollback paths are the same ones a full topology uses.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reachProxy } from '../../src/faults/probe.ts';
import { REACH_TIMEOUT_MS } from '../../src/gameday/faults.ts';
import { loadPlanFile } from '../../src/gameday/plan.ts';
import { memoryProgress } from '../../src/gameday/progress.ts';
import { runGameDay } from '../../src/gameday/runner.ts';
import { ToxiproxyClient } from '../../src/toxiproxy/client.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-local-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Processes and temp dirs of one topology run (its run octet names both). */
function leftoversOf(octet: string) {
  const procs = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(`failover-lab-${octet}-`));
  const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith(`failover-lab-${octet}-`));
  return { procs, dirs };
}

const HYPOTHESIS = `steadyState:
  strategy: continuously
  frequency: 100ms
  probes:
    - name: client-reaches-app-a
      type: http
      # retries ride out the apps' start-up before the game day; they also delay the deviation verdict by ~1.5 s
      runProperties: { timeout: 500ms, retries: 15, interval: 100ms }
      http: { url: "http://\${endpoints.client->app-a}/health" }
`;

describe('game day against the local topology', () => {
  it('a failing hypothesis ends with Fail and every link reverted (probed before the topology stops)', async () => {
    const f = join(dir, 'local-fail.yaml');
    writeFileSync(
      f,
      `name: local-hypothesis-fails
target:
  local: { controllers: false }
${HYPOTHESIS}
experiments:
  - name: freeze-app-b
    fault: pause
    target: app-b
    duration: 300ms
    weight: 2
  - name: slow-witness
    fault: latency
    target: w1->auth-*
    params: { latency: 30ms }
    duration: 300ms
    probes:
      - name: witness-answers
        type: dns
        mode: Edge
        runProperties: { retries: 20, interval: 250ms }
        dns: { resolver: w1, name: a.regions.app.example, expect: { answers: ["\${hosts.app-a}"] } }
  - name: cut-client
    fault: partition
    target: client->app-a
    duration: 30s
  - name: never-runs
    fault: partition
    target: ctl-a->worker
    duration: 1s
`,
    );
    const plan = loadPlanFile(f);
    let links: Array<{ id: string; enabled: boolean; toxics: number; connect: string }> = [];
    let appB = '';
    const out = await runGameDay(plan, {
      interrupt: new AbortController().signal,
      progress: memoryProgress(),
      onBeforeDispose: async (target) => {
        links = await Promise.all(
          Object.values(target.faultTarget.links).map(async (b) => {
            const p = await new ToxiproxyClient(b.toxiproxyUrl).proxy(b.proxy);
            const [host, port] = p.listen.split(':');
            return {
              id: b.link,
              enabled: p.enabled,
              toxics: p.toxics.length,
              connect: await reachProxy(
                { host: host!, port: Number(port) },
                p.protocol ?? 'tcp',
                REACH_TIMEOUT_MS[p.protocol ?? 'tcp'],
              ),
            };
          }),
        );
        appB = await target.faultTarget.processes!.state('app-b');
      },
    });

    expect(out.verdict).toBe('Fail');
    expect(out.exitCode).toBe(1);
    const [freeze, slow, cut, never] = out.experiments;
    expect(freeze!.status.experimentStatus.verdict, freeze!.status.experimentStatus.failStep).toBe('Pass');
    expect(freeze!.status.fault).toMatchObject({
      injected: { verified: true },
      reverted: { verified: true },
    });
    expect(freeze!.status.fault!.injected.detail).toMatch(/app-b paused/);
    expect(slow!.status.experimentStatus.verdict, slow!.status.experimentStatus.failStep).toBe('Pass');
    expect(slow!.status.fault!.touched).toEqual(['w1->auth-a', 'w1->auth-b']);
    expect(cut!.status.experimentStatus.failStep).toMatch(
      /steady-state hypothesis deviated during chaos: client-reaches-app-a/,
    );
    expect(never!.status.experimentStatus.phase).toBe('NotRun');
    expect(out.rollback.allVerified).toBe(true);

    // Probed by the test through the topology's own Toxiproxy, after the final sweep.
    expect(links.length).toBe(28);
    for (const l of links) expect(l).toMatchObject({ enabled: true, toxics: 0, connect: 'connected' });
    expect(appB).toBe('running');
    const pauses = out.history.filter((e) => e.kind === 'process' && (e.op === 'pause' || e.op === 'resume'));
    expect(pauses.map((e) => e.kind === 'process' && [e.component, e.op])).toEqual([
      ['app-b', 'pause'],
      ['app-b', 'resume'],
    ]);

    // And the topology is gone: no process, no temp dir of this run.
    const octet = /local topology 127\.(\d+)\.x\.x/.exec(out.target)![1]!;
    expect(leftoversOf(octet)).toEqual({ procs: [], dirs: [] });
  }, 60_000);

  it('SIGINT mid-experiment (CLI): faults reverted and verified, nothing of the topology left running', async () => {
    const f = join(dir, 'local-sigint.yaml');
    writeFileSync(
      f,
      `name: local-sigint
target:
  local: { controllers: false }
experiments:
  - name: isolate-a
    fault: isolate
    target: a
    duration: 60s
`,
    );
    const child: ChildProcess = spawn(
      process.execPath,
      ['bin/failover-lab.mjs', 'gameday', f, '--json', '--out', join(dir, 'reports')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (/inject {6}isolate a .*: verified/.test(stderr)) resolve();
      });
      child.on('exit', () => reject(new Error(`CLI exited before injecting:\n${stderr}`)));
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`still running after SIGINT:\n${stderr}`));
      }, 30_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(1);
    const out = JSON.parse(stdout) as {
      verdict: string;
      target: string;
      rollback: { allVerified: boolean; reverted: number };
      reportDir: string;
    };
    expect(out.verdict).toBe('Stopped');
    // isolate a = every inter-region link touching region a.
    expect(out.rollback.allVerified).toBe(true);
    expect(out.rollback.reverted).toBeGreaterThan(10);
    const history = readFileSync(join(out.reportDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; phase?: string; verified?: boolean; detail?: string });
    const end = history.find((e) => e.kind === 'fault' && e.phase === 'end');
    expect(end?.verified).toBe(true);
    // Each revert was checked by reaching the proxy in its own protocol (TCP connect, DNS over UDP).
    expect(end?.detail).toMatch(/connect tcp 127\.\d+\.\d+\.\d+:\d+ connected/);
    expect(end?.detail).toMatch(/connect udp 127\.\d+\.\d+\.\d+:\d+ connected/);
    expect(end?.detail).not.toMatch(/NOT REVERTED/);

    const octet = /local topology 127\.(\d+)\.x\.x/.exec(out.target)![1]!;
    expect(leftoversOf(octet)).toEqual({ procs: [], dirs: [] });
    expect(existsSync(out.reportDir)).toBe(true);
  }, 60_000);
});
