/**
 * Scenario model: one YAML file runs unchanged in `failover-lab run FILE` (real topology)
 * and `failover-lab sim --scenario FILE` (simulator). Knows nothing about executors.
 *
 * Times in a scenario are *production* times ("30s", "500ms", "2m", or a number of ms);
 * the real executor scales them by topology.timeScale, the simulator runs them as is.
 * Targets name components or links of src/scenario/topology-description.ts.
 */
import { z } from 'zod';

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses "250ms" | "30s" | "2m" | "1h" | number(ms) into ms. */
export function parseDurationMs(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = DURATION_RE.exec(v.trim());
  if (!m) throw new Error(`invalid duration "${v}" (expected e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2];
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

/**
 * Documented maxima (docs/scenarios.md). A duration beyond a day of production time is a typo,
 * and no executor could honour it anyway (Node's timers stop at 2^31 ms; the simulator would
 * step through it event by event).
 */
export const MAX_DURATION_MS = 86_400_000;
export const MAX_SCENARIO_STEPS = 1000;

/** Fault kinds. `sim-only` kinds make `run` exit 2 with a clear message. */
export const FAULT_KINDS = [
  // Cuts take params.mode (refuse | drop, default refuse) and params.oneway (default false);
  // the one definition is docs/scenarios.md "Fault vocabulary".
  'isolate', // target: region id; cut every inter-region link of it
  'partition', // target: link selector(s): exactly the named links, never a reverse link
  'latency', // target: link selector; params.latency, params.jitter (durations)
  'loss', // target: link selector; params.probability 0..1 (real: per connection)
  'pause', // target: component; SIGSTOP/SIGCONT
  'crash', // target: component or region; restarted when the step ends
  'clock-offset', // target: controller; params.offset (duration, may be negative via "-5s")
  'clock-drift', // target: controller; params.rate (e.g. 0.001 = clock runs 0.1% fast)
  'clock-jump', // target: controller; params.jump (duration, forward)
  'witness-down', // target: witness id
  'witness-stale', // target: witness id; params.stale (duration) — sim only
  'kv-staleness', // target: "worker"; params.stale (duration) — KV backend only
  'flap', // target: link selector; params.period (duration): cut/heal alternately (a cut: mode, oneway)
  // target: "worker" (durable); params.region: whose requests reach an old instance of the
  // lease object while a new one serves the rest (src/worker/stale-instance.ts)
  'stale-instance',
  // target: controller(s); SIGTERM, a graceful stop (a deploy): the controller demotes, its app
  // confirms, it releases the lease and exits; restarted when the step ends
  'stop',
  // target: controller(s); params.command (approve | reject | promote | demote): an operator's
  // command through the controller's admin API (POST /<command>), instantaneous (no `for`); the
  // executor records it as the operator's `note` (docs/scenarios.md "Operator commands")
  'operator',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** What an `operator` step may command: exactly the admin API's POST paths (src/agent/admin.ts). */
export const OPERATOR_COMMANDS = ['approve', 'reject', 'promote', 'demote'] as const;
export type OperatorStepCommand = (typeof OPERATOR_COMMANDS)[number];
export const SIM_ONLY_FAULTS: FaultKind[] = ['witness-stale'];

/** Protocol instants a step can be anchored to (docs/scenarios.md "Anchored steps"). */
export const ANCHOR_EVENTS = [
  'renew-send', // a region's renewal request leaves its controller
  'renew-reply', // a renewal's reply (granted or not) reaches the controller
  'lease-expiry', // the lease store's current lease runs out (known ahead: negative offsets work)
  'witness-round', // the first witness answer of a region's round
  'promotion', // a controller becomes primary
  'publish', // a primary publishes its region to the authoritatives
  'acquire-send', // a region's acquire request (its candidacy) leaves its controller
  'acquire-reply', // an acquire's reply (granted or not) reaches the controller
] as const;
export type AnchorEvent = (typeof ANCHOR_EVENTS)[number];

const SIGNED_DURATION_RE = /^-?(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** The real executor's default time scale: production timings run 10× faster on one machine. */
export const DEFAULT_TIME_SCALE = 0.1;

/**
 * The zod schemas are built on first use, not when this module is imported: building them is
 * ~10 ms of every command's start, and `sim` searches never parse a scenario file (issue #18).
 * Each export below is a stand-in that hands every property read to the real schema.
 */
function buildStepSchemas() {
  const Duration = z
    .union([
      z.number().nonnegative(),
      z.string().regex(DURATION_RE, 'expected a duration like 500ms, 30s or 2m'),
    ])
    .transform((v) => parseDurationMs(v))
    .refine((ms) => Number.isFinite(ms) && ms <= MAX_DURATION_MS, {
      message: `must be at most 24h (${MAX_DURATION_MS} ms)`,
    });
  const SignedDuration = z
    .union([z.number(), z.string().regex(SIGNED_DURATION_RE, 'expected a duration like 250ms or -1.5s')])
    .transform((v) =>
      typeof v === 'number'
        ? v
        : v.trim().startsWith('-')
          ? -parseDurationMs(v.trim().slice(1))
          : parseDurationMs(v),
    );

  const Anchor = z
    .object({
      on: z.enum(ANCHOR_EVENTS),
      region: z.string().optional(),
      offset: SignedDuration.default(0),
    })
    .strict();

  const FaultStep = z
    .object({
      at: Duration,
      anchor: Anchor.optional(),
      for: Duration.optional(),
      fault: z.enum(FAULT_KINDS),
      target: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default(() => ({})),
    })
    .strict();

  const BootStep = z
    .object({
      fault: z.literal('latency'),
      target: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default(() => ({})),
    })
    .strict();
  return { Duration, SignedDuration, Anchor, FaultStep, BootStep };
}

function buildScenarioSchemas({ Duration, FaultStep, BootStep }: ReturnType<typeof buildStepSchemas>) {
  const ControllerOverrides = z
    .object({
      leaseTtlMs: z.number().int().positive().max(MAX_DURATION_MS),
      heartbeatMs: z.number().int().positive().max(MAX_DURATION_MS),
      maxClockDriftRate: z.number().nonnegative().max(0.5),
      maxPauseMs: z.number().int().nonnegative().max(MAX_DURATION_MS),
      maxDelayMs: z.number().int().nonnegative().max(MAX_DURATION_MS),
      peerCheckIntervalMs: z.number().int().positive().max(MAX_DURATION_MS),
      peerFailureThreshold: z.number().int().positive().max(1000),
      witnessQuorum: z.number().int().positive().max(1000),
      unknownWitnessPolicy: z.enum(['abstain', 'count-unreachable']),
      mode: z.enum(['automatic', 'semi-automatic', 'manual']),
    })
    .partial()
    .strict();

  const Expectation = z.union([
    z.object({ 'failover-within': Duration }).strict(),
    z.object({ 'no-failover': z.literal(true) }).strict(),
    z.object({ 'demoted-within': z.object({ region: z.string(), within: Duration }).strict() }).strict(),
    z.object({ 'primary-at-end': z.string() }).strict(),
    /**
     * the DNS observer saw two authoritatives answer the service name with different regions at
     * the same time (each PowerDNS runs its own health checks; src/check/disagreement.ts)
     */
    z.object({ 'authoritatives-disagree': z.literal(true) }).strict(),
    /** the run must find this invariant violated (for known-unsafe configurations) */
    z.object({ 'violation-detected': z.string() }).strict(),
  ]);

  const Scenario = z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
      description: z.string().default(''),
      duration: Duration,
      topology: z
        .object({
          leaseBackend: z.enum(['durable', 'kv']).default('durable'),
          timeScale: z.number().positive().max(1).default(DEFAULT_TIME_SCALE),
          initialPrimary: z.string().default('a'),
          controller: ControllerOverrides.default(() => ({})),
          /**
           * The lease Worker as deployed. Its TTL defaults to the controllers' leaseTtlMs; a
           * shorter one is a deployment mismatch the controllers must refuse (issue #20).
           */
          worker: z.object({ leaseTtl: Duration.optional() }).strict().optional(),
        })
        .strict()
        // factories, not shared objects: a default handed to one parse must not be the one
        // the next parse gets (a caller that set `mode` on one leaked it into every later one)
        .default(() => ({
          leaseBackend: 'durable' as const,
          timeScale: DEFAULT_TIME_SCALE,
          initialPrimary: 'a',
          controller: {},
        })),
      workload: z
        .object({
          clients: z.number().int().min(0).max(16).default(1),
          writeInterval: Duration.default(1000),
        })
        .strict()
        .default(() => ({ clients: 1, writeInterval: 1000 })),
      steps: z
        .array(FaultStep)
        .max(MAX_SCENARIO_STEPS, `at most ${MAX_SCENARIO_STEPS} steps`)
        .default(() => []),
      /**
       * Link latencies in force from the topology's boot, before any controller's first request,
       * to the end of the run (docs/scenarios.md "Boot latency"): the ordering a boot race needs,
       * which steps cannot give (the real executor times them from the end of its warm-up).
       */
      boot: z.array(BootStep).max(MAX_SCENARIO_STEPS, `at most ${MAX_SCENARIO_STEPS} boot steps`).optional(),
      expect: z.array(Expectation).default(() => []),
    })
    .strict();
  return { ControllerOverrides, Expectation, Scenario };
}

function buildSchemas() {
  const steps = buildStepSchemas();
  return { ...steps, ...buildScenarioSchemas(steps) };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | null = null;

/** The schema `key`, built with all the others the first time any of them is used. */
function lazySchema<K extends keyof Schemas>(key: K): Schemas[K] {
  const real = (): Schemas[K] => {
    if (schemas === null) schemas = buildSchemas();
    return schemas[key];
  };
  // zod's methods are closures over their schema, so a forwarded read works as the real one
  return new Proxy(Object.create(null) as Schemas[K], {
    get: (_t, p) => Reflect.get(real(), p),
    has: (_t, p) => Reflect.has(real(), p),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}

export const Duration = lazySchema('Duration');
/** "-250ms" | "1.5s" | number(ms), negative allowed. */
export const SignedDuration = lazySchema('SignedDuration');
/**
 * A step placed relative to a protocol instant: armed at the step's `at`, it starts `offset`
 * ms after the first `on` instant (of `region`, if given) at or after `at`.
 */
export const Anchor = lazySchema('Anchor');
export type Anchor = z.infer<Schemas['Anchor']>;
export const FaultStep = lazySchema('FaultStep');
export type FaultStep = z.infer<Schemas['FaultStep']>;
/** A latency in force from boot to the end of the run (Scenario.boot). */
export const BootStep = lazySchema('BootStep');
export type BootStep = z.infer<Schemas['BootStep']>;
export const ControllerOverrides = lazySchema('ControllerOverrides');
export const Expectation = lazySchema('Expectation');
export type Expectation = z.infer<Schemas['Expectation']>;
export const Scenario = lazySchema('Scenario');
export type Scenario = z.infer<Schemas['Scenario']>;
