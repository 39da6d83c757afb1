/**
 * Turns the JSONL logs of the real topology into history events:
 * - app logs (src/topology/app/server.ts), stamped with CLOCK_MONOTONIC → exact global t;
 * - controller EVENTS_FILE lines (src/agent), stamped with the time the harness read them
 *   (the file is polled every 20 ms; a controller's own clock may be faked, so its stamps
 *   cannot be converted) — their localMs fields are kept as the controller wrote them.
 */
import type { NewEvent } from '../check/history.ts';

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
 * One line of the agent's EVENTS_FILE (src/agent/runtime.ts `record`): every fed input and
 * every emitted action, with the controller's view after the step:
 *   {localMs, wallMs, region, kind: 'input'|'action', input|action, role, heldEpoch, safeUntilLocalMs}
 * mapped to history events (zero or more per line):
 *   action event{role|promotion-evidence|witness|peer}  → role / promotion-evidence / witness / peer-probe
 *   action promote|extend|demote|publish|lease-renew    → act (safeUntilLocalMs = the view after the step)
 *   action lease-acquire|renew|release|status           → lease (phase sent)
 *   input lease-result                                  → lease (phase result)
 *   action event{log} at warn/error                     → note
 * Witness ids are renamed: the agent knows its witnesses by the address it dials ("host:port"
 * of its ctl->wN proxy), the history by topology id (w1..w3).
 */
export function controllerEvents(
  raw: Record<string, unknown>,
  region: string,
  peerRegion: string,
  t: number,
  witnessIdOf: (agentId: string) => string,
): NewEvent[] {
  const localMs = typeof raw.localMs === 'number' ? raw.localMs : 0;
  const safeUntil = typeof raw.safeUntilLocalMs === 'number' ? raw.safeUntilLocalMs : null;
  const out: NewEvent[] = [];
  if (raw.kind === 'input') {
    const input = raw.input as Record<string, unknown> | undefined;
    if (input?.type === 'lease-result') {
      const op = input.op as 'acquire' | 'renew' | 'release' | 'status';
      const granted = input.granted === true;
      out.push({
        kind: 'lease',
        t,
        region,
        op,
        phase: 'result',
        ok: input.ok === true && (op === 'acquire' || op === 'renew' ? granted : true),
        epoch: typeof input.epoch === 'number' ? input.epoch : null,
        holder: typeof input.holder === 'string' ? input.holder : null,
        ...(typeof input.error === 'string' ? { error: input.error } : {}),
        sentLocalMs: typeof input.sentAtMs === 'number' ? input.sentAtMs : localMs,
        localMs,
      });
    }
    return out;
  }
  if (raw.kind !== 'action') return out;
  const a = raw.action as Record<string, unknown> | undefined;
  if (!a || typeof a.type !== 'string') return out;
  const epoch = typeof a.epoch === 'number' ? a.epoch : null;
  switch (a.type) {
    case 'event': {
      const e = a.event as Record<string, unknown> | undefined;
      if (!e) break;
      if (e.kind === 'role') {
        out.push({
          kind: 'role',
          t,
          region,
          from: e.from as never,
          to: e.to as never,
          reason: String(e.reason ?? ''),
          epoch: typeof e.epoch === 'number' ? e.epoch : null,
          localMs,
        });
      } else if (e.kind === 'promotion-evidence') {
        const votes: Record<string, never> = {};
        for (const [k, v] of Object.entries((e.votes ?? {}) as Record<string, never>))
          votes[witnessIdOf(k)] = v;
        out.push({
          kind: 'promotion-evidence',
          t,
          region,
          epoch: Number(e.epoch),
          peerFailures: Number(e.peerFailures ?? 0),
          votes,
          unreachableVotes: Number(e.unreachableVotes ?? 0),
          quorum: Number(e.quorum ?? 0),
          // the core emits evidence in the step where the lease was granted
          leaseGranted: true,
          ...(e.approvedBy === 'automatic' || e.approvedBy === 'operator'
            ? { approvedBy: e.approvedBy }
            : {}),
          ...(typeof e.basis === 'string' ? { basis: e.basis as never } : {}),
        });
      } else if (e.kind === 'witness') {
        out.push({
          kind: 'witness',
          t,
          region,
          witness: witnessIdOf(String(e.witness)),
          target: peerRegion,
          verdict: e.verdict as never,
          ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
        });
      } else if (e.kind === 'peer') {
        out.push({
          kind: 'peer-probe',
          t,
          region,
          ok: e.ok === true,
          consecutiveFailures: Number(e.consecutiveFailures ?? 0),
        });
      } else if (e.kind === 'log' && (e.level === 'warn' || e.level === 'error')) {
        out.push({ kind: 'note', t, source: `ctl-${region}`, message: String(e.message ?? '') });
      }
      break;
    }
    case 'promote':
    case 'extend':
    case 'demote':
      if (epoch === null) break;
      out.push({
        kind: 'act',
        t,
        region,
        action: a.type,
        epoch,
        localMs,
        safeUntilLocalMs: safeUntil,
        ...(typeof a.validityMs === 'number' ? { validityMs: a.validityMs } : {}),
      });
      break;
    case 'publish':
      if (epoch === null) break;
      out.push({
        kind: 'act',
        t,
        region,
        action: 'publish',
        epoch,
        localMs,
        safeUntilLocalMs: safeUntil,
        ...(typeof a.activeRegion === 'string' ? { activeRegion: a.activeRegion } : {}),
      });
      break;
    case 'lease-renew':
      out.push({
        kind: 'lease',
        t,
        region,
        op: 'renew',
        phase: 'sent',
        epoch,
        sentLocalMs: Number(a.sentAtMs ?? localMs),
        localMs,
      });
      if (epoch !== null)
        out.push({ kind: 'act', t, region, action: 'renew', epoch, localMs, safeUntilLocalMs: safeUntil });
      break;
    case 'lease-acquire':
    case 'lease-release':
    case 'lease-status':
      out.push({
        kind: 'lease',
        t,
        region,
        op: a.type.slice(6) as 'acquire' | 'release' | 'status',
        phase: 'sent',
        ...(epoch !== null ? { epoch } : {}),
        sentLocalMs: Number(a.sentAtMs ?? localMs),
        localMs,
      });
      break;
    default:
      break;
  }
  return out;
}
