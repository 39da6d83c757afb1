/**
 * One scenario over many seeds (issue #13 item 4): each seed boots, phases and delays the
 * world differently (simulator/boot.ts), so the times a scenario measures form a spread.
 * `sim --scenario FILE --seeds N` prints min/median/max and the verdict count.
 */
import type { HistoryEvent } from '../src/contracts/history.ts';
import type { Scenario } from '../src/scenario/schema.ts';
import type { LeaseBackend } from './models/lease-store.ts';
import { simulateScenario } from './simulate.ts';

export interface Spread {
  n: number;
  minMs: number;
  medianMs: number;
  maxMs: number;
}

export interface SeedsResult {
  scenario: string;
  seeds: number[];
  passed: number;
  failed: number;
  failedSeeds: number[];
  /** failover time per run (measurements.failoverMs, else from the first fault) */
  failover: Spread | null;
  /** first step down of a primary after the first fault, from that fault */
  demotion: Spread | null;
  events: number;
  simSeconds: number;
}

export function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, minMs: v[0]!, medianMs: median, maxMs: v[v.length - 1]! };
}

/**
 * ms from the first fault to the first time a primary stood down after it, if it did. A
 * crash is no demotion (the process just lost its state), so the crashed process's role
 * event is left out.
 */
export function demotionMs(history: HistoryEvent[]): number | null {
  const fault = history.find((e) => e.kind === 'fault' && e.phase === 'start');
  if (!fault) return null;
  const crashedAt = new Set(
    history.flatMap((e) => (e.kind === 'process' && e.op === 'crash' ? [`${e.component}@${e.t}`] : [])),
  );
  const d = history.find(
    (e) =>
      e.kind === 'role' &&
      e.from === 'primary' &&
      e.to !== 'primary' &&
      e.t >= fault.t &&
      !crashedAt.has(`ctl-${e.region}@${e.t}`),
  );
  return d ? d.t - fault.t : null;
}

export function runSeeds(
  scenario: Scenario,
  opts: { firstSeed: number; count: number; leaseBackend?: LeaseBackend },
): SeedsResult {
  const out: SeedsResult = {
    scenario: scenario.name,
    seeds: [],
    passed: 0,
    failed: 0,
    failedSeeds: [],
    failover: null,
    demotion: null,
    events: 0,
    simSeconds: 0,
  };
  const failovers: number[] = [];
  const demotions: number[] = [];
  for (let i = 0; i < opts.count; i++) {
    const seed = opts.firstSeed + i;
    const r = simulateScenario(scenario, {
      seed,
      ...(opts.leaseBackend ? { leaseBackend: opts.leaseBackend } : {}),
    });
    out.seeds.push(seed);
    if (r.verdict.ok) out.passed++;
    else {
      out.failed++;
      out.failedSeeds.push(seed);
    }
    const m = r.verdict.measurements;
    const f = m.failoverMs ?? m.failoverFromFirstFaultMs;
    if (f !== undefined) failovers.push(f);
    const d = demotionMs(r.history);
    if (d !== null) demotions.push(d);
    out.events += r.stats.events;
    out.simSeconds += r.stats.simMs / 1000;
  }
  out.failover = spread(failovers);
  out.demotion = spread(demotions);
  return out;
}
