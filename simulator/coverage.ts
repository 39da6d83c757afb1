/**
 * Coverage counters: which fault kinds the schedules used, which role transitions and
 * promotion bases the controllers went through, what witnesses answered. Aggregated across
 * runs so a search can show it explored more than the happy path.
 */
import { FAULT_KINDS, type FaultKind, type FaultStep, OPERATOR_COMMANDS } from '../src/scenario/schema.ts';
import type { TopologySpec } from '../src/scenario/topology-description.ts';
import { PHASES, type Phase } from './anchors.ts';

export interface Coverage {
  faultKinds: Record<string, number>;
  /** "kind|target class|phase" → times a fault started there (simulator/anchors.ts phases) */
  cells: Record<string, number>;
  roleTransitions: Record<string, number>;
  promotionBases: Record<string, number>;
  witnessVerdicts: Record<string, number>;
  /** runs whose schedule was outside the documented assumptions */
  outsideAssumptionRuns: number;
  /** runs that stopped early at a detected overlap */
  earlyStops: number;
  messagesSent: number;
  messagesDropped: number;
}

export function newCoverage(): Coverage {
  return {
    faultKinds: {},
    cells: {},
    roleTransitions: {},
    promotionBases: {},
    witnessVerdicts: {},
    outsideAssumptionRuns: 0,
    earlyStops: 0,
    messagesSent: 0,
    messagesDropped: 0,
  };
}

/**
 * A target's class: a component (witnesses as one, "w*"), a region, or a link by what it
 * connects ("ctl-a->worker", "w*->auth-a", ...). Several targets: the first one's class.
 */
export function targetClass(step: FaultStep, spec: TopologySpec): string {
  const t = Array.isArray(step.target) ? step.target[0]! : step.target;
  const w = (x: string) => (spec.witnesses.includes(x) || /^w\d|^w\*/.test(x) ? 'w*' : x);
  if (!t.includes('->')) return w(t);
  const [from, to] = t.split('->') as [string, string];
  return `${w(from)}->${w(to)}`;
}

/** An operator step's cell names its command too: an approve and a demote exercise different paths. */
export function coverageCell(step: FaultStep, spec: TopologySpec, phase: Phase): string {
  const command = step.fault === 'operator' ? `:${String(step.params['command'])}` : '';
  return `${step.fault}|${targetClass(step, spec)}${command}|${phase}`;
}

/** Every cell a search could visit: each kind × the target classes it accepts × each phase. */
export function allCells(spec: TopologySpec): string[] {
  const comps = [...new Set(spec.components.map((c) => (spec.witnesses.includes(c.id) ? 'w*' : c.id)))];
  const links = [...new Set(spec.links.map((l) => targetClass({ target: l.id } as FaultStep, spec)))];
  const clocks = spec.components.filter((c) => c.kind === 'controller' || c.kind === 'app').map((c) => c.id);
  const controllers = spec.components.filter((c) => c.kind === 'controller').map((c) => c.id);
  const byKind: Record<FaultKind, string[]> = {
    isolate: [...spec.regions],
    partition: links,
    latency: links,
    loss: links,
    flap: links,
    pause: comps,
    crash: [...comps, ...spec.regions],
    stop: controllers,
    operator: controllers.flatMap((c) => OPERATOR_COMMANDS.map((cmd) => `${c}:${cmd}`)),
    'clock-offset': [...clocks, 'worker'],
    'clock-drift': [...clocks, 'worker'],
    'clock-jump': [...clocks, 'worker'],
    'witness-down': ['w*'],
    'witness-stale': ['w*'],
    'kv-staleness': ['worker'],
    'stale-instance': ['worker'],
  };
  return FAULT_KINDS.flatMap((k) => byKind[k].flatMap((t) => PHASES.map((p) => `${k}|${t}|${p}`)));
}

/** Cells visited / total, overall and per fault kind and per phase (sim --json `coverage.summary`). */
export function coverageSummary(c: Coverage, spec: TopologySpec) {
  const all = allCells(spec);
  const seen = new Set(Object.keys(c.cells));
  const count = (pred: (cell: string) => boolean) => {
    const cells = all.filter(pred);
    return { visited: cells.filter((x) => seen.has(x)).length, total: cells.length };
  };
  const perKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, count((x) => x.startsWith(`${k}|`))]));
  const perPhase = Object.fromEntries(PHASES.map((p) => [p, count((x) => x.endsWith(`|${p}`))]));
  const premises = Object.keys({ ...c.roleTransitions, ...c.promotionBases }).sort();
  return { ...count(() => true), perKind, perPhase, premises };
}

export function bump(counter: Record<string, number>, key: string, by = 1): void {
  counter[key] = (counter[key] ?? 0) + by;
}

export function mergeCoverage(into: Coverage, from: Coverage): void {
  for (const k of ['faultKinds', 'cells', 'roleTransitions', 'promotionBases', 'witnessVerdicts'] as const) {
    for (const [key, n] of Object.entries(from[k])) bump(into[k], key, n);
  }
  into.outsideAssumptionRuns += from.outsideAssumptionRuns;
  into.earlyStops += from.earlyStops;
  into.messagesSent += from.messagesSent;
  into.messagesDropped += from.messagesDropped;
}
