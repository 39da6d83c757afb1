/**
 * The design a real run is judged by (src/contracts/spec.ts), from the scenario and the real
 * topology's documented timing (src/topology/timing.ts): production numbers scaled by the
 * time scale, the real topology's floors on p and d, PowerDNS's whole-second health-check
 * interval, the witnesses of the topology (quorum = majority). Never from the controller's
 * config: a controller started with other numbers (e.g. QUORUM=1) is judged by this.
 */
import { type DesignSpec, designInput, designSpec } from '../contracts/spec.ts';
import type { Scenario } from '../scenario/schema.ts';
import { PRODUCTION, REAL_MIN_DELAY_MS, REAL_MIN_PAUSE_MS, scaleMs } from '../topology/timing.ts';

export function realDesignSpec(opts: {
  scenario: Scenario;
  timeScale: number;
  witnessCount: number;
  healthCheckIntervalS: number;
  /**
   * How often the runner polls the lease store's status, or null when the history holds the
   * store's own log (the durable Worker's GET /observations: exact, src/runner/store-log.ts).
   */
  leaseStorePollMs: number | null;
}): DesignSpec {
  const s = opts.timeScale;
  const o = opts.scenario.topology.controller;
  const leaseTtlMs = scaleMs(o.leaseTtlMs ?? PRODUCTION.leaseTtlMs, s);
  const heartbeatMs = scaleMs(o.heartbeatMs ?? PRODUCTION.heartbeatMs, s);
  return designSpec(
    designInput({
      witnessCount: opts.witnessCount,
      leaseTtlMs,
      heartbeatMs,
      ...(o.maxClockDriftRate !== undefined ? { maxClockDriftRate: o.maxClockDriftRate } : {}),
      maxPauseMs:
        o.maxPauseMs !== undefined
          ? scaleMs(o.maxPauseMs, s)
          : Math.max(REAL_MIN_PAUSE_MS, Math.round(leaseTtlMs / 15)),
      maxDelayMs:
        o.maxDelayMs !== undefined
          ? scaleMs(o.maxDelayMs, s)
          : Math.max(REAL_MIN_DELAY_MS, Math.round(leaseTtlMs / 60)),
      ...(o.peerCheckIntervalMs !== undefined
        ? { peerCheckIntervalMs: scaleMs(o.peerCheckIntervalMs, s) }
        : {}),
      ...(o.peerFailureThreshold !== undefined ? { peerFailureThreshold: o.peerFailureThreshold } : {}),
      ...(o.mode !== undefined ? { controllerMode: o.mode } : {}),
      healthCheckIntervalMs: opts.healthCheckIntervalS * 1000,
      // ifurlextup's check timeout is whole seconds: 1 s
      healthCheckTimeoutMs: 1000,
    }),
    `scenario + real topology at time scale ${s}`,
    opts.leaseStorePollMs === null
      ? { precision: 'exact', intervalMs: 0 }
      : { precision: 'polled', intervalMs: opts.leaseStorePollMs },
  );
}
