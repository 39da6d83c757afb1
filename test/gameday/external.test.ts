/**
 * Whole game days through the external-target path, against a minimal deployment started
 * here (built-in Toxiproxy in front of small HTTP/DNS/metrics servers on 127.0.103-104.x).
 * After each run the test itself checks the links: Toxiproxy API state and TCP connects.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../src/errors.ts';
import { tcpConnect } from '../../src/faults/probe.ts';
import { loadPlanFile } from '../../src/gameday/plan.ts';
import { memoryProgress } from '../../src/gameday/progress.ts';
import { runGameDay } from '../../src/gameday/runner.ts';
import { externalTargetYaml, type MiniTarget, startMiniTarget } from './helpers/mini-target.ts';

let dir = '';
let t: MiniTarget;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-external-test-'));
  t = await startMiniTarget(103);
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function plan(body: string, target: MiniTarget = t) {
  const f = join(dir, `plan-${n++}.yaml`);
  writeFileSync(f, `name: ext-${n}\n${externalTargetYaml(target)}\n${body}`);
  return loadPlanFile(f);
}

/** Every proxy enabled, no toxics, and a TCP connect through each one succeeds. */
async function linkStates(target: MiniTarget) {
  const proxies = (await (await fetch(`${target.toxiproxyUrl}/proxies`)).json()) as Record<
    string,
    { enabled: boolean; listen: string; toxics: unknown[] }
  >;
  return Promise.all(
    Object.entries(proxies).map(async ([name, p]) => {
      const [host, port] = p.listen.split(':');
      return {
        name,
        enabled: p.enabled,
        toxics: p.toxics.length,
        connect: await tcpConnect(host!, Number(port)),
      };
    }),
  );
}

const HYPOTHESIS = `steadyState:
  title: the client reaches app a
  strategy: continuously
  frequency: 100ms
  probes:
    - name: client-sees-app
      type: http
      runProperties: { timeout: 2s }
      http: { url: "http://\${endpoints.client->app-a}/health", expect: { body: "^OK" } }
`;

describe('game day against an external target', () => {
  it('a hypothesis that fails during chaos stops the game day with every fault reverted and verified', async () => {
    const p = plan(`${HYPOTHESIS}probes:
  - name: lease-held
    type: prom
    mode: Continuous
    runProperties: { pollingInterval: 50ms }
    prom: { target: ctl-a, metric: failover_lease_status, labels: { region: a }, criteria: "==", value: 1 }
experiments:
  - name: slow-worker
    fault: latency
    target: ctl-a->worker
    params: { latency: 20ms, stream: both }
    duration: 300ms
    weight: 4
  - name: cut-client
    fault: partition
    target: client->app-a
    duration: 20s
    weight: 10
  - name: never-runs
    fault: blackhole
    target: w1->auth-a
    duration: 1s
`);
    const progress = memoryProgress();
    const out = await runGameDay(p, { interrupt: new AbortController().signal, progress });

    expect(out.verdict).toBe('Fail');
    expect(out.exitCode).toBe(1);
    const [slow, cut, never] = out.experiments;
    expect(slow!.status.experimentStatus.verdict).toBe('Pass');
    expect(slow!.status.fault?.touched).toEqual(['ctl-a->worker']);
    expect(cut!.status.experimentStatus.verdict).toBe('Fail');
    expect(cut!.status.experimentStatus.failStep).toMatch(
      /steady-state hypothesis deviated during chaos: client-sees-app/,
    );
    // Reverted on the deviation, not after the 20 s window.
    expect(cut!.status.timing.chaosEndMs! - cut!.status.timing.chaosStartMs!).toBeLessThan(10_000);
    expect(never!.status.experimentStatus).toMatchObject({ phase: 'NotRun', verdict: 'Stopped' });
    expect(out.steadyState.before?.ok).toBe(true);
    expect(out.steadyState.after?.ok).toBe(true); // the system recovered once the cut was reverted

    // Resilience score over all three: (4×100 + 10×cut% + 10×0) / 24.
    const cutPct = cut!.status.experimentStatus.probeSuccessPercentage;
    expect(out.resilience.totalWeight).toBe(24);
    expect(out.resilience.weightedSum).toBeCloseTo(400 + 10 * cutPct, 5);

    // Rollback recorded and verified.
    expect(out.rollback).toMatchObject({ allVerified: true, leftovers: [] });
    const faults = out.history.filter((e) => e.kind === 'fault');
    expect(faults.map((e) => e.kind === 'fault' && [e.id, e.phase, e.verified])).toEqual([
      ['slow-worker', 'start', true],
      ['slow-worker', 'end', true],
      ['cut-client', 'start', true],
      ['cut-client', 'end', true],
    ]);
    expect(out.history[0]!.kind).toBe('meta');
    const notes = out.history.filter((e) => e.kind === 'note' && e.source === 'gameday.probe');
    expect(notes.length).toBeGreaterThan(2);
    expect(out.verdictForReport.outcomes.find((o) => o.name === 'rollback-verified')?.ok).toBe(true);
    expect(out.verdictForReport.outcomes.find((o) => o.name === 'experiment:cut-client')?.ok).toBe(false);
    expect(progress.lines.some((l) => /revert {6}partition client->app-a: verified/.test(l))).toBe(true);

    // The test's own look at the links.
    for (const s of await linkStates(t))
      expect(s).toMatchObject({ enabled: true, toxics: 0, connect: 'connected' });
  });

  it('an abort threshold halts the game day; the remaining experiments are not run', async () => {
    const p = plan(`probes:
  - name: app-direct
    type: http
    mode: OnChaos
    runProperties: { pollingInterval: 50ms }
    http: { url: "http://\${endpoints.app-a}/health" }
  - name: through-cut
    type: http
    mode: OnChaos
    runProperties: { pollingInterval: 50ms, timeout: 300ms }
    http: { url: "http://\${endpoints.client->app-a}/health" }
experiments:
  - name: cut
    fault: partition
    target: client->app-a
    duration: 20s
    abortThreshold: 75
  - name: next
    fault: partition
    target: ctl-a->worker
    duration: 1s
`);
    const out = await runGameDay(p, { interrupt: new AbortController().signal, progress: memoryProgress() });
    const [cut, next] = out.experiments;
    expect(cut!.status.experimentStatus.failStep).toBe('abort threshold: probe success 50% < 75%');
    expect(cut!.status.timing.chaosEndMs! - cut!.status.timing.chaosStartMs!).toBeLessThan(10_000);
    expect(next!.status.experimentStatus.failStep).toMatch(/not run: cut: abort threshold/);
    expect(out.exitCode).toBe(1);
    for (const s of await linkStates(t))
      expect(s).toMatchObject({ enabled: true, toxics: 0, connect: 'connected' });
  });

  it('a steady state that does not hold before the game day runs no experiment', async () => {
    t.state.healthy = false;
    try {
      const p = plan(
        `${HYPOTHESIS}experiments:\n  - { name: cut, fault: partition, target: ctl-a->worker, duration: 1s }\n`,
      );
      const out = await runGameDay(p, {
        interrupt: new AbortController().signal,
        progress: memoryProgress(),
      });
      expect(out.steadyState.before?.ok).toBe(false);
      expect(out.experiments[0]!.status.experimentStatus).toMatchObject({
        phase: 'NotRun',
        verdict: 'Stopped',
      });
      expect(out.history.some((e) => e.kind === 'fault')).toBe(false);
      expect(out.verdict).toBe('Fail');
    } finally {
      t.state.healthy = true;
    }
  });

  it('a target that is not clean (proxy already disabled) is refused before anything is injected', async () => {
    await fetch(`${t.toxiproxyUrl}/proxies/ctl-a__to__worker`, { method: 'POST', body: '{"enabled":false}' });
    try {
      const p = plan(
        'experiments:\n  - { name: a, fault: latency, target: client->app-a, params: { latency: 5ms }, duration: 1s }\n  - { name: b, fault: partition, target: ctl-a->worker, duration: 1s }\n',
      );
      const run = runGameDay(p, { interrupt: new AbortController().signal, progress: memoryProgress() });
      await expect(run).rejects.toBeInstanceOf(InfraError);
      await expect(run).rejects.toThrow(
        /proxy ctl-a__to__worker \(ctl-a->worker\) is disabled before the game day/,
      );
      const client = (await (await fetch(`${t.toxiproxyUrl}/proxies/client__to__app-a`)).json()) as {
        toxics: unknown[];
      };
      expect(client.toxics).toEqual([]);
    } finally {
      await fetch(`${t.toxiproxyUrl}/proxies/ctl-a__to__worker`, {
        method: 'POST',
        body: '{"enabled":true}',
      });
    }
  });

  it('a fault that cannot be reverted is reported as left behind and exits 3', async () => {
    const doomed = await startMiniTarget(104);
    try {
      const p = plan(
        'experiments:\n  - { name: cut, fault: partition, target: ctl-a->worker, duration: 300ms }\n',
        doomed,
      );
      const progress = memoryProgress();
      const ctl = new AbortController();
      // The Toxiproxy server dies while the link is cut: nothing can restore it.
      const run = runGameDay(p, { interrupt: ctl.signal, progress });
      await new Promise((r) => setTimeout(r, 150));
      await doomed.close();
      const out = await run;
      expect(out.exitCode).toBe(3);
      expect(out.rollback.allVerified).toBe(false);
      expect(out.rollback.leftovers[0]!.label).toMatch(/partition ctl-a->worker/);
      expect(out.experiments[0]!.status.experimentStatus.failStep).toMatch(/revert not verified/);
      expect(progress.lines.some((l) => l.startsWith('FAULT LEFT BEHIND: partition ctl-a->worker'))).toBe(
        true,
      );
      const end = out.history.find((e) => e.kind === 'fault' && e.phase === 'end');
      expect(end).toMatchObject({ verified: false });
    } finally {
      await doomed.close();
    }
  }, 30_000);
});
