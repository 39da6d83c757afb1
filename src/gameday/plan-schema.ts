/**
 * Game-day plan model (YAML, zod-validated): the schemas and the types of a resolved plan.
 * Loading, reference resolution and the checks that need the whole plan are in plan.ts; the
 * probe-string checks (plan-refs.ts) read these types too, so they live below both. A plan names a target (the local topology or
 * an external deployment reached through its Toxiproxy APIs), a steady-state hypothesis,
 * shared probes and ordered experiments. Vocabulary follows LitmusChaos (probe modes, run
 * properties, weights) and Chaos Toolkit (steady-state hypothesis checked before/after).
 */
import { z } from 'zod';
import { Duration } from '../scenario/schema.ts';

export const PROBE_MODES = ['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];

/** Faults a game day can inject. Link faults go through Toxiproxy; process faults need the local target. */
export const GAMEDAY_FAULTS = [
  'partition', // disable the link's proxy: connections refused (params.oneway: only the named links)
  'isolate', // target: region id; partition every inter-region link of it
  'latency', // latency toxic (params.latency, params.jitter, params.stream)
  'loss', // timeout toxic with toxicity = params.probability: a share of *connections* see no data
  'blackhole', // timeout toxic on every connection: connects succeed, no data flows
  'pause', // SIGSTOP/SIGCONT a component (local target only)
  'crash', // kill a component, restart it when the experiment ends (local target only)
] as const;
export type GamedayFault = (typeof GAMEDAY_FAULTS)[number];
export const PROCESS_FAULTS: GamedayFault[] = ['pause', 'crash'];

const Name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');

export const RunProperties = z
  .object({
    /** wait before the first run of each phase (Litmus initialDelay) */
    initialDelay: Duration.default(0),
    /** wait between a failed attempt and its retry (Litmus interval) */
    interval: Duration.default(500),
    /** wait between runs of Continuous/OnChaos probes (Litmus probePollingInterval) */
    pollingInterval: Duration.default(1000),
    /** limit for one attempt (Litmus probeTimeout) */
    timeout: Duration.default(2000),
    /** attempts after the first failed one (Litmus retry; Litmus 3 attempt = retries + 1) */
    retries: z.number().int().min(0).max(1000).default(0),
    /** a failure ends the experiment at once (reverting its faults) */
    stopOnFailure: z.boolean().default(false),
  })
  .strict();
export type RunProperties = z.infer<typeof RunProperties>;
const RUN_DEFAULTS: RunProperties = RunProperties.parse({});

const StatusExpect = z.union([z.number().int().min(100).max(599), z.array(z.number().int()).min(1)]);

const HttpInputs = z
  .object({
    url: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT', 'HEAD', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().optional(),
    expect: z
      .object({ status: StatusExpect.default(200), body: z.string().optional() })
      .strict()
      .default({ status: 200 }),
  })
  .strict();

export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'SOA', 'MX', 'SRV', 'PTR'] as const;
const DnsInputs = z
  .object({
    /** "host:port" or a resolver name of the target (e.g. "w1") */
    resolver: z.string().min(1),
    name: z.string().min(1),
    type: z.enum(DNS_TYPES).default('A'),
    transport: z.enum(['udp', 'tcp']).default('udp'),
    expect: z
      .object({
        rcode: z.string().default('NOERROR'),
        /** the exact answer set (order ignored) */
        answers: z.array(z.string()).optional(),
        /** answers that must be present */
        contains: z.array(z.string()).optional(),
        /** answers that must be absent */
        notContains: z.array(z.string()).optional(),
      })
      .strict()
      .default({ rcode: 'NOERROR' }),
  })
  .strict();

export const COMPARATORS = ['==', '!=', '>', '<', '>=', '<=', 'between'] as const;
const PromInputs = z
  .object({
    /** a /metrics URL, or `target` naming one of the target's metrics endpoints (e.g. "ctl-a") */
    url: z.string().optional(),
    target: z.string().optional(),
    metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'a Prometheus metric name'),
    labels: z.record(z.string(), z.string()).default({}),
    /** how several matching samples combine (PromQL-style) */
    aggregate: z.enum(['sum', 'min', 'max', 'count']).default('sum'),
    criteria: z.enum(COMPARATORS),
    value: z.union([z.number(), z.tuple([z.number(), z.number()])]),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.url === undefined) === (p.target === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of url or target', path: [] });
    const between = p.criteria === 'between';
    if (between !== Array.isArray(p.value))
      ctx.addIssue({
        code: 'custom',
        message: between ? 'between needs value: [low, high]' : `${p.criteria} needs a single number`,
        path: ['value'],
      });
  });

const CmdInputs = z
  .object({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
    expect: z
      .object({ exitCode: z.number().int().default(0), stdout: z.string().optional() })
      .strict()
      .default({ exitCode: 0 }),
  })
  .strict();

const probeBase = {
  name: Name,
  /** required for experiment probes; steady-state probes ignore it */
  mode: z.enum(PROBE_MODES).optional(),
  runProperties: RunProperties.default(RUN_DEFAULTS),
};
export const Probe = z.discriminatedUnion('type', [
  z.object({ ...probeBase, type: z.literal('http'), http: HttpInputs }).strict(),
  z.object({ ...probeBase, type: z.literal('dns'), dns: DnsInputs }).strict(),
  z.object({ ...probeBase, type: z.literal('prom'), prom: PromInputs }).strict(),
  z.object({ ...probeBase, type: z.literal('cmd'), cmd: CmdInputs }).strict(),
]);
export type Probe = z.infer<typeof Probe>;
export type ProbeType = Probe['type'];

const Params = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});

/** Per-fault parameter schemas; checked after the plan shape so the error points into params. */
const FAULT_PARAMS: Record<GamedayFault, z.ZodType> = {
  partition: z.object({ oneway: z.boolean().default(false) }).strict(),
  isolate: z.object({}).strict(),
  latency: z
    .object({
      latency: Duration,
      jitter: Duration.default(0),
      stream: z.enum(['downstream', 'upstream', 'both']).default('downstream'),
    })
    .strict(),
  loss: z.object({ probability: z.number().gt(0).max(1) }).strict(),
  blackhole: z.object({}).strict(),
  pause: z.object({}).strict(),
  crash: z.object({}).strict(),
};

export const Experiment = z
  .object({
    name: Name,
    description: z.string().default(''),
    fault: z.enum(GAMEDAY_FAULTS),
    target: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    params: Params,
    duration: Duration,
    /** Litmus weight 0..10 for the resilience score */
    weight: z.number().int().min(0).max(10).default(10),
    /** abort the game day when this experiment's probe success % drops below this value */
    abortThreshold: z.number().min(0).max(100).optional(),
    /** probe names (from the plan's probes) or inline probes; default: every plan probe */
    probes: z.array(z.union([z.string(), Probe])).optional(),
    /** wait after the experiment before the next one */
    cooldown: Duration.default(0),
  })
  .strict()
  .transform((e, ctx) => {
    // Per-fault params are validated and converted (durations → ms) here, so the error
    // points into params and the runner only ever sees typed values.
    const r = FAULT_PARAMS[e.fault].safeParse(e.params);
    if (!r.success) {
      for (const i of r.error.issues)
        ctx.addIssue({ code: 'custom', message: `${e.fault}: ${i.message}`, path: ['params', ...i.path] });
      return z.NEVER;
    }
    return { ...e, params: r.data as Record<string, string | number | boolean> };
  });
export type Experiment = z.output<typeof Experiment>;

const LinkBindingSpec = z.union([
  z.string().min(1), // "<proxy>" or "<toxiproxy>/<proxy>"
  z
    .object({
      toxiproxy: z.string().optional(),
      proxy: z.string().min(1),
      /** where to TCP-connect to check the proxy; default derived from its listen address */
      connect: z.string().optional(),
      /** false when this machine cannot reach the proxy's listen address */
      connectCheck: z.boolean().default(true),
    })
    .strict(),
]);

const ExternalTarget = z
  .object({
    /** Toxiproxy API URL, or name → URL when the links sit behind several servers */
    toxiproxy: z.union([z.string().url(), z.record(z.string(), z.string().url())]),
    /** link id (src/scenario/topology-description.ts) → proxy */
    links: z.record(z.string(), LinkBindingSpec),
    metrics: z.record(z.string(), z.string().url()).default({}),
    resolvers: z.record(z.string(), z.string()).default({}),
    endpoints: z.record(z.string(), z.string()).default({}),
    /** name → address, for ${hosts.x} in probe expectations */
    hosts: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const LocalTarget = z
  .object({
    leaseBackend: z.enum(['durable', 'kv']).default('durable'),
    timeScale: z.number().positive().max(1).default(0.1),
    /** false: DNS, witnesses, Worker and apps only (infrastructure rehearsal without controllers) */
    controllers: z.boolean().default(true),
  })
  .strict();

const LOCAL_DEFAULTS = { leaseBackend: 'durable', timeScale: 0.1, controllers: true } as const;
const Target = z.union([
  z.object({ local: LocalTarget.default(LOCAL_DEFAULTS) }).strict(),
  z.object({ external: ExternalTarget }).strict(),
]);

const SteadyState = z
  .object({
    title: z.string().default('steady state'),
    /** before-and-after (Chaos Toolkit default) or also continuously during every chaos window */
    strategy: z.enum(['before-and-after', 'continuously']).default('before-and-after'),
    /** how often the hypothesis is checked during chaos with strategy continuously */
    frequency: Duration.default(1000),
    probes: z.array(z.union([z.string(), Probe])).min(1),
  })
  .strict();

/** Kubernetes mapping used only by `export` (components → pod labels). */
const Kubernetes = z
  .object({
    namespace: z.string().default('failover-lab'),
    chaosServiceAccount: z.string().default('litmus-admin'),
    /** Prometheus server URL for Litmus promProbes (they run PromQL, not /metrics scrapes) */
    prometheus: z.string().default('http://prometheus-server.monitoring.svc:9090'),
    /** label that names the component in Prometheus series (a prom probe's `target: ctl-a` → component="ctl-a") */
    promTargetLabel: z.string().default('component'),
    /** component id → pod labels; default failover-lab.io/component=<id> */
    components: z.record(z.string(), z.record(z.string(), z.string())).default({}),
    /** component id → in-cluster "host[:port]"; default <id>.<namespace>.svc.cluster.local */
    services: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type KubernetesMapping = z.infer<typeof Kubernetes>;

export const Plan = z
  .object({
    apiVersion: z.literal('failover-lab/v1').default('failover-lab/v1'),
    kind: z.literal('GameDay').default('GameDay'),
    name: Name,
    description: z.string().default(''),
    target: Target.default({ local: LOCAL_DEFAULTS }),
    steadyState: SteadyState.optional(),
    probes: z.array(Probe).default([]),
    experiments: z.array(Experiment).min(1),
    kubernetes: Kubernetes.optional(),
  })
  .strict();
export type PlanInput = z.infer<typeof Plan>;

export interface ResolvedProbe {
  probe: Probe;
  mode: ProbeMode;
}

export interface LinkBinding {
  link: string;
  toxiproxyUrl: string;
  proxy: string;
  connect?: string;
  connectCheck: boolean;
}

/** A validated plan with probe references resolved. */
export interface GameDayPlan {
  file: string;
  name: string;
  description: string;
  raw: PlanInput;
  target:
    | { kind: 'local'; leaseBackend: 'durable' | 'kv'; timeScale: number; controllers: boolean }
    | {
        kind: 'external';
        links: Record<string, LinkBinding>;
        metrics: Record<string, string>;
        resolvers: Record<string, string>;
        endpoints: Record<string, string>;
        hosts: Record<string, string>;
      };
  steadyState?: {
    title: string;
    strategy: 'before-and-after' | 'continuously';
    frequencyMs: number;
    probes: Probe[];
  };
  experiments: Array<Experiment & { resolvedProbes: ResolvedProbe[] }>;
}
