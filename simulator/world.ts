/**
 * Builds the simulated two-region topology from describeTopology() — the same components
 * and link ids as the real topology — and wires the models to one engine, one PRNG, one
 * network and one recorder.
 */
import type { MetaEvent } from '../src/contracts/history.ts';
import {
  type ConfiguredNumbers,
  configuredNumbers,
  type DesignSpec,
  designInput,
  designSpec,
} from '../src/contracts/spec.ts';
import { defaultControllerConfig, historyTiming } from '../src/controller/core.ts';
import type { ControllerConfig } from '../src/controller/types.ts';
import type { Scenario } from '../src/scenario/schema.ts';
import { describeTopology, type LinkSpec, type TopologySpec } from '../src/scenario/topology-description.ts';
import { ObservedRecorder } from './anchors.ts';
import {
  type BootPlan,
  drawBootPlan,
  drawOperatorDelayMs,
  OPERATOR_DELAY_RANGE_MS,
  wakeLatencyOf,
  wakeRangeMs,
} from './boot.ts';
import { NodeClock } from './clock.ts';
import type { SimContext, SimTimings } from './context.ts';
import { type Coverage, newCoverage } from './coverage.ts';
import { Engine } from './engine.ts';
import { AppModel } from './models/app.ts';
import { AuthoritativeModel } from './models/authoritative.ts';
import { ClientModel } from './models/client.ts';
import { ControllerModel } from './models/controller.ts';
import { type LeaseBackend, LeaseStoreModel } from './models/lease-store.ts';
import { WitnessModel } from './models/witness.ts';
import { SafetyMonitor } from './monitor.ts';
import { type LinkState, Net, newLink, type Proc, type Server } from './net.ts';
import { Prng } from './prng.ts';

/** A simulated component with its lifecycle hooks. */
export interface Component extends Server {
  onCrash?(): void;
  onRestart?(): void;
  onClockChange?(): void;
}

/** Baseline one-way latency and jitter (ms) of a link, by what it connects. */
function baselineLatency(l: LinkSpec): [number, number] {
  if (l.intraRegion) return [1, 1];
  if (l.to === 'worker') return [20, 10]; // to Cloudflare over the Internet
  if (l.to === 'peer') return [30, 10]; // region to region
  if (l.from.startsWith('client')) return [15, 5];
  if (l.from.startsWith('ctl-') && l.to.startsWith('w')) return [10, 5];
  if (l.from.startsWith('w')) return [10, 5];
  return [30, 10]; // remaining inter-region paths: publish to the other auth, cross-region health checks
}

/** The adapters' timeouts as src/agent/env.ts derives them from the controller config. */
export function simTimings(config: ControllerConfig): SimTimings {
  const leaseRequestTimeoutMs =
    config.leaseRequestTimeoutMs ?? Math.max(1, Math.round(config.heartbeatMs / 2));
  return {
    leaseRequestTimeoutMs,
    // "a query must answer inside the core's witness round, or it is counted unknown anyway"
    dnsQueryTimeoutMs: config.witnessRoundTimeoutMs,
    peerProbeTimeoutMs: config.peerCheckIntervalMs,
    // promote/extend/demote go through the agent's hooks: heartbeat/2
    appRequestTimeoutMs: Math.max(1, Math.round(config.heartbeatMs / 2)),
    publishTimeoutMs: Math.max(1, config.heartbeatMs),
    healthCheckIntervalMs: 5000,
    healthCheckTimeoutMs: 1000,
    witnessUpstreamTimeoutMs: 1000,
    witnessInfraHostTtlMs: 1000,
    clientTimeoutMs: 2000,
    operatorDelayMs: OPERATOR_DELAY_RANGE_MS.min,
    autoApprove: true,
    kvDesignTtlMs: config.leaseTtlMs,
    kvMinExpirationMs: 60_000,
    kvCacheTtlMs: 60_000,
  };
}

/**
 * The controllers' configs: the scenario's numbers, then `overrides` — a test seam for a
 * controller configured differently from the design (the spec in meta stays the design's).
 */
export function controllerConfigs(
  scenario: Scenario,
  spec: TopologySpec,
  overrides: ControllerConfigOverrides = {},
): Map<string, ControllerConfig> {
  const out = new Map<string, ControllerConfig>();
  for (const r of spec.regions) {
    const peer = spec.regions.find((x) => x !== r) ?? r;
    out.set(
      r,
      defaultControllerConfig({
        ...scenario.topology.controller,
        ...overrides,
        region: r,
        peerRegion: peer,
        witnesses: spec.witnesses,
      }),
    );
  }
  return out;
}

/** Controller config fields a run may set apart from the scenario's design (never region/peer/witnesses). */
export type ControllerConfigOverrides = Partial<
  Omit<ControllerConfig, 'region' | 'peerRegion' | 'witnesses'>
>;

/**
 * The design a simulated run is judged by (src/contracts/spec.ts): the scenario's timing numbers
 * with the design's defaults, the topology's witnesses (quorum = majority), the modelled
 * PowerDNS health-check timing; the store is observed exactly, at its own transitions.
 */
export function simDesignSpec(scenario: Scenario, spec: TopologySpec, timings: SimTimings): DesignSpec {
  const o = scenario.topology.controller;
  return designSpec(
    designInput({
      witnessCount: spec.witnesses.length,
      leaseTtlMs: o.leaseTtlMs ?? 30_000,
      ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
      ...(o.maxClockDriftRate !== undefined ? { maxClockDriftRate: o.maxClockDriftRate } : {}),
      ...(o.maxPauseMs !== undefined ? { maxPauseMs: o.maxPauseMs } : {}),
      ...(o.maxDelayMs !== undefined ? { maxDelayMs: o.maxDelayMs } : {}),
      ...(o.peerCheckIntervalMs !== undefined ? { peerCheckIntervalMs: o.peerCheckIntervalMs } : {}),
      ...(o.peerFailureThreshold !== undefined ? { peerFailureThreshold: o.peerFailureThreshold } : {}),
      ...(o.mode !== undefined ? { controllerMode: o.mode } : {}),
      healthCheckIntervalMs: timings.healthCheckIntervalMs,
      healthCheckTimeoutMs: timings.healthCheckTimeoutMs,
    }),
    'scenario + simulated topology',
    { precision: 'exact', intervalMs: 0 },
  );
}

export class World implements SimContext {
  readonly engine: Engine;
  readonly prng: Prng;
  readonly net: Net;
  /** the history, watched for anchored steps' protocol instants and the coverage phase */
  readonly rec: ObservedRecorder = new ObservedRecorder(() => this.engine.now);
  readonly spec: TopologySpec;
  readonly monitor: SafetyMonitor;
  readonly coverage: Coverage = newCoverage();
  readonly timings: SimTimings;
  readonly configs: Map<string, ControllerConfig>;
  readonly links = new Map<string, LinkState>();
  /** per-seed boot times, phases and link latencies (simulator/boot.ts) */
  readonly boot: BootPlan;
  readonly components = new Map<string, Component>();
  readonly clocks = new Map<string, NodeClock>();
  readonly controllers: ControllerModel[] = [];
  readonly apps = new Map<string, AppModel>();
  readonly store: LeaseStoreModel;
  readonly client: ClientModel;
  readonly auths: AuthoritativeModel[] = [];
  /** production ms a continued process takes to run again (simulator/boot.ts wakeRangeMs) */
  readonly wakeRange: { min: number; max: number };

  constructor(
    readonly scenario: Scenario,
    readonly seed: number,
    readonly leaseBackend: LeaseBackend,
    opts: {
      stopOnViolation?: boolean;
      trace?: boolean;
      controllerOverrides?: ControllerConfigOverrides;
      /** the real run's time scale whose host latencies this run models (default: the scenario's) */
      hostTimeScale?: number;
      /** the simulated operator's approval delay (default: drawn per seed, drawOperatorDelayMs) */
      operatorDelayMs?: number;
    } = {},
  ) {
    this.wakeRange = wakeRangeMs(opts.hostTimeScale ?? scenario.topology.timeScale);
    this.spec = describeTopology();
    this.engine = new Engine({ trace: opts.trace ?? false });
    this.prng = new Prng(seed);
    this.net = new Net(this.engine, this.prng);
    this.monitor = new SafetyMonitor(opts.stopOnViolation ? () => this.engine.stop() : null);
    this.configs = controllerConfigs(scenario, this.spec, opts.controllerOverrides);
    const first = this.configs.get(this.spec.regions[0]!)!;
    this.timings = {
      ...simTimings(first),
      operatorDelayMs: opts.operatorDelayMs ?? drawOperatorDelayMs(seed),
      // a scenario that types operator commands is the operator: nobody else approves
      autoApprove: !scenario.steps.some((s) => s.fault === 'operator'),
    };

    this.boot = drawBootPlan(seed, first.heartbeatMs, this.timings.healthCheckIntervalMs, {
      controllers: this.spec.regions.map((r) => `ctl-${r}`),
      auths: this.spec.regions.map((r) => `auth-${r}`),
    });
    for (const l of this.spec.links) {
      const [lat, jit] = baselineLatency(l);
      this.links.set(l.id, newLink(l.id, Math.max(1, Math.round(lat * this.boot.latencyFactor(l.id))), jit));
    }
    // Every clock starts with its own small drift inside ±ρ/2: real clocks are never exact,
    // and the safety argument must hold for any rates within ±ρ.
    const rho = first.maxClockDriftRate;
    const clockOf = (id: string): NodeClock => {
      const rate = rho > 0 ? (this.prng.float() - 0.5) * rho : 0;
      const c = new NodeClock(0, rate);
      this.clocks.set(id, c);
      return c;
    };

    const initial = scenario.topology.initialPrimary;
    for (const r of this.spec.regions) {
      const app = new AppModel(this, r, clockOf(`app-${r}`));
      this.apps.set(r, app);
      this.add(app);
      const auth = new AuthoritativeModel(this, r, clockOf(`auth-${r}`), initial);
      this.auths.push(auth);
      this.add(auth);
      const ctl = new ControllerModel(
        this,
        r,
        this.configs.get(r)!,
        clockOf(`ctl-${r}`),
        r === initial ? 'primary' : 'standby',
      );
      this.controllers.push(ctl);
      this.add(ctl);
    }
    for (const w of this.spec.witnesses) this.add(new WitnessModel(this, w, clockOf(w)));
    const storeTtlMs = scenario.topology.worker?.leaseTtl ?? first.leaseTtlMs;
    this.store = new LeaseStoreModel(this, leaseBackend, storeTtlMs, clockOf('worker'));
    this.add(this.store);
    this.client = new ClientModel(
      this,
      clockOf('client'),
      scenario.workload.clients,
      scenario.workload.writeInterval,
    );
    this.add(this.client);
  }

  private add(c: Component): void {
    this.components.set(c.proc.id, c);
  }

  link(id: string): LinkState {
    const l = this.links.get(id);
    if (!l) throw new Error(`simulator: unknown link ${id}`);
    return l;
  }

  /** from → to → link, filled on first use: no id string built and hashed per message */
  private readonly linksByEnds = new Map<string, Map<string, LinkState>>();

  linkBetween(from: string, to: string): LinkState {
    let byTo = this.linksByEnds.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.linksByEnds.set(from, byTo);
    }
    let l = byTo.get(to);
    if (l === undefined) {
      l = this.link(`${from}->${to}`);
      byTo.set(to, l);
    }
    return l;
  }

  server(id: string): Server {
    const c = this.components.get(id);
    if (!c) throw new Error(`simulator: unknown component ${id}`);
    return c;
  }

  component(id: string): Component {
    return this.server(id) as Component;
  }

  /** One draw of the host wake latency after SIGCONT, production ms. */
  wakeLatencyMs(): number {
    return wakeLatencyOf(this.wakeRange, this.prng.float());
  }

  proc(id: string): Proc {
    return this.server(id).proc;
  }

  /**
   * Starts every process at its boot time (simulator/boot.ts: the heartbeat and health-check
   * phases vary per seed); called at t=0 after faults scheduled for t=0 took effect. A
   * process paused at its boot time starts on resume; a crashed one starts on its restart.
   */
  start(): void {
    // The operator says who they are: in semi-automatic mode without operator steps, the
    // simulated approver answers every request (the checker's liveness bounds count from its
    // approvals; a scenario's own commands, or nobody, answer otherwise)
    if (this.timings.autoApprove && this.configs.get(this.spec.regions[0]!)!.mode === 'semi-automatic') {
      this.rec.emit({
        kind: 'note',
        t: this.engine.now,
        source: 'operator',
        message: `simulated approver: approves each request ${this.timings.operatorDelayMs} ms after it`,
        data: { approver: 'simulated', delayMs: this.timings.operatorDelayMs },
      });
    }
    const at = (id: string, fn: () => void) => {
      const proc = this.proc(id);
      this.engine.at(this.boot.startAtMs.get(id) ?? 0, () => proc.run(fn, null, proc.incarnation));
    };
    for (const a of this.auths) at(a.proc.id, () => a.warmUp());
    for (const c of this.controllers) at(c.proc.id, () => c.start());
    at('client', () => this.client.start());
  }

  timing(): MetaEvent['timing'] {
    return historyTiming(this.configs.get(this.spec.regions[0]!)!);
  }

  /** The design this run is judged by, and the controller's configured numbers beside it. */
  designSpec(): DesignSpec {
    return simDesignSpec(this.scenario, this.spec, this.timings);
  }

  configured(): ConfiguredNumbers {
    return configuredNumbers(this.configs.get(this.spec.regions[0]!)!);
  }
}
