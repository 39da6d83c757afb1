/**
 * The write-authority webhook, both sides of the wire in one place: the body a controller
 * POSTs to its region's resource (`authorityHookCall`, sent by src/agent/adapters.ts
 * runHooks and by the simulator's controller shell) and how the resource reads a body into a
 * command (`readAuthorityCommand`, used by the app stand-in src/topology/app/server.ts and by
 * the simulator's app model). A demote carries its reason: the checker reads it off the app's
 * revoke (a shutdown or a failed resource is not a plain hold-down, docs/invariants.md), so
 * both executors must put it on the wire.
 */

/** What the webhook receives (JSON): {action, epoch, validityMs, region[, reason]}. */
export interface AuthorityHookCall {
  action: 'promote' | 'extend' | 'demote';
  epoch: number;
  validityMs: number;
  region: string;
  /** demote only: why the controller gave up write authority */
  reason?: string;
}

/** The body for one resource call of the controller of `region`. */
export function authorityHookCall(
  call: { action: AuthorityHookCall['action']; epoch: number; validityMs: number; reason?: string },
  region: string,
): AuthorityHookCall {
  const hook: AuthorityHookCall = {
    action: call.action,
    epoch: call.epoch,
    validityMs: call.validityMs,
    region,
  };
  if (call.action === 'demote' && call.reason) hook.reason = call.reason;
  return hook;
}

/** A command the resource's fence decides. */
export type AuthorityCommand =
  | { op: 'promote' | 'extend'; epoch: number; validityMs: number }
  | { op: 'demote'; epoch: number | null; reason: string };

/**
 * A request body read as a command; `action` is the body's own for the webhook
 * (POST /authority), or the path's (POST /promote, /extend, /demote). An error names what is
 * wrong (the resource answers 400).
 */
export function readAuthorityCommand(
  body: Record<string, unknown>,
  action: unknown = body.action,
): AuthorityCommand | { error: string } {
  if (action === 'promote' || action === 'extend') {
    const { epoch, validityMs } = body;
    if (
      typeof epoch !== 'number' ||
      !Number.isFinite(epoch) ||
      typeof validityMs !== 'number' ||
      validityMs < 0
    ) {
      return { error: 'expected {"epoch": number, "validityMs": number ≥ 0}' };
    }
    return { op: action, epoch, validityMs };
  }
  if (action === 'demote') {
    return {
      op: 'demote',
      epoch: typeof body.epoch === 'number' ? body.epoch : null,
      reason: typeof body.reason === 'string' ? body.reason : '',
    };
  }
  return { error: 'action must be promote, extend or demote' };
}
