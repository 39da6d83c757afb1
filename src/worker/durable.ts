/**
 * Lease Worker, durable variant (the safe one). Module Worker entry: bundled by
 * src/worker/bundle.ts for miniflare, deployed by wrangler.toml.
 *
 * One Durable Object per lease name (idFromName(lease)) holds {holder, epoch, expiresAt}
 * in its transactional storage. Each request is one read-modify-write inside the object:
 * a single storage.get of the state and the nonce, pure computation (lease-state.ts), a
 * single storage.put of the new state and the consumed nonce. There is no await on
 * anything but storage in between, so the input gate keeps other requests out (the RMW is
 * atomic), and the output gate holds the response until the write is durable, so a client
 * never sees a grant that could be lost. Expiry is judged by the Worker's clock only.
 *
 * Bindings: LEASE (Durable Object namespace → LeaseObject), LEASE_SECRETS (secret, JSON
 * {"region":"secret"}), LEASE_TTL_MS (var, default 30000).
 */
import type { DurableObjectNamespace, DurableObjectState, ExecutionContext } from './cf-types.ts';
import { DEFAULT_LEASE_TTL_MS } from './config.ts';
import { type Backend, type BackendResult, handleLeaseRequest, internalError, jsonResponse } from './http.ts';
import * as lease from './lease-state.ts';
import { INITIAL_LEASE_STATE, type LeaseState } from './lease-state.ts';
import { isStale, maybePrune, type NonceClaim, nonceEntries, nonceKey, PruneSchedule } from './nonces.ts';
import { intVar, type LeaseOp } from './protocol.ts';

const STATE_KEY = 'lease';

interface DurableEnv {
  LEASE: DurableObjectNamespace;
  LEASE_SECRETS: unknown;
  LEASE_TTL_MS?: string;
}

/** What the front Worker sends to the object (internal; never exposed to clients). */
interface ObjectCommand {
  op: LeaseOp;
  region: string;
  epoch?: number;
  claim: NonceClaim;
}

export class LeaseObject {
  private readonly prune = new PruneSchedule();
  private readonly ttlMs: number;

  constructor(
    private readonly ctx: DurableObjectState,
    env: DurableEnv,
  ) {
    this.ttlMs = intVar(env.LEASE_TTL_MS, DEFAULT_LEASE_TTL_MS, 'LEASE_TTL_MS');
  }

  async fetch(request: Request): Promise<Response> {
    // Read the command before touching storage: request-body I/O must not sit between
    // the storage read and write.
    const cmd = (await request.json()) as ObjectCommand;
    const result = await this.execute(cmd);
    return jsonResponse(200, result);
  }

  private async execute(cmd: ObjectCommand): Promise<BackendResult> {
    const storage = this.ctx.storage;
    const key = nonceKey(cmd.claim.nonce);
    const stored = await storage.get([STATE_KEY, key]);
    // ---- no await on non-storage I/O from here to the put ----
    const nowMs = Date.now();
    if (stored.has(key)) return { kind: 'replay' };
    if (isStale(cmd.claim, nowMs)) return { kind: 'stale' };
    const raw = stored.get(STATE_KEY);
    const state: LeaseState = raw === undefined ? INITIAL_LEASE_STATE : this.checkState(raw);

    let next = state;
    let body: BackendResult & { kind: 'ok' };
    switch (cmd.op) {
      case 'acquire': {
        const t = lease.acquire(state, cmd.region, nowMs, this.ttlMs);
        next = t.state;
        body = { kind: 'ok', body: t.response };
        break;
      }
      case 'renew': {
        const t = lease.renew(state, cmd.region, cmd.epoch ?? -1, nowMs, this.ttlMs);
        next = t.state;
        body = { kind: 'ok', body: t.response };
        break;
      }
      case 'release': {
        const t = lease.release(state, cmd.region, cmd.epoch ?? -1, nowMs, this.ttlMs);
        next = t.state;
        body = { kind: 'ok', body: t.response };
        break;
      }
      case 'status':
        body = { kind: 'ok', body: lease.status(state, nowMs, this.ttlMs) };
        break;
    }
    // One put: the lease change (if any) and the consumed nonce commit together.
    const entries = nonceEntries(cmd.claim);
    if (next !== state) entries[STATE_KEY] = next;
    await storage.put(entries);
    // ---- end of the read-modify-write ----
    await maybePrune(storage, this.prune, nowMs);
    return body;
  }

  private checkState(raw: unknown): LeaseState {
    // Corrupt state must never be "repaired" to epoch 0: that would reuse epochs.
    if (!lease.isLeaseState(raw)) throw new Error(`corrupt lease state in storage: ${JSON.stringify(raw)}`);
    return raw;
  }
}

function durableBackend(env: DurableEnv): Backend {
  return {
    variant: 'durable',
    async execute(request, auth) {
      const stub = env.LEASE.get(env.LEASE.idFromName(request.lease));
      const cmd: ObjectCommand = {
        op: request.op,
        region: auth.region,
        claim: { nonce: auth.nonce, timestampMs: auth.timestampMs },
      };
      if (request.epoch !== undefined) cmd.epoch = request.epoch;
      const res = await stub.fetch('https://lease-object/execute', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cmd),
      });
      if (!res.ok) throw new Error(`lease object answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as BackendResult;
    },
  };
}

export default {
  async fetch(request: Request, env: DurableEnv, _ctx: ExecutionContext): Promise<Response> {
    try {
      return await handleLeaseRequest(request, env.LEASE_SECRETS, durableBackend(env));
    } catch (err) {
      return internalError(err, 'durable');
    }
  },
};
