/**
 * Export to LitmusChaos (litmuschaos.io/v1alpha1): one ChaosExperiment per fault type used
 * and one ChaosEngine per step and source workload, with env tunables and Litmus probes.
 * Field-by-field mapping and the limits: docs/gameday.md.
 */
import { describeTopology } from '../../scenario/topology-description.ts';
import type { Probe } from '../plan.ts';
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
  serviceHost,
  stepLinks,
  type Warnings,
} from './model.ts';

export interface ManifestDoc {
  doc: Record<string, unknown>;
  /** YAML comment lines written above the document */
  comments: string[];
}

/** Pin this to the go-runner of your Litmus installation (ChaosCenter shows it). */
export const LITMUS_RUNNER_IMAGE = 'litmuschaos/go-runner:latest';

const selectorString = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Litmus durations in env are whole seconds. */
function seconds(ms: number, where: string, w: Warnings): string {
  const s = Math.ceil(ms / 1000);
  if (s * 1000 !== ms)
    w.add(where, `TOTAL_CHAOS_DURATION is whole seconds in Litmus: ${ms} ms rounded up to ${s} s`);
  return String(Math.max(1, s));
}

interface EngineSpec {
  experiment: string;
  appLabels: Record<string, string>;
  env: Record<string, string>;
  describe: string;
}

export function toLitmus(m: ExportModel, w: Warnings): { docs: ManifestDoc[]; notExported: string[] } {
  const notExported: string[] = [];
  const engines: Array<{ step: ExportStep; spec: EngineSpec; several: boolean }> = [];
  if (m.expectations.length > 0)
    notExported.push(
      `scenario expectations ${m.expectations.join(', ')}: checked by failover-lab's checker over the run history; Litmus probes cannot express them`,
    );

  for (const step of m.steps) {
    const specs = stepEngines(m, w, step, notExported);
    for (const spec of specs) engines.push({ step, spec, several: specs.length > 1 });
  }

  const docs: ManifestDoc[] = [];
  const engineNames = new NameAllocator();
  const experimentsUsed = [...new Set(engines.map((e) => e.spec.experiment))];
  for (const name of experimentsUsed) docs.push({ doc: chaosExperiment(name), comments: [] });

  for (const [order, engine] of engines.entries())
    docs.push(chaosEngineDoc(m, w, engine, order, engineNames));
  if (engines.length > 1)
    w.add(
      'plan',
      'Litmus ChaosEngines start as soon as they are applied: apply them in failover-lab.io/order at failover-lab.io/start-offset, or wrap them in a Litmus chaos experiment (Argo Workflow)',
    );
  return { docs, notExported };
}

/** The ChaosEngines of one step (none when the fault cannot be expressed; it is then listed in notExported). */
function stepEngines(m: ExportModel, w: Warnings, step: ExportStep, notExported: string[]): EngineSpec[] {
  const where = step.name;
  const dur = () => seconds(step.durationMs, where, w);
  const specs: EngineSpec[] = [];
  const skip = (why: string) => {
    notExported.push(`step ${step.index + 1} (${step.describe}): ${why}`);
    w.add(where, `not exported: ${why}`);
  };
  switch (step.fault) {
    case 'partition':
      specs.push(...partitionEngines(m, w, step, dur));
      break;
    case 'flap':
      skip(`Litmus has no flapping partition (cut/heal every ${formatDurationMs(step.params.periodMs)})`);
      break;
    case 'isolate':
      for (const region of step.targets) {
        w.add(
          where,
          `isolate ${region}: pod-network-partition blocks all traffic of the region's pods, so intra-region links (ctl-${region}->app-${region}, auth-${region}->app-${region}) are cut too, unlike the topology's isolation`,
        );
        specs.push({
          experiment: 'pod-network-partition',
          appLabels: { [m.k8s.regionLabel]: region },
          env: { TOTAL_CHAOS_DURATION: dur(), POLICY_TYPES: 'all' },
          describe: `isolate region ${region}`,
        });
      }
      break;
    case 'latency':
      specs.push(...latencyEngines(m, w, step, dur));
      break;
    case 'loss':
    case 'blackhole':
      specs.push(...lossEngines(m, w, step, dur));
      break;
    case 'crash':
      w.add(
        where,
        'crash exported as pod-delete: Kubernetes restarts the pod right away, not when the step ends',
      );
      for (const t of step.targets) {
        const regionCrash = describeTopology().regions.includes(t);
        specs.push({
          experiment: 'pod-delete',
          appLabels: regionCrash ? { [m.k8s.regionLabel]: t } : labelsOf(m, t),
          env: { TOTAL_CHAOS_DURATION: dur(), CHAOS_INTERVAL: dur(), FORCE: 'true' },
          describe: `delete pods of ${t}`,
        });
      }
      break;
    case 'witness-down':
      w.add(
        where,
        'witness-down exported as an ingress partition of the witness pods (they stop answering; the pods keep running)',
      );
      for (const t of step.targets)
        specs.push({
          experiment: 'pod-network-partition',
          appLabels: labelsOf(m, t),
          env: { TOTAL_CHAOS_DURATION: dur(), POLICY_TYPES: 'ingress' },
          describe: `make ${t} unreachable`,
        });
      break;
    case 'pause':
      skip(
        'Litmus has no process pause (SIGSTOP/SIGCONT); pod-delete or container-kill would lose the frozen process state that this fault tests',
      );
      break;
    case 'clock-offset':
    case 'clock-drift':
    case 'clock-jump':
      skip(
        'the Litmus experiment catalog this exporter targets has no clock fault (use the Chaos Mesh export: TimeChaos)',
      );
      break;
    case 'witness-stale':
      skip('a witness answering from a stale view exists only in the simulator');
      break;
    case 'operator':
      skip(OPERATOR_STEP_NOT_EXPORTED);
      break;
    case 'kv-staleness':
      skip('KV read staleness is a property of the lease store, not of a pod or link');
      break;
    default:
      skip(`unknown fault ${step.fault}`);
  }
  return specs;
}

/** A link cut: one pod-network-partition per link. */
function partitionEngines(m: ExportModel, w: Warnings, step: ExportStep, dur: () => string): EngineSpec[] {
  const where = step.name;
  const specs: EngineSpec[] = [];
  if (step.params.oneway)
    w.add(
      where,
      'one-way cut: Litmus pod-network-partition (a NetworkPolicy) can only block new connections initiated by the source (POLICY_TYPES=egress); a packet-level one-way cut (requests delivered, replies dropped) cannot be expressed',
    );
  for (const link of stepLinks(step)) {
    const { from, to } = linkEnds(link);
    specs.push({
      experiment: 'pod-network-partition',
      appLabels: labelsOf(m, from),
      env: {
        TOTAL_CHAOS_DURATION: dur(),
        POLICY_TYPES: step.params.oneway ? 'egress' : 'all',
        POD_SELECTOR: selectorString(labelsOf(m, to)),
      },
      describe: `cut ${link}`,
    });
  }
  return specs;
}

/** Latency: one pod-network-latency per link (both streams: twice the latency on the source). */
function latencyEngines(m: ExportModel, w: Warnings, step: ExportStep, dur: () => string): EngineSpec[] {
  const where = step.name;
  const specs: EngineSpec[] = [];
  let latencyMs = step.params.latencyMs;
  if (step.params.stream === 'both') {
    // netem delays the source's egress only; both streams add the latency twice per round trip.
    latencyMs *= 2;
    w.add(
      where,
      'latency on both streams is approximated by twice the latency on the source egress (same round-trip time)',
    );
  }
  for (const link of stepLinks(step)) {
    const { from, to } = linkEnds(link);
    specs.push({
      experiment: 'pod-network-latency',
      appLabels: labelsOf(m, from),
      env: {
        TOTAL_CHAOS_DURATION: dur(),
        NETWORK_LATENCY: String(latencyMs),
        JITTER: String(step.params.jitterMs),
        DESTINATION_HOSTS: serviceHost(m, to),
      },
      describe: `delay ${link}`,
    });
  }
  return specs;
}

/** Loss or blackhole: one pod-network-loss per link. */
function lossEngines(m: ExportModel, w: Warnings, step: ExportStep, dur: () => string): EngineSpec[] {
  const where = step.name;
  const specs: EngineSpec[] = [];
  w.add(
    where,
    step.fault === 'blackhole'
      ? 'blackhole exported as 100% packet loss: new connections time out at connect instead of connecting and then receiving nothing (Toxiproxy timeout toxic)'
      : `loss is per packet in Litmus (tc netem ${Math.round(step.params.probability * 100)}%), per connection in failover-lab's real topology (Toxiproxy toxicity)`,
  );
  for (const link of stepLinks(step)) {
    const { from, to } = linkEnds(link);
    specs.push({
      experiment: 'pod-network-loss',
      appLabels: labelsOf(m, from),
      env: {
        TOTAL_CHAOS_DURATION: dur(),
        NETWORK_PACKET_LOSS_PERCENTAGE: String(Math.round(step.params.probability * 100)),
        DESTINATION_HOSTS: serviceHost(m, to),
      },
      describe: `loss on ${link}`,
    });
  }
  return specs;
}

/** One ChaosEngine manifest, with its step's probes (and the steady-state ones) and warnings. */
function chaosEngineDoc(
  m: ExportModel,
  w: Warnings,
  { step, spec, several }: { step: ExportStep; spec: EngineSpec; several: boolean },
  order: number,
  engineNames: NameAllocator,
): ManifestDoc {
  const probes = [
    ...step.probes,
    ...(m.steadyState?.probes.map((p) => ({
      probe: { ...p, name: `steady-${p.name}` },
      mode: m.steadyState!.continuous ? ('Continuous' as const) : ('Edge' as const),
      steadyState: true,
    })) ?? []),
  ]
    .map((p) => litmusProbe(m, p, step.name, w))
    .filter((p): p is Record<string, unknown> => p !== null);
  const warnings = w.for(step.name);
  const annotations: Record<string, string> = {
    'failover-lab.io/source': m.file,
    'failover-lab.io/step': `${step.index + 1}: ${step.describe}`,
    // ChaosEngines start when applied: apply them in this order at these offsets.
    'failover-lab.io/order': String(order + 1),
    'failover-lab.io/start-offset': formatDurationMs(step.atMs),
  };
  if (step.weight !== null) annotations['failover-lab.io/weight'] = String(step.weight);
  if (warnings.length > 0) annotations['failover-lab.io/warnings'] = warnings.join(' | ');
  return {
    comments: [
      `step ${step.index + 1}: ${step.describe} (${spec.describe})`,
      ...warnings.map((x) => `WARNING: ${x}`),
    ],
    doc: {
      apiVersion: 'litmuschaos.io/v1alpha1',
      kind: 'ChaosEngine',
      metadata: {
        // Several engines of one step are told apart by what they act on (e.g. "cut ctl-a->worker").
        name: engineNames.alloc(
          several ? `${m.name}-${step.name}-${spec.describe.replace(/^\S+ /, '')}` : `${m.name}-${step.name}`,
        ),
        namespace: m.k8s.namespace,
        labels: {
          'app.kubernetes.io/part-of': 'failover-lab',
          'failover-lab.io/scenario': k8sName(m.name),
        },
        annotations,
      },
      spec: {
        engineState: 'active',
        annotationCheck: 'false',
        appinfo: {
          appns: m.k8s.namespace,
          applabel: selectorString(spec.appLabels),
          appkind: 'deployment',
        },
        chaosServiceAccount: m.k8s.chaosServiceAccount,
        jobCleanUpPolicy: 'delete',
        experiments: [
          {
            name: spec.experiment,
            spec: {
              components: { env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) },
              ...(probes.length > 0 ? { probe: probes } : {}),
            },
          },
        ],
      },
    },
  };
}

function chaosExperiment(name: string): Record<string, unknown> {
  const network = name.startsWith('pod-network');
  return {
    apiVersion: 'litmuschaos.io/v1alpha1',
    kind: 'ChaosExperiment',
    metadata: {
      name,
      labels: {
        name,
        'app.kubernetes.io/part-of': 'litmus',
        'app.kubernetes.io/component': 'chaosexperiment',
      },
    },
    description: { message: `${name} (generated by failover-lab export)` },
    spec: {
      definition: {
        scope: 'Namespaced',
        permissions: [
          {
            apiGroups: [''],
            resources: ['pods'],
            verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'deletecollection'],
          },
          { apiGroups: [''], resources: ['events'], verbs: ['create', 'get', 'list', 'patch', 'update'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['pods/log'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'list', 'create'] },
          {
            apiGroups: ['apps'],
            resources: ['deployments', 'statefulsets', 'replicasets', 'daemonsets'],
            verbs: ['list', 'get'],
          },
          {
            apiGroups: ['batch'],
            resources: ['jobs'],
            verbs: ['create', 'list', 'get', 'delete', 'deletecollection'],
          },
          ...(name === 'pod-network-partition'
            ? [
                {
                  apiGroups: ['networking.k8s.io'],
                  resources: ['networkpolicies'],
                  verbs: ['create', 'delete', 'list', 'get'],
                },
              ]
            : []),
          {
            apiGroups: ['litmuschaos.io'],
            resources: ['chaosengines', 'chaosexperiments', 'chaosresults'],
            verbs: ['create', 'list', 'get', 'patch', 'update', 'delete'],
          },
        ],
        image: LITMUS_RUNNER_IMAGE,
        imagePullPolicy: 'Always',
        args: ['-c', `./experiments -name ${name}`],
        command: ['/bin/bash'],
        env: [
          { name: 'TOTAL_CHAOS_DURATION', value: '60' },
          { name: 'RAMP_TIME', value: '' },
          ...(network && name !== 'pod-network-partition'
            ? [
                { name: 'CONTAINER_RUNTIME', value: 'containerd' },
                { name: 'SOCKET_PATH', value: '/run/containerd/containerd.sock' },
              ]
            : []),
        ],
        labels: {
          name,
          'app.kubernetes.io/part-of': 'litmus',
          'app.kubernetes.io/component': 'experiment-job',
        },
      },
    },
  };
}

function runProperties(p: Probe): Record<string, unknown> {
  const r = p.runProperties;
  // Litmus 3.x: Go duration strings and `attempt` (total attempts); Litmus 2.x used seconds and `retry`.
  return {
    probeTimeout: formatDurationMs(r.timeout),
    interval: formatDurationMs(r.interval),
    attempt: r.retries + 1,
    probePollingInterval: formatDurationMs(r.pollingInterval),
    initialDelay: formatDurationMs(r.initialDelay),
    stopOnFailure: r.stopOnFailure,
  };
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=@,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function litmusProbe(
  m: ExportModel,
  ep: ExportProbe,
  where: string,
  w: Warnings,
): Record<string, unknown> | null {
  const p = ep.probe;
  const base = { name: p.name, mode: ep.mode, runProperties: runProperties(p) };
  if (ep.steadyState && ep.mode === 'Edge')
    w.add(
      where,
      `steady-state probe ${p.name}: checked before and after each ChaosEngine (Litmus has no whole-game-day hypothesis)`,
    );
  switch (p.type) {
    case 'http': {
      const h = p.http;
      const statuses = Array.isArray(h.expect.status) ? h.expect.status : [h.expect.status];
      if (statuses.length > 1)
        w.add(where, `probe ${p.name}: several expected statuses; Litmus checks == ${statuses[0]} only`);
      if (h.expect.body !== undefined)
        w.add(
          where,
          `probe ${p.name}: body regex /${h.expect.body}/ not exported (httpProbe compares the status code)`,
        );
      if (h.method !== 'GET' && h.method !== 'POST') {
        w.add(where, `probe ${p.name}: httpProbe supports GET and POST only, ${h.method} probe not exported`);
        return null;
      }
      const criteria = { criteria: '==', responseCode: String(statuses[0]) };
      const method =
        h.method === 'GET'
          ? { get: criteria }
          : {
              post: {
                contentType: h.headers['content-type'] ?? 'application/json',
                body: h.body ?? '',
                ...criteria,
              },
            };
      return {
        ...base,
        type: 'httpProbe',
        'httpProbe/inputs': { url: clusterUrl(m, h.url, w, where), insecureSkipVerify: false, method },
      };
    }
    case 'dns': {
      const d = p.dns;
      const resolver = d.resolver.includes(':') ? d.resolver : serviceHost(m, d.resolver);
      const [rhost, rport] = resolver.includes(':') ? resolver.split(':') : [resolver, '53'];
      const want = d.expect.answers ?? d.expect.contains;
      w.add(
        where,
        `probe ${p.name}: dns probe exported as a cmdProbe running dig (the probe image must have dig; rcode is not compared)`,
      );
      if ((want?.length ?? 0) > 1 || d.expect.notContains)
        w.add(where, `probe ${p.name}: only the first expected answer is compared in Litmus`);
      return {
        ...base,
        type: 'cmdProbe',
        'cmdProbe/inputs': {
          command: `dig +short ${d.transport === 'tcp' ? '+tcp ' : ''}@${rhost} -p ${rport} ${d.name} ${d.type}`,
          source: { image: 'docker.io/nicolaka/netshoot:latest' },
          comparator: {
            type: 'string',
            criteria: want ? 'contains' : 'notEqual',
            value: want ? clusterUrl(m, want[0]!, w, where) : '',
          },
        },
      };
    }
    case 'prom': {
      const q = p.prom;
      // A probe of one controller's /metrics becomes a series selected by its component label.
      const matchers = { ...(q.target ? { [m.k8s.promTargetLabel]: q.target } : {}), ...q.labels };
      const inner = Object.entries(matchers)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      const sel = inner ? `${q.metric}{${inner}}` : q.metric;
      w.add(
        where,
        `probe ${p.name}: prom probe reads ${q.aggregate}(${sel}) from Prometheus (${m.k8s.prometheus}), not the controller's /metrics directly`,
      );
      return {
        ...base,
        type: 'promProbe',
        'promProbe/inputs': {
          endpoint: m.k8s.prometheus,
          query: `${q.aggregate}(${sel})`,
          comparator: {
            type: 'float',
            criteria: q.criteria,
            value: Array.isArray(q.value) ? q.value.join(',') : String(q.value),
          },
        },
      };
    }
    case 'cmd': {
      const c = p.cmd;
      // Litmus runs cmdProbe commands through a shell and compares stdout; exit code and
      // stdout regex are folded into one "0"/"1" answer so both are checked.
      const cmd = [c.command, ...c.args.map((a) => clusterUrl(m, a, w, where))].map(shellQuote).join(' ');
      const check =
        c.expect.stdout !== undefined
          ? `out=$(${cmd}); rc=$?; [ "$rc" = "${c.expect.exitCode}" ] && printf '%s' "$out" | grep -Eq ${shellQuote(c.expect.stdout)}; echo $?`
          : `${cmd} >/dev/null 2>&1; [ "$?" = "${c.expect.exitCode}" ]; echo $?`;
      return {
        ...base,
        type: 'cmdProbe',
        // No `source`: Litmus 3 runs the command inline in the experiment pod.
        'cmdProbe/inputs': { command: check, comparator: { type: 'int', criteria: '==', value: '0' } },
      };
    }
  }
}
