/**
 * Structural checks of exported manifests against what the upstream CRDs require (the
 * fields their controllers read and their OpenAPI schemas mark required). The exporter runs
 * them on its own output, so a manifest that would be rejected by a cluster is a bug here,
 * never a surprise at `kubectl apply`.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), o);

export const NETWORK_ACTIONS = ['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth'];
export const SELECTOR_MODES = ['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent'];
export const POD_ACTIONS = ['pod-failure', 'pod-kill', 'container-kill'];
export const TEMPLATE_TYPES = [
  'Task',
  'Serial',
  'Parallel',
  'Suspend',
  'Schedule',
  'StatusCheck',
  'NetworkChaos',
  'PodChaos',
  'TimeChaos',
  'IOChaos',
  'StressChaos',
  'DNSChaos',
  'HTTPChaos',
  'KernelChaos',
  'JVMChaos',
  'AWSChaos',
  'GCPChaos',
  'AzureChaos',
  'BlockChaos',
  'PhysicalMachineChaos',
];
const GO_DURATION = /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const PROBE_MODES = ['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos'];
const PROBE_TYPES = ['httpProbe', 'cmdProbe', 'k8sProbe', 'promProbe'];

/** Problems of one manifest document ([] when it is fine). */
export function validateManifest(doc: unknown): string[] {
  const p: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) p.push(what);
  };
  const str = (path: string) => typeof get(doc, path) === 'string' && (get(doc, path) as string).length > 0;
  const kind = get(doc, 'kind');
  need(str('metadata.name'), 'metadata.name');
  switch (kind) {
    case 'ChaosEngine': {
      need(get(doc, 'apiVersion') === 'litmuschaos.io/v1alpha1', 'apiVersion litmuschaos.io/v1alpha1');
      need(
        ['active', 'stop'].includes(get(doc, 'spec.engineState') as string),
        'spec.engineState active|stop',
      );
      need(str('spec.chaosServiceAccount'), 'spec.chaosServiceAccount');
      const appinfo =
        str('spec.appinfo.appns') && str('spec.appinfo.applabel') && str('spec.appinfo.appkind');
      need(
        appinfo || isObj(get(doc, 'spec.selectors')),
        'spec.appinfo{appns,applabel,appkind} or spec.selectors',
      );
      const exps = get(doc, 'spec.experiments');
      need(Array.isArray(exps) && exps.length > 0, 'spec.experiments[]');
      for (const [i, e] of (Array.isArray(exps) ? exps : []).entries()) {
        need(typeof get(e, 'name') === 'string', `spec.experiments[${i}].name`);
        const env = get(e, 'spec.components.env');
        need(
          Array.isArray(env) &&
            env.every((x) => typeof get(x, 'name') === 'string' && typeof get(x, 'value') === 'string'),
          `spec.experiments[${i}].spec.components.env[] of {name, value: string}`,
        );
        const probes = get(e, 'spec.probe');
        for (const [j, pr] of (Array.isArray(probes) ? probes : []).entries()) {
          need(typeof get(pr, 'name') === 'string', `probe[${j}].name`);
          need(PROBE_TYPES.includes(get(pr, 'type') as string), `probe[${j}].type`);
          need(PROBE_MODES.includes(get(pr, 'mode') as string), `probe[${j}].mode`);
          need(
            isObj(get(pr, 'runProperties')) && typeof get(pr, 'runProperties.probeTimeout') === 'string',
            `probe[${j}].runProperties.probeTimeout`,
          );
          const t = get(pr, 'type') as string;
          need(isObj(get(pr, `${t}/inputs`)), `probe[${j}].${t}/inputs`);
        }
      }
      break;
    }
    case 'ChaosExperiment':
      need(get(doc, 'apiVersion') === 'litmuschaos.io/v1alpha1', 'apiVersion litmuschaos.io/v1alpha1');
      need(str('spec.definition.image'), 'spec.definition.image');
      need(Array.isArray(get(doc, 'spec.definition.args')), 'spec.definition.args');
      need(Array.isArray(get(doc, 'spec.definition.command')), 'spec.definition.command');
      need(Array.isArray(get(doc, 'spec.definition.permissions')), 'spec.definition.permissions');
      need(
        ['Namespaced', 'Cluster'].includes(get(doc, 'spec.definition.scope') as string),
        'spec.definition.scope',
      );
      break;
    case 'NetworkChaos':
    case 'PodChaos':
    case 'TimeChaos':
      need(get(doc, 'apiVersion') === 'chaos-mesh.org/v1alpha1', 'apiVersion chaos-mesh.org/v1alpha1');
      p.push(...chaosSpecProblems(kind, get(doc, 'spec'), true));
      break;
    case 'Workflow': {
      need(get(doc, 'apiVersion') === 'chaos-mesh.org/v1alpha1', 'apiVersion chaos-mesh.org/v1alpha1');
      const templates = get(doc, 'spec.templates');
      need(Array.isArray(templates) && templates.length > 0, 'spec.templates[]');
      const list = (Array.isArray(templates) ? templates : []) as Obj[];
      const names = new Set(list.map((t) => t.name));
      need(names.size === list.length, 'unique template names');
      need(str('spec.entry') && names.has(get(doc, 'spec.entry')), 'spec.entry naming a template');
      for (const t of list) {
        const tt = t.templateType as string;
        const at = `template ${String(t.name)}`;
        need(
          typeof t.name === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(t.name as string),
          `${at}: DNS-1123 name`,
        );
        need(TEMPLATE_TYPES.includes(tt), `${at}: templateType`);
        if (t.deadline !== undefined) need(GO_DURATION.test(String(t.deadline)), `${at}: deadline duration`);
        if (tt === 'Serial' || tt === 'Parallel') {
          const ch = t.children;
          need(
            Array.isArray(ch) && ch.length > 0 && ch.every((c) => names.has(c)),
            `${at}: children naming templates`,
          );
        } else if (tt === 'Suspend') {
          need(typeof t.deadline === 'string', `${at}: deadline`);
        } else if (tt === 'StatusCheck') {
          const sc = t.statusCheck;
          need(['Synchronous', 'Continuous'].includes(get(sc, 'mode') as string), `${at}: statusCheck.mode`);
          need(get(sc, 'type') === 'HTTP', `${at}: statusCheck.type HTTP`);
          need(typeof get(sc, 'http.url') === 'string', `${at}: statusCheck.http.url`);
          need(
            typeof get(sc, 'http.criteria.statusCode') === 'string',
            `${at}: statusCheck.http.criteria.statusCode`,
          );
        } else if (tt === 'NetworkChaos' || tt === 'PodChaos' || tt === 'TimeChaos') {
          need(typeof t.deadline === 'string', `${at}: deadline`);
          const key = tt.charAt(0).toLowerCase() + tt.slice(1);
          p.push(...chaosSpecProblems(tt, t[key], false).map((x) => `${at}: ${x}`));
        }
      }
      break;
    }
    default:
      p.push(`unknown kind ${String(kind)}`);
  }
  return p;
}

function chaosSpecProblems(kind: string, spec: unknown, standalone: boolean): string[] {
  const p: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) p.push(what);
  };
  need(isObj(spec), 'spec');
  need(SELECTOR_MODES.includes(get(spec, 'mode') as string), 'spec.mode');
  need(isObj(get(spec, 'selector')), 'spec.selector');
  if (standalone) need(GO_DURATION.test(String(get(spec, 'duration'))), 'spec.duration');
  if (kind === 'NetworkChaos') {
    need(NETWORK_ACTIONS.includes(get(spec, 'action') as string), 'spec.action');
    need(['to', 'from', 'both'].includes(get(spec, 'direction') as string), 'spec.direction');
    if (get(spec, 'action') === 'delay')
      need(GO_DURATION.test(String(get(spec, 'delay.latency'))), 'spec.delay.latency');
    if (get(spec, 'action') === 'loss') need(typeof get(spec, 'loss.loss') === 'string', 'spec.loss.loss');
  }
  if (kind === 'PodChaos') need(POD_ACTIONS.includes(get(spec, 'action') as string), 'spec.action');
  if (kind === 'TimeChaos') need(GO_DURATION.test(String(get(spec, 'timeOffset'))), 'spec.timeOffset');
  return p;
}
