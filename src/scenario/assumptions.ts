/**
 * One rule for both executors (the simulator labels its runs with it, and so does the real
 * runner, src/runner/execute.ts): is a schedule inside the assumptions the controller's safety argument makes
 * (reference §3.4, src/controller/config.ts safeWindowMs)? Decided from the schedule alone,
 * before the run, so a label never depends on the outcome:
 *   - every clock's rate stays within ±maxClockDriftRate of true time (ρ);
 *   - no clock steps backwards (the controllers' and apps' monotonic clocks) and the
 *     Worker's clock never steps forward (that expires leases early); a clock-offset is a
 *     wall-clock step, felt by the Worker's lease expiry and by the signature timestamps;
 *   - every controller's wall clock stays within the Worker's signature window
 *     (SIGNATURE_CLOCK_SKEW_MS) of the Worker's: the request signing assumes NTP;
 *   - a holder-issued action reaches its app within maxDelayMs (d): no added latency on
 *     ctl-r->app-r beyond d;
 *   - an app is never paused longer than maxPauseMs (p): a paused app applies a queued
 *     extend late and measures its window from then. Its stall is the pause plus the host's
 *     wake latency after SIGCONT (simulator/boot.ts), so both count.
 * Everything else (partitions, loss, crashes, controller pauses of any length, witness and
 * KV faults) is within the assumptions: the lease and the safe window must cope.
 */
import { SIGNATURE_CLOCK_SKEW_MS } from '../contracts/spec.ts';
import type { ControllerConfig } from '../controller/types.ts';
import type { FaultStep } from './schema.ts';
import { selectLinks, type TopologySpec } from './topology-description.ts';
import { stepParams } from './validate.ts';

export interface Assessment {
  withinAssumptions: boolean;
  notes: string[];
}

function targets(step: FaultStep): string[] {
  return Array.isArray(step.target) ? step.target : [step.target];
}

/** @param wakeMaxMs the longest host wake latency after a pause, production ms */
export function assessSchedule(
  steps: FaultStep[],
  config: ControllerConfig,
  spec: TopologySpec,
  wakeMaxMs = 0,
): Assessment {
  const notes: string[] = [];
  const rho = config.maxClockDriftRate;
  const appLinks = new Set(spec.regions.map((r) => `ctl-${r}->app-${r}`));
  steps.forEach((step, i) => {
    const p = stepParams(step);
    const where = `step ${i} (${step.fault} ${targets(step).join(',')})`;
    switch (step.fault) {
      case 'clock-drift':
        if (Math.abs(p.rate) > rho)
          notes.push(`${where}: drift rate ${p.rate} exceeds maxClockDriftRate ${rho}`);
        break;
      case 'clock-jump':
      case 'clock-offset': {
        const delta = step.fault === 'clock-jump' ? p.jumpMs : p.offsetMs;
        // An offset steps only the wall clock, which only the Worker's lease expiry reads.
        // In force from t=0 it is no step at all; reverting one later is a step back.
        const jumps = step.fault === 'clock-offset' && step.at === 0 ? [] : [delta];
        if (step.fault === 'clock-offset' && step.for !== undefined) jumps.push(-delta);
        for (const t of targets(step)) {
          if (step.fault === 'clock-offset' && t !== 'worker') continue;
          for (const j of jumps) {
            if (j < 0) notes.push(`${where}: ${t}'s clock steps back ${-j} ms (monotonic clocks never do)`);
            if (j > 0 && t === 'worker')
              notes.push(`${where}: the Worker's clock jumps ${j} ms ahead (leases expire early)`);
          }
        }
        break;
      }
      case 'latency': {
        const added = p.latencyMs + p.jitterMs;
        if (added > config.maxDelayMs) {
          const hit = targets(step).flatMap((sel) => selectLinks(spec, sel).map((l) => l.id));
          const bad = hit.filter((id) => appLinks.has(id));
          if (bad.length > 0) {
            notes.push(
              `${where}: ${added} ms added on ${bad.join(',')} exceeds maxDelayMs ${config.maxDelayMs}`,
            );
          }
        }
        break;
      }
      case 'pause':
        for (const t of targets(step)) {
          if (t.startsWith('app-') && (step.for === undefined || step.for + wakeMaxMs > config.maxPauseMs)) {
            const stall =
              step.for === undefined ? 'until the end' : `${step.for} ms + up to ${wakeMaxMs} ms to wake`;
            notes.push(`${where}: ${t} paused ${stall}, longer than maxPauseMs ${config.maxPauseMs}`);
          }
        }
        break;
      default:
        break;
    }
  });
  notes.push(...wallClockSkewNotes(steps, config, spec));
  return { withinAssumptions: notes.length === 0, notes };
}

/**
 * The lease requests are signed with the sender's wall clock and the Worker refuses a skew
 * over SIGNATURE_CLOCK_SKEW_MS (src/worker/signing.ts): the design assumes wall clocks kept within
 * that of each other (NTP). Clock faults step them (clock-offset, clock-jump); bounded here
 * conservatively by the sum of a controller's steps and the Worker's, less two transits.
 */
function wallClockSkewNotes(steps: FaultStep[], config: ControllerConfig, spec: TopologySpec): string[] {
  const stepped = new Map<string, number>();
  for (const step of steps) {
    if (step.fault !== 'clock-jump' && step.fault !== 'clock-offset') continue;
    const p = stepParams(step);
    const delta = Math.abs(step.fault === 'clock-jump' ? p.jumpMs : p.offsetMs);
    for (const t of targets(step)) stepped.set(t, (stepped.get(t) ?? 0) + delta);
  }
  const limitMs = SIGNATURE_CLOCK_SKEW_MS - 2 * config.maxDelayMs;
  const workerMs = stepped.get('worker') ?? 0;
  const notes: string[] = [];
  for (const r of spec.regions) {
    const skewMs = (stepped.get(`ctl-${r}`) ?? 0) + workerMs;
    if (skewMs >= limitMs)
      notes.push(
        `clock faults may put ctl-${r}'s wall clock ${skewMs} ms off the Worker's: its signed requests are refused beyond ${SIGNATURE_CLOCK_SKEW_MS} ms`,
      );
  }
  return notes;
}
