/**
 * A synthetic history for the checker's unit tests: a sim meta with the design spec at
 * T = 30 s (regions a and b, three witnesses, a the initial primary), then the given events
 * in time order with their seq numbers.
 */
import { checkHistory } from '../../../src/check/checker.ts';
import type { CheckOutcome } from '../../../src/check/verdict.ts';
import type { HistoryEvent, NewEvent } from '../../../src/contracts/history.ts';
import { type DesignSpec, designInput, designSpec } from '../../../src/contracts/spec.ts';

export const SPEC_T30: DesignSpec = designSpec(designInput({ witnessCount: 3, leaseTtlMs: 30_000 }), 'test');

export function history(events: NewEvent[], spec: DesignSpec = SPEC_T30): HistoryEvent[] {
  const meta = {
    kind: 'meta',
    t: 0,
    scenario: 't',
    executor: 'sim',
    seed: 1,
    regions: ['a', 'b'],
    initialPrimary: 'a',
    witnesses: ['w1', 'w2', 'w3'],
    timing: { leaseTtlMs: 30_000, heartbeatMs: 10_000 },
    spec,
  } as unknown as NewEvent;
  return [meta, ...[...events].sort((x, y) => x.t - y.t)].map((e, seq) => ({ ...e, seq }) as HistoryEvent);
}

/** The named outcome of checking `events` (after the meta). */
export function outcomeOf(name: string, events: NewEvent[], spec: DesignSpec = SPEC_T30): CheckOutcome {
  return checkHistory(history(events, spec)).outcomes.find((o) => o.name === name)!;
}

/** An app's promote (or other) grant of authority under `epoch`, for 27 s by default (L at T = 30 s). */
export function appGrant(
  t: number,
  region: string,
  epoch: number,
  untilT = t + 27_000,
  reason = 'promote',
): NewEvent {
  return { kind: 'app-authority', t, region, op: 'grant', epoch, untilT, reason };
}

/** The lease store's log entry for `region`'s release of `epoch`: the lease is free after it. */
export function storeRelease(t: number, region: string, epoch: number): NewEvent {
  return {
    kind: 'lease-store',
    t,
    op: 'release',
    region,
    holder: null,
    epoch,
    expiresAt: null,
    storeNowMs: t,
  };
}

/** An operator note: `step` marks a command a scenario step typed (not the simulated approver). */
export function operatorNote(t: number, region: string, command: string, step?: string): NewEvent {
  return {
    kind: 'note',
    t,
    source: 'operator',
    message: `${command} ctl-${region}`,
    data: { region, command, ...(step ? { step } : {}) },
  };
}

/** The lease store's log entry for region b's acquire, refused while a holds epoch 1. */
export function refusedAcquire(t: number): NewEvent {
  return {
    kind: 'lease-store',
    t,
    op: 'refuse',
    requested: 'acquire',
    region: 'b',
    holder: 'a',
    epoch: 1,
    expiresAt: t + 20_000,
    storeNowMs: t,
  };
}

/**
 * An executor's fault event (start or end), confirmed; `extra` sets the id (default
 * `f-<target>`) and the links or components it acted on.
 */
export function faultEvent(
  phase: 'start' | 'end',
  t: number,
  target: string,
  fault: string,
  extra: { id?: string; links?: string[]; components?: string[] } = {},
): NewEvent {
  const { id = `f-${target}`, ...acted } = extra;
  return { kind: 'fault', t, phase, id, fault, target, verified: true, ...acted };
}
