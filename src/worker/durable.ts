/**
 * Lease Worker, durable variant (the safe one). Module Worker entry: bundled by
 * src/worker/bundle.ts for miniflare, deployed by wrangler.toml.
 *
 * One Durable Object per lease name (objectCallOf) holds {holder, epoch, expiresAt}
 * in its transactional storage. Each request is one read-modify-write inside the object:
 * a single storage.get of the state and the nonce, pure computation (lease-object.ts over
 * lease-state.ts, the same code the simulator runs), a single storage.put of the new state,
 * the consumed nonce and the store's observations (GET /observations). There is no await on
 * anything but storage in between, so the input gate keeps other requests out (the RMW is
 * atomic), and the output gate holds the response until the write is durable, so a client
 * never sees a grant that could be lost. Expiry is judged by the Worker's clock only.
 *
 * Bindings: LEASE (Durable Object namespace → LeaseObject), LEASE_SECRETS (secret, JSON
 * {"region":"secret"}), LEASE_TTL_MS (var, default 30000).
 */
import type { DurableObjectNamespace, DurableObjectState, ExecutionContext } from './cf-types.ts';
import { DEFAULT_LEASE_TTL_MS } from './config.ts';
import {
  FAULT_PATH_PREFIX,
  faultSeamsEnabled,
  handleFaultSeam,
  type StaleInstanceCommand,
} from './fault-seam.ts';
import { type Backend, type BackendResult, handleLeaseRequest, internalError, jsonResponse } from './http.ts';
import {
  executeObjectCommand,
  type ObjectCommand,
  objectCallOf,
  objectReadKeys,
  observationListing,
  observationsBody,
  prunableObservations,
  prunesAfter,
} from './lease-object.ts';
import { maybePrune, PruneSchedule } from './nonces.ts';
import { intVar } from './protocol.ts';
import {
  executeOnStale,
  forkStaleInstance,
  newInstanceTouchesStorage,
  runsOnStale,
  type StaleInstance,
  type StaleInstanceReport,
  staleObservationPage,
  staleReport,
} from './stale-instance.ts';

interface DurableEnv {
  LEASE: DurableObjectNamespace;
  LEASE_SECRETS: unknown;
  LEASE_TTL_MS?: string;
  /** fault seams (tests, the lab's topology): off unless "on" with a FAULT_TOKEN (fault-seam.ts) */
  FAULT_SEAMS?: string;
  FAULT_TOKEN?: string;
}

export class LeaseObject {
  private readonly prune = new PruneSchedule();
  private readonly ttlMs: number;
  /** the stale-instance fault: an old instance of this object still serving (stale-instance.ts) */
  private stale: StaleInstance | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    env: DurableEnv,
  ) {
    this.ttlMs = intVar(env.LEASE_TTL_MS, DEFAULT_LEASE_TTL_MS, 'LEASE_TTL_MS');
  }

  async fetch(request: Request): Promise<Response> {
    // Read the command before touching storage: request-body I/O must not sit between
    // the storage read and write.
    if (new URL(request.url).pathname === '/fault/stale-instance') {
      return jsonResponse(200, await this.staleFault((await request.json()) as StaleInstanceCommand));
    }
    const cmd = (await request.json()) as ObjectCommand;
    const result = runsOnStale(this.stale, cmd)
      ? await this.executeStale(this.stale, cmd)
      : await this.execute(cmd);
    return jsonResponse(200, result);
  }

  /** The fault seam's control: fork the old instance from storage as it is now, or end it. */
  private async staleFault(cmd: StaleInstanceCommand): Promise<StaleInstanceReport> {
    if (cmd.action === 'start' && cmd.region !== undefined) {
      this.stale = forkStaleInstance(cmd.region, await this.ctx.storage.list());
    }
    const report = staleReport(this.stale);
    if (cmd.action === 'stop') this.stale = null;
    return report;
  }

  /**
   * A request on the old instance: answered from its cache; its write reaches the one storage
   * while it still owns it, else throws (the response is never sent: 500 at the front).
   */
  private async executeStale(stale: StaleInstance, cmd: ObjectCommand): Promise<BackendResult> {
    const nowMs = Date.now();
    const { outcome, commit } = executeOnStale(stale, cmd, nowMs, this.ttlMs);
    if (commit) await this.ctx.storage.put(Object.fromEntries(commit));
    if (outcome.listSince !== undefined) {
      return {
        kind: 'ok',
        body: observationsBody(staleObservationPage(stale, outcome.listSince), outcome.listSince, nowMs),
      };
    }
    return outcome.result;
  }

  private async execute(cmd: ObjectCommand): Promise<BackendResult> {
    const storage = this.ctx.storage;
    newInstanceTouchesStorage(this.stale);
    const stored = await storage.get(objectReadKeys(cmd));
    // ---- no await on non-storage I/O from here to the put ----
    const nowMs = Date.now();
    const out = executeObjectCommand(stored, cmd, nowMs, this.ttlMs);
    if (out.writes) await storage.put(Object.fromEntries(out.writes));
    // ---- end of the read-modify-write ----
    if (prunesAfter(out)) await this.pruneLater(nowMs, out.observations.at(-1)?.seq);
    if (out.listSince !== undefined) {
      const listed = await storage.list(observationListing(out.listSince));
      return { kind: 'ok', body: observationsBody(listed.values(), out.listSince, nowMs) };
    }
    return out.result;
  }

  /** Amortised clean-up of nonces and old observations; never throws. */
  private async pruneLater(nowMs: number, lastSeq: number | undefined): Promise<void> {
    const storage = this.ctx.storage;
    await maybePrune(storage, this.prune, nowMs);
    const old = lastSeq === undefined ? null : prunableObservations(lastSeq);
    if (old === null || lastSeq === undefined || lastSeq % 64 !== 0) return;
    try {
      const keys = [...(await storage.list(old)).keys()];
      if (keys.length > 0) await storage.delete(keys);
    } catch (err) {
      console.error(`observation prune failed: ${String(err)}`);
    }
  }
}

function durableBackend(env: DurableEnv): Backend {
  return {
    variant: 'durable',
    async execute(request, auth) {
      const { name, command: cmd } = objectCallOf(request, auth);
      const stub = env.LEASE.get(env.LEASE.idFromName(name));
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
      if (faultSeamsEnabled(env) && new URL(request.url).pathname.startsWith(FAULT_PATH_PREFIX)) {
        return await handleFaultSeam(request, env);
      }
      return await handleLeaseRequest(request, env.LEASE_SECRETS, durableBackend(env));
    } catch (err) {
      return internalError(err, 'durable');
    }
  },
};
