/**
 * Sim↔real fidelity (issue #13 item 5), the pure part: what a run measured, and how the real
 * runs of a scenario compare with its simulated seeds.
 *
 * A scenario's *timed* measurements are the ones its expectations time (`failover-within` →
 * failover, `demoted-within` → demotion), measured as the checker's expectation measures them
 * (src/check/expectations.ts: from the first fault) but without its bound, so a run that
 * misses the bound still has a figure. Times are production ms: a real history's global ms
 * are divided by its meta's timeScale (the simulator's is 1).
 *
 * Agreement: every simulated seed and every real run gave the same verdict, and every real
 * value of every timed measurement lies inside the simulated seeds' [min, max].
 */
import { collectFacts, primaryOf } from '../check/facts.ts';
import type { Verdict } from '../check/verdict.ts';
import type { HistoryEvent } from '../contracts/history.ts';
import type { Expectation } from '../scenario/schema.ts';

export type TimedName = 'failover' | 'demotion';

export interface TimedMeasurement {
  name: TimedName;
  /** demotion: the region the expectation names */
  region?: string;
}

/** One run (a simulated seed or a real run), reduced to what fidelity compares. */
export interface RunSample {
  /** simulator seed, or the real run's number (1..K) */
  id: number;
  ok: boolean;
  /** names of the failed invariants/expectations (expected violations excluded) */
  failed: string[];
  /** production ms per timed measurement; absent when the run never reached it */
  times: Partial<Record<TimedName, number>>;
}

export interface Range {
  n: number;
  minMs: number;
  medianMs: number;
  maxMs: number;
}

export type TimedStatus =
  /** every real value inside the sim's [min, max] */
  | 'inside'
  /** some real value outside it */
  | 'outside'
  /** real runs measured it, no simulated seed did */
  | 'missing-sim'
  /** simulated seeds measured it, no real run did */
  | 'missing-real'
  /** neither measured it */
  | 'absent';

export interface TimedComparison {
  name: TimedName;
  sim: Range | null;
  real: number[];
  status: TimedStatus;
  /** median real / median sim (null when either is missing) */
  ratio: number | null;
  /**
   * signed distance of the farthest real value from the sim's range: 0 inside, > 0 above
   * the max, < 0 below the min (null without both)
   */
  outsideByMs: number | null;
}

export type VerdictSummary = 'pass' | 'fail' | 'mixed' | 'none';

export interface ScenarioFidelity {
  scenario: string;
  sim: { seeds: number[]; passed: number; failed: number; failedSeeds: number[]; verdict: VerdictSummary };
  real: { runs: number; passed: number; failed: number; verdict: VerdictSummary; failedChecks: string[] };
  /** the sim's verdicts and the real ones are all the same */
  verdictAgree: boolean;
  timed: TimedComparison[];
  /** verdicts agree and no timed measurement is outside, missing-sim or missing-real */
  agree: boolean;
  /** why not, one short phrase each */
  flags: string[];
}

/** The measurements a scenario's expectations time, in expectation order, each once. */
export function timedMeasurementsOf(expect: Expectation[]): TimedMeasurement[] {
  const out: TimedMeasurement[] = [];
  for (const e of expect) {
    if ('failover-within' in e && !out.some((m) => m.name === 'failover')) out.push({ name: 'failover' });
    if ('demoted-within' in e && !out.some((m) => m.name === 'demotion'))
      out.push({ name: 'demotion', region: e['demoted-within'].region });
  }
  return out;
}

/**
 * Production ms from the first fault to (failover) the first promotion of a region other than
 * the one primary when it started, (demotion) the named region's first step down from primary
 * at or after it — the expectations' own definitions, without their bounds.
 */
export function measureTimes(
  history: HistoryEvent[],
  timed: TimedMeasurement[],
): Partial<Record<TimedName, number>> {
  const f = collectFacts(history);
  const fault = f.faults[0];
  const out: Partial<Record<TimedName, number>> = {};
  if (!fault) return out;
  const scale = f.meta?.timeScale && f.meta.timeScale > 0 ? f.meta.timeScale : 1;
  const production = (t: number) => Math.round((t - fault.start) / scale);
  for (const m of timed) {
    if (m.name === 'failover') {
      const before = primaryOf(f.rolesAtFault.get(fault.id)) ?? f.meta?.initialPrimary ?? '';
      const promo = f.roles.find((r) => r.t >= fault.start && r.to === 'primary' && r.region !== before);
      if (promo) out.failover = production(promo.t);
    } else {
      const region = m.region ?? f.meta?.initialPrimary;
      const down = f.roles.find(
        (r) => r.region === region && r.from === 'primary' && r.to !== 'primary' && r.t >= fault.start,
      );
      if (down) out.demotion = production(down.t);
    }
  }
  return out;
}

export function sampleOf(
  id: number,
  history: HistoryEvent[],
  verdict: Verdict,
  timed: TimedMeasurement[],
): RunSample {
  return {
    id,
    ok: verdict.ok,
    failed: verdict.outcomes.filter((o) => !o.ok && !o.expectedViolation).map((o) => o.name),
    times: measureTimes(history, timed),
  };
}

export function rangeOf(values: number[]): Range | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const medianMs = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, minMs: v[0]!, medianMs, maxMs: v[v.length - 1]! };
}

function verdictOf(samples: RunSample[]): VerdictSummary {
  if (samples.length === 0) return 'none';
  const passed = samples.filter((s) => s.ok).length;
  return passed === samples.length ? 'pass' : passed === 0 ? 'fail' : 'mixed';
}

export function compareTimed(name: TimedName, sim: RunSample[], real: RunSample[]): TimedComparison {
  const simValues = sim.flatMap((s) => (s.times[name] !== undefined ? [s.times[name]!] : []));
  const realValues = real.flatMap((s) => (s.times[name] !== undefined ? [s.times[name]!] : []));
  const range = rangeOf(simValues);
  const realRange = rangeOf(realValues);
  let status: TimedStatus;
  if (!range) status = realRange ? 'missing-sim' : 'absent';
  else if (!realRange) status = 'missing-real';
  else status = realValues.every((v) => v >= range.minMs && v <= range.maxMs) ? 'inside' : 'outside';
  const ratio =
    range && realRange && range.medianMs > 0
      ? Math.round((realRange.medianMs / range.medianMs) * 1000) / 1000
      : null;
  let outsideByMs: number | null = null;
  if (range && realRange) {
    const above = realRange.maxMs - range.maxMs;
    const below = range.minMs - realRange.minMs;
    outsideByMs = above > 0 && above >= below ? above : below > 0 ? -below : 0;
  }
  return { name, sim: range, real: realValues, status, ratio, outsideByMs };
}

export function compareScenario(
  scenario: string,
  timed: TimedMeasurement[],
  sim: RunSample[],
  real: RunSample[],
): ScenarioFidelity {
  const simVerdict = verdictOf(sim);
  const realVerdict = verdictOf(real);
  const verdictAgree = simVerdict === realVerdict && (simVerdict === 'pass' || simVerdict === 'fail');
  const comparisons = timed.map((m) => compareTimed(m.name, sim, real));
  const flags: string[] = [];
  if (!verdictAgree) {
    flags.push(
      `verdict: sim ${sim.filter((s) => s.ok).length}/${sim.length} pass, real ${real.filter((s) => s.ok).length}/${real.length} pass`,
    );
  }
  for (const c of comparisons) {
    if (c.status === 'outside') {
      flags.push(
        `${c.name}: real ${c.real.map(fmtS).join(', ')} outside sim [${fmtS(c.sim!.minMs)}, ${fmtS(c.sim!.maxMs)}]`,
      );
    } else if (c.status === 'missing-sim') {
      flags.push(`${c.name}: measured on real, in no simulated seed`);
    } else if (c.status === 'missing-real') {
      flags.push(`${c.name}: measured in the sim, in no real run`);
    }
  }
  const failedChecks = [...new Set(real.flatMap((s) => s.failed))];
  return {
    scenario,
    sim: {
      seeds: sim.map((s) => s.id),
      passed: sim.filter((s) => s.ok).length,
      failed: sim.filter((s) => !s.ok).length,
      failedSeeds: sim.filter((s) => !s.ok).map((s) => s.id),
      verdict: simVerdict,
    },
    real: {
      runs: real.length,
      passed: real.filter((s) => s.ok).length,
      failed: real.filter((s) => !s.ok).length,
      verdict: realVerdict,
      failedChecks,
    },
    verdictAgree,
    timed: comparisons,
    agree: flags.length === 0,
    flags,
  };
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The table `failover-lab fidelity` prints (and docs/simulator.md "Fidelity" shows). */
export function fidelityTable(rows: ScenarioFidelity[]): string {
  const header = [
    'scenario',
    'sim pass',
    'real pass',
    'verdict',
    'timed: sim min / median / max → real (ratio)',
    'ok',
  ];
  const timedCell = (r: ScenarioFidelity): string =>
    r.timed.length === 0
      ? '—'
      : r.timed
          .map((c) => {
            const sim = c.sim
              ? `${fmtS(c.sim.minMs)} / ${fmtS(c.sim.medianMs)} / ${fmtS(c.sim.maxMs)}`
              : 'none';
            const real = c.real.length > 0 ? c.real.map(fmtS).join(', ') : 'none';
            const by =
              c.status === 'outside' && c.outsideByMs !== null
                ? ` by ${c.outsideByMs > 0 ? '+' : '−'}${fmtS(Math.abs(c.outsideByMs))}`
                : '';
            const mark = c.status === 'inside' ? '' : ` ${c.status.toUpperCase()}${by}`;
            return `${c.name} ${sim} → ${real}${c.ratio !== null ? ` (×${c.ratio.toFixed(2)})` : ''}${mark}`;
          })
          .join('; ');
  const body = rows.map((r) => [
    r.scenario,
    `${r.sim.passed}/${r.sim.seeds.length}`,
    `${r.real.passed}/${r.real.runs}`,
    r.verdictAgree ? 'agree' : 'DISAGREE',
    timedCell(r),
    r.agree ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)];
  const timedRows = rows.filter((r) => r.timed.length > 0);
  lines.push(
    '',
    `verdict agreement: ${rows.filter((r) => r.verdictAgree).length}/${rows.length}; ` +
      `timed scenarios with every real value inside the sim's [min, max]: ${timedRows.filter((r) => r.timed.every((c) => c.status === 'inside')).length}/${timedRows.length}`,
  );
  for (const r of rows.filter((x) => !x.agree)) lines.push(`${r.scenario}: ${r.flags.join('; ')}`);
  return lines.join('\n');
}
