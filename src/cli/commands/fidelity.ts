/**
 * `failover-lab fidelity`: how faithful is the simulator to the real topology? Runs each
 * catalog scenario (demoCatalogFiles: the base catalog, then scenarios/incidents) in the
 * simulator over N seeds and on the real topology K times, and reports per scenario whether
 * the verdicts agree and whether every real value of each timed measurement (the times the
 * scenario's expectations measure) lies inside the simulated seeds' [min, max]
 * (src/fidelity/compare.ts). Prints a table; writes bench/results/fidelity.json (rewritten
 * after every scenario, so an interrupted measurement keeps what it measured).
 *
 * Exit 0: every scenario agrees; 1: some scenario disagrees (a measurement, not a crash);
 * 2: bad input (one line; or the real executor refused a scenario); 3: a real run's
 * infrastructure failed (the other scenarios still run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { BadInputError, EXIT_BAD_INPUT, EXIT_INFRA, EXIT_OK, EXIT_VIOLATION } from '../../errors.ts';
import {
  compareScenario,
  fidelityTable,
  type RunSample,
  type ScenarioFidelity,
  timedMeasurementsOf,
} from '../../fidelity/compare.ts';
import { type RealRunRecord, realSamples, simSamples } from '../../fidelity/measure.ts';
import { demoCatalogFiles } from '../../runner/catalog.ts';
import { loadScenarioFile } from '../../scenario/loader.ts';
import type { ExitSetter } from '../command-module.ts';
import { parseTimeScale } from './up.ts';

export const DEFAULT_FIDELITY_OUT = 'bench/results/fidelity.json';
// 100, not 20: one real sample of a spread time falls outside 20 seeds' [min, max] with
// probability 2/21, so a 20-seed catalog run flags one of its ~14 timed figures by chance alone
// (docs/simulator.md "Reading the table"); 100 seeds cost ~2 s of simulation per scenario.
const DEFAULT_SIM_SEEDS = 100;
const DEFAULT_REAL_RUNS = 1;

interface FidelityFlags {
  only?: string;
  simSeeds: string;
  seed: string;
  realRuns: string;
  timeScale?: string;
  out: string;
  incidents?: boolean;
  json?: boolean;
  report?: boolean;
  reportsDir: string;
}

export interface FidelityArgs {
  files: string[];
  simSeeds: number;
  firstSeed: number;
  realRuns: number;
  timeScale: number | undefined;
  out: string;
  json: boolean;
  reportsRoot: string | null;
}

export interface FidelityRow extends ScenarioFidelity {
  file: string;
  realRuns: RealRunRecord[];
  /** the real runs' samples as measured, so the comparison can be recomputed from the file */
  realSamples: RunSample[];
  simWallSeconds: number;
}

const scenarioName = (file: string): string => basename(file).replace(/\.ya?ml$/, '');

function intFlag(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max)
    throw new BadInputError(`expected an integer in ${min}..${max}, got "${v}"`, flag);
  return Number(v);
}

/** Flags → arguments; every problem is one BadInputError naming the flag, before anything runs. */
export function parseFidelityFlags(f: FidelityFlags): FidelityArgs {
  const catalog = demoCatalogFiles(f.incidents !== false || f.only !== undefined);
  let files = catalog;
  if (f.only !== undefined) {
    const names = f.only
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (names.length === 0) throw new BadInputError('expected comma-separated scenario names', '--only');
    const known = catalog.map(scenarioName);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0)
      throw new BadInputError(
        `unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')} (catalog: ${known.join(', ')})`,
        '--only',
      );
    files = catalog.filter((c) => names.includes(scenarioName(c)));
  }
  return {
    files,
    simSeeds: intFlag(f.simSeeds, '--sim-seeds', 1, 100_000),
    firstSeed: intFlag(f.seed, '--seed', 0, 0x7fffffff),
    realRuns: intFlag(f.realRuns, '--real-runs', 1, 1000),
    timeScale: f.timeScale !== undefined ? parseTimeScale(f.timeScale) : undefined,
    out: resolve(f.out),
    json: f.json ?? false,
    reportsRoot: f.report === false ? null : resolve(f.reportsDir),
  };
}

function writeResults(a: FidelityArgs, rows: FidelityRow[], startedAt: Date, complete: boolean): void {
  mkdirSync(dirname(a.out), { recursive: true });
  const timedRows = rows.filter((r) => r.timed.length > 0);
  const body = {
    generatedAt: new Date().toISOString(),
    startedAt: startedAt.toISOString(),
    complete,
    simSeeds: { first: a.firstSeed, count: a.simSeeds },
    realRunsPerScenario: a.realRuns,
    timeScale: a.timeScale ?? 'scenario default',
    summary: {
      scenarios: rows.length,
      verdictAgreement: rows.filter((r) => r.verdictAgree).length,
      timedScenarios: timedRows.length,
      timedInside: timedRows.filter((r) => r.timed.every((c) => c.status === 'inside')).length,
      agree: rows.filter((r) => r.agree).length,
      infraErrors: rows.reduce(
        (n, r) => n + r.realRuns.filter((x) => x.status !== 'pass' && x.status !== 'fail').length,
        0,
      ),
    },
    scenarios: rows,
  };
  writeFileSync(a.out, `${JSON.stringify(body, null, 2)}\n`);
}

async function measureOne(a: FidelityArgs, file: string, err: (l: string) => void): Promise<FidelityRow> {
  const scenario = await loadScenarioFile(file);
  const timed = timedMeasurementsOf(scenario.expect);
  const simStarted = performance.now();
  const sim = simSamples(scenario, timed, {
    firstSeed: a.firstSeed,
    count: a.simSeeds,
    ...(a.timeScale !== undefined ? { hostTimeScale: a.timeScale } : {}),
  });
  const simWallSeconds = (performance.now() - simStarted) / 1000;
  err(
    `  sim: ${sim.filter((s) => s.ok).length}/${sim.length} seeds pass (seeds ${a.firstSeed}..${a.firstSeed + a.simSeeds - 1}, ${simWallSeconds.toFixed(1)} s)`,
  );
  const { samples, records } = await realSamples(scenario, file, timed, {
    runs: a.realRuns,
    ...(a.timeScale !== undefined ? { timeScale: a.timeScale } : {}),
    reportsRoot: a.reportsRoot,
    progress: (l) => err(`    ${l}`),
  });
  for (const r of records)
    err(
      `  real run ${r.run}/${a.realRuns}: ${r.status.toUpperCase()} in ${r.wallSeconds.toFixed(1)} s — ${r.detail}`,
    );
  const cmp = compareScenario(scenario.name, timed, sim, samples);
  err(`  => ${cmp.agree ? 'AGREE' : `DISAGREE: ${cmp.flags.join('; ')}`}`);
  return { ...cmp, file: basename(file), realRuns: records, realSamples: samples, simWallSeconds };
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('fidelity')
    .description(
      'measure sim↔real fidelity: each catalog scenario over N simulator seeds and on the real topology',
    )
    .option('--only <names>', 'comma-separated scenario names (base catalog or incidents)')
    .option('--sim-seeds <n>', 'simulator seeds per scenario', String(DEFAULT_SIM_SEEDS))
    .option('--seed <s>', 'first simulator seed', '1')
    .option('--real-runs <k>', 'real-topology runs per scenario', String(DEFAULT_REAL_RUNS))
    .option('--time-scale <x>', "override every scenario's real time scale")
    .option('--out <file>', 'where the JSON goes', DEFAULT_FIDELITY_OUT)
    .option('--no-incidents', 'skip the incident catalog (scenarios/incidents)')
    .option('--json', 'print the per-scenario rows as JSON instead of the table')
    .option('--reports-dir <dir>', "root of the real runs' report store", 'reports')
    .option('--no-report', 'write no report directory for the real runs')
    .action(async (flags: FidelityFlags) => {
      const a = parseFidelityFlags(flags);
      const err = (l: string) => process.stderr.write(`${l}\n`);
      const startedAt = new Date();
      err(
        `fidelity: ${a.files.length} scenarios × (${a.simSeeds} sim seeds + ${a.realRuns} real run${a.realRuns > 1 ? 's' : ''}) → ${a.out}`,
      );
      const rows: FidelityRow[] = [];
      for (const [i, file] of a.files.entries()) {
        err(`\n[${i + 1}/${a.files.length}] ${scenarioName(file)}`);
        rows.push(await measureOne(a, file, err));
        writeResults(a, rows, startedAt, i === a.files.length - 1);
      }
      err(`\nresults: ${a.out}`);
      if (a.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else process.stdout.write(`\n${fidelityTable(rows)}\n`);
      const statuses = new Set(rows.flatMap((r) => r.realRuns.map((x) => x.status)));
      setExit(
        statuses.has('infra-error')
          ? EXIT_INFRA
          : statuses.has('bad-input')
            ? EXIT_BAD_INPUT
            : rows.every((r) => r.agree)
              ? EXIT_OK
              : EXIT_VIOLATION,
      );
    });
}
