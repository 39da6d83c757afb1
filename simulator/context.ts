/**
 * What every model shares: the engine, the one PRNG, the network, the recorder and the
 * topology. Models find each other through `server(id)` and links through `link(id)`,
 * using the ids of src/scenario/topology-description.ts.
 */
import type { TopologySpec } from '../src/scenario/topology-description.ts';
import type { Coverage } from './coverage.ts';
import type { Engine } from './engine.ts';
import type { SafetyMonitor } from './monitor.ts';
import type { LinkState, Net, Server } from './net.ts';
import type { Prng } from './prng.ts';
import type { Recorder } from './recorder.ts';

/** Timeouts and periods of the adapters and models (ms). */
export interface SimTimings {
  /** controller → Worker HTTP request timeout (the core's leaseRequestTimeoutMs) */
  leaseRequestTimeoutMs: number;
  /** controller → witness DNS query timeout */
  dnsQueryTimeoutMs: number;
  /** controller → peer /healthz probe timeout */
  peerProbeTimeoutMs: number;
  /** controller → app promote/extend/demote timeout */
  appRequestTimeoutMs: number;
  /** controller → PowerDNS API publish timeout */
  publishTimeoutMs: number;
  /** PowerDNS lua-health-checks-interval */
  healthCheckIntervalMs: number;
  /** ifurlextup timeout='1' */
  healthCheckTimeoutMs: number;
  /** unbound tcp-auth-query-timeout */
  witnessUpstreamTimeoutMs: number;
  /** unbound infra-host-ttl: how long a failed upstream is tried last */
  witnessInfraHostTtlMs: number;
  /** client → app write timeout, client → resolver timeout */
  clientTimeoutMs: number;
  /**
   * semi-automatic mode: the simulated operator approves this long after being asked (drawn
   * per run, simulator/boot.ts drawOperatorDelayMs)
   */
  operatorDelayMs: number;
  /** the simulated operator approves at all: not when the scenario's own `operator` steps are the operator */
  autoApprove: boolean;
  /** legacy-kv: the design TTL, KV's minimum expiration and the per-location cacheTtl */
  kvDesignTtlMs: number;
  kvMinExpirationMs: number;
  kvCacheTtlMs: number;
}

/** Where a model sends to: the link and the server at its end. */
export interface Route {
  link: LinkState;
  server: Server;
}

/**
 * A model's routes, resolved on first use and kept (links and components are fixed for a
 * run): a message costs one lookup by a constant key instead of building ids and looking up
 * the link and the server each time.
 */
export class Routes {
  private readonly byKey = new Map<string, Route>();

  constructor(
    private readonly sim: SimContext,
    private readonly from: string,
  ) {}

  /** the route over link from→`linkTo` to component `serverId` (default: the link's end) */
  to(linkTo: string, serverId: string = linkTo): Route {
    let r = this.byKey.get(linkTo);
    if (r === undefined) {
      r = { link: this.sim.linkBetween(this.from, linkTo), server: this.sim.server(serverId) };
      this.byKey.set(linkTo, r);
    }
    return r;
  }
}

export interface SimContext {
  engine: Engine;
  prng: Prng;
  net: Net;
  rec: Recorder;
  spec: TopologySpec;
  monitor: SafetyMonitor;
  coverage: Coverage;
  timings: SimTimings;
  link(id: string): LinkState;
  /** link(`${from}->${to}`) without building the id: the models' hot path */
  linkBetween(from: string, to: string): LinkState;
  server(id: string): Server;
}
