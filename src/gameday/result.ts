/**
 * ChaosResult-like output per experiment (field names follow LitmusChaos' ChaosResult
 * status: experimentStatus.{phase, verdict, probeSuccessPercentage, failStep} and
 * probeStatuses[]), plus the game day's resilience score.
 */
import type { ProbeMode } from './plan.ts';
import type { RevertReport } from './rollback.ts';

export type Phase = 'preChaos' | 'duringChaos' | 'postChaos';
export type ProbeVerdict = 'Passed' | 'Failed' | 'N/A';
export type ExperimentVerdict = 'Pass' | 'Fail' | 'Stopped';

export interface ProbeStatus {
  name: string;
  /** Litmus probe type names: httpProbe, cmdProbe, promProbe; dnsProbe is ours */
  type: string;
  mode: ProbeMode;
  /** verdict of each phase the probe ran (or should have run) in */
  phases: Partial<Record<Phase, ProbeVerdict>>;
  status: { verdict: ProbeVerdict; description: string };
  runs: number;
}

export interface FaultReport {
  fault: string;
  target: string;
  /** links or components the fault touched */
  touched: string[];
  notes: string[];
  injected: { verified: boolean | null; detail: string };
  reverted: { verified: boolean | null; detail: string; units: RevertReport[] };
}

export interface ChaosResult {
  apiVersion: 'failover-lab/v1';
  kind: 'ChaosResult';
  metadata: { name: string; labels: { gameday: string; experiment: string } };
  spec: {
    engine: string;
    experiment: string;
    fault: string;
    target: string;
    durationMs: number;
    weight: number;
  };
  status: {
    experimentStatus: {
      phase: 'Completed' | 'Stopped' | 'NotRun';
      verdict: ExperimentVerdict;
      probeSuccessPercentage: number;
      failStep: string;
    };
    probeStatuses: ProbeStatus[];
    fault: FaultReport | null;
    /** ms since the game day started (monotonic) */
    timing: { startedMs: number; chaosStartMs: number | null; chaosEndMs: number | null; endedMs: number };
  };
}

/** Litmus: passed probes / all probes × 100; with no probes, 100 for a Pass and 0 otherwise. */
export function probeSuccessPercentage(statuses: ProbeStatus[], verdict: ExperimentVerdict): number {
  if (statuses.length === 0) return verdict === 'Pass' ? 100 : 0;
  const passed = statuses.filter((s) => s.status.verdict === 'Passed').length;
  return round2((passed / statuses.length) * 100);
}

export interface ResilienceScore {
  /** Σ(weight × probeSuccessPercentage) / Σ weight; null when every weight is 0 */
  score: number | null;
  weightedSum: number;
  totalWeight: number;
}

/** Litmus' resilience score over every experiment of the plan (not-run ones count with 0 %). */
export function resilienceScore(
  items: Array<{ weight: number; probeSuccessPercentage: number }>,
): ResilienceScore {
  const totalWeight = items.reduce((a, i) => a + i.weight, 0);
  const weightedSum = items.reduce((a, i) => a + i.weight * i.probeSuccessPercentage, 0);
  return { score: totalWeight === 0 ? null : round2(weightedSum / totalWeight), weightedSum, totalWeight };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
