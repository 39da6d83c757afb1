/**
 * Whole-topology behaviour of the simulator on hand-written scenarios: the controller core
 * (unmodified) against the models, checked by the shared checker.
 */
import { describe, expect, it } from 'vitest';
import { simOnlyParts, simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent, RoleEvent } from '../../src/contracts/history.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const sim = (yaml: string, seed = 1, backend?: 'durable' | 'kv') =>
  simulateScenario(parseScenario(yaml, 'test.yaml'), { seed, ...(backend ? { leaseBackend: backend } : {}) });

const roles = (h: HistoryEvent[]) =>
  h.filter((e): e is RoleEvent => e.kind === 'role').map((e) => `${e.region}:${e.from}->${e.to}`);

const outcome = (r: ReturnType<typeof sim>, name: string) => r.verdict.outcomes.find((o) => o.name === name)!;

describe('simulated scenarios (durable lease)', () => {
  it('no faults: a bootstraps as primary and stays; every write lands on a', () => {
    const r = sim('name: calm\nduration: 3m\nexpect:\n  - no-failover: true\n  - primary-at-end: a\n');
    expect(r.verdict.ok).toBe(true);
    expect(roles(r.history)).toEqual(['a:standby->candidate', 'a:candidate->primary']);
    const writes = r.history.filter((e) => e.kind === 'app-write');
    expect(writes.length).toBeGreaterThan(170);
    expect(writes.every((e) => e.kind === 'app-write' && e.accepted && e.region === 'a')).toBe(true);
    expect(r.history[0]!.kind).toBe('meta');
  });

  it('isolating the primary region fails over within the documented bound, and a demotes itself', () => {
    const r = sim(
      'name: iso\nduration: 5m\nsteps:\n  - {at: 60s, for: 3m, fault: isolate, target: a}\nexpect:\n  - failover-within: 45s\n  - demoted-within: {region: a, within: 30s}\n  - primary-at-end: b\n',
    );
    expect(r.verdict.violations).toEqual([]);
    expect(outcome(r, 'failover-liveness')).toMatchObject({ ok: true, evaluated: true });
    expect(r.verdict.measurements.failoverMs).toBeLessThanOrEqual(r.verdict.measurements.failoverBoundMs!);
    const evidence = r.history.find((e) => e.kind === 'promotion-evidence' && e.region === 'b');
    expect(evidence).toMatchObject({ basis: 'failover', leaseGranted: true });
  });

  it('crashing the primary region fails over too', () => {
    const r = sim(
      'name: crash\nduration: 4m\nsteps:\n  - {at: 30s, for: 2m, fault: crash, target: a}\nexpect:\n  - failover-within: 45s\n',
    );
    expect(r.verdict.ok).toBe(true);
    expect(r.history.some((e) => e.kind === 'process' && e.component === 'app-a' && e.op === 'crash')).toBe(
      true,
    );
  });

  it('cutting only the inter-region links does not fail over (the lease holds)', () => {
    const r = sim(
      'name: split\nduration: 5m\nsteps:\n  - {at: 30s, for: 3m, fault: partition, target: [ctl-a->peer, ctl-b->peer, auth-b->app-a, auth-a->app-b]}\nexpect:\n  - no-failover: true\n',
    );
    expect(r.verdict.ok).toBe(true);
    expect(outcome(r, 'no-spurious-failover')).toMatchObject({ ok: true, evaluated: true });
    // b did notice: its probes failed
    expect(
      r.history.some((e) => e.kind === 'peer-probe' && e.region === 'b' && e.consecutiveFailures >= 3),
    ).toBe(true);
  });

  it('pausing the primary controller longer than the TTL: its app window lapses by itself, b takes over, a never acts late', () => {
    const r = sim('name: pause\nduration: 5m\nsteps:\n  - {at: 30s, for: 2m, fault: pause, target: ctl-a}\n');
    expect(r.withinAssumptions).toBe(true);
    expect(r.verdict.violations).toEqual([]);
    expect(roles(r.history)).toContain('b:candidate->primary');
    expect(roles(r.history)).toContain('a:primary->fenced');
    expect(outcome(r, 'act-within-safe-window').ok).toBe(true);
  });

  it('one witness down does not stop a failover (2 of the remaining 2)', () => {
    const r = sim(
      // failover-within counts from the first fault, so both start together
      'name: w1down\nduration: 5m\nsteps:\n  - {at: 60s, fault: witness-down, target: w1}\n  - {at: 60s, for: 3m, fault: isolate, target: a}\nexpect:\n  - failover-within: 45s\n',
    );
    expect(r.verdict.ok).toBe(true);
    expect(r.history.some((e) => e.kind === 'witness' && e.witness === 'w1' && e.verdict === 'unknown')).toBe(
      true,
    );
  });

  it('an isolated standby never promotes: its witness queries time out (unknown, never unreachable)', () => {
    const r = sim(
      'name: isob\nduration: 4m\nsteps:\n  - {at: 20s, for: 3m, fault: isolate, target: b}\nexpect:\n  - no-failover: true\n',
    );
    expect(r.verdict.ok).toBe(true);
    const votes = r.history.filter((e) => e.kind === 'witness' && e.region === 'b');
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((e) => e.kind === 'witness' && e.verdict === 'unknown')).toBe(true);
  });

  it('labels schedules outside the documented assumptions', () => {
    const r = sim(
      'name: drift\nduration: 2m\nsteps:\n  - {at: 10s, fault: clock-drift, target: worker, params: {rate: -0.05}}\n  - {at: 20s, fault: clock-jump, target: ctl-a, params: {jump: -5s}}\n',
    );
    expect(r.withinAssumptions).toBe(false);
    expect(r.history[0]).toMatchObject({ kind: 'meta', withinAssumptions: false });
    expect(r.assumptionNotes.join(' ')).toMatch(/exceeds maxClockDriftRate.*steps back/);
    // a backward step of the controller clock is clamped (monotonic port), never fed to the core
    expect(outcome(r, 'no-internal-error').ok).toBe(true);
  });

  it('clock-offset steps only the wall clock: controllers do not feel it, the Worker does', () => {
    const ctl = sim(
      'name: off\nduration: 2m\nsteps:\n  - {at: 30s, for: 30s, fault: clock-offset, target: ctl-a, params: {offset: -20s}}\n',
    );
    expect(ctl.withinAssumptions).toBe(true);
    const acts = ctl.history.filter((e) => e.kind === 'act' && e.region === 'a') as Array<{
      t: number;
      localMs: number;
    }>;
    // local time keeps pace with global time (within drift): no 20 s step
    for (const a of acts) expect(Math.abs(a.localMs - a.t)).toBeLessThan(100);
    const worker = sim(
      'name: off\nduration: 2m\nsteps:\n  - {at: 30s, fault: clock-offset, target: worker, params: {offset: 40s}}\n',
    );
    expect(worker.withinAssumptions).toBe(false);
    expect(worker.assumptionNotes.join(' ')).toContain("Worker's clock jumps");
  });

  it('marks what the real executor cannot inject', () => {
    expect(
      simOnlyParts([
        { at: 0, fault: 'witness-stale', target: 'w1', params: { stale: '5s' } },
        { at: 0, fault: 'clock-drift', target: ['ctl-a', 'worker'], params: { rate: 0.001 } },
        { at: 0, fault: 'crash', target: 'worker', params: {} },
        { at: 0, fault: 'isolate', target: 'a', params: {} },
      ]),
    ).toEqual(['witness-stale', 'clock-drift on worker']);
  });

  it('a pause of the app longer than maxPauseMs is outside the assumptions and can break single-primary', () => {
    const r = sim(
      'name: apppause\nduration: 5m\nsteps:\n  - {at: 20s, for: 2m, fault: pause, target: app-a}\n  - {at: 20s, for: 90s, fault: isolate, target: a}\n',
    );
    expect(r.withinAssumptions).toBe(false);
  });

  it('the legacy-kv lease is caught splitting the brain (violation-detected passes)', () => {
    // Each seed draws boot offsets and heartbeat phases, so the fault-free KV race splits the
    // brain at some seeds only (13 of 20 measured; 7 of 9 on the real topology): take the
    // first seed of 1..20 where it does — there must be one.
    const yaml = 'name: kv\nduration: 2m\nexpect:\n  - violation-detected: single-primary\n';
    const seed = [...Array(20).keys()]
      .map((i) => i + 1)
      .find((s) => !outcome(sim(yaml, s, 'kv'), 'single-primary').ok);
    expect(seed).toBeDefined();
    const r = sim(yaml, seed!, 'kv');
    expect(outcome(r, 'single-primary')).toMatchObject({ ok: false, expectedViolation: true });
    // the consequence (the store hands the lease back and forth between two "epochs") is
    // reported, not failed, once the config is declared unsafe
    expect(outcome(r, 'epoch-monotonic')).toMatchObject({ ok: false, expectedViolation: true });
    expect(r.verdict.ok).toBe(true);
    // without the declaration the same run fails
    expect(sim('name: kv\nduration: 2m\n', seed!, 'kv').verdict.ok).toBe(false);
  });

  it('fault events carry the resolved links and components', () => {
    const r = sim(
      'name: ev\nduration: 1m\nsteps:\n  - {at: 5s, for: 10s, fault: partition, target: "ctl-a->w*", params: {oneway: true}}\n  - {at: 5s, for: 10s, fault: crash, target: b}\n',
    );
    const starts = r.history.filter((e) => e.kind === 'fault' && e.phase === 'start');
    // NB: the topology's glob "ctl-a->w*" also matches ctl-a->worker
    expect(starts[0]).toMatchObject({
      links: ['ctl-a->worker', 'ctl-a->w1', 'ctl-a->w2', 'ctl-a->w3'],
      verified: true,
    });
    expect(starts[1]).toMatchObject({ components: ['ctl-b', 'app-b', 'auth-b'] });
    expect(r.history.filter((e) => e.kind === 'fault' && e.phase === 'end')).toHaveLength(2);
  });
});
