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
  const { rec, progress } = deps;
  const startedMs = rec.now();
  const books = exp.resolvedProbes.map((r) => new ProbeBook(r));
  const exp$ = childAbort(deps.interrupt);
  const abort = exp$.ctl;
  let end: { kind: EndKind; text: string } | null = null;
  let halt: string | undefined;
  let phase: Phase = 'preChaos';
  let chaosStartMs: number | null = null;
  let chaosEndMs: number | null = null;
  let faultReport: FaultReport | null = null;
  let revertVerified = true;
  const targetText = Array.isArray(exp.target) ? exp.target.join(',') : exp.target;

  const stop = (kind: EndKind, text: string) => {
    if (!end) end = { kind, text };
    abort.abort(kind);
  };

  const onRun = (book: ProbeBook, at: Phase, run: ProbeRun) => {
    book.record(at, run);
    const p = book.r.probe;
    rec.note('gameday.probe', `${p.name} ${run.ok ? 'Passed' : 'Failed'} (${book.r.mode}, ${at})`, {
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
      progress.line(
        `  ${at.padEnd(11)} probe ${p.name} (${p.type}, ${book.r.mode}) ${run.ok ? 'Passed' : 'FAILED'}: ${run.detail}`,
      );
    if (!run.ok && p.runProperties.stopOnFailure)
      stop('stopOnFailure', `probe ${p.name} failed in ${at} (stopOnFailure): ${run.detail}`);
    if (exp.abortThreshold !== undefined && books.length > 0) {
      const pct = (books.filter((b) => b.standing).length / books.length) * 100;
      if (pct < exp.abortThreshold) {
        const text = `abort threshold: probe success ${pct.toFixed(0)}% < ${exp.abortThreshold}%`;
        halt ??= `${exp.name}: ${text}`;
        stop('threshold', text);
      }
    }
  };

  /** One-shot probes (SOT/EOT/Edge) of a phase, in plan order. */
  const runOnce = async (at: Phase, modes: ProbeMode[]) => {
    for (const book of books) {
      if (!modes.includes(book.r.mode) || abort.signal.aborted) continue;
      if (await sleep(book.r.probe.runProperties.initialDelay, abort.signal)) return;
      const run = await runProbe(book.r.probe, deps.exec, abort.signal);
      if (run.aborted) return;
      onRun(book, at, run);
    }
  };

  /** Polling loop for Continuous/OnChaos: runs until `signal` aborts or a run fails. `firstDone` fires after the first run. */
  const poll = async (book: ProbeBook, signal: AbortSignal, firstDone: () => void = () => {}) => {
    const props = book.r.probe.runProperties;
    try {
      if (await sleep(props.initialDelay, signal)) return;
      while (!signal.aborted) {
        const at = phase;
        const run = await runProbe(book.r.probe, deps.exec, signal);
        if (run.aborted) return;
        onRun(book, at, run);
        firstDone();
        if (!run.ok) return;
        if (await sleep(props.pollingInterval, signal)) return;
      }
    } finally {
      firstDone();
    }
  };

  const hypothesisLoop = async (signal: AbortSignal) => {
    const h = deps.hypothesis;
    if (!h) return;
    while (!signal.aborted) {
      for (const p of h.probes) {
        const run = await runProbe(p, deps.exec, signal);
        if (run.aborted) return;
        rec.note('gameday.steady-state', `${p.name} ${run.ok ? 'Passed' : 'Failed'} (during ${exp.name})`, {
          experiment: exp.name,
          probe: p.name,
          ok: run.ok,
          detail: run.detail,
        });
        if (!run.ok) {
          const text = `steady-state hypothesis deviated during chaos: ${p.name}: ${run.detail}`;
          progress.line(`  duringChaos ${text}`);
          halt ??= `${exp.name}: ${text}`;
          stop('deviation', text);
          return;
        }
      }
      if (await sleep(h.frequencyMs, signal)) return;
    }
  };

  const abortReasonOnSignal = () => {
    if (deps.interrupt.aborted && !end)
      end = { kind: 'signal', text: `interrupted by ${String(deps.interrupt.reason)}` };
  };
  deps.interrupt.addEventListener('abort', abortReasonOnSignal, { once: true });
  abortReasonOnSignal();

  rec.note('gameday.experiment', `experiment ${exp.name} started`, {
    experiment: exp.name,
    fault: exp.fault,
    target: targetText,
  });

  // preChaos
  await runOnce('preChaos', ['SOT', 'Edge']);
  const preFailed = books.find((b) => b.failed && b.failed.phase === 'preChaos');
  if (preFailed && !end)
    stop('preChaos', `pre-chaos check failed: probe ${preFailed.r.probe.name}: ${preFailed.failed!.detail}`);

  const cont$ = childAbort(abort.signal);
  // Continuous probes without an initial delay get one pre-chaos baseline run before the fault goes in.
  const baselines: Array<Promise<void>> = [];
  const continuous = abort.signal.aborted
    ? []
    : books
        .filter((b) => b.r.mode === 'Continuous')
        .map((b) => {
          let done!: () => void;
          if (b.r.probe.runProperties.initialDelay === 0)
            baselines.push(new Promise<void>((r) => (done = r)));
          return poll(b, cont$.ctl.signal, () => done?.());
        });
  await Promise.all(baselines);

  let units: FaultUnit[] = [];
  let touchedIds: { links?: string[]; components?: string[] } = {};
  try {
    if (!abort.signal.aborted) {
      const resolved = (deps.resolve ?? resolveFault)(exp, deps.faultTarget);
      units = resolved.units;
      touchedIds = PROCESS_FAULTS.includes(exp.fault)
        ? { components: resolved.touched }
        : { links: resolved.touched };
      for (const n of resolved.notes) progress.line(`  warning: ${n}`);
      faultReport = {
        fault: exp.fault,
        target: targetText,
        touched: resolved.touched,
        notes: resolved.notes,
        injected: { verified: null, detail: 'not injected' },
        reverted: { verified: null, detail: 'nothing to revert', units: [] },
      };
      try {
        // inject
        let injectError: string | null = null;
        for (const u of units) {
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
              units.map((u) => u.verifyApplied().catch((err) => ({ ok: false, detail: errorText(err) }))),
            );
        const verified = injectError === null && checks.every((c) => c.ok);
        const detail = injectError ?? units.map((u, i) => `${u.label}: ${checks[i]!.detail}`).join('; ');
        faultReport.injected = { verified, detail };
        rec.recordNow({
          kind: 'fault',
          phase: 'start',
          id: exp.name,
          fault: exp.fault,
          target: targetText,
          verified,
          detail,
          ...touchedIds,
        });
        progress.line(
          `  inject      ${exp.fault} ${targetText} for ${exp.duration} ms: ${verified ? 'verified' : 'NOT VERIFIED'} (${terse(units, checks, injectError)})`,
        );
        if (!verified) stop('inject', `fault injection not verified: ${detail}`);

        // duringChaos
        if (!abort.signal.aborted) {
          phase = 'duringChaos';
          chaosStartMs = rec.now();
          const chaos$ = childAbort(abort.signal);
          const onChaos = books.filter((b) => b.r.mode === 'OnChaos').map((b) => poll(b, chaos$.ctl.signal));
          const hyp = hypothesisLoop(chaos$.ctl.signal);
          await sleep(exp.duration, abort.signal);
          chaosEndMs = rec.now();
          chaos$.ctl.abort('chaos window over');
          await Promise.all([...onChaos, hyp]);
          chaos$.dispose();
          for (const b of books)
            if (b.r.mode === 'OnChaos' && b.runs === 0 && !abort.signal.aborted)
              b.record('duringChaos', {
                ok: false,
                aborted: false,
                attempts: 0,
                durationMs: 0,
                detail:
                  'no run completed inside the chaos window (timeout or initialDelay longer than the duration?)',
              });
        }
      } finally {
        // revert: runs on every path out of the chaos window, including exceptions.
        const reports = await deps.ledger.revert(units);
        revertVerified = reports.every((r) => r.verified);
        const detail = reports
          .map((r) => `${r.label}: ${r.verified ? 'reverted' : 'NOT REVERTED'} (${r.detail})`)
          .join('; ');
        faultReport.reverted = { verified: units.length ? revertVerified : null, detail, units: reports };
        rec.recordNow({
          kind: 'fault',
          phase: 'end',
          id: exp.name,
          fault: exp.fault,
          target: targetText,
          verified: revertVerified,
          detail,
          ...touchedIds,
        });
        progress.line(
          `  revert      ${exp.fault} ${targetText}: ${revertVerified ? 'verified' : 'NOT VERIFIED'} (${terse(
            units,
            reports.map((r) => ({ ok: r.verified, detail: r.detail })),
            null,
          )})`,
        );
        if (!revertVerified) halt ??= `${exp.name}: a fault could not be reverted`;
      }
    }

    // postChaos
    phase = 'postChaos';
    if (!abort.signal.aborted) await runOnce('postChaos', ['EOT', 'Edge']);
  } finally {
    // Continuous probes poll until the post-chaos checks are done, and never outlive the experiment.
    cont$.ctl.abort('experiment over');
    await Promise.all(continuous);
    cont$.dispose();
    exp$.dispose();
    deps.interrupt.removeEventListener('abort', abortReasonOnSignal);
  }
  if (end && (end as { kind: EndKind }).kind === 'signal') halt ??= String(deps.interrupt.reason);

  const probeStatuses = books.map((b) => b.status());
  let verdict: ExperimentVerdict;
  let failStep = 'N/A';
  const ended = end as { kind: EndKind; text: string } | null;
  if (ended?.kind === 'signal') {
    verdict = 'Stopped';
    failStep = `${ended.text}; faults reverted ${revertVerified ? '(verified)' : '(NOT verified)'}`;
  } else if (!revertVerified) {
    verdict = 'Fail';
    failStep = `revert not verified: ${faultReport?.reverted.detail}`;
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
      target: targetText,
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
      fault: faultReport,
      timing: { startedMs, chaosStartMs, chaosEndMs, endedMs: rec.now() },
    },
  };
  rec.note('gameday.experiment', `experiment ${exp.name}: ${verdict}`, {
    experiment: exp.name,
    verdict,
    probeSuccessPercentage: result.status.experimentStatus.probeSuccessPercentage,
    failStep,
  });
  return { result, halt, revertVerified };
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
