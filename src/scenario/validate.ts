/**
 * Checks a scenario beyond its zod shape: targets name real components/links of the
 * topology, each fault kind gets the parameters it understands, expectations name regions
 * and invariants that exist, controller overrides give a usable controller. Returns
 * problems with the path of the offending value, so the loader can point at file:line:col.
 *
 * Also the one place that turns a step's raw `params` into typed numbers
 * (`stepParams`), so the simulator and the real executor read them identically.
 */
import { defaultControllerConfig, validateControllerConfig } from '../controller/config.ts';
import { INVARIANTS } from './invariant-names.ts';
import {
  type FaultKind,
  type FaultStep,
  MAX_DURATION_MS,
  OPERATOR_COMMANDS,
  type OperatorStepCommand,
  parseDurationMs,
  type Scenario,
} from './schema.ts';
import { describeTopology, selectLinks, type TopologySpec } from './topology-description.ts';

export type PathSeg = string | number;
export interface Problem {
  path: PathSeg[];
  message: string;
  /** point at the key rather than the value (e.g. unknown parameter names) */
  atKey?: boolean;
}

/**
 * How a cut link fails (docs/scenarios.md "Fault vocabulary"): `refuse` = the caller's
 * connection is refused/reset at once; `drop` = silence, the caller waits for its own
 * timeout. One default for every executor.
 */
export const CUT_MODES = ['refuse', 'drop'] as const;
export type CutMode = (typeof CUT_MODES)[number];
export const DEFAULT_CUT_MODE: CutMode = 'refuse';

/** Fault kinds that cut links (their cut phases, for flap), and so take `mode` and `oneway`. */
export const CUT_FAULTS: readonly FaultKind[] = ['partition', 'isolate', 'flap'];

/** Typed parameters of a fault step (all durations in ms). */
export interface StepParams {
  /** cut faults: only the request direction (initiator → responder) fails */
  oneway: boolean;
  /** cut faults: how the cut fails */
  mode: CutMode;
  latencyMs: number;
  jitterMs: number;
  probability: number;
  offsetMs: number;
  rate: number;
  jumpMs: number;
  staleMs: number;
  periodMs: number;
  /** stale-instance: the region whose requests reach the old instance ('' when absent) */
  region?: string;
  /** operator: the admin API command (validated; absent on other kinds) */
  command?: OperatorStepCommand;
}

type ParamKind =
  | 'boolean'
  | 'duration'
  | 'signed-duration'
  | 'probability'
  | 'rate'
  | 'cut-mode'
  | 'region'
  | 'operator-command';
const PARAMS: Record<FaultKind, Record<string, { kind: ParamKind; required: boolean }>> = {
  isolate: { mode: { kind: 'cut-mode', required: false }, oneway: { kind: 'boolean', required: false } },
  partition: { mode: { kind: 'cut-mode', required: false }, oneway: { kind: 'boolean', required: false } },
  latency: { latency: { kind: 'duration', required: true }, jitter: { kind: 'duration', required: false } },
  loss: { probability: { kind: 'probability', required: true } },
  pause: {},
  crash: {},
  stop: {},
  'clock-offset': { offset: { kind: 'signed-duration', required: true } },
  'clock-drift': { rate: { kind: 'rate', required: true } },
  'clock-jump': { jump: { kind: 'signed-duration', required: true } },
  'witness-down': {},
  'witness-stale': { stale: { kind: 'duration', required: true } },
  'kv-staleness': { stale: { kind: 'duration', required: true } },
  'stale-instance': { region: { kind: 'region', required: true } },
  operator: { command: { kind: 'operator-command', required: true } },
  flap: {
    period: { kind: 'duration', required: true },
    mode: { kind: 'cut-mode', required: false },
    oneway: { kind: 'boolean', required: false },
  },
};

const SIGNED_DURATION_RE = /^-?(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "-5s" → -5000; numbers are ms. Throws on anything else. */
export function parseSignedDurationMs(v: string | number | boolean): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && SIGNED_DURATION_RE.test(v.trim())) {
    const s = v.trim();
    return s.startsWith('-') ? -parseDurationMs(s.slice(1)) : parseDurationMs(s);
  }
  throw new Error(`expected a duration like 500ms, 30s or -5s, got ${JSON.stringify(v)}`);
}

function checkParam(kind: ParamKind, v: string | number | boolean): string | null {
  switch (kind) {
    case 'boolean':
      return typeof v === 'boolean' ? null : `expected true or false, got ${JSON.stringify(v)}`;
    case 'duration':
      try {
        if (typeof v === 'boolean') throw new Error('');
        const ms = parseDurationMs(v);
        if (ms > MAX_DURATION_MS) return `must be at most 24h (${MAX_DURATION_MS} ms)`;
        return ms >= 0 && Number.isFinite(ms) ? null : 'expected a non-negative duration';
      } catch {
        return `expected a duration like 500ms, 30s or 2m, got ${JSON.stringify(v)}`;
      }
    case 'signed-duration':
      try {
        const ms = parseSignedDurationMs(v);
        return Math.abs(ms) <= MAX_DURATION_MS ? null : `must be within ±24h (${MAX_DURATION_MS} ms)`;
      } catch (e) {
        return (e as Error).message;
      }
    case 'probability':
      return typeof v === 'number' && v >= 0 && v <= 1
        ? null
        : `expected a number in 0..1, got ${JSON.stringify(v)}`;
    case 'cut-mode':
      return (CUT_MODES as readonly unknown[]).includes(v)
        ? null
        : `expected ${CUT_MODES.join(' or ')} (default ${DEFAULT_CUT_MODE}), got ${JSON.stringify(v)}`;
    case 'region':
      // which regions exist is checked with the topology (checkStaleInstanceSteps)
      return typeof v === 'string' && v !== '' ? null : `expected a region id, got ${JSON.stringify(v)}`;
    case 'operator-command':
      return (OPERATOR_COMMANDS as readonly unknown[]).includes(v)
        ? null
        : `expected one of ${OPERATOR_COMMANDS.join(', ')} (the admin API's POST commands), got ${JSON.stringify(v)}`;
    case 'rate':
      return typeof v === 'number' && v > -0.5 && v < 0.5
        ? null
        : `expected a drift rate between -0.5 and 0.5 (e.g. 0.001 = 0.1% fast), got ${JSON.stringify(v)}`;
  }
}

/** Typed params of a (validated) step; missing optional ones are 0/false. */
export function stepParams(step: Pick<FaultStep, 'params'>): StepParams {
  const p = step.params ?? {};
  const dur = (k: string): number => (p[k] === undefined ? 0 : parseSignedDurationMs(p[k]!));
  return {
    oneway: p['oneway'] === true,
    mode: p['mode'] === 'drop' ? 'drop' : p['mode'] === 'refuse' ? 'refuse' : DEFAULT_CUT_MODE,
    latencyMs: dur('latency'),
    jitterMs: dur('jitter'),
    probability: typeof p['probability'] === 'number' ? p['probability'] : 0,
    offsetMs: dur('offset'),
    rate: typeof p['rate'] === 'number' ? p['rate'] : 0,
    jumpMs: dur('jump'),
    staleMs: dur('stale'),
    periodMs: dur('period'),
    region: typeof p['region'] === 'string' ? p['region'] : '',
    ...(OPERATOR_COMMANDS.includes(p['command'] as OperatorStepCommand)
      ? { command: p['command'] as OperatorStepCommand }
      : {}),
  };
}

/** "refuse both ways", "drop one-way": how a cut step fails, for details and reports. */
export function cutLabel(p: Pick<StepParams, 'mode' | 'oneway'>): string {
  return `${p.mode} ${p.oneway ? 'one-way' : 'both ways'}`;
}

function targetsOf(step: FaultStep): string[] {
  return Array.isArray(step.target) ? step.target : [step.target];
}

/** Components a fault may target, by kind (null = link selectors). */
function allowedComponents(kind: FaultKind, spec: TopologySpec): string[] | null {
  const ids = spec.components.map((c) => c.id);
  const of = (k: string) => spec.components.filter((c) => c.kind === k).map((c) => c.id);
  switch (kind) {
    case 'isolate':
      return [...spec.regions];
    case 'partition':
    case 'latency':
    case 'loss':
    case 'flap':
      return null;
    case 'pause':
      return ids;
    case 'crash':
      return [...ids, ...spec.regions];
    case 'stop':
      // the graceful stop is the controller's own protocol (a SIGTERM elsewhere is a crash)
      return of('controller');
    case 'operator':
      // a command to a controller's admin API
      return of('controller');
    case 'clock-offset':
    case 'clock-drift':
    case 'clock-jump':
      // controllers (as documented); the simulator also models the clocks of the apps and the Worker
      return [...of('controller'), ...of('app'), 'worker'];
    case 'witness-down':
    case 'witness-stale':
      return [...spec.witnesses];
    case 'kv-staleness':
    case 'stale-instance':
      return ['worker'];
  }
}

/** A step's targets name links/components its kind accepts; its params are the kind's own. */
function checkTargetsAndParams(
  step: FaultStep,
  base: PathSeg[],
  spec: TopologySpec,
  problems: Problem[],
): void {
  const allowed = allowedComponents(step.fault, spec);
  const targets = targetsOf(step);
  targets.forEach((t, j) => {
    const tPath: PathSeg[] = Array.isArray(step.target) ? [...base, 'target', j] : [...base, 'target'];
    if (allowed === null) {
      if (selectLinks(spec, t).length === 0) {
        problems.push({
          path: tPath,
          message: `"${t}" matches no link (links look like ctl-a->worker, w1->auth-b; '*' globs, e.g. ctl-a->w*)`,
        });
      }
    } else if (!allowed.includes(t)) {
      problems.push({
        path: tPath,
        message: `${step.fault} cannot target "${t}" (expected one of: ${allowed.join(', ')})`,
      });
    }
  });
  const known = PARAMS[step.fault];
  let unknownParams = 0;
  for (const [k, v] of Object.entries(step.params)) {
    const def = known[k];
    if (!def) {
      unknownParams++;
      const names = Object.keys(known);
      problems.push({
        path: [...base, 'params', k],
        atKey: true,
        message: `unknown parameter "${k}" for ${step.fault} (${names.length > 0 ? `expected: ${names.join(', ')}` : 'it takes no parameters'})`,
      });
      continue;
    }
    const err = checkParam(def.kind, v);
    if (err) problems.push({ path: [...base, 'params', k], message: `${k}: ${err}` });
  }
  // With a misspelt parameter the "needs X" problem is noise: the typo is the news.
  for (const [k, def] of Object.entries(known)) {
    if (unknownParams === 0 && def.required && step.params[k] === undefined) {
      problems.push({
        path: [...base, 'params'],
        message: `${step.fault} needs parameter "${k}"`,
      });
    }
  }
  if (step.fault === 'flap' && step.params['period'] !== undefined) {
    const ms = stepParams(step).periodMs;
    if (ms <= 0)
      problems.push({ path: [...base, 'params', 'period'], message: 'period must be greater than 0' });
  }
}

/**
 * Scenario.boot as fault steps (at 0, until the end): what the simulator schedules and the
 * real runner applies before the controllers start, with the steps' own params (stepParams).
 */
export function bootSteps(s: Pick<Scenario, 'boot'>): FaultStep[] {
  return (s.boot ?? []).map((b) => ({ at: 0, fault: b.fault, target: b.target, params: b.params }));
}

/** stale-instance: a known region in params.region, and a Durable Object to replace. */
function checkStaleInstanceSteps(s: Scenario, spec: TopologySpec, problems: Problem[]): void {
  s.steps.forEach((step, i) => {
    if (step.fault !== 'stale-instance') return;
    const region = step.params['region'];
    if (typeof region === 'string' && !spec.regions.includes(region)) {
      problems.push({
        path: ['steps', i, 'params', 'region'],
        message: `unknown region "${region}" (regions: ${spec.regions.join(', ')})`,
      });
    }
    if (s.topology.leaseBackend !== 'durable') {
      problems.push({
        path: ['steps', i, 'fault'],
        message: 'stale-instance needs the durable lease backend (a Durable Object instance to replace)',
      });
    }
  });
}

export function validateScenario(s: Scenario, spec: TopologySpec = describeTopology()): Problem[] {
  const problems: Problem[] = [];
  if (!spec.regions.includes(s.topology.initialPrimary)) {
    problems.push({
      path: ['topology', 'initialPrimary'],
      message: `unknown region "${s.topology.initialPrimary}" (regions: ${spec.regions.join(', ')})`,
    });
  }
  const [a, b] = spec.regions;
  const cfg = defaultControllerConfig({
    ...s.topology.controller,
    region: a ?? 'a',
    peerRegion: b ?? 'b',
    witnesses: spec.witnesses,
  });
  for (const msg of validateControllerConfig(cfg)) {
    problems.push({ path: ['topology', 'controller'], message: `controller settings: ${msg}` });
  }
  if (s.duration <= 0) problems.push({ path: ['duration'], message: 'duration must be greater than 0' });
  checkStaleInstanceSteps(s, spec, problems);

  s.steps.forEach((step, i) => {
    const base: PathSeg[] = ['steps', i];
    if (step.at >= s.duration) {
      problems.push({
        path: [...base, 'at'],
        message: `step starts at ${step.at} ms, at or after the end of the scenario (${s.duration} ms)`,
      });
    }
    if (step.fault === 'operator' && step.for !== undefined) {
      problems.push({
        path: [...base, 'for'],
        message: 'an operator command is instantaneous: it takes no "for" (a later step can undo it)',
      });
    } else if (step.for !== undefined && step.for <= 0) {
      problems.push({
        path: [...base, 'for'],
        message: '"for" must be greater than 0 (omit it for "until the end")',
      });
    }
    if (step.anchor?.region !== undefined && !spec.regions.includes(step.anchor.region)) {
      problems.push({
        path: [...base, 'anchor', 'region'],
        message: `unknown region "${step.anchor.region}" (regions: ${spec.regions.join(', ')})`,
      });
    }
    checkTargetsAndParams(step, base, spec, problems);
  });

  bootSteps(s).forEach((step, i) => {
    checkTargetsAndParams(step, ['boot', i], spec, problems);
  });

  s.expect.forEach((e, i) => {
    if ('demoted-within' in e && !spec.regions.includes(e['demoted-within'].region)) {
      problems.push({
        path: ['expect', i, 'demoted-within', 'region'],
        message: `unknown region "${e['demoted-within'].region}" (regions: ${spec.regions.join(', ')})`,
      });
    }
    if ('primary-at-end' in e && !spec.regions.includes(e['primary-at-end'])) {
      problems.push({
        path: ['expect', i, 'primary-at-end'],
        message: `unknown region "${e['primary-at-end']}" (regions: ${spec.regions.join(', ')})`,
      });
    }
    if ('violation-detected' in e && !(INVARIANTS as readonly string[]).includes(e['violation-detected'])) {
      problems.push({
        path: ['expect', i, 'violation-detected'],
        message: `unknown invariant "${e['violation-detected']}" (expected one of: ${INVARIANTS.join(', ')})`,
      });
    }
  });
  return problems;
}
