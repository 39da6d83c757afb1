/**
 * Export to Chaos Mesh (chaos-mesh.org/v1alpha1): NetworkChaos / PodChaos / TimeChaos
 * resources, and a Workflow that sequences them (Serial with Suspend for the gaps, or
 * Parallel branches when steps overlap; deadline = the step's duration) with StatusCheck
 * nodes for http probes. Field-by-field mapping and the limits: docs/gameday.md.
 */
import { describeTopology } from '../../scenario/topology-description.ts';
import type { Probe } from '../plan.ts';
import type { ManifestDoc } from './litmus.ts';
import {
  clusterUrl,
  type ExportModel,
  type ExportProbe,
  type ExportStep,
  formatDurationMs,
  k8sName,
  labelsOf,
  linkEnds,
  NameAllocator,
  OPERATOR_STEP_NOT_EXPORTED,
  stepLinks,
  type Warnings,
} from './model.ts';

type Spec = Record<string, unknown>;
interface ChaosSpec {
  kind: 'NetworkChaos' | 'PodChaos' | 'TimeChaos';
  spec: Spec;
  describe: string;
  /** what tells this resource apart from the step's others (link, region, component) */
  part: string;
}
type Template = Record<string, unknown> & { name: string; templateType: string };

const EMBED_KEY = { NetworkChaos: 'networkChaos', PodChaos: 'podChaos', TimeChaos: 'timeChaos' } as const;
export function toChaosMesh(
  m: ExportModel,
  w: Warnings,
): { workflow: ManifestDoc; resources: ManifestDoc[]; notExported: string[] } {
  const mesh = newBuilder(m, w);
  const { ns, notExported, templates, resources } = mesh;
  if (m.expectations.length > 0)
    notExported.push(
      `scenario expectations ${m.expectations.join(', ')}: checked by failover-lab's checker over the run history; Chaos Mesh has no verdict`,
    );
  const entry = m.source === 'gameday' ? gamedayEntry(mesh) : scenarioEntry(mesh);

  const workflowWarnings = [...new Set(w.items.map((i) => `${i.where}: ${i.text}`))];
  const workflow: ManifestDoc = {
    comments: [
      `${m.source} ${m.name}: ${m.steps.length} step(s), ${formatDurationMs(m.totalMs)}`,
      ...workflowWarnings.map((x) => `WARNING: ${x}`),
    ],
    doc: {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'Workflow',
      metadata: {
        name: k8sName(m.name),
        namespace: ns,
        labels: { 'app.kubernetes.io/part-of': 'failover-lab', 'failover-lab.io/scenario': k8sName(m.name) },
        annotations: { 'failover-lab.io/source': m.file },
      },
      spec: { entry, templates },
    },
  };
  return { workflow, resources, notExported };
}

/** What every part of one export shares: the model, the warnings and the templates and resources so far. */
interface Builder {
  m: ExportModel;
  w: Warnings;
  ns: string;
  notExported: string[];
  templates: Template[];
  resources: ManifestDoc[];
  resourceNames: NameAllocator;
  selector: (labels: Record<string, string>) => Spec;
  uniq: (base: string) => string;
  addTemplate: (t: Template) => string;
  suspend: (base: string, ms: number) => string;
}

function newBuilder(m: ExportModel, w: Warnings): Builder {
  const ns = m.k8s.namespace;
  const templates: Template[] = [];
  const templateNames = new NameAllocator();
  const uniq = (base: string) => templateNames.alloc(base);
  const addTemplate = (t: Template) => {
    templates.push(t);
    return t.name;
  };
  return {
    m,
    w,
    ns,
    notExported: [],
    templates,
    resources: [],
    resourceNames: new NameAllocator(),
    selector: (labels) => ({ namespaces: [ns], labelSelectors: labels }),
    uniq,
    addTemplate,
    suspend: (base, ms) =>
      addTemplate({ name: uniq(base), templateType: 'Suspend', deadline: formatDurationMs(Math.max(1, ms)) }),
  };
}

/** The chaos resources of one step (empty when the fault cannot be expressed). */
function chaosOf(mesh: Builder, step: ExportStep): ChaosSpec[] {
  const { m, w, ns, notExported, selector } = mesh;
  const where = step.name;
  const skip = (why: string) => {
    notExported.push(`step ${step.index + 1} (${step.describe}): ${why}`);
    w.add(where, `not exported: ${why}`);
    return [];
  };
  const linkChaos = (action: string, extra: Spec, direction: 'to' | 'both'): ChaosSpec[] =>
    stepLinks(step).map((link) => {
      const { from, to } = linkEnds(link);
      return {
        kind: 'NetworkChaos',
        describe: `${action} ${link}`,
        part: link,
        spec: {
          action,
          mode: 'all',
          selector: selector(labelsOf(m, from)),
          direction,
          target: { mode: 'all', selector: selector(labelsOf(m, to)) },
          ...extra,
        },
      };
    });
  switch (step.fault) {
    case 'partition':
    case 'flap':
      if (step.params.oneway)
        w.add(
          where,
          'one-way cut: NetworkChaos partition with direction "to" drops packets from source to target, which also breaks connections the target initiates (their replies are dropped); failover-lab cuts only connections the source initiates',
        );
      return linkChaos('partition', {}, step.params.oneway ? 'to' : 'both');
    case 'isolate':
      return step.targets.map((region) => ({
        kind: 'NetworkChaos',
        describe: `isolate region ${region}`,
        part: region,
        spec: {
          action: 'partition',
          mode: 'all',
          selector: selector({ [m.k8s.regionLabel]: region }),
          direction: 'both',
          // NotIn also matches pods without the label (witnesses, Worker, clients): everything outside the region.
          target: {
            mode: 'all',
            selector: {
              namespaces: [ns],
              expressionSelectors: [{ key: m.k8s.regionLabel, operator: 'NotIn', values: [region] }],
            },
          },
        },
      }));
    case 'latency':
      return linkChaos(
        'delay',
        {
          delay: {
            latency: formatDurationMs(step.params.latencyMs),
            jitter: formatDurationMs(step.params.jitterMs),
            correlation: '0',
          },
        },
        step.params.stream === 'both' ? 'both' : 'to',
      );
    case 'loss':
    case 'blackhole':
      w.add(
        where,
        step.fault === 'blackhole'
          ? 'blackhole exported as 100% packet loss: new connections time out at connect instead of connecting and then receiving nothing (Toxiproxy timeout toxic)'
          : `loss is per packet in Chaos Mesh (netem ${Math.round(step.params.probability * 100)}%), per connection in failover-lab's real topology (Toxiproxy toxicity)`,
      );
      return linkChaos(
        'loss',
        { loss: { loss: String(Math.round(step.params.probability * 100)), correlation: '0' } },
        'to',
      );
    case 'crash':
      // pod-failure keeps the pod down for the step and brings it back at the end: crash + restart.
      return step.targets.map((t) => ({
        kind: 'PodChaos',
        describe: `crash ${t}`,
        part: t,
        spec: {
          action: 'pod-failure',
          mode: 'all',
          selector: selector(
            describeTopology().regions.includes(t) ? { [m.k8s.regionLabel]: t } : labelsOf(m, t),
          ),
        },
      }));
    case 'witness-down':
      return step.targets.map((t) => ({
        kind: 'PodChaos',
        describe: `${t} down`,
        part: t,
        spec: { action: 'pod-failure', mode: 'all', selector: selector(labelsOf(m, t)) },
      }));
    case 'clock-offset':
    case 'clock-jump': {
      const ms = step.fault === 'clock-offset' ? step.params.offsetMs : step.params.jumpMs;
      if (step.fault === 'clock-jump')
        w.add(
          where,
          'clock-jump exported as a TimeChaos offset: the clock jumps forward at the start and back again when the step ends',
        );
      return step.targets.map((t) => ({
        kind: 'TimeChaos',
        describe: `${step.fault} ${t} ${formatDurationMs(Math.abs(ms))}`,
        part: t,
        spec: {
          mode: 'all',
          selector: selector(labelsOf(m, t)),
          timeOffset: `${ms < 0 ? '-' : ''}${formatDurationMs(Math.abs(ms))}`,
          // Controllers measure the lease on the monotonic clock; a jump moves it too, an offset only the wall clock.
          clockIds: step.fault === 'clock-jump' ? ['CLOCK_REALTIME', 'CLOCK_MONOTONIC'] : ['CLOCK_REALTIME'],
        },
      }));
    }
    case 'clock-drift':
      return skip(
        `TimeChaos sets a fixed offset; a clock drift rate (${step.params.rate}) cannot be expressed`,
      );
    case 'pause':
      return skip(
        'Chaos Mesh has no process pause for pods (SIGSTOP/SIGCONT); pod-failure would lose the frozen process state that this fault tests',
      );
    case 'witness-stale':
      return skip('a witness answering from a stale view exists only in the simulator');
    case 'operator':
      return skip(OPERATOR_STEP_NOT_EXPORTED);
    case 'kv-staleness':
      return skip('KV read staleness is a property of the lease store, not of a pod or link');
    default:
      return skip(`unknown fault ${step.fault}`);
  }
}

function statusCheck(
  mesh: Builder,
  ep: ExportProbe,
  where: string,
  mode: 'Synchronous' | 'Continuous',
  deadlineMs: number,
): string | null {
  const { m, w, addTemplate, uniq } = mesh;
  const p: Probe = ep.probe;
  if (p.type !== 'http') {
    w.add(where, `probe ${p.name}: Chaos Mesh StatusCheck is HTTP only; ${p.type} probe not exported`);
    return null;
  }
  const r = p.runProperties;
  const sec = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  if (r.timeout % 1000 !== 0 || r.pollingInterval % 1000 !== 0)
    w.add(
      where,
      `probe ${p.name}: StatusCheck intervals are whole seconds (timeout ${sec(r.timeout)} s, interval ${sec(r.pollingInterval)} s)`,
    );
  const statuses = Array.isArray(p.http.expect.status)
    ? [...p.http.expect.status].sort((a, b) => a - b)
    : [p.http.expect.status];
  const contiguous = statuses.every((s, i) => i === 0 || s === statuses[i - 1]! + 1);
  if (!contiguous)
    w.add(where, `probe ${p.name}: StatusCheck takes one status or a range; using ${statuses[0]}`);
  if (p.http.expect.body !== undefined)
    w.add(where, `probe ${p.name}: body regex not exported (StatusCheck compares the status code)`);
  if (p.http.method !== 'GET' && p.http.method !== 'POST') {
    w.add(
      where,
      `probe ${p.name}: StatusCheck supports GET and POST only; ${p.http.method} probe not exported`,
    );
    return null;
  }
  const statusCode =
    statuses.length > 1 && contiguous
      ? `${statuses[0]}-${statuses[statuses.length - 1]}`
      : String(statuses[0]);
  return addTemplate({
    name: uniq(`${where}-${mode === 'Continuous' ? 'watch' : 'check'}-${p.name}`),
    templateType: 'StatusCheck',
    deadline: formatDurationMs(Math.max(1000, deadlineMs)),
    // stopOnFailure and the steady-state hypothesis abort the workflow, like they stop a game day.
    abortWithStatusCheck: ep.steadyState || r.stopOnFailure,
    statusCheck: {
      mode,
      type: 'HTTP',
      intervalSeconds: sec(r.pollingInterval),
      timeoutSeconds: sec(r.timeout),
      failureThreshold: r.retries + 1,
      successThreshold: 1,
      http: {
        url: clusterUrl(m, p.http.url, w, where),
        method: p.http.method,
        ...(p.http.body !== undefined ? { body: p.http.body } : {}),
        criteria: { statusCode },
      },
    },
  });
}

/** How long a synchronous probe may take: its delay and every try with its timeout and interval. */
function syncDeadline(p: Probe): number {
  return (
    p.runProperties.initialDelay +
    (p.runProperties.retries + 1) * (p.runProperties.timeout + p.runProperties.interval)
  );
}

/** One step as a template name (chaos, a Parallel of several, or a flap sequence), or null. */
function stepBlock(mesh: Builder, step: ExportStep): string | null {
  const { m, w, ns, resources, resourceNames, uniq, addTemplate, suspend } = mesh;
  const chaos = chaosOf(mesh, step);
  if (chaos.length === 0) return null;
  const names = chaos.map((c) => {
    const name = uniq(chaos.length > 1 ? `${step.name}-${c.part}` : step.name);
    const warnings = w.for(step.name);
    resources.push({
      comments: [
        `step ${step.index + 1}: ${step.describe} (${c.describe}); starts when applied`,
        ...warnings.map((x) => `WARNING: ${x}`),
      ],
      doc: {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: c.kind,
        metadata: {
          name: resourceNames.alloc(`${m.name}-${name}`),
          namespace: ns,
          labels: {
            'app.kubernetes.io/part-of': 'failover-lab',
            'failover-lab.io/scenario': k8sName(m.name),
          },
          annotations: {
            'failover-lab.io/source': m.file,
            'failover-lab.io/step': `${step.index + 1}: ${step.describe}`,
            'failover-lab.io/start-offset': formatDurationMs(step.atMs),
            ...(warnings.length > 0 ? { 'failover-lab.io/warnings': warnings.join(' | ') } : {}),
          },
        },
        spec: { ...c.spec, duration: formatDurationMs(step.durationMs) },
      },
    });
    if (step.fault === 'flap') {
      // Cut and heal alternate every period until the step ends.
      const period = Math.max(1, step.params.periodMs);
      const children: string[] = [];
      for (let at = 0, i = 0; at < step.durationMs; at += period, i++) {
        const len = Math.min(period, step.durationMs - at);
        children.push(
          i % 2 === 0
            ? addTemplate({
                name: uniq(`${name}-cut-${i}`),
                templateType: c.kind,
                deadline: formatDurationMs(len),
                [EMBED_KEY[c.kind]]: c.spec,
              })
            : suspend(`${name}-heal-${i}`, len),
        );
      }
      return addTemplate({
        name: uniq(`${name}-flap`),
        templateType: 'Serial',
        deadline: formatDurationMs(step.durationMs),
        children,
      });
    }
    return addTemplate({
      name,
      templateType: c.kind,
      deadline: formatDurationMs(step.durationMs),
      [EMBED_KEY[c.kind]]: c.spec,
    });
  });
  return names.length === 1
    ? names[0]!
    : addTemplate({
        name: uniq(`${step.name}-all`),
        templateType: 'Parallel',
        deadline: formatDurationMs(step.durationMs),
        children: names,
      });
}

/** A game-day experiment: pre-chaos checks, chaos (+ OnChaos watches), post-chaos checks, Continuous watches around it. */
function experimentBlock(mesh: Builder, step: ExportStep, block: string | null): string | null {
  const { uniq, addTemplate } = mesh;
  const pre = step.probes
    .filter((p) => p.mode === 'SOT' || p.mode === 'Edge')
    .map((p) => statusCheck(mesh, p, step.name, 'Synchronous', syncDeadline(p.probe)));
  const post = step.probes
    .filter((p) => p.mode === 'EOT' || p.mode === 'Edge')
    .map((p) => statusCheck(mesh, p, step.name, 'Synchronous', syncDeadline(p.probe)));
  const onChaos = step.probes
    .filter((p) => p.mode === 'OnChaos')
    .map((p) => statusCheck(mesh, p, step.name, 'Continuous', step.durationMs));
  const ok = (xs: Array<string | null>) => xs.filter((x): x is string => x !== null);
  let chaos = block;
  if (block && ok(onChaos).length > 0)
    chaos = addTemplate({
      name: uniq(`${step.name}-during`),
      templateType: 'Parallel',
      deadline: formatDurationMs(step.durationMs),
      children: [block, ...ok(onChaos)],
    });
  const children = [...ok(pre), ...(chaos ? [chaos] : []), ...ok(post)];
  if (children.length === 0) return null;
  const totalMs =
    step.durationMs +
    [...step.probes.filter((p) => p.mode !== 'OnChaos' && p.mode !== 'Continuous')].reduce(
      (a, p) => a + syncDeadline(p.probe),
      0,
    );
  let name = addTemplate({ name: uniq(`${step.name}-experiment`), templateType: 'Serial', children });
  const watches = ok(
    step.probes
      .filter((p) => p.mode === 'Continuous')
      .map((p) => statusCheck(mesh, p, step.name, 'Continuous', totalMs)),
  );
  if (watches.length > 0)
    name = addTemplate({
      name: uniq(`${step.name}-watched`),
      templateType: 'Parallel',
      children: [name, ...watches],
    });
  return name;
}

/** A game day: steady-state checks around the experiments in order (cooldowns as Suspend), optionally watched. */
function gamedayEntry(mesh: Builder): string {
  const { m, uniq, addTemplate, suspend } = mesh;
  let entry: string;
  const seq: string[] = [];
  const steady =
    m.steadyState?.probes.map((probe) => ({ probe, mode: 'Edge' as const, steadyState: true })) ?? [];
  const before = steady.map((p) =>
    statusCheck(mesh, p, 'steady-state', 'Synchronous', syncDeadline(p.probe)),
  );
  seq.push(...before.filter((x): x is string => x !== null));
  for (const step of m.steps) {
    const b = experimentBlock(mesh, step, stepBlock(mesh, step));
    if (b) seq.push(b);
    if (step.cooldownMs > 0) seq.push(suspend(`${step.name}-cooldown`, step.cooldownMs));
  }
  const after = steady.map((p) => statusCheck(mesh, p, 'steady-state', 'Synchronous', syncDeadline(p.probe)));
  seq.push(...after.filter((x): x is string => x !== null));
  entry = addTemplate({ name: uniq('gameday'), templateType: 'Serial', children: seq });
  if (m.steadyState?.continuous) {
    const watches = steady
      .map((p) => statusCheck(mesh, p, 'steady-state', 'Continuous', m.totalMs))
      .filter((x): x is string => x !== null);
    if (watches.length > 0)
      entry = addTemplate({
        name: uniq('gameday-watched'),
        templateType: 'Parallel',
        children: [entry, ...watches],
      });
  }
  return entry;
}

/** A scenario: Serial with Suspend for the gaps, or one Parallel branch per step when steps overlap. */
function scenarioEntry(mesh: Builder): string {
  const { m, uniq, addTemplate, suspend } = mesh;
  let entry: string;
  const steps = [...m.steps].sort((a, b) => a.atMs - b.atMs);
  const overlap = steps.some((s, i) => i > 0 && s.atMs < steps[i - 1]!.atMs + steps[i - 1]!.durationMs);
  if (!overlap) {
    // Serial: Suspend for each gap, then the step for its duration.
    const children: string[] = [];
    let clock = 0;
    for (const s of steps) {
      if (s.atMs > clock)
        children.push(suspend(`wait-${formatDurationMs(s.atMs - clock)}-before-${s.name}`, s.atMs - clock));
      const b = stepBlock(mesh, s);
      if (b) children.push(b);
      else if (s.durationMs > 0) children.push(suspend(`skipped-${s.name}`, s.durationMs));
      clock = s.atMs + s.durationMs;
    }
    // every step skipped: the Workflow still waits out the scenario (a Serial needs a child)
    if (children.length === 0) children.push(suspend('no-exported-step', m.totalMs));
    entry = addTemplate({
      name: uniq('scenario'),
      templateType: 'Serial',
      deadline: formatDurationMs(Math.max(m.totalMs, clock)),
      children,
    });
  } else {
    // Overlapping steps: one branch per step, each waiting for its own start time.
    const branches: string[] = [];
    for (const s of steps) {
      const b = stepBlock(mesh, s);
      if (!b) continue;
      branches.push(
        s.atMs > 0
          ? addTemplate({
              name: uniq(`branch-${s.name}`),
              templateType: 'Serial',
              children: [suspend(`wait-${formatDurationMs(s.atMs)}-${s.name}`, s.atMs), b],
            })
          : b,
      );
    }
    // every step skipped: the Workflow still waits out the scenario (a Parallel needs a child)
    if (branches.length === 0) branches.push(suspend('no-exported-step', m.totalMs));
    entry = addTemplate({
      name: uniq('scenario'),
      templateType: 'Parallel',
      deadline: formatDurationMs(m.totalMs),
      children: branches,
    });
  }
  return entry;
}
