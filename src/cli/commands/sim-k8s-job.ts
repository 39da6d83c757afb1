/**
 * `export --to k8s-job`: a simulator search as a Kubernetes Indexed Job. Each pod runs
 * `sim --shards K` and takes its share of the schedules from its completion index
 * (JOB_COMPLETION_INDEX, set by Kubernetes), so the cluster is the distributed engine and
 * nothing home-made coordinates the pods; `sim --merge` turns their outputs into the report
 * of one search, identical to a sequential run's (src/cli/commands/sim-parallel.ts).
 *
 * The image is the controller image (Dockerfile target `controller`): the published package,
 * compiled, which carries the simulator. Pods run as uid 1000 with a read-only root
 * filesystem; a shard writes only its JSON, to stdout or to a mounted claim.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Mode } from '../../controller/types.ts';
import { BadInputError } from '../../errors.ts';
import { parseDurationMs } from '../../scenario/schema.ts';
import { parseModeFlag } from '../mode-flag.ts';

export const DEFAULT_JOB_IMAGE = 'failover-lab-controller';
const PACKAGE_BIN = '/opt/failover-lab/node_modules/failover-lab/bin/failover-lab.mjs';
const RESULTS_MOUNT = '/results';

export interface K8sJobOptions {
  name: string;
  image: string;
  runs: number;
  seed: number;
  shards: number;
  parallelism: number;
  leaseBackend: 'durable' | 'kv';
  duration: string;
  property: 'safety' | 'liveness' | 'all';
  /** the controllers' operating mode of the search (sim --mode) */
  mode: Mode;
  /** PersistentVolumeClaim the shards write shard-<i>.json to; null = stdout only (kubectl logs) */
  resultsClaim: string | null;
  namespace: string | null;
}

export interface K8sJobFlags {
  runs?: string;
  seed?: string;
  shards?: string;
  parallelism?: string;
  leaseBackend?: string;
  duration?: string;
  property?: string;
  mode?: string;
  image?: string;
  name?: string;
  namespace?: string;
  resultsClaim?: string;
}

/** The options `export` gains for --to k8s-job (meaningless for litmus and chaos-mesh). */
export function addK8sJobOptions(cmd: Command): Command {
  return cmd
    .option('--runs <n>', 'k8s-job: schedules in the whole search (default 10000)')
    .option('--seed <s>', 'k8s-job: fast-check seed, the same for every pod (default 1)')
    .option('--shards <k>', 'k8s-job: pods (completions) the search is cut into (default 8)')
    .option('--parallelism <p>', 'k8s-job: pods running at once (default: all)')
    .option('--lease-backend <b>', 'k8s-job: durable (default) or kv')
    .option('--duration <d>', 'k8s-job: simulated length of each schedule (default 10m)')
    .option('--property <p>', 'k8s-job: safety (default), liveness or all')
    .option('--mode <m>', 'k8s-job: automatic (default), semi-automatic or manual')
    .option('--image <ref>', `k8s-job: image with the package (default ${DEFAULT_JOB_IMAGE})`)
    .option('--name <name>', 'k8s-job: Job name (default failover-lab-sim-<seed>)')
    .option('--namespace <ns>', 'k8s-job: namespace of the Job')
    .option('--results-claim <pvc>', 'k8s-job: also write shard-<i>.json to this PersistentVolumeClaim');
}

export function parseK8sJobFlags(f: K8sJobFlags): K8sJobOptions {
  const int = (v: string | undefined, flag: string, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max)
      throw new BadInputError(`expected an integer in ${min}..${max}, got "${v}"`, flag);
    return Number(v);
  };
  const runs = int(f.runs, '--runs', 10_000, 1, 10_000_000);
  const shards = int(f.shards, '--shards', Math.min(8, runs), 1, 100_000);
  if (shards > runs) throw new BadInputError(`more shards (${shards}) than schedules (${runs})`, '--shards');
  const seed = int(f.seed, '--seed', 1, -0x80000000, 0x7fffffff);
  const leaseBackend = f.leaseBackend ?? 'durable';
  if (leaseBackend !== 'durable' && leaseBackend !== 'kv')
    throw new BadInputError(`expected durable or kv, got "${leaseBackend}"`, '--lease-backend');
  const property = f.property ?? 'safety';
  if (property !== 'safety' && property !== 'liveness' && property !== 'all')
    throw new BadInputError(`expected safety, liveness or all, got "${property}"`, '--property');
  const mode = parseModeFlag(f.mode);
  const duration = f.duration ?? '10m';
  try {
    parseDurationMs(duration);
  } catch {
    throw new BadInputError(`expected a duration like 90s or 10m, got "${duration}"`, '--duration');
  }
  const dns = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  const name = f.name ?? `failover-lab-sim-${seed < 0 ? `m${-seed}` : seed}`;
  if (!dns.test(name)) throw new BadInputError(`not a DNS label (RFC 1123): "${name}"`, '--name');
  if (f.namespace !== undefined && !dns.test(f.namespace))
    throw new BadInputError(`not a DNS label (RFC 1123): "${f.namespace}"`, '--namespace');
  if (f.resultsClaim !== undefined && !dns.test(f.resultsClaim))
    throw new BadInputError(`not a valid claim name: "${f.resultsClaim}"`, '--results-claim');
  return {
    name,
    image: f.image ?? DEFAULT_JOB_IMAGE,
    runs,
    seed,
    shards,
    parallelism: int(f.parallelism, '--parallelism', shards, 1, shards),
    leaseBackend,
    duration,
    property,
    mode,
    resultsClaim: f.resultsClaim ?? null,
    namespace: f.namespace ?? null,
  };
}

/** The `sim` arguments every pod runs (its shard index comes from JOB_COMPLETION_INDEX). */
export function shardArgs(o: K8sJobOptions): string[] {
  return [
    'sim',
    '--runs',
    String(o.runs),
    '--seed',
    String(o.seed),
    '--lease-backend',
    o.leaseBackend,
    '--duration',
    o.duration,
    '--property',
    o.property,
    ...(o.mode !== 'automatic' ? ['--mode', o.mode] : []),
    '--shards',
    String(o.shards),
    ...(o.resultsClaim !== null ? ['--results-dir', RESULTS_MOUNT] : []),
  ];
}

export function k8sJobManifest(o: K8sJobOptions): Record<string, unknown> {
  const labels = { 'app.kubernetes.io/name': 'failover-lab', 'app.kubernetes.io/component': 'sim-search' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}), labels },
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism: o.parallelism,
      // a shard is deterministic: a retry helps only against a lost node, so one per index
      // (clusters before 1.28 ignore the field and fall back to the default backoffLimit)
      backoffLimitPerIndex: 1,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [
            {
              name: 'sim',
              image: o.image,
              command: ['/usr/bin/tini', '--', 'node', PACKAGE_BIN],
              args: shardArgs(o),
              // one search thread per pod; shards are the parallelism
              resources: { requests: { cpu: '1', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
              ...(o.resultsClaim !== null
                ? { volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT }] }
                : {}),
            },
          ],
          ...(o.resultsClaim !== null
            ? { volumes: [{ name: 'results', persistentVolumeClaim: { claimName: o.resultsClaim } }] }
            : {}),
        },
      },
    },
  };
}

/** The manifest as YAML, with how to run it and merge its shards in the header. */
export function k8sJobYaml(o: K8sJobOptions): string {
  const ns = o.namespace ? ` -n ${o.namespace}` : '';
  const collect =
    o.resultsClaim !== null
      ? [`#   copy shard-*.json out of claim ${o.resultsClaim} into shards/, then`]
      : [
          '#   mkdir shards; for p in $(kubectl get pods' +
            `${ns} -l job-name=${o.name} -o name); do kubectl logs${ns} "$p" > "shards/\${p#pod/}.json"; done`,
        ];
  const header = [
    `# failover-lab sim search as a Kubernetes Indexed Job: ${o.runs} schedules, seed ${o.seed},`,
    `# ${o.leaseBackend} lease, ${o.duration} each, property ${o.property}, cut into ${o.shards} shards.`,
    `#   kubectl apply${ns} -f job.yaml && kubectl wait${ns} --for=condition=complete --timeout=24h job/${o.name}`,
    ...collect,
    '#   npx failover-lab sim --merge shards/     # the report of one search, as `sim` run here',
  ];
  return `${header.join('\n')}\n${stringify(k8sJobManifest(o), { aliasDuplicateObjects: false })}`;
}
