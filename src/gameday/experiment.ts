/**
 * One experiment, with LitmusChaos probe-mode semantics:
 *
 *   preChaos    SOT and Edge probes, in plan order; a failure fails the experiment and
 *               no fault is injected (Litmus skips chaos when pre-chaos checks fail).
 *               Continuous probes start here and poll until postChaos is over.
 *   inject      fault units applied and verified (fault start event, verified true/false);
 *               an unverified injection ends the experiment: its probes would prove nothing.
 *   duringChaos OnChaos probes poll only inside [injection verified, duration elapsed];
 *               with strategy "continuously" the steady-state hypothesis is checked too.
 *   revert      always (success, failure, abort threshold, signal), verified (fault end event)
 *   postChaos   EOT and Edge probes; then Continuous probes stop.
 *
 * A run is 1 + retries attempts (see probes/index.ts). Continuous/OnChaos loops stop at
 * their first failed run, as Litmus' do. stopOnFailure ends the experiment at once; the
 * abort threshold (minimum probe success %) ends it and halts the game day.
 */

import type { Recorder } from '../runner/recorder.ts';
import { type FaultTarget, type FaultUnit, type ResolvedFault, resolveFault } from './faults.ts';
import { type Experiment, PROCESS_FAULTS, type Probe, type ProbeMode, type ResolvedProbe } from './plan.ts';
import { type ProbeExecutor, type ProbeRun, runProbe } from './probes/index.ts';
import type { Progress } from './progress.ts';
import {
  type ChaosResult,
  type ExperimentVerdict,
  type FaultReport,
  type Phase,
  type ProbeStatus,
  type ProbeVerdict,
  probeSuccessPercentage,
} from './result.ts';
import type { RollbackLedger } from './rollback.ts';
import { childAbort, errorText, sleep } from './util.ts';

export interface ExperimentDeps {
  gameday: string;
  exec: ProbeExecutor;
  ledger: RollbackLedger;
  faultTarget: FaultTarget;
  rec: Recorder;
  progress: Progress;
  /** aborted on SIGINT/SIGTERM: the experiment stops, reverts, and is Stopped */
  interrupt: AbortSignal;
  /** steady-state probes checked during chaos (strategy continuously) */
  hypothesis?: { probes: Probe[]; frequencyMs: number };
  /** tests: scripted fault units instead of Toxiproxy/process ones */
  resolve?: (exp: Experiment, target: FaultTarget) => ResolvedFault;
}

export interface ExperimentOutcome {
  result: ChaosResult;
  /** set when the game day must not go on (abort threshold, hypothesis deviation, unverified revert, signal) */
  halt?: string;
  revertVerified: boolean;
}

type EndKind = 'preChaos' | 'inject' | 'stopOnFailure' | 'threshold' | 'deviation' | 'signal';

const PHASES_OF: Record<ProbeMode, Phase[]> = {
  SOT: ['preChaos'],
  EOT: ['postChaos'],
  Edge: ['preChaos', 'postChaos'],
  Continuous: ['preChaos', 'duringChaos', 'postChaos'],
  OnChaos: ['duringChaos'],
};

const LITMUS_TYPE: Record<Probe['type'], string> = {
  http: 'httpProbe',
  cmd: 'cmdProbe',
  prom: 'promProbe',
  dns: 'dnsProbe',
};

class ProbeBook {
  readonly phases = new Map<Phase, { verdict: ProbeVerdict; description: string }>();
  runs = 0;
  failed?: { phase: Phase; detail: string };
  constructor(readonly r: ResolvedProbe) {}

  record(phase: Phase, run: ProbeRun): void {
    this.runs++;
    const prev = this.phases.get(phase);
    if (!run.ok) {
      this.failed ??= { phase, detail: run.detail };
      this.phases.set(phase, { verdict: 'Failed', description: run.detail });
    } else if (prev?.verdict !== 'Failed') {
      this.phases.set(phase, { verdict: 'Passed', description: run.detail });
    }
  }

  /** Not failed so far (used for the live abort-threshold percentage). */
  get standing(): boolean {
    return !this.failed;
  }

  status(): ProbeStatus {
    const phases: Partial<Record<Phase, ProbeVerdict>> = {};
    const expected = PHASES_OF[this.r.mode];
    // Continuous probes report only the phases their polls fell into.
    const shown = this.r.mode === 'Continuous' ? expected.filter((p) => this.phases.has(p)) : expected;
    for (const p of shown) phases[p] = this.phases.get(p)?.verdict ?? 'N/A';
    let verdict: ProbeVerdict;
    let description: string;
    if (this.failed) {
      verdict = 'Failed';
      description = `failed in ${this.failed.phase}: ${this.failed.detail}`;
    } else if (
      this.r.mode === 'Continuous'
        ? this.runs > 0
        : expected.every((p) => this.phases.get(p)?.verdict === 'Passed')
    ) {
      verdict = 'Passed';
      description = `passed ${this.runs} run(s)`;
    } else {
      verdict = 'N/A';
      description =
        'not evaluated: the experiment ended before this probe could run in every phase of its mode';
    }
    return {
      name: this.r.probe.name,
      type: LITMUS_TYPE[this.r.probe.type],
      mode: this.r.mode,
      phases,
      status: { verdict, description },
      runs: this.runs,
    };
  }
}

export async function runExperiment(
  exp: Experiment & { resolvedProbes: ResolvedProbe[] },
  deps: ExperimentDeps,
): Promise<ExperimentOutcome> {
  const st = startRun(exp, deps);
  deps.interrupt.addEventListener('abort', st.onInterrupt, { once: true });
  st.onInterrupt();
  st.rec.note('gameday.experiment', `experiment ${exp.name} started`, {
    experiment: exp.name,
    fault: exp.fault,
    target: st.targetText,
  });
  await preChaos(st);
  const cont$ = await startContinuous(st);
  try {
    if (!st.abort.signal.aborted) {
      const report = resolveUnits(st);
      try {
        await inject(st, report);
        await duringChaos(st);
      } finally {
        await revert(st, report);
      }
    }
    st.phase = 'postChaos';
    if (!st.abort.signal.aborted) await runOnce(st, 'postChaos', ['EOT', 'Edge']);
  } finally {
    // Continuous probes poll until the post-chaos checks are done, and never outlive the experiment.
    cont$.ctl.abort('experiment over');
    await Promise.all(st.continuous);
    cont$.dispose();
    st.exp$.dispose();
    deps.interrupt.removeEventListener('abort', st.onInterrupt);
  }
  return outcome(st);
}

/** Everything one experiment's phases share, and what they found so far. */
interface ExperimentRun {
  exp: Experiment & { resolvedProbes: ResolvedProbe[] };
  deps: ExperimentDeps;
  rec: Recorder;
  progress: Progress;
  startedMs: number;
  books: ProbeBook[];
  exp$: ReturnType<typeof childAbort>;
  abort: AbortController;
  end: { kind: EndKind; text: string } | null;
  halt: string | undefined;
  phase: Phase;
  chaosStartMs: number | null;
  chaosEndMs: number | null;
  faultReport: FaultReport | null;
  revertVerified: boolean;
  targetText: string;
  units: FaultUnit[];
  touchedIds: { links?: string[]; components?: string[] };
  continuous: Array<Promise<void>>;
  /** SIGINT/SIGTERM: names the signal as the end (the listener is removed when the experiment is over) */
  onInterrupt: () => void;
}

function startRun(
  exp: Experiment & { resolvedProbes: ResolvedProbe[] },
  deps: ExperimentDeps,
): ExperimentRun {
  const exp$ = childAbort(deps.interrupt);
  const st: ExperimentRun = {
    exp,
    deps,
    rec: deps.rec,
    progress: deps.progress,
    startedMs: deps.rec.now(),
    books: exp.resolvedProbes.map((r) => new ProbeBook(r)),
    exp$,
    abort: exp$.ctl,
    end: null,
    halt: undefined,
    phase: 'preChaos',
    chaosStartMs: null,
    chaosEndMs: null,
    faultReport: null,
    revertVerified: true,
    targetText: Array.isArray(exp.target) ? exp.target.join(',') : exp.target,
    units: [],
    touchedIds: {},
    continuous: [],
    onInterrupt: () => {
      if (deps.interrupt.aborted && !st.end)
        st.end = { kind: 'signal', text: `interrupted by ${String(deps.interrupt.reason)}` };
    },
  };
  return st;
}

/** Ends the experiment (the first reason wins) and aborts whatever is running. */
function stop(st: ExperimentRun, kind: EndKind, text: string): void {
  if (!st.end) st.end = { kind, text };
  st.abort.abort(kind);
}

/** Books a probe run, says it, and applies stopOnFailure and the abort threshold. */
function onRun(st: ExperimentRun, book: ProbeBook, at: Phase, run: ProbeRun): void {
  const { exp } = st;
  book.record(at, run);
  const p = book.r.probe;
  st.rec.note('gameday.probe', `${p.name} ${run.ok ? 'Passed' : 'Failed'} (${book.r.mode}, ${at})`, {
    experiment: exp.name,
    probe: p.name,
    type: p.type,
    mode: book.r.mode,
    phase: at,
    ok: run.ok,
    attempts: run.attempts,
    durationMs: run.durationMs,
    detail: run.detail,
  });
  const loud = !run.ok || (book.r.mode !== 'Continuous' && book.r.mode !== 'OnChaos');
  if (loud)
    st.progress.line(
      `  ${at.padEnd(11)} probe ${p.name} (${p.type}, ${book.r.mode}) ${run.ok ? 'Passed' : 'FAILED'}: ${run.detail}`,
    );
  if (!run.ok && p.runProperties.stopOnFailure)
    stop(st, 'stopOnFailure', `probe ${p.name} failed in ${at} (stopOnFailure): ${run.detail}`);
  if (exp.abortThreshold !== undefined && st.books.length > 0) {
    const pct = (st.books.filter((b) => b.standing).length / st.books.length) * 100;
    if (pct < exp.abortThreshold) {
      const text = `abort threshold: probe success ${pct.toFixed(0)}% < ${exp.abortThreshold}%`;
      st.halt ??= `${exp.name}: ${text}`;
      stop(st, 'threshold', text);
    }
  }
}

/** One-shot probes (SOT/EOT/Edge) of a phase, in plan order. */
async function runOnce(st: ExperimentRun, at: Phase, modes: ProbeMode[]): Promise<void> {
  const { deps } = st;
  for (const book of st.books) {
    if (!modes.includes(book.r.mode) || st.abort.signal.aborted) continue;
    if (await sleep(book.r.probe.runProperties.initialDelay, st.abort.signal)) return;
    const run = await runProbe(book.r.probe, deps.exec, st.abort.signal);
    if (run.aborted) return;
    onRun(st, book, at, run);
  }
}

/** Polling loop for Continuous/OnChaos: runs until `signal` aborts or a run fails. `firstDone` fires after the first run. */
async function poll(
  st: ExperimentRun,
  book: ProbeBook,
  signal: AbortSignal,
  firstDone: () => void = () => {},
): Promise<void> {
  const { deps } = st;
  const props = book.r.probe.runProperties;
  try {
    if (await sleep(props.initialDelay, signal)) return;
    while (!signal.aborted) {
      const at = st.phase;
      const run = await runProbe(book.r.probe, deps.exec, signal);
      if (run.aborted) return;
      onRun(st, book, at, run);
      firstDone();
      if (!run.ok) return;
      if (await sleep(props.pollingInterval, signal)) return;
    }
  } finally {
    firstDone();
  }
}

/** With strategy "continuously": the steady-state probes, every frequencyMs, during chaos. */
async function hypothesisLoop(st: ExperimentRun, signal: AbortSignal): Promise<void> {
  const { exp, deps } = st;
  const h = deps.hypothesis;
  if (!h) return;
  while (!signal.aborted) {
    for (const p of h.probes) {
      const run = await runProbe(p, deps.exec, signal);
      if (run.aborted) return;
      st.rec.note('gameday.steady-state', `${p.name} ${run.ok ? 'Passed' : 'Failed'} (during ${exp.name})`, {
        experiment: exp.name,
        probe: p.name,
        ok: run.ok,
        detail: run.detail,
      });
      if (!run.ok) {
        const text = `steady-state hypothesis deviated during chaos: ${p.name}: ${run.detail}`;
        st.progress.line(`  duringChaos ${text}`);
        st.halt ??= `${exp.name}: ${text}`;
        stop(st, 'deviation', text);
        return;
      }
    }
    if (await sleep(h.frequencyMs, signal)) return;
  }
}

/** SOT and Edge probes; a failure ends the experiment before any fault goes in. */
async function preChaos(st: ExperimentRun): Promise<void> {
  // preChaos
  await runOnce(st, 'preChaos', ['SOT', 'Edge']);
  const preFailed = st.books.find((b) => b.failed && b.failed.phase === 'preChaos');
  if (preFailed && !st.end)
    stop(
      st,
      'preChaos',
      `pre-chaos check failed: probe ${preFailed.r.probe.name}: ${preFailed.failed!.detail}`,
    );
}

/** Continuous probes start polling; those without an initial delay get one baseline run first. */
async function startContinuous(st: ExperimentRun): Promise<ReturnType<typeof childAbort>> {
  const cont$ = childAbort(st.abort.signal);
  // Continuous probes without an initial delay get one pre-chaos baseline run before the fault goes in.
  const baselines: Array<Promise<void>> = [];
  st.continuous = st.abort.signal.aborted
    ? []
    : st.books
        .filter((b) => b.r.mode === 'Continuous')
        .map((b) => {
          let done!: () => void;
          if (b.r.probe.runProperties.initialDelay === 0)
            baselines.push(new Promise<void>((r) => (done = r)));
          return poll(st, b, cont$.ctl.signal, () => done?.());
        });
  await Promise.all(baselines);
  return cont$;
}

/** Resolves the plan's fault into units and opens the fault report. */
function resolveUnits(st: ExperimentRun): FaultReport {
  const { exp, deps } = st;
  const resolved = (deps.resolve ?? resolveFault)(exp, deps.faultTarget);
  st.units = resolved.units;
  st.touchedIds = PROCESS_FAULTS.includes(exp.fault)
    ? { components: resolved.touched }
    : { links: resolved.touched };
  for (const n of resolved.notes) st.progress.line(`  warning: ${n}`);
  const report: FaultReport = {
    fault: exp.fault,
    target: st.targetText,
    touched: resolved.touched,
    notes: resolved.notes,
    injected: { verified: null, detail: 'not injected' },
    reverted: { verified: null, detail: 'nothing to revert', units: [] },
  };
  st.faultReport = report;
  return report;
}

/** Applies every unit, verifies them, and records the fault start; an unverified injection ends the experiment. */
async function inject(st: ExperimentRun, report: FaultReport): Promise<void> {
  const { exp, deps } = st;
  let injectError: string | null = null;
  for (const u of st.units) {
    deps.ledger.register(u);
    try {
      await u.apply();
    } catch (err) {
      injectError = `${u.label}: ${errorText(err)}`;
      break;
    }
  }
  const checks = injectError
    ? []
    : await Promise.all(
        st.units.map((u) => u.verifyApplied().catch((err) => ({ ok: false, detail: errorText(err) }))),
      );
  const verified = injectError === null && checks.every((c) => c.ok);
  const detail = injectError ?? st.units.map((u, i) => `${u.label}: ${checks[i]!.detail}`).join('; ');
  report.injected = { verified, detail };
  st.rec.recordNow({
    kind: 'fault',
    phase: 'start',
    id: exp.name,
    fault: exp.fault,
    target: st.targetText,
    verified,
    detail,
    ...st.touchedIds,
  });
  st.progress.line(
    `  inject      ${exp.fault} ${st.targetText} for ${exp.duration} ms: ${verified ? 'verified' : 'NOT VERIFIED'} (${terse(st.units, checks, injectError)})`,
  );
  if (!verified) stop(st, 'inject', `fault injection not verified: ${detail}`);
}

/** OnChaos probes (and the hypothesis) poll for the fault's duration. */
async function duringChaos(st: ExperimentRun): Promise<void> {
  const { exp } = st;
  if (!st.abort.signal.aborted) {
    st.phase = 'duringChaos';
    st.chaosStartMs = st.rec.now();
    const chaos$ = childAbort(st.abort.signal);
    const onChaos = st.books.filter((b) => b.r.mode === 'OnChaos').map((b) => poll(st, b, chaos$.ctl.signal));
    const hyp = hypothesisLoop(st, chaos$.ctl.signal);
    await sleep(exp.duration, st.abort.signal);
    st.chaosEndMs = st.rec.now();
    chaos$.ctl.abort('chaos window over');
    await Promise.all([...onChaos, hyp]);
    chaos$.dispose();
    for (const b of st.books)
      if (b.r.mode === 'OnChaos' && b.runs === 0 && !st.abort.signal.aborted)
        b.record('duringChaos', {
          ok: false,
          aborted: false,
          attempts: 0,
          durationMs: 0,
          detail:
            'no run completed inside the chaos window (timeout or initialDelay longer than the duration?)',
        });
  }
}

/** Reverts every unit (on every path out of the chaos window), verifies, and records the fault end. */
async function revert(st: ExperimentRun, report: FaultReport): Promise<void> {
  const { exp, deps } = st;
  const reports = await deps.ledger.revert(st.units);
  st.revertVerified = reports.every((r) => r.verified);
  const detail = reports
    .map((r) => `${r.label}: ${r.verified ? 'reverted' : 'NOT REVERTED'} (${r.detail})`)
    .join('; ');
  report.reverted = { verified: st.units.length ? st.revertVerified : null, detail, units: reports };
  st.rec.recordNow({
    kind: 'fault',
    phase: 'end',
    id: exp.name,
    fault: exp.fault,
    target: st.targetText,
    verified: st.revertVerified,
    detail,
    ...st.touchedIds,
  });
  st.progress.line(
    `  revert      ${exp.fault} ${st.targetText}: ${st.revertVerified ? 'verified' : 'NOT VERIFIED'} (${terse(
      st.units,
      reports.map((r) => ({ ok: r.verified, detail: r.detail })),
      null,
    )})`,
  );
  if (!st.revertVerified) st.halt ??= `${exp.name}: a fault could not be reverted`;
}

/** The verdict, the ChaosResult and its closing note. */
function outcome(st: ExperimentRun): ExperimentOutcome {
  const { exp, deps } = st;
  if (st.end && (st.end as { kind: EndKind }).kind === 'signal') st.halt ??= String(deps.interrupt.reason);

  const probeStatuses = st.books.map((b) => b.status());
  let verdict: ExperimentVerdict;
  let failStep = 'N/A';
  const ended = st.end as { kind: EndKind; text: string } | null;
  if (ended?.kind === 'signal') {
    verdict = 'Stopped';
    failStep = `${ended.text}; faults reverted ${st.revertVerified ? '(verified)' : '(NOT verified)'}`;
  } else if (!st.revertVerified) {
    verdict = 'Fail';
    failStep = `revert not verified: ${st.faultReport?.reverted.detail}`;
  } else if (ended) {
    verdict = 'Fail';
    failStep = ended.text;
  } else {
    const failed = probeStatuses.find((s) => s.status.verdict !== 'Passed');
    verdict = failed ? 'Fail' : 'Pass';
    if (failed) failStep = `probe ${failed.name}: ${failed.status.description}`;
  }
  const result: ChaosResult = {
    apiVersion: 'failover-lab/v1',
    kind: 'ChaosResult',
    metadata: {
      name: `${deps.gameday}-${exp.name}`,
      labels: { gameday: deps.gameday, experiment: exp.name },
    },
    spec: {
      engine: deps.gameday,
      experiment: exp.name,
      fault: exp.fault,
      target: st.targetText,
      durationMs: exp.duration,
      weight: exp.weight,
    },
    status: {
      experimentStatus: {
        phase: verdict === 'Stopped' ? 'Stopped' : 'Completed',
        verdict,
        probeSuccessPercentage: probeSuccessPercentage(probeStatuses, verdict),
        failStep,
      },
      probeStatuses,
      fault: st.faultReport,
      timing: {
        startedMs: st.startedMs,
        chaosStartMs: st.chaosStartMs,
        chaosEndMs: st.chaosEndMs,
        endedMs: st.rec.now(),
      },
    },
  };
  st.rec.note('gameday.experiment', `experiment ${exp.name}: ${verdict}`, {
    experiment: exp.name,
    verdict,
    probeSuccessPercentage: result.status.experimentStatus.probeSuccessPercentage,
    failStep,
  });
  return { result, halt: st.halt, revertVerified: st.revertVerified };
}

/**
 * The terminal gets the evidence for up to 3 units (or the failing ones); the history and
 * the ChaosResult always keep every unit's detail.
 */
function terse(
  units: FaultUnit[],
  checks: Array<{ ok: boolean; detail: string }>,
  error: string | null,
): string {
  if (error) return error;
  const bad = units.flatMap((u, i) =>
    checks[i]?.ok ? [] : [`${u.label}: ${checks[i]?.detail ?? 'not checked'}`],
  );
  if (bad.length > 0) return bad.join('; ');
  if (units.length <= 3) return units.map((u, i) => `${u.label}: ${checks[i]!.detail}`).join('; ');
  return `${units.length} units, each checked, e.g. ${units[0]!.label}: ${checks[0]!.detail}`;
}

/** A ChaosResult for an experiment that never ran (hypothesis failed before, or the game day halted). */
export function notRunResult(gameday: string, exp: Experiment, why: string, atMs: number): ChaosResult {
  return {
    apiVersion: 'failover-lab/v1',
    kind: 'ChaosResult',
    metadata: { name: `${gameday}-${exp.name}`, labels: { gameday, experiment: exp.name } },
    spec: {
      engine: gameday,
      experiment: exp.name,
      fault: exp.fault,
      target: Array.isArray(exp.target) ? exp.target.join(',') : exp.target,
      durationMs: exp.duration,
      weight: exp.weight,
    },
    status: {
      experimentStatus: {
        phase: 'NotRun',
        verdict: 'Stopped',
        probeSuccessPercentage: 0,
        failStep: `not run: ${why}`,
      },
      probeStatuses: [],
      fault: null,
      timing: { startedMs: atMs, chaosStartMs: null, chaosEndMs: null, endedMs: atMs },
    },
  };
}
