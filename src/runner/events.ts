/**
 * Turns the JSONL logs of the real topology into history events:
 * - app logs (src/topology/app/server.ts), stamped with CLOCK_MONOTONIC → exact global t;
 * - controller EVENTS_FILE lines (src/agent): history records already translated by the
 *   driver, stamped here with the global t the collector computed (process-events.ts);
 *   their localMs fields are kept as the controller wrote them.
 */
import type { NewEvent } from '../contracts/history.ts';
import { CONTROLLER_RECORD_KINDS, type ControllerRecord } from '../controller/history-translation.ts';

export function appEvent(raw: Record<string, unknown>, tOfHr: (hrMs: number) => number): NewEvent | null {
  const hrMs = raw.hrMs;
  const region = raw.region;
  if (typeof hrMs !== 'number' || typeof region !== 'string') return null;
  const t = tOfHr(hrMs);
  if (raw.kind === 'app-authority') {
    const op = raw.op;
    if (op !== 'grant' && op !== 'revoke' && op !== 'reject') return null;
    return {
      kind: 'app-authority',
      t,
      region,
      op,
      epoch: typeof raw.epoch === 'number' ? raw.epoch : -1,
      ...(typeof raw.untilHrMs === 'number' ? { untilT: tOfHr(raw.untilHrMs) } : {}),
      ...(typeof raw.reason === 'string' ? { reason: raw.reason } : {}),
    };
  }
  if (raw.kind === 'app-write') {
    return {
      kind: 'app-write',
      t,
      region,
      client: typeof raw.client === 'string' ? raw.client : 'unknown',
      epoch: typeof raw.epoch === 'number' ? raw.epoch : null,
      accepted: raw.accepted === true,
      ...(typeof raw.reason === 'string' ? { reason: raw.reason } : {}),
    };
  }
  return null;
}

/**
 * One line of the agent's EVENTS_FILE: `{wallMs, event}`, where `event` is a history record
 * the shared driver translated (src/controller/history-translation.ts) — everything but `t`.
 * Here it only gets its time and its witnesses' names: the agent knows a witness by the
 * address it dials ("host:port" of its ctl->wN proxy), the history by topology id (w1..w3).
 */
export function controllerEvent(
  raw: Record<string, unknown>,
  t: number,
  witnessIdOf: (agentId: string) => string,
): NewEvent | null {
  const e = raw.event as ControllerRecord | undefined;
  if (typeof e !== 'object' || e === null || !CONTROLLER_RECORD_KINDS.has(e.kind)) return null;
  if (e.kind === 'witness') return { ...e, t, witness: witnessIdOf(e.witness) };
  if (e.kind === 'promotion-evidence') {
    const votes = Object.fromEntries(Object.entries(e.votes).map(([id, v]) => [witnessIdOf(id), v]));
    return { ...e, t, votes };
  }
  return { ...e, t } as NewEvent;
}
