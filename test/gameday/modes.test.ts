/**
 * Probe-mode semantics (Litmus), the resilience score, and the rollback ledger, with a
 * scripted probe executor and in-memory fault units: every probe attempt and every fault
 * action is stamped on one clock, so "when did it run relative to the chaos window" is exact.
 */
import { describe, expect, it } from 'vitest';
import { type ExperimentDeps, runExperiment } from '../../src/gameday/experiment.ts';
import type { FaultUnit, ResolvedFault } from '../../src/gameday/faults.ts';
import { Experiment, type Probe, type ProbeMode, Probe as ProbeSchema } from '../../src/gameday/plan.ts';
import type { AttemptResult } from '../../src/gameday/probes/index.ts';
import { silentProgress } from '../../src/gameday/progress.ts';
import { probeSuccessPercentage, resilienceScore } from '../../src/gameday/result.ts';
import { RollbackLedger } from '../../src/gameday/rollback.ts';
import { Recorder } from '../../src/runner/recorder.ts';

function probe(name: string, mode: ProbeMode | undefined, run: Record<string, unknown> = {}): Probe {
  return ProbeSchema.parse({
    name,
    type: 'cmd',
    ...(mode ? { mode } : {}),
    runProperties: { pollingInterval: 20, timeout: 500, interval: 10, ...run },
    cmd: { command: 'true' },
  });
}

interface Stamp {
  what: string;
  t: number;
}

/** A clock shared by the script and the fault units. */
function harness(
  opts: {
    fail?: (name: string, t: number, attempt: number) => boolean;
    unitOpts?: Partial<FakeUnitOpts>;
  } = {},
) {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const stamps: Stamp[] = [];
  const attempts = new Map<string, number>();
  const exec = async (p: Probe): Promise<AttemptResult> => {
    const n = (attempts.get(p.name) ?? 0) + 1;
    attempts.set(p.name, n);
    const t = now();
    stamps.push({ what: `probe:${p.name}`, t });
    await new Promise((r) => setTimeout(r, 2));
    const failed = opts.fail?.(p.name, t, n) ?? false;
    return { ok: !failed, detail: failed ? 'scripted failure' : 'ok' };
  };
  const unit = fakeUnit(stamps, now, opts.unitOpts);
  const resolve = (): ResolvedFault => ({ units: [unit], touched: ['ctl-a->worker'], notes: [] });
  return { stamps, exec, resolve, unit, now, attempts };
}

interface FakeUnitOpts {
  revertFailures: number;
  verifyApplied: boolean;
  lastResortWorks: boolean;
}

function fakeUnit(
  stamps: Stamp[],
  now: () => number,
  o: Partial<FakeUnitOpts> = {},
): FaultUnit & { active: boolean } {
  let revertFailures = o.revertFailures ?? 0;
  const unit = {
    active: false,
    label: 'fake cut',
    apply: async () => {
      unit.active = true;
      stamps.push({ what: 'apply', t: now() });
    },
    verifyApplied: async () => ({ ok: o.verifyApplied ?? unit.active, detail: `active=${unit.active}` }),
    revert: async () => {
      if (revertFailures > 0) {
        revertFailures--;
        throw new Error('API down');
      }
      unit.active = false;
      stamps.push({ what: 'revert', t: now() });
    },
    verifyReverted: async () => ({ ok: !unit.active, detail: `active=${unit.active}` }),
    lastResort: {
      label: 'reset',
      run: async () => {
        if (o.lastResortWorks) {
          unit.active = false;
          stamps.push({ what: 'reset', t: now() });
        } else throw new Error('reset failed too');
      },
    },
  };
  return unit;
}

function experiment(probes: Probe[], extra: Record<string, unknown> = {}) {
  const e = Experiment.parse({
    name: 'cut',
    fault: 'partition',
    target: 'ctl-a->worker',
    duration: 150,
    ...extra,
  });
  return { ...e, resolvedProbes: probes.map((p) => ({ probe: p, mode: p.mode! })) };
}

function deps(h: ReturnType<typeof harness>, extra: Partial<ExperimentDeps> = {}): ExperimentDeps {
  return {
    gameday: 'unit',
    exec: h.exec,
    ledger: new RollbackLedger(),
    faultTarget: { links: {}, api: () => null as never },
    rec: new Recorder(),
    progress: silentProgress,
    interrupt: new AbortController().signal,
    resolve: h.resolve,
    ...extra,
  };
}

const times = (stamps: Stamp[], what: string) => stamps.filter((s) => s.what === what).map((s) => s.t);
const only = (stamps: Stamp[], what: string) => {
  const t = times(stamps, what);
  expect(t).toHaveLength(1);
  return t[0]!;
};

describe('probe modes (Litmus semantics)', () => {
  it('SOT runs before injection, EOT after the revert, Edge both; OnChaos only inside the fault window; Continuous spans the experiment', async () => {
    const h = harness();
    const probes = [
      probe('sot', 'SOT'),
      probe('eot', 'EOT'),
      probe('edge', 'Edge'),
      probe('onchaos', 'OnChaos'),
      probe('cont', 'Continuous'),
    ];
    const out = await runExperiment(experiment(probes, { duration: 300 }), deps(h));
    const applyT = only(h.stamps, 'apply');
    const revertT = only(h.stamps, 'revert');

    expect(times(h.stamps, 'probe:sot')).toHaveLength(1);
    expect(times(h.stamps, 'probe:sot')[0]!).toBeLessThan(applyT);
    expect(times(h.stamps, 'probe:eot')).toHaveLength(1);
    expect(times(h.stamps, 'probe:eot')[0]!).toBeGreaterThan(revertT);
    const edge = times(h.stamps, 'probe:edge');
    expect(edge).toHaveLength(2);
    expect(edge[0]!).toBeLessThan(applyT);
    expect(edge[1]!).toBeGreaterThan(revertT);

    const onChaos = times(h.stamps, 'probe:onchaos');
    expect(onChaos.length).toBeGreaterThanOrEqual(2); // polled every 20 ms over 300 ms
    for (const t of onChaos) {
      expect(t).toBeGreaterThan(applyT);
      expect(t).toBeLessThan(revertT);
    }
    const cont = times(h.stamps, 'probe:cont');
    expect(cont[0]!).toBeLessThan(applyT);
    expect(cont.some((t) => t > applyT && t < revertT)).toBe(true);

    const r = out.result;
    expect(r.status.experimentStatus.verdict).toBe('Pass');
    expect(r.status.experimentStatus.probeSuccessPercentage).toBe(100);
    const byName = Object.fromEntries(r.status.probeStatuses.map((s) => [s.name, s]));
    expect(byName.edge!.phases).toEqual({ preChaos: 'Passed', postChaos: 'Passed' });
    expect(byName.onchaos!.phases).toEqual({ duringChaos: 'Passed' });
    expect(byName.sot!.phases).toEqual({ preChaos: 'Passed' });
    expect(byName.cont!.phases.preChaos).toBe('Passed');
    expect(byName.cont!.phases.duringChaos).toBe('Passed');
    expect(r.status.fault?.injected.verified).toBe(true);
    expect(r.status.fault?.reverted.verified).toBe(true);
  });

  it('a failed pre-chaos check fails the experiment and injects nothing', async () => {
    const h = harness({ fail: (n) => n === 'edge' });
    const out = await runExperiment(
      experiment([probe('edge', 'Edge'), probe('onchaos', 'OnChaos')]),
      deps(h),
    );
    expect(times(h.stamps, 'apply')).toHaveLength(0);
    expect(times(h.stamps, 'probe:onchaos')).toHaveLength(0);
    expect(out.result.status.experimentStatus.verdict).toBe('Fail');
    expect(out.result.status.experimentStatus.failStep).toMatch(/pre-chaos check failed: probe edge/);
    expect(out.result.status.experimentStatus.probeSuccessPercentage).toBe(0);
  });

  it('retries: 1 + retries attempts, a later success passes the run', async () => {
    const h = harness({ fail: (n, _t, attempt) => n === 'flaky' && attempt < 3 });
    const out = await runExperiment(experiment([probe('flaky', 'SOT', { retries: 2 })]), deps(h));
    expect(h.attempts.get('flaky')).toBe(3);
    expect(out.result.status.probeStatuses[0]!.status.verdict).toBe('Passed');
    const h2 = harness({ fail: (n) => n === 'flaky' });
    const out2 = await runExperiment(experiment([probe('flaky', 'SOT', { retries: 2 })]), deps(h2));
    expect(h2.attempts.get('flaky')).toBe(3);
    expect(out2.result.status.probeStatuses[0]!.status.verdict).toBe('Failed');
  });

  it('stopOnFailure ends the chaos window early, reverts, and skips the post-chaos checks', async () => {
    let applyT = Number.POSITIVE_INFINITY;
    const h = harness({ fail: (n, t) => n === 'guard' && t > applyT });
    const exp = experiment([probe('guard', 'OnChaos', { stopOnFailure: true }), probe('after', 'EOT')], {
      duration: 5000,
    });
    const origApply = h.unit.apply;
    h.unit.apply = async () => {
      await origApply();
      applyT = h.now();
    };
    const started = h.now();
    const out = await runExperiment(exp, deps(h));
    const revertT = only(h.stamps, 'revert');
    expect(revertT - started).toBeLessThan(4000); // far before the 5 s window would end
    expect(times(h.stamps, 'probe:after')).toHaveLength(0);
    expect(out.result.status.experimentStatus.verdict).toBe('Fail');
    expect(out.result.status.experimentStatus.failStep).toMatch(
      /guard failed in duringChaos \(stopOnFailure\)/,
    );
    expect(out.halt).toBeUndefined(); // stopOnFailure ends this experiment, not the game day
  });

  it('an abort threshold crossing reverts at once and halts the game day', async () => {
    let applied = false;
    const h = harness({ fail: (n) => n === 'b' && applied });
    const orig = h.unit.apply;
    h.unit.apply = async () => {
      await orig();
      applied = true;
    };
    const exp = experiment([probe('a', 'OnChaos'), probe('b', 'OnChaos')], {
      duration: 5000,
      abortThreshold: 60,
    });
    const started = h.now();
    const out = await runExperiment(exp, deps(h));
    expect(only(h.stamps, 'revert') - started).toBeLessThan(4000);
    expect(out.result.status.experimentStatus.failStep).toMatch(/abort threshold: probe success 50% < 60%/);
    expect(out.halt).toMatch(/abort threshold/);
  });

  it('an unverified injection ends the experiment and is still reverted', async () => {
    const h = harness({ unitOpts: { verifyApplied: false } });
    const d = deps(h);
    const out = await runExperiment(experiment([probe('on', 'OnChaos')]), d);
    expect(times(h.stamps, 'probe:on')).toHaveLength(0);
    expect(only(h.stamps, 'revert')).toBeGreaterThan(only(h.stamps, 'apply'));
    expect(out.result.status.experimentStatus.failStep).toMatch(/fault injection not verified/);
    const faults = d.rec.snapshot().flatMap((e) => (e.kind === 'fault' ? [[e.phase, e.verified]] : []));
    expect(faults).toEqual([
      ['start', false],
      ['end', true],
    ]);
  });

  it('an interrupt during chaos stops the experiment (Stopped), reverts and records a verified fault end', async () => {
    const h = harness();
    const ctl = new AbortController();
    const d = deps(h, { interrupt: ctl.signal });
    const orig = h.unit.apply;
    h.unit.apply = async () => {
      await orig();
      setTimeout(() => ctl.abort('SIGINT'), 30);
    };
    const out = await runExperiment(
      experiment([probe('cont', 'Continuous'), probe('eot', 'EOT')], { duration: 10_000 }),
      d,
    );
    expect(out.result.status.experimentStatus.verdict).toBe('Stopped');
    expect(out.result.status.experimentStatus.failStep).toMatch(
      /interrupted by SIGINT; faults reverted \(verified\)/,
    );
    expect(times(h.stamps, 'probe:eot')).toHaveLength(0);
    expect(h.unit.active).toBe(false);
    const faultEvents = d.rec.snapshot().filter((e) => e.kind === 'fault');
    expect(faultEvents.map((e) => e.kind === 'fault' && [e.phase, e.verified])).toEqual([
      ['start', true],
      ['end', true],
    ]);
    expect(out.halt).toBe('SIGINT');
  });
});

describe('rollback ledger', () => {
  it('retries a failing revert and then verifies it', async () => {
    const stamps: Stamp[] = [];
    const u = fakeUnit(stamps, () => 0, { revertFailures: 2 });
    await u.apply();
    const ledger = new RollbackLedger();
    ledger.register(u);
    const [r] = await ledger.revert();
    expect(r).toMatchObject({ verified: true, attempts: 3, usedLastResort: false });
    // Idempotent: a second sweep does not revert again.
    await ledger.revert();
    expect(stamps.filter((s) => s.what === 'revert')).toHaveLength(1);
  });

  it('falls back to the last resort, and reports a unit it cannot revert as left behind', async () => {
    const stamps: Stamp[] = [];
    const saved = fakeUnit(stamps, () => 0, { revertFailures: 99, lastResortWorks: true });
    const lost = fakeUnit(stamps, () => 0, { revertFailures: 99, lastResortWorks: false });
    await saved.apply();
    await lost.apply();
    const ledger = new RollbackLedger();
    ledger.register(saved);
    ledger.register(lost);
    const reports = await ledger.revert();
    expect(reports[0]).toMatchObject({ verified: true, usedLastResort: true });
    expect(reports[1]).toMatchObject({ verified: false, usedLastResort: true });
    expect(reports[1]!.detail).toMatch(/reset failed too/);
    expect((await ledger.leftovers()).map((l) => l.verified)).toEqual([false]);
  }, 20_000);
});

describe('resilience score (Litmus: Σ weight × probe success % / Σ weights)', () => {
  it('weights each experiment', () => {
    expect(
      resilienceScore([
        { weight: 10, probeSuccessPercentage: 100 },
        { weight: 5, probeSuccessPercentage: 50 },
        { weight: 1, probeSuccessPercentage: 0 },
      ]),
    ).toEqual({ score: 78.13, weightedSum: 1250, totalWeight: 16 });
  });

  it('weight 0 experiments do not count; all-zero weights give no score', () => {
    expect(
      resilienceScore([
        { weight: 0, probeSuccessPercentage: 0 },
        { weight: 3, probeSuccessPercentage: 60 },
      ]).score,
    ).toBe(60);
    expect(resilienceScore([{ weight: 0, probeSuccessPercentage: 100 }]).score).toBeNull();
  });

  it('probe success % is passed probes over all probes; N/A counts as not passed', () => {
    const st = (verdict: 'Passed' | 'Failed' | 'N/A') => ({
      name: 'p',
      type: 'cmdProbe',
      mode: 'SOT' as const,
      phases: {},
      status: { verdict, description: '' },
      runs: 1,
    });
    expect(probeSuccessPercentage([st('Passed'), st('Failed'), st('N/A')], 'Fail')).toBe(33.33);
    expect(probeSuccessPercentage([], 'Pass')).toBe(100);
    expect(probeSuccessPercentage([], 'Fail')).toBe(0);
  });
});
