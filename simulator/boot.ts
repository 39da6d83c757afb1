/**
 * What the real world randomises and a seed must too (issue #13 item 4): when each component
 * boots, so the heartbeat phase relative to the scenario's faults is anywhere in [0, H); when
 * each PowerDNS health-check loop starts (its phase in [0, interval)); and each link's base
 * latency within ±50 % of its nominal value (its jitter bound stays as is).
 *
 * Drawn from its own PRNG stream (derived from the seed), so the plan is a pure function of
 * the seed and the main stream's draws are not shifted by it.
 */
import { Prng } from './prng.ts';

/** Components of one region boot within this spread of each other (process start-up). */
export const BOOT_SPREAD_MS = 1000;

export interface BootPlan {
  /** common phase: the controllers' heartbeats start here (plus their own spread) */
  phaseMs: number;
  /** global ms at which each component starts (controllers, auths, client) */
  startAtMs: Map<string, number>;
  /** factor on each link's nominal base latency */
  latencyFactor: (linkId: string) => number;
}

export function drawBootPlan(
  seed: number,
  heartbeatMs: number,
  healthCheckIntervalMs: number,
  ids: { controllers: string[]; auths: string[] },
): BootPlan {
  const prng = new Prng((seed ^ 0x5bd1e995) >>> 0);
  const phaseMs = prng.int(Math.max(1, heartbeatMs));
  const startAtMs = new Map<string, number>();
  for (const c of ids.controllers) startAtMs.set(c, phaseMs + prng.int(BOOT_SPREAD_MS));
  for (const a of ids.auths) startAtMs.set(a, prng.int(Math.max(1, healthCheckIntervalMs)));
  startAtMs.set('client', phaseMs + prng.int(BOOT_SPREAD_MS));
  const factors = new Map<string, number>();
  const latencyFactor = (linkId: string): number => {
    let f = factors.get(linkId);
    if (f === undefined) {
      f = 0.5 + prng.float();
      factors.set(linkId, f);
    }
    return f;
  };
  return { phaseMs, startAtMs, latencyFactor };
}

/**
 * How long the simulated operator takes to approve a candidacy in semi-automatic mode (when
 * the scenario has no `operator` steps of its own): a person paged, reading, deciding. Drawn
 * once per run, uniformly in this range, from its own stream of the seed (the main stream's
 * draws are not shifted), so a search meets quick and slow approvals; a run may fix it
 * (SimulateOptions.operatorDelayMs). docs/simulator.md "The simulated operator".
 */
export const OPERATOR_DELAY_RANGE_MS = { min: 1000, max: 20_000 } as const;

export function drawOperatorDelayMs(seed: number): number {
  const prng = new Prng((seed ^ 0x0a9e7a70) >>> 0);
  return prng.range(OPERATOR_DELAY_RANGE_MS.min, OPERATOR_DELAY_RANGE_MS.max);
}

/**
 * Host wake latency: a process continued with SIGCONT runs its first handler some real
 * milliseconds later (kernel wake-up, Node's event loop turning over, the timers it owes).
 * Measured on the real topology, a paused primary's controller stood down after SIGCONT in
 * 7–14 ms at time scale 1 and 3–15 ms at time scale 0.1: mostly quick, sometimes slower, so
 * the draw leans to the low end (min + (max − min)·u², u uniform). Host latencies do not
 * shrink with the time scale, so in production ms they are real ms / scale.
 */
export const HOST_WAKE_REAL_MS = { min: 1, max: 30 } as const;

/** The wake-latency range in production ms for a real run at this time scale. */
export function wakeRangeMs(hostTimeScale: number): { min: number; max: number } {
  return {
    min: Math.round(HOST_WAKE_REAL_MS.min / hostTimeScale),
    max: Math.round(HOST_WAKE_REAL_MS.max / hostTimeScale),
  };
}

/** One wake latency in [min, max] production ms from a uniform draw u in [0, 1). */
export function wakeLatencyOf(range: { min: number; max: number }, u: number): number {
  return range.min + Math.round((range.max - range.min) * u * u);
}
