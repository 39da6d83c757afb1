/**
 * The exporters' common input: a scenario (src/scenario/schema.ts) or a game-day plan,
 * flattened into timed fault steps with their probes, plus the Kubernetes mapping of
 * topology components to pod labels and service hosts.
 *
 * Exporters never drop anything silently: whatever a target format cannot express is
 * reported through `Warnings` (stderr) and as a comment/annotation in the manifests.
 */
import type { Scenario } from '../../scenario/schema.ts';
import { describeTopology, selectLinks } from '../../scenario/topology-description.ts';
import { type StepParams, stepParams } from '../../scenario/validate.ts';
import type { GameDayPlan, KubernetesMapping, Probe, ProbeMode } from '../plan.ts';

export interface ExportProbe {
  probe: Probe;
  mode: ProbeMode;
  /** from the steady-state hypothesis (applies to every step) */
  steadyState: boolean;
}

export interface ExportStep {
  index: number;
  /** DNS-1123 label, unique in the export */
  name: string;
  /** scenario fault kind or game-day fault */
  fault: string;
  targets: string[];
  /** the scenario step's typed params (durations in ms), plus which stream a link fault hits */
  params: StepParams & { stream: 'downstream' | 'upstream' | 'both' };
  atMs: number;
  durationMs: number;
  /** wait after the step (game days) */
  cooldownMs: number;
  weight: number | null;
  probes: ExportProbe[];
  /** human description for comments, e.g. "partition ctl-a->worker at 5s for 10s" */
  describe: string;
}

export interface ExportModel {
  name: string;
  description: string;
  source: 'scenario' | 'gameday';
  file: string;
  steps: ExportStep[];
  totalMs: number;
  /** game days: steady-state probes; the strategy decides Edge vs Continuous */
  steadyState: { probes: Probe[]; continuous: boolean } | null;
  /** scenario expectations (checked by failover-lab's checker; no manifest equivalent) */
  expectations: string[];
  k8s: Required<KubernetesMapping> & { regionLabel: string; componentLabel: string };
}

export class Warnings {
  readonly items: Array<{ where: string; text: string }> = [];
  add(where: string, text: string): void {
    if (!this.items.some((i) => i.where === where && i.text === text)) this.items.push({ where, text });
  }
  for(where: string): string[] {
    return this.items.filter((i) => i.where === where).map((i) => i.text);
  }
}

export const REGION_LABEL = 'failover-lab.io/region';
export const COMPONENT_LABEL = 'failover-lab.io/component';

/** Why an `operator` step is listed, not exported, by both exporters (and what to do instead). */
export const OPERATOR_STEP_NOT_EXPORTED =
  'an operator command is a person at the game day, not a fault to inject: send POST /<command> to the controller admin API at this time (failover-lab run sends it itself)';

export function k8sName(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/->/g, '-to-')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .slice(0, 50)
      // Strip after truncating: a cut can leave a trailing dash, which DNS-1123 forbids.
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** Unique DNS-1123 names of at most 50 characters: a clash gets a numeric suffix inside the limit. */
export class NameAllocator {
  private readonly used = new Set<string>();
  alloc(base: string): string {
    const b = k8sName(base);
    let n = b;
    for (let i = 2; this.used.has(n); i++) {
      const suffix = `-${i}`;
      n = `${b.slice(0, 50 - suffix.length).replace(/-+$/, '')}${suffix}`;
    }
    this.used.add(n);
    return n;
  }
}

export function formatDurationMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function k8sDefaults(k?: KubernetesMapping): ExportModel['k8s'] {
  return {
    namespace: k?.namespace ?? 'failover-lab',
    chaosServiceAccount: k?.chaosServiceAccount ?? 'litmus-admin',
    prometheus: k?.prometheus ?? 'http://prometheus-server.monitoring.svc:9090',
    promTargetLabel: k?.promTargetLabel ?? 'component',
    components: k?.components ?? {},
    services: k?.services ?? {},
    regionLabel: REGION_LABEL,
    componentLabel: COMPONENT_LABEL,
  };
}

/** Pod labels of a topology component ('peer' is resolved by the caller). */
export function labelsOf(m: ExportModel, component: string): Record<string, string> {
  return m.k8s.components[component] ?? { [COMPONENT_LABEL]: component };
}

/** In-cluster host of a component's service (probes and DESTINATION_HOSTS). */
export function serviceHost(m: ExportModel, component: string): string {
  return m.k8s.services[component] ?? `${component}.${m.k8s.namespace}.svc.cluster.local`;
}

/** Link endpoints as components: "ctl-a->peer" is controller a probing region b's controller. */
export function linkEnds(linkId: string): { from: string; to: string } {
  const [from, to] = linkId.split('->') as [string, string];
  if (to === 'peer') {
    const spec = describeTopology();
    const self = from.replace(/^ctl-/, '');
    const peer = spec.regions.find((r) => r !== self) ?? self;
    return { from, to: `ctl-${peer}` };
  }
  return { from, to };
}

/** Link ids a step's targets select (exact ids or globs). */
export function stepLinks(step: ExportStep): string[] {
  const spec = describeTopology();
  return [...new Set(step.targets.flatMap((t) => selectLinks(spec, t).map((l) => l.id)))];
}

const NO_PARAMS: ExportStep['params'] = {
  oneway: false,
  mode: 'refuse', // game-day partitions disable the proxy (docs/scenarios.md "Fault vocabulary")
  latencyMs: 0,
  jitterMs: 0,
  probability: 0,
  offsetMs: 0,
  rate: 0,
  jumpMs: 0,
  staleMs: 0,
  periodMs: 0,
  stream: 'downstream',
};

export function modelFromScenario(s: Scenario, file: string): ExportModel {
  const steps = s.steps.map((step, index): ExportStep => {
    const targets = Array.isArray(step.target) ? step.target : [step.target];
    // an operator command is an instant (no `for`), not a fault held to the end
    const durationMs = step.fault === 'operator' ? 0 : (step.for ?? Math.max(0, s.duration - step.at));
    const p = stepParams(step);
    // Index + fault is unique and short; resources add what they act on (link, region...).
    const name = k8sName(`s${index + 1}-${step.fault}`);
    return {
      index,
      name,
      fault: step.fault,
      targets,
      params: { ...NO_PARAMS, ...p },
      atMs: step.at,
      durationMs,
      cooldownMs: 0,
      weight: null,
      probes: [],
      describe:
        step.fault === 'operator'
          ? `operator ${p.command ?? '?'} on ${targets.join(',')} at ${formatDurationMs(step.at)}`
          : `${step.fault} ${targets.join(',')} at ${formatDurationMs(step.at)} for ${formatDurationMs(durationMs)}`,
    };
  });
  return {
    name: s.name,
    description: s.description,
    source: 'scenario',
    file,
    steps,
    totalMs: s.duration,
    steadyState: null,
    expectations: s.expect.map((e) => JSON.stringify(e)),
    k8s: k8sDefaults(),
  };
}

export function modelFromPlan(plan: GameDayPlan): ExportModel {
  let atMs = 0;
  const steps = plan.experiments.map((e, index): ExportStep => {
    const targets = Array.isArray(e.target) ? e.target : [e.target];
    const params = e.params as Record<string, string | number | boolean>;
    const step: ExportStep = {
      index,
      name: k8sName(e.name),
      fault: e.fault,
      targets,
      params: {
        ...NO_PARAMS,
        oneway: params.oneway === true,
        latencyMs: Number(params.latency ?? 0),
        jitterMs: Number(params.jitter ?? 0),
        probability: e.fault === 'blackhole' ? 1 : Number(params.probability ?? 0),
        stream: (params.stream as ExportStep['params']['stream']) ?? 'downstream',
      },
      atMs,
      durationMs: e.duration,
      cooldownMs: e.cooldown,
      weight: e.weight,
      probes: e.resolvedProbes.map((r) => ({ probe: r.probe, mode: r.mode, steadyState: false })),
      describe: `${e.fault} ${targets.join(',')} for ${formatDurationMs(e.duration)}`,
    };
    atMs += e.duration + e.cooldown;
    return step;
  });
  return {
    name: plan.name,
    description: plan.description,
    source: 'gameday',
    file: plan.file,
    steps,
    totalMs: atMs,
    steadyState: plan.steadyState
      ? { probes: plan.steadyState.probes, continuous: plan.steadyState.strategy === 'continuously' }
      : null,
    expectations: [],
    k8s: k8sDefaults(plan.raw.kubernetes),
  };
}

/**
 * A probe string for the cluster: `${endpoints.x}` / `${resolvers.x}` / `${hosts.x}` become
 * x's service (for a link id, the service at the link's far end), `${metrics.x}` becomes
 * http://<service>/metrics. Each translation is reported; literal text is kept as written.
 */
export function clusterUrl(m: ExportModel, text: string, w?: Warnings, where = 'plan'): string {
  return text.replace(
    /\$\{(endpoints|metrics|resolvers|hosts)\.([^}]+)\}/g,
    (all, kind: string, name: string) => {
      const host = serviceHost(m, name.includes('->') ? linkEnds(name).to : name);
      const out = kind === 'metrics' ? `http://${host}/metrics` : host;
      w?.add(
        where,
        `${all} → ${out} (set kubernetes.services.${name.includes('->') ? linkEnds(name).to : name} to change)`,
      );
      return out;
    },
  );
}
