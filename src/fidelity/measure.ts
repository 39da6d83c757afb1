/**
 * Sim↔real fidelity, the measuring part: one scenario over N simulator seeds
 * (simulateScenario) and K real runs (runScenario), each run reduced to a RunSample
 * (compare.ts). Nothing here re-implements an executor; it only calls them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateScenario } from '../../simulator/index.ts';
import { EXIT_BAD_INPUT, exitCodeOf } from '../errors.ts';
import { runScenario } from '../runner/execute.ts';
import { writeRealRunReport } from '../runner/results.ts';
import type { Scenario } from '../scenario/schema.ts';
import { type RunSample, sampleOf, type TimedMeasurement } from './compare.ts';

export interface SimSeedsOptions {
  firstSeed: number;
  count: number;
  /** the real runs' time scale, when not the scenario's: the sim models their host latencies */
  hostTimeScale?: number;
}

/** Every seed from firstSeed on, one full run each (no early stop: the times need the whole run). */
export function simSamples(scenario: Scenario, timed: TimedMeasurement[], o: SimSeedsOptions): RunSample[] {
  const out: RunSample[] = [];
  for (let seed = o.firstSeed; seed < o.firstSeed + o.count; seed++) {
    const r = simulateScenario(scenario, {
      seed,
      ...(o.hostTimeScale !== undefined ? { hostTimeScale: o.hostTimeScale } : {}),
    });
    out.push(sampleOf(seed, r.history, r.verdict, timed));
  }
  return out;
}

export interface RealRunOptions {
  runs: number;
  timeScale?: number;
  /** write reports/<scenario>/<timestamp>/ per run under this root (null: none) */
  reportsRoot: string | null;
  progress: (line: string) => void;
}

export interface RealRunRecord {
  run: number;
  /** 'infra-error' / 'bad-input': the run did not complete; no sample */
  status: 'pass' | 'fail' | 'infra-error' | 'bad-input';
  detail: string;
  wallSeconds: number;
  reportDir: string | null;
}

/**
 * K real runs, one fresh topology each. A run whose infrastructure failed (or that the real
 * executor refused) is recorded and leaves no sample; the caller decides the exit code.
 */
export async function realSamples(
  scenario: Scenario,
  file: string,
  timed: TimedMeasurement[],
  o: RealRunOptions,
): Promise<{ samples: RunSample[]; records: RealRunRecord[] }> {
  const samples: RunSample[] = [];
  const records: RealRunRecord[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const started = performance.now();
    const logsDir = mkdtempSync(join(tmpdir(), 'fl-fidelity-logs-'));
    try {
      const startedAt = new Date();
      const result = await runScenario(scenario, file, {
        ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
        logsDir,
        progress: o.progress,
      });
      const reportDir =
        o.reportsRoot === null
          ? null
          : await writeRealRunReport(result, { reportsRoot: o.reportsRoot, logsDir, startedAt });
      const sample = sampleOf(run, result.history, result.verdict, timed);
      samples.push(sample);
      records.push({
        run,
        status: sample.ok ? 'pass' : 'fail',
        detail: sample.ok ? 'all checks hold' : `failed: ${sample.failed.join(', ')}`,
        wallSeconds: result.wallSeconds,
        reportDir,
      });
    } catch (e) {
      // as demo: anything but a bad input is the infrastructure's (exitCodeOf)
      const message = e instanceof Error ? e.message : String(e);
      records.push({
        run,
        status: exitCodeOf(e) === EXIT_BAD_INPUT ? 'bad-input' : 'infra-error',
        detail: message,
        wallSeconds: (performance.now() - started) / 1000,
        reportDir: null,
      });
      // Ctrl-C ends the measurement, not just this run.
      if (/interrupted by SIG/.test(message)) throw e;
    } finally {
      rmSync(logsDir, { recursive: true, force: true });
    }
  }
  return { samples, records };
}
