/**
 * A stale Durable Object instance (issue #15 item 5), as Cloudflare documents it: when an
 * object is replaced (a deploy, a move), a new instance starts while the old one keeps
 * running its in-flight and queued requests; "if a request attempts to access storage during
 * this grace period, it is stopped immediately" (how-durable-objects-work), i.e. the old
 * instance serves until one of its storage operations throws. Reads it can answer from its
 * in-memory cache do not reach storage; a write must, and the output gate holds every answer
 * until its write is confirmed.
 *
 * workerd (and miniflare) runs exactly one instance per object id, so two instances of one id
 * cannot be made to run. This module models the old one faithfully instead, and the lease
 * object (durable.ts) and the simulator (simulator/models/lease-store.ts) both run it:
 *
 * - at the fault's start the old instance's cache is a snapshot of the object's storage;
 *   requests authenticated as `region` reach it, every other request reaches the new one;
 * - it runs the same request procedure (lease-object.ts) over its cache: no storage read;
 * - the new instance takes ownership of the storage with its first storage operation; from
 *   then on a write of the old instance throws: its answer is never sent (the output gate),
 *   and the runtime resets it — later requests reach the new instance;
 * - before that, the old instance is still the owner: its writes commit to the one storage
 *   (and to its cache), so both instances serve, and nothing is lost or forked.
 *
 * The Worker writes on every request (at least the consumed nonce), so a replaced instance
 * can answer nothing once the new one has served anyone. `suppressed` keeps what it would
 * have answered, so a test can show the answer the throw prevented (e.g. a second grant of
 * an epoch the new instance had already handed to another region). Runtime-neutral.
 */
import {
  executeObjectCommand,
  OBS_PREFIX,
  type ObjectCommand,
  type ObjectOutcome,
  objectReadKeys,
  observationListing,
} from './lease-object.ts';
import type { BackendResult } from './request.ts';

export const STALE_INSTANCE_ERROR =
  'Durable Object storage operation failed: this instance was replaced by a newer one (stale-instance fault)';

/** Thrown where Cloudflare's storage call of a replaced instance throws. */
export class StaleInstanceError extends Error {
  constructor() {
    super(STALE_INSTANCE_ERROR);
    this.name = 'StaleInstanceError';
  }
}

export interface SuppressedAnswer {
  op: ObjectCommand['op'];
  region: string;
  /** what the old instance computed from its cache and could not send */
  result: BackendResult;
  /** the old instance's clock when it tried */
  atMs: number;
}

export interface StaleInstance {
  /** requests authenticated as this region reach the old instance */
  region: string;
  /** the old instance's in-memory view of storage */
  cache: Map<string, unknown>;
  /** the new instance has accessed storage: the old one's writes throw from now on */
  ownerMoved: boolean;
  /** a write threw; the runtime reset the old instance and routes everyone to the new one */
  broken: boolean;
  /** answers the old instance sent (all of them write-backed or cache-only) */
  served: number;
  suppressed: SuppressedAnswer[];
}

/** What the fault seam reports (GET-like `report` action, and after `stop`). */
export interface StaleInstanceReport {
  active: boolean;
  region: string | null;
  ownerMoved: boolean;
  broken: boolean;
  served: number;
  suppressed: SuppressedAnswer[];
}

export function forkStaleInstance(region: string, storage: Iterable<[string, unknown]>): StaleInstance {
  return {
    region,
    cache: new Map(storage),
    ownerMoved: false,
    broken: false,
    served: 0,
    suppressed: [],
  };
}

export function staleReport(s: StaleInstance | null): StaleInstanceReport {
  if (s === null)
    return { active: false, region: null, ownerMoved: false, broken: false, served: 0, suppressed: [] };
  return {
    active: !s.broken,
    region: s.region,
    ownerMoved: s.ownerMoved,
    broken: s.broken,
    served: s.served,
    suppressed: s.suppressed,
  };
}

/** Does a request authenticated as `region` reach the old instance? */
export function reachesStale(s: StaleInstance | null, region: string): s is StaleInstance {
  return s !== null && !s.broken && s.region === region;
}

/**
 * Whether the old instance serves this command: its region's requests while the fault lasts,
 * except an observer's peek, which is outside the fault and reaches the new instance like any
 * other client. One rule for workerd's lease object and the simulator's.
 */
export function runsOnStale(s: StaleInstance | null, cmd: ObjectCommand): s is StaleInstance {
  return reachesStale(s, cmd.region) && cmd.peek !== true;
}

/** The new instance is about to access storage: from now on it owns it. */
export function newInstanceTouchesStorage(s: StaleInstance | null): void {
  if (s !== null) s.ownerMoved = true;
}

/**
 * One request on the old instance, computed from its cache. Returns the outcome and the
 * writes the caller must commit to the real storage (null: nothing to write), or throws
 * StaleInstanceError when the write would reach storage after the new instance took it over.
 */
export function executeOnStale(
  s: StaleInstance,
  cmd: ObjectCommand,
  nowMs: number,
  ttlMs: number,
): { outcome: ObjectOutcome; commit: Map<string, unknown> | null } {
  const view = new Map<string, unknown>();
  for (const k of objectReadKeys(cmd)) if (s.cache.has(k)) view.set(k, s.cache.get(k));
  const outcome = executeObjectCommand(view, cmd, nowMs, ttlMs);
  if (outcome.writes === null) {
    s.served++;
    return { outcome, commit: null };
  }
  if (s.ownerMoved) {
    s.broken = true;
    s.suppressed.push({ op: cmd.op, region: cmd.region, result: outcome.result, atMs: nowMs });
    throw new StaleInstanceError();
  }
  for (const [k, v] of outcome.writes) s.cache.set(k, v);
  s.served++;
  return { outcome, commit: outcome.writes };
}

/** GET /observations on the old instance: a page of the log as its cache holds it. */
export function staleObservationPage(s: StaleInstance, since: number): unknown[] {
  const { start, limit } = observationListing(since);
  return [...s.cache.keys()]
    .filter((k) => k.startsWith(OBS_PREFIX) && k >= start)
    .sort()
    .slice(0, limit)
    .map((k) => s.cache.get(k));
}
