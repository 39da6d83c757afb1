/**
 * Production timings and how the real topology scales them for CI.
 *
 * Production: lease TTL 30 s, heartbeat 10 s, PowerDNS health-check interval 5 s. A run at
 * time scale s multiplies every duration by s (0.1 → TTL 3 s, heartbeat 1 s). Exceptions,
 * because real processes do not scale:
 * - PowerDNS `lua-health-checks-interval` is whole seconds (min 1): max(1, round(5 s · s)).
 *   At 0.1 it is 1 s instead of 0.5 s, so DNS follows a failover up to ~0.5 s later than
 *   a perfectly scaled system would (the lease, not DNS, is what keeps writes safe).
 *   ifurlextup's check timeout is also whole seconds: 1 s.
 * - The controller's pause allowance p and delivery allowance d get floors (300 ms, 100 ms):
 *   on a shared 2-core machine a Node event-loop stall or a proxy hop can exceed T/15 = 200 ms
 *   and T/60 = 50 ms at scale 0.1, and the safe window L must cover what really happens.
 * Rates (clock drift) and counts (quorum, failure threshold) are not scaled.
 */
import { defaultControllerConfig, failoverBoundMs, safeWindowMs } from '../controller/core.ts';
import type { ControllerConfig } from '../controller/types.ts';

export const PRODUCTION = {
  leaseTtlMs: 30_000,
  heartbeatMs: 10_000,
  pdnsHealthCheckIntervalMs: 5_000,
  /** legacy-kv: KV's 60 s minimum expirationTtl and its 60 s read cache */
  kvMinExpirationTtlMs: 60_000,
  kvCacheTtlMs: 60_000,
} as const;

export const REAL_MIN_PAUSE_MS = 300;
export const REAL_MIN_DELAY_MS = 100;

/** Scenario controller overrides (production ms) as accepted by the schema. */
export interface ControllerOverridesInput {
  leaseTtlMs?: number;
  heartbeatMs?: number;
  maxClockDriftRate?: number;
  maxPauseMs?: number;
  maxDelayMs?: number;
  peerCheckIntervalMs?: number;
  peerFailureThreshold?: number;
  witnessQuorum?: number;
  unknownWitnessPolicy?: 'abstain' | 'count-unreachable';
  mode?: 'automatic' | 'semi-automatic' | 'manual';
}

export interface ScaledTiming {
  timeScale: number;
  pdnsHealthCheckIntervalS: number;
  kvMinExpirationTtlMs: number;
  kvCacheTtlMs: number;
  /** per region */
  controllers: Record<string, ControllerConfig>;
  safeWindowMs: number;
  failoverBoundMs: number;
}

export const scaleMs = (ms: number, timeScale: number): number => Math.max(1, Math.round(ms * timeScale));

export function scaledTiming(opts: {
  timeScale: number;
  regions: string[];
  witnesses: string[];
  overrides?: ControllerOverridesInput;
}): ScaledTiming {
  const s = opts.timeScale;
  const o = opts.overrides ?? {};
  const leaseTtlMs = scaleMs(o.leaseTtlMs ?? PRODUCTION.leaseTtlMs, s);
  const heartbeatMs = scaleMs(o.heartbeatMs ?? PRODUCTION.heartbeatMs, s);
  const controllers: Record<string, ControllerConfig> = {};
  for (const region of opts.regions) {
    const peerRegion = opts.regions.find((r) => r !== region) ?? region;
    const base = defaultControllerConfig({
      region,
      peerRegion,
      witnesses: opts.witnesses,
      leaseTtlMs,
      heartbeatMs,
    });
    controllers[region] = defaultControllerConfig({
      region,
      peerRegion,
      witnesses: opts.witnesses,
      leaseTtlMs,
      heartbeatMs,
      maxClockDriftRate: o.maxClockDriftRate ?? base.maxClockDriftRate,
      maxPauseMs:
        o.maxPauseMs !== undefined ? scaleMs(o.maxPauseMs, s) : Math.max(REAL_MIN_PAUSE_MS, base.maxPauseMs),
      maxDelayMs:
        o.maxDelayMs !== undefined ? scaleMs(o.maxDelayMs, s) : Math.max(REAL_MIN_DELAY_MS, base.maxDelayMs),
      ...(o.peerCheckIntervalMs !== undefined
        ? { peerCheckIntervalMs: scaleMs(o.peerCheckIntervalMs, s) }
        : {}),
      ...(o.peerFailureThreshold !== undefined ? { peerFailureThreshold: o.peerFailureThreshold } : {}),
      ...(o.witnessQuorum !== undefined ? { witnessQuorum: o.witnessQuorum } : {}),
      ...(o.unknownWitnessPolicy !== undefined ? { unknownWitnessPolicy: o.unknownWitnessPolicy } : {}),
      ...(o.mode !== undefined ? { mode: o.mode } : {}),
    });
  }
  const first = controllers[opts.regions[0]!]!;
  return {
    timeScale: s,
    pdnsHealthCheckIntervalS: Math.max(1, Math.round((PRODUCTION.pdnsHealthCheckIntervalMs * s) / 1000)),
    kvMinExpirationTtlMs: scaleMs(PRODUCTION.kvMinExpirationTtlMs, s),
    kvCacheTtlMs: scaleMs(PRODUCTION.kvCacheTtlMs, s),
    controllers,
    safeWindowMs: safeWindowMs(first),
    failoverBoundMs: failoverBoundMs(first),
  };
}
