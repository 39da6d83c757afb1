/**
 * Runs one scenario on the real topology:
 *   plan (reject what the real executor cannot do, before anything starts) → boot →
 *   warm-up (the initial primary holds the lease, its app has authority, DNS points at it) →
 *   timeline (client workload + fault steps at scaled times) → cut the history at the end →
 *   tear down → checkHistory → RunJson.
 * Global time t = 0 is the start of the boot; the scenario's own time 0 is the warm-up's
 * end, recorded as a note ("scenario-start") and in the RunJson (scenarioStartT).
 */
import { basename } from 'node:path';
import { checkHistory } from '../check/checker.ts';
import { type RunJson, shownFailoverMs, type Verdict } from '../check/verdict.ts';
import type { HistoryEvent, MetaEvent } from '../contracts/history.ts';
import { configuredNumbers, type DesignSpec } from '../contracts/spec.ts';
import { historyTiming } from '../controller/core.ts';
import { InfraError } from '../errors.ts';
import {
  type AppliedFault,
  applyFault,
  FakeClock,
  type FaultContext,
  LinkFaults,
  planRealRun,
} from '../faults/index.ts';
import { operatorStep } from '../faults/operator.ts';
import { assessSchedule } from '../scenario/assumptions.ts';
import type { Expectation, Scenario } from '../scenario/schema.ts';
import { bootSteps } from '../scenario/validate.ts';
import { queryDns } from '../topology/dns.ts';
import { LEASE_NAME, startTopology, type Topology } from '../topology/local.ts';
import { sleep } from '../topology/supervisor.ts';
import { LeaseClient } from '../worker/client.ts';
import { AnchorResolver, describeAnchorFire, waitForAnchor } from './anchors.ts';
import { ApprovalObserver } from './approval-observer.ts';
import { bootLatencyHook } from './boot-faults.ts';
import { realDesignSpec } from './design-spec.ts';
import { DnsObserver } from './dns-observer.ts';
import { stepLocation } from './locate.ts';
import { ProcessEventCollector } from './process-events.ts';
import { Recorder } from './recorder.ts';
import { StoreLogReader } from './store-log.ts';
import { observerNonce, recordStoreStorage } from './store-storage.ts';
import { ClientWorkload } from './workload.ts';

export interface RunOptions {
  /** overrides the scenario's topology.timeScale */
  timeScale?: number;
  /** persist logs here (else they live in the run's temp dir and are removed) */
  logsDir?: string;
  progress?: (line: string) => void;
  installSignalHandlers?: boolean;
  /** which driver boots the topology (default local); docker: src/topology/docker/topology.ts */
  driver?: 'local' | 'docker';
}

export interface FaultSummary {
  id: string;
  fault: string;
  target: string;
  atT: number;
  endT: number | null;
  startVerified: boolean | null;
  endVerified: boolean | null;
  detail: string;
}

export interface RunResult {
  scenario: Scenario;
  file: string;
  history: HistoryEvent[];
  verdict: Verdict;
  runJson: RunJson;
  bootSeconds: number;
  wallSeconds: number;
  timeScale: number;
  scenarioStartT: number;
  faults: FaultSummary[];
  /** failover time in production seconds (measured / timeScale), if one happened */
  failoverProductionSeconds: number | null;
  /** wall-clock start and end of the run (reports show them; nothing is timed by them) */
  startedAt: Date;
  finishedAt: Date;
}

/** Expectation durations are production time; the history is scaled. */
export function scaleExpectations(expect: Expectation[], timeScale: number): Expectation[] {
  return expect.map((e) => {
    if ('failover-within' in e) return { 'failover-within': Math.round(e['failover-within'] * timeScale) };
    if ('demoted-within' in e) {
      return {
        'demoted-within': {
          region: e['demoted-within'].region,
          within: Math.round(e['demoted-within'].within * timeScale),
        },
      };
    }
    return e;
  });
}

/**
 * Which faults of the schedule leave the documented assumptions (docs/invariants.md): the
 * simulator's one rule (src/scenario/assumptions.ts), on the scenario's production-ms steps
 * against the run's design p and d taken back to production ms. No host wake latency is
 * added: on the real topology an app's stall is measured, not modelled.
 */
export function assumptionsOf(
  s: Scenario,
  topo: Pick<Topology, 'timing' | 'leaseBackend' | 'spec'>,
  design: Pick<DesignSpec, 'maxClockDriftRate' | 'maxPauseMs' | 'maxDelayMs'>,
  timeScale: number,
): { within: boolean; notes: string[] } {
  const notes: string[] = [];
  if (topo.leaseBackend === 'kv')
    notes.push('legacy-kv lease Worker: no compare-and-set, cached reads (known unsafe)');
  const ctl = Object.values(topo.timing.controllers)[0]!;
  const assessed = assessSchedule(
    [...s.steps, ...bootSteps(s)],
    {
      ...ctl,
      maxClockDriftRate: design.maxClockDriftRate,
      maxPauseMs: design.maxPauseMs / timeScale,
      maxDelayMs: design.maxDelayMs / timeScale,
    },
    topo.spec,
  );
  notes.push(...assessed.notes);
  return { within: notes.length === 0, notes };
}

/**
 * One scenario on the real topology, in phases: prepare (plan, recorder) → boot → execute
 * (meta, observers, warm-up, the steps, the end) → judge (checkHistory) → write (RunJson and
 * RunResult). A failure after the boot stops the topology before it propagates; the exit
 * code follows from the error (InfraError 3, BadInputError 2).
 */
export async function runScenario(
  scenario: Scenario,
  file: string,
  opts: RunOptions = {},
): Promise<RunResult> {
  const wallStartedMs = performance.now();
  const startedAt = new Date(); // wall clock, for reports only
  const run = prepareRun(scenario, file, opts);
  const topo = await bootTopology(run, opts);
  const bootSeconds = (performance.now() - topo.bootStartedAtMs) / 1000;
  const faults = await executeRun(run, topo, bootSeconds);
  const history = run.rec.finish();
  const verdict = checkHistory(history, { expectations: scaleExpectations(scenario.expect, run.timeScale) });
  const wallSeconds = (performance.now() - wallStartedMs) / 1000;
  return runResultOf(run, { topo, history, verdict, faults, bootSeconds, wallSeconds, startedAt });
}

/** What every phase of one run shares: the scenario, its time scale and the history recorder. */
interface PreparedRun {
  scenario: Scenario;
  file: string;
  timeScale: number;
  /** production ms → the run's ms */
  scaled: (ms: number) => number;
  progress: (line: string) => void;
  plan: ReturnType<typeof planRealRun>;
  rec: Recorder;
  anchors: AnchorResolver;
}

/** Rejects what the real executor cannot do, before anything starts; sets up the recorder. */
function prepareRun(scenario: Scenario, file: string, opts: RunOptions): PreparedRun {
  const timeScale = opts.timeScale ?? scenario.topology.timeScale;
  const plan = planRealRun(scenario, (i, key) => stepLocation(file, i, key));
  const rec = new Recorder();
  // anchored steps start at protocol instants read from the events as they are recorded
  const anchors = new AnchorResolver(timeScale);
  rec.subscribe((ev) => anchors.observe(ev));
  return {
    scenario,
    file,
    timeScale,
    scaled: (ms: number) => Math.round(ms * timeScale),
    progress: opts.progress ?? (() => {}),
    plan,
    rec,
    anchors,
  };
}

/** Boots the topology with the chosen driver, the scenario's settings and its boot latencies. */
async function bootTopology(run: PreparedRun, opts: RunOptions): Promise<Topology> {
  const { scenario, rec, scaled } = run;
  // the docker driver is imported only when asked for (dockerode stays off the local path)
  const start =
    opts.driver === 'docker'
      ? (await import('../topology/docker/topology.ts')).startDockerTopology
      : startTopology;
  const beforeControllers = bootLatencyHook(scenario, run.timeScale, rec, opts.driver, run.progress);
  return start({
    ...(beforeControllers ? { beforeControllers } : {}),
    timeScale: run.timeScale,
    leaseBackend: scenario.topology.leaseBackend,
    initialPrimary: scenario.topology.initialPrimary,
    controllerOverrides: scenario.topology.controller,
    ...(scenario.topology.worker?.leaseTtl !== undefined
      ? { workerLeaseTtlMs: Math.max(1, scaled(scenario.topology.worker.leaseTtl)) }
      : {}),
    faketime: run.plan.faketime,
    ...(opts.logsDir ? { logsDir: opts.logsDir } : {}),
    ...(opts.installSignalHandlers !== undefined
      ? { installSignalHandlers: opts.installSignalHandlers }
      : {}),
    onProcessEvent: (ev) =>
      rec.recordNow({
        kind: 'process',
        component: ev.component,
        op: ev.op,
        pid: ev.pid,
        ...(ev.detail ? { detail: ev.detail } : {}),
      }),
    progress: run.progress,
  });
}

/**
 * The run on a booted topology: meta → observers → warm-up → the steps at their times → the
 * end of the history (open faults reverted, last reads). The topology is stopped on every
 * path; on failure the observers and the workload stop first and the error propagates.
 */
async function executeRun(run: PreparedRun, topo: Topology, bootSeconds: number): Promise<FaultSummary[]> {
  const { scenario, rec, scaled } = run;
  const sup = topo.supervisor;
  const workload = new ClientWorkload(
    topo,
    rec,
    scenario.workload.clients,
    scaled(scenario.workload.writeInterval),
  );
  let collector: Collector | null = null;
  let dnsObserver: DnsObserver | null = null;
  let approvals: ApprovalObserver | null = null;
  let timeline: StepTimeline | null = null;
  try {
    rec.setMeta(metaOf(run, topo));
    collector = new Collector(topo, rec);
    collector.start();
    dnsObserver = startDnsObserver(topo, rec);
    approvals = startApprovalObserver(topo, rec);
    const clock = await warmUpAndStart(run, topo, collector, bootSeconds);
    workload.start();
    timeline = new StepTimeline(run, clock, faultContext(run, topo, workload, collector));
    const allSteps = timeline.start(sup);
    await sleepUntil(clock.endAtPerf, sup.signal);
    await collector.readStorage(); // before the end: every request it counts is in the history
    // The history ends here. Steps without `for` last until the end: they are reverted (and
    // verified) now, their end events stamped with the end time; what the reverts set off
    // afterwards (restarts, re-elections) is past the end and not part of the history.
    const endT = rec.now();
    dnsObserver.stop();
    approvals.stop();
    rec.closeAt(endT);
    await timeline.revertOpen(endT);
    await allSteps;
    await workload.stop();
    await collector.finalRead(); // event lines and store-log entries from before the end, not read yet
    sup.throwIfFailed();
  } catch (err) {
    dnsObserver?.stop();
    approvals?.stop();
    await workload.stop().catch(() => undefined);
    collector?.stop();
    await topo.stop();
    throw err;
  }
  collector.stop();
  await topo.stop();
  return timeline.summaries;
}

/** The history's meta event: the run's topology, timing, design spec and assumptions. */
function metaOf(run: PreparedRun, topo: Topology): Omit<MetaEvent, 'seq'> {
  const { scenario, timeScale } = run;
  const ctl0 = topo.timing.controllers[topo.initialPrimary]!;
  const spec = realDesignSpec({
    scenario,
    timeScale,
    witnessCount: topo.spec.witnesses.length,
    healthCheckIntervalS: topo.timing.pdnsHealthCheckIntervalS,
    // the durable Worker's own log is read (exact); the legacy KV one is only polled
    leaseStorePollMs: topo.leaseBackend === 'durable' ? null : leasePollMsOf(topo),
  });
  const assumptions = assumptionsOf(scenario, topo, spec, timeScale);
  return {
    kind: 'meta',
    t: 0,
    runId: topo.runId,
    scenario: scenario.name,
    executor: 'real',
    path: run.file,
    leaseBackend: scenario.topology.leaseBackend,
    regions: topo.spec.regions,
    initialPrimary: topo.initialPrimary,
    witnesses: topo.spec.witnesses,
    timing: historyTiming(ctl0),
    spec,
    configured: configuredNumbers(ctl0),
    withinAssumptions: assumptions.within,
    ...(assumptions.notes.length ? { assumptionNotes: assumptions.notes } : {}),
    timeScale,
  };
}

/** The scenario's time zero: the history's t and the harness's performance.now() at it, and the end. */
interface ScenarioClock {
  t0: number;
  t0Perf: number;
  endAtPerf: number;
}

/** Waits until the initial primary is in charge, then starts the scenario's clock (a note). */
async function warmUpAndStart(
  run: PreparedRun,
  topo: Topology,
  collector: Collector,
  bootSeconds: number,
): Promise<ScenarioClock> {
  const { scenario, rec, scaled, timeScale } = run;
  // the initial primary must be fully in charge before the clock starts
  run.progress(`${scenario.name}: waiting for ${topo.initialPrimary} to be primary`);
  await warmUp(topo, rec, collector, topo.supervisor.signal, Math.max(15_000, scaled(60_000)));
  const t0 = rec.now();
  const t0Perf = performance.now();
  rec.record({
    kind: 'note',
    t: t0,
    source: 'runner',
    message: 'scenario-start',
    data: { timeScale, scenarioTimeZeroT: t0 },
  });
  run.progress(
    `${scenario.name}: scenario started (boot ${bootSeconds.toFixed(2)} s); ${scenario.steps.length} steps over ${(scaled(scenario.duration) / 1000).toFixed(1)} s`,
  );
  return { t0, t0Perf, endAtPerf: t0Perf + scaled(scenario.duration) };
}

/** What the fault appliers act through: links, controller clocks, and hooks into the history. */
function faultContext(
  run: PreparedRun,
  topo: Topology,
  workload: ClientWorkload,
  collector: Collector,
): FaultContext {
  const { rec } = run;
  const clocks = new Map<string, FakeClock>();
  for (const [r, c] of Object.entries(topo.controllers)) {
    if (c.faketime) {
      const ft = c.faketime;
      clocks.set(r, new FakeClock(ft.timestampFile, () => ft.spawnedAtMs));
    }
  }
  return {
    topo,
    links: new LinkFaults(topo.toxiproxyUrl, topo.proxies),
    clocks,
    signal: topo.supervisor.signal,
    hooks: {
      pauseClient: (p) => workload.setPaused(p),
      note: (message, data) =>
        rec.recordNow({ kind: 'note', source: 'faults', message, ...(data ? { data } : {}) }),
      processEvent: (component, op, pid, detail) =>
        rec.recordNow({
          kind: 'process',
          component,
          op,
          ...(pid ? { pid } : {}),
          ...(detail ? { detail } : {}),
        }),
      clockEvent: (node, op, value) => rec.recordNow({ kind: 'clock', node, op, value }),
      crashed: (component, reason) => collector.crashed(component, reason),
    },
  };
}

/**
 * The scenario's fault steps: each applied at its scaled time (or its anchor), recorded and
 * verified, and reverted after its `for` or at the end of the scenario.
 */
class StepTimeline {
  readonly summaries: FaultSummary[] = [];
  private readonly active = new Map<string, AppliedFault>();

  constructor(
    private readonly run: PreparedRun,
    private readonly clock: ScenarioClock,
    private readonly ctx: FaultContext,
  ) {}

  /** Starts every step; a failing step (API error, unexpected exit) ends the run at once. */
  start(sup: Topology['supervisor']): Promise<unknown> {
    const allSteps = Promise.all(this.run.scenario.steps.map((_, i) => this.runStep(i)));
    allSteps.catch((err) =>
      sup.fail(
        err instanceof InfraError ? err : new InfraError(String((err as Error)?.message ?? err), 'faults'),
      ),
    );
    return allSteps;
  }

  /** Reverts the faults still in force, their end events stamped `endT` (the history's end). */
  async revertOpen(endT: number): Promise<void> {
    const open = [...this.active.values()];
    await Promise.all(open.map((a) => this.revert(a, this.summaries.find((s) => s.id === a.id)!, endT)));
  }

  private async runStep(idx: number): Promise<void> {
    const { scenario, rec, scaled, timeScale } = this.run;
    const { t0, t0Perf, endAtPerf } = this.clock;
    const signal = this.ctx.signal;
    const step = scenario.steps[idx]!;
    const id = `f${idx + 1}`;
    await sleepUntil(t0Perf + scaled(step.at), signal);
    let anchorDetail = '';
    if (step.anchor !== undefined) {
      const endT = t0 + scaled(scenario.duration);
      // armed at the nominal `at` (as in the simulator), whatever the timer's lateness
      const armedT = t0 + scaled(step.at);
      const fire = await waitForAnchor(this.run.anchors, step.anchor, armedT, () => rec.now(), endT, signal);
      if (fire === null) {
        rec.note('runner', `${id}: anchor ${step.anchor.on} not observed before the end; step not applied`);
        return;
      }
      anchorDetail = `${describeAnchorFire(step.anchor, fire.instant, fire.startT, fire.firedT, timeScale)}; `;
    }
    if (step.fault === 'operator') {
      // a command, not a fault: the operator's note and the admin API's answer, nothing to revert
      await operatorStep(step, id, (r) => this.ctx.topo.controllers[r]?.admin, {
        operatorNote: (message, data) => rec.note('operator', message, data),
        runnerNote: (message, data) => rec.note('runner', message, data),
      });
      return;
    }
    const startT = rec.now();
    const startedPerf = step.anchor !== undefined ? performance.now() : t0Perf + scaled(step.at);
    const stepEndPerf =
      step.for !== undefined ? Math.min(endAtPerf, startedPerf + scaled(step.for)) : endAtPerf;
    const applied = await applyFault(this.ctx, step, id, () => stepEndPerf);
    if (anchorDetail) applied.start = { ...applied.start, detail: anchorDetail + applied.start.detail };
    const summary = this.recordStart(applied, step.fault, startT);
    if (step.for === undefined) return; // reverted when the scenario ends
    await sleepUntil(stepEndPerf, signal);
    await this.revert(applied, summary);
  }

  /** The applied fault is in force: its summary, its start event and a progress line. */
  private recordStart(applied: AppliedFault, fault: string, startT: number): FaultSummary {
    const { scenario, rec } = this.run;
    this.active.set(applied.id, applied);
    const summary: FaultSummary = {
      id: applied.id,
      fault,
      target: applied.target,
      atT: startT,
      endT: null,
      startVerified: applied.start.verified,
      endVerified: null,
      detail: applied.start.detail,
    };
    this.summaries.push(summary);
    rec.record({
      kind: 'fault',
      phase: 'start',
      t: startT,
      id: applied.id,
      fault,
      target: applied.target,
      verified: applied.start.verified,
      detail: applied.start.detail,
      links: applied.links,
      components: applied.components,
    });
    this.run.progress(
      `${scenario.name}: t+${((startT - this.clock.t0) / 1000).toFixed(1)} s ${fault} ${applied.target} (verified: ${applied.start.verified})`,
    );
    return summary;
  }

  private async revert(applied: AppliedFault, summary: FaultSummary, atT?: number): Promise<void> {
    if (!this.active.has(applied.id)) return;
    this.active.delete(applied.id);
    const { scenario, rec } = this.run;
    const endT = atT ?? rec.now();
    const v = await applied.revert();
    summary.endT = endT;
    summary.endVerified = v.verified;
    rec.record({
      kind: 'fault',
      phase: 'end',
      t: endT,
      id: applied.id,
      fault: applied.fault,
      target: applied.target,
      verified: v.verified,
      detail: v.detail,
      links: applied.links,
      components: applied.components,
    });
    this.run.progress(
      `${scenario.name}: t+${((endT - this.clock.t0) / 1000).toFixed(1)} s reverted ${applied.fault} ${applied.target} (verified: ${v.verified})`,
    );
  }
}

/** What the run produced, for runResultOf. */
interface RunOutcome {
  topo: Topology;
  history: HistoryEvent[];
  verdict: Verdict;
  faults: FaultSummary[];
  bootSeconds: number;
  wallSeconds: number;
  startedAt: Date;
}

/** The RunJson (same shape as `sim --json`, plus the real executor's fields) and the RunResult. */
function runResultOf(run: PreparedRun, o: RunOutcome): RunResult {
  const { scenario, file, timeScale } = run;
  const { history, verdict, faults } = o;
  const startNote = history.find((e) => e.kind === 'note' && e.message === 'scenario-start');
  const failoverMs = shownFailoverMs(verdict.measurements);
  const runJson: RunJson = {
    ok: verdict.ok,
    violations: verdict.violations.map((v) => ({ invariant: v.invariant, at: v.at, detail: v.detail })),
    counterexample: null,
    replay: null,
    stats: {
      runs: 1,
      events: history.length,
      simSeconds: scenario.duration / 1000,
      wallSeconds: round(o.wallSeconds),
    },
    executor: 'real',
    driver: o.topo.driver ?? 'local',
    scenario: scenario.name,
    file: basename(file),
    timeScale,
    leaseBackend: scenario.topology.leaseBackend,
    bootSeconds: round(o.bootSeconds),
    scenarioStartT: startNote?.t ?? 0,
    withinAssumptions: verdict.withinAssumptions,
    outcomes: verdict.outcomes.map((x) => ({
      name: x.name,
      kind: x.kind,
      ok: x.ok,
      detail: x.detail,
      ...(x.expectedViolation ? { expectedViolation: true } : {}),
    })),
    measurements: verdict.measurements,
    failoverProductionSeconds: failoverMs !== undefined ? round(failoverMs / timeScale / 1000) : null,
    faults,
    faultsVerified: faults.every((f) => f.startVerified !== false && f.endVerified !== false),
  };
  return {
    scenario,
    file,
    history,
    verdict,
    runJson,
    bootSeconds: o.bootSeconds,
    wallSeconds: o.wallSeconds,
    timeScale,
    scenarioStartT: startNote?.t ?? 0,
    faults,
    failoverProductionSeconds: failoverMs !== undefined ? failoverMs / timeScale / 1000 : null,
    startedAt: o.startedAt,
    finishedAt: new Date(),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

async function sleepUntil(perfMs: number, signal: AbortSignal): Promise<void> {
  const wait = perfMs - performance.now();
  if (wait > 0) await sleep(wait, signal);
  else if (signal.aborted) throw signal.reason;
}

/** How often the runner polls the lease store (the spec records it as the observation's precision). */
function leasePollMsOf(topo: Pick<Topology, 'timing' | 'initialPrimary'>): number {
  return Math.max(50, Math.round(topo.timing.controllers[topo.initialPrimary]!.heartbeatMs / 5));
}

/** Queries both authoritatives for the service name throughout the run (dns-follows-lease). */
function startDnsObserver(topo: Topology, rec: Recorder): DnsObserver {
  const byHost = new Map(topo.spec.regions.map((r) => [topo.apps[r]!.host, r] as const));
  const obs = new DnsObserver({
    targets: topo.spec.regions.map((r) => ({ id: `auth-${r}`, server: topo.auths[r]!.dns })),
    name: topo.spec.serviceName,
    regionOf: (address) => byHost.get(address) ?? null,
    intervalMs: 100,
    queryTimeoutMs: 500,
    record: (ev) => rec.record(ev),
    now: () => rec.now(),
  });
  obs.start();
  return obs;
}

/**
 * The operator's pager: scrapes each controller's metrics page every 100 ms for its approval
 * requests (operator-approval's refused-request rules), directly as the operator reaches it.
 */
function startApprovalObserver(topo: Topology, rec: Recorder): ApprovalObserver {
  const obs = new ApprovalObserver({
    admins: Object.entries(topo.controllers).map(([region, c]) => ({ region, admin: c.admin })),
    intervalMs: 100,
    scrapeTimeoutMs: 1000,
    record: (ev) => rec.record(ev),
    now: () => rec.now(),
  });
  // a controller's restart starts its count again (its process events, as they are recorded)
  rec.subscribe((ev) => obs.observe(ev));
  obs.start();
  return obs;
}

/**
 * Polls every log and the lease store on one timer: controller event files, app logs,
 * and GET /status on the Worker (directly, not through the link proxies), recording a
 * and the durable Worker's own log of grants, renewals and expiries (GET /observations, read
 * by StoreLogReader into exact lease-store events); the legacy KV Worker has no log, so each
 * location's view is polled and noted.
 */
class Collector {
  private timer: NodeJS.Timeout | null = null;
  private readonly leaseClients: Array<{ location: string; client: LeaseClient }> = [];
  private leaseInFlight = false;
  private lastLeaseAt = 0;
  private readonly lastLease = new Map<string, string>();
  /** the durable store's own log; its status polls then only feed the warm-up's view */
  private readonly storeLog: StoreLogReader | null;
  private readonly events: ProcessEventCollector;
  readonly state: ProcessEventCollector['state'] & { leaseHolder: string | null };

  constructor(
    private readonly topo: Topology,
    private readonly rec: Recorder,
  ) {
    this.events = new ProcessEventCollector(topo, {
      originHrMs: rec.originHrMs,
      tOfHr: (hr) => rec.tOfHr(hr),
      now: () => rec.now(),
      add: (ev) => rec.record(ev),
    });
    this.state = Object.assign(this.events.state, { leaseHolder: null as string | null });
    // The KV variant keeps a cache per location (region): poll each; the durable one has one view.
    const regions = topo.leaseBackend === 'kv' ? topo.spec.regions : [topo.initialPrimary];
    for (const r of regions) {
      this.leaseClients.push({
        location: r,
        // marked nonces: the storage reading tells the observer's own apart (store-storage.ts)
        client: new LeaseClient({
          url: topo.worker.url,
          region: r,
          secret: topo.secrets[r]!,
          nonce: observerNonce,
        }),
      });
    }
    this.storeLog =
      topo.leaseBackend === 'durable'
        ? new StoreLogReader(this.leaseClients[0]!.client, LEASE_NAME, {
            now: () => rec.now(),
            record: (ev) => rec.record(ev),
          })
        : null;
  }

  /**
   * At the end: the event files' lines not read yet, and the durable store's log up to now
   * (after any read in flight): the last renewal may be logged and not yet read.
   */
  async finalRead(): Promise<void> {
    this.pollOnce();
    await this.storeLog?.poll();
  }

  /** The lease store's storage, read from its files (src/runner/store-storage.ts). */
  readStorage(): Promise<void> {
    return recordStoreStorage(this.topo.runDir, this.rec, this.storeAnsweredT);
  }
  /** when the store last answered the observer's status poll */
  private storeAnsweredT: number | null = null;

  /** A killed process reports nothing: see ProcessEventCollector.crashed. */
  crashed(component: string, reason?: string): void {
    this.events.crashed(component, reason);
  }

  start(): void {
    this.timer = setInterval(() => this.pollOnce(), 20);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.events.close();
  }

  pollOnce(): void {
    this.events.poll();
    const leasePollMs = leasePollMsOf(this.topo);
    if (!this.leaseInFlight && performance.now() - this.lastLeaseAt >= leasePollMs) {
      this.lastLeaseAt = performance.now();
      this.leaseInFlight = true;
      void this.pollLease().finally(() => {
        this.leaseInFlight = false;
      });
    }
  }

  private async pollLease(): Promise<void> {
    await Promise.all([
      this.storeLog?.poll(),
      ...this.leaseClients.map(async ({ location, client }) => {
        try {
          // peek: the observer must not fill a KV location's cache, or its polls would move
          // the cache refreshes and change what that location's region reads.
          const res = await client.status(LEASE_NAME, { peek: true });
          if (res.status !== 200) return;
          this.storeAnsweredT = this.rec.now();
          const b = res.body;
          if (this.topo.leaseBackend === 'kv') {
            // The legacy KV store keeps a bare region name: its status reports no epoch and
            // no expiry (epoch 0, expiresAt null), so it cannot back a lease-store event
            // (whose epoch the checker compares); record what each location saw as a note.
            const key = `${b.holder}`;
            if (this.lastLease.get(location) === key) return;
            this.lastLease.set(location, key);
            if (location === this.topo.initialPrimary) this.state.leaseHolder = b.holder;
            this.rec.recordNow({
              kind: 'note',
              source: 'lease-store',
              message: `KV location ${location} reads holder ${b.holder ?? 'none'}`,
              data: { location, holder: b.holder },
            });
            return;
          }
          // An expired lease has no holder, whatever name the store still keeps. The history
          // takes the store's own log (storeLog), not these views: a view is recorded when its
          // reply arrives and can sort after a grant it predates.
          const live = b.holder !== null && b.expiresAt !== null && b.expiresAt > b.serverTime;
          this.state.leaseHolder = live ? b.holder : null;
        } catch {
          /* the Worker may be paused by a fault: try again next tick */
        }
      }),
    ]);
  }
}

/**
 * Waits until the initial primary is fully in charge and DNS tells the truth everywhere:
 * the lease store names it, its app holds write authority, and every witness answers the
 * service name with its app and each region name with that region's app. PowerDNS answers
 * a LUA name at random until its health check has run once (recipe gotcha 4), so every LUA
 * name is first queried directly on every authoritative to register the checks.
 */
async function warmUp(
  topo: Topology,
  rec: Recorder,
  col: Collector,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  const r = topo.initialPrimary;
  const deadline = performance.now() + timeoutMs;
  const names = [topo.spec.serviceName, ...topo.spec.regions.map((x) => topo.spec.regionName(x))];
  const expected = new Map<string, string>([
    [topo.spec.serviceName, topo.apps[r]!.host],
    ...topo.spec.regions.map((x) => [topo.spec.regionName(x), topo.apps[x]!.host] as [string, string]),
  ]);
  await Promise.all(
    Object.values(topo.auths).flatMap((a) =>
      names.map(async (name) => {
        while (performance.now() < deadline && !signal.aborted) {
          try {
            await queryDns(a.dns, name, { timeoutMs: 300 });
            return;
          } catch {
            await sleep(20, signal);
          }
        }
      }),
    ),
  );
  let streak = 0;
  let last = '';
  while (performance.now() < deadline) {
    if (signal.aborted) throw signal.reason;
    // legacy-kv: the production core fences itself after every KV renewal (each renewal
    // returns a new "epoch"), so a never holds steadily; a first grant to its app suffices.
    const kv = topo.leaseBackend === 'kv';
    const holding = kv
      ? col.state.appAuthority.has(r) || col.state.everGranted.has(r)
      : (col.state.appAuthority.get(r)?.untilT ?? -1) > rec.now();
    const leaseOk = kv || col.state.leaseHolder === r;
    const wrong: string[] = [];
    await Promise.all(
      topo.spec.witnesses.flatMap((w) =>
        names.map(async (name) => {
          if (kv && name === topo.spec.serviceName) return; // follows the flapping primary
          try {
            const res = await queryDns(topo.witnesses[w]!, name, { timeoutMs: 300 });
            if (res.answers.length !== 1 || res.answers[0] !== expected.get(name))
              wrong.push(`${w} ${name} ${res.rcode} ${res.answers.join(',')}`);
          } catch (err) {
            wrong.push(`${w} ${name} ${(err as Error).message}`);
          }
        }),
      ),
    );
    streak = wrong.length === 0 ? streak + 1 : 0;
    last = `lease holder ${col.state.leaseHolder ?? 'none'}, app-${r} authority ${holding}, DNS ${wrong.length ? wrong.join('; ') : 'ok'}`;
    // several consecutive clean rounds: the LUA health checks have settled
    if (holding && leaseOk && streak >= 3) return;
    await sleep(50, signal);
  }
  throw new InfraError(
    `the initial primary ${r} was not established within ${(timeoutMs / 1000).toFixed(0)} s (${last})`,
    `ctl-${r}`,
  );
}
