/**
 * The history format: one event per line (history.jsonl), shared by every executor
 * (simulator, real topology, game days), the checker and the report renderers.
 *
 * Rules:
 * - `t` is *global* time in milliseconds since the run started, as seen by the executor:
 *   virtual time in the simulator, the harness's monotonic clock in real runs. It is the
 *   only time the checker compares across regions.
 * - `localMs` (where present) is the acting process's own monotonic clock. Controllers
 *   reason only in local time; the checker uses it to verify a controller against its
 *   own safe window, never to compare regions.
 * - `seq` is a strictly increasing sequence number assigned by the recorder.
 * - Events are plain JSON; adding optional fields is fine, renaming is a breaking change.
 *
 * Imports allowed here: nothing but types. Readers: src/check, src/report. Writers: executors.
 */

import type { ConfiguredNumbers, DesignSpec } from './spec.ts';

export type RegionId = string; // e.g. "a", "b"
export type Role = 'standby' | 'candidate' | 'primary' | 'fenced';
export type WitnessVerdict = 'reachable' | 'unreachable' | 'unknown';
export type ExecutorKind = 'sim' | 'real' | 'gameday';

interface Base {
  seq: number;
  /** global ms since run start */
  t: number;
}

/** First line of every history. */
export interface MetaEvent extends Base {
  kind: 'meta';
  runId: string;
  scenario: string;
  executor: ExecutorKind;
  seed?: number;
  path?: string;
  leaseBackend?: 'durable' | 'kv';
  regions: RegionId[];
  /** region that is primary at the start (holds the lease first) */
  initialPrimary?: RegionId;
  witnesses: string[];
  /** controller timing as configured (already time-scaled for real runs) */
  timing: {
    leaseTtlMs: number;
    heartbeatMs: number;
    safeWindowMs: number;
    peerCheckIntervalMs: number;
    peerFailureThreshold: number;
    witnessQuorum: number;
    /** documented liveness bound: DR primary within this long after the primary is lost */
    failoverBoundMs: number;
    maxClockDriftRate: number;
    /** (added) anti-flapping hold-down after a demotion, controller local ms */
    promotionHoldDownMs?: number;
  };
  /**
   * (added) the design's numbers and the bounds derived from them (src/contracts/spec.ts), from the
   * scenario and the topology — never from the controller's config. Every check reads these.
   */
  spec?: DesignSpec;
  /** (added) the controller's configured numbers, kept apart from the spec (`config-meets-spec`) */
  configured?: ConfiguredNumbers;
  /** true when every fault of the schedule stays inside the documented assumptions */
  withinAssumptions: boolean;
  assumptionNotes?: string[];
  timeScale?: number;
}

/** A controller changed role. Every transition has a reason. */
export interface RoleEvent extends Base {
  kind: 'role';
  region: RegionId;
  from: Role;
  to: Role;
  reason: string;
  epoch: number | null;
  localMs: number;
}

/** Lease operation as seen by a controller (request sent / result received). */
export interface LeaseEvent extends Base {
  kind: 'lease';
  region: RegionId;
  op: 'acquire' | 'renew' | 'release' | 'status';
  phase: 'sent' | 'result';
  /** result: a reply came back and was authentic (not: the lease was granted — see `granted`) */
  ok?: boolean;
  /** (added) acquire/renew result: the store granted the lease (src/controller/driver.ts) */
  granted?: boolean;
  /** epoch granted/renewed (result) or presented (sent) */
  epoch?: number | null;
  holder?: RegionId | null;
  error?: string;
  /** controller local clock at send time of this request */
  sentLocalMs: number;
  localMs: number;
}

/** Authoritative lease-store state change (known exactly in the sim; polled in real runs). */
export interface LeaseStoreEvent extends Base {
  kind: 'lease-store';
  holder: RegionId | null;
  epoch: number;
  /** store clock, ms */
  expiresAt: number | null;
  /** which store location served the view (KV model has per-location views) */
  location?: string;
  /** (added) the store's own clock when it made this view (store ms, same clock as expiresAt) */
  storeNowMs?: number;
  /**
   * (added) polled observations: the global time the status request was sent, the earliest the
   * store can have read its state. Absent when the event is recorded at the store's transition.
   */
  observedSinceT?: number;
  /**
   * (added) recorded by the store itself at the moment it happened (simulator; the real
   * Worker's GET /observations log): grant, renew, release, refuse (changed nothing) or
   * expire (the grant of `epoch` ran out unrenewed; `storeNowMs` is then its expiresAt).
   * holder/epoch/expiresAt describe the lease after the event. Absent on polled views.
   */
  op?: 'grant' | 'renew' | 'release' | 'refuse' | 'expire';
  /** (added) who asked (expire: whose grant ran out) */
  region?: RegionId;
  /** (added) refuse only: which request was refused */
  requested?: 'acquire' | 'renew' | 'release';
}

/**
 * (added) What the lease store's Durable Object storage holds, read by the executor from the
 * storage itself, never reported by the Worker's code (the simulator's in-memory storage; the
 * real topology's SQLite files, src/runner/store-storage.ts). Nonce entries change only when
 * the store serves a request, so a reading describes the storage as that request left it.
 */
export interface StoreStorageEvent extends Base {
  kind: 'store-storage';
  /** the Durable Object's name */
  object: string;
  /** every key in its storage */
  keys: number;
  /** replay-protection entries: `nonce:<n>` keys */
  nonceKeys: number;
  /** their expiry index: `nexp:<keepUntil>:<n>` keys */
  nonceIndexKeys: number;
  /**
   * (real topology) nonce entries of the executor's own requests (its status and log polls,
   * which are not `lease` events), left out of nonceKeys and nonceIndexKeys
   */
  executorNonceKeys?: number;
  /** global time of the last request the store served before this reading (absent: at `t`) */
  afterRequestT?: number;
  /** 'high-water': the nonce entries reached a new high; 'end': the end of the run */
  reason: 'high-water' | 'end';
}

/**
 * A side effect a controller performed *as primary* (or tried to). The checker verifies
 * that every such act happened while localMs < safeUntilLocalMs and with a non-decreasing epoch.
 */
export interface ActEvent extends Base {
  kind: 'act';
  region: RegionId;
  action: 'promote' | 'extend' | 'demote' | 'publish' | 'renew';
  epoch: number;
  localMs: number;
  /** end of the controller's safe window L at the time of the act, local clock; null if not holding */
  safeUntilLocalMs: number | null;
  /** validity handed to the resource (promote/extend), ms */
  validityMs?: number;
  activeRegion?: RegionId;
}

/** A promotion decision with its evidence, so "no promotion without quorum and lease" is checkable. */
export interface PromotionEvidenceEvent extends Base {
  kind: 'promotion-evidence';
  region: RegionId;
  epoch: number;
  peerFailures: number;
  votes: Record<string, WitnessVerdict>;
  unreachableVotes: number;
  quorum: number;
  leaseGranted: boolean;
  approvedBy?: 'automatic' | 'operator';
  /** (added) which gate let the promotion through: 'failover' needs a witness quorum; 'bootstrap' and 'vacant-lease' need only the lease */
  basis?: 'failover' | 'vacant-lease' | 'bootstrap' | 'operator';
}

export interface WitnessEvent extends Base {
  kind: 'witness';
  /** controller that asked */
  region: RegionId;
  witness: string;
  /** region whose reachability was asked about */
  target: RegionId;
  verdict: WitnessVerdict;
  /** raw DNS outcome, e.g. "NOERROR 127.0.1.10", "SERVFAIL", "timeout" */
  detail?: string;
}

/** What a witness (or the client resolver) answered for the service name. */
export interface DnsAnswerEvent extends Base {
  kind: 'dns-answer';
  resolver: string;
  name: string;
  rcode: string;
  answers: string[];
  /** region the answer points to, if it maps to one */
  region?: RegionId | null;
  /**
   * (added) who observed it: 'client' (the workload's resolver) or 'dns-observer' (an observer
   * outside the system querying one authoritative directly; `resolver` then names it, e.g. auth-a)
   */
  observer?: 'client' | 'dns-observer';
}

export interface PeerProbeEvent extends Base {
  kind: 'peer-probe';
  region: RegionId;
  ok: boolean;
  consecutiveFailures: number;
}

/**
 * The app/database stand-in's write authority. `grant` opens a window [t, untilT] (global
 * time, computed by the executor from the app's own clock); `revoke` closes it early.
 */
export interface AppAuthorityEvent extends Base {
  kind: 'app-authority';
  region: RegionId;
  op: 'grant' | 'revoke' | 'reject';
  epoch: number;
  /** global time at which the app stops accepting writes unless extended */
  untilT?: number;
  reason?: string;
}

export interface AppWriteEvent extends Base {
  kind: 'app-write';
  region: RegionId;
  client: string;
  epoch: number | null;
  accepted: boolean;
  reason?: string;
}

export interface FaultEvent extends Base {
  kind: 'fault';
  phase: 'start' | 'end';
  id: string;
  fault: string;
  target: string;
  /** did the executor confirm the fault took effect / was reverted? null = not checkable */
  verified: boolean | null;
  detail?: string;
  /** (added) link ids the fault acted on, resolved from the target selector(s) */
  links?: string[];
  /** (added) components the fault acted on (crash/pause/clock/witness faults) */
  components?: string[];
}

export interface ProcessEvent extends Base {
  kind: 'process';
  component: string;
  /** stop: SIGTERM, a graceful stop asked for (the `stop` fault); `exit` follows when it is done */
  op: 'start' | 'exit' | 'pause' | 'resume' | 'crash' | 'restart' | 'stop';
  pid?: number;
  detail?: string;
  /** (added) set when the component failed by an unexpected exception (a bug, not a fault) */
  error?: string;
}

export interface ClockEvent extends Base {
  kind: 'clock';
  node: string;
  op: 'offset' | 'drift' | 'jump';
  value: number;
}

/** Free-form note (workload phases, operator approvals, probe outcomes in game days). */
export interface NoteEvent extends Base {
  kind: 'note';
  source: string;
  message: string;
  data?: Record<string, unknown>;
}

export type HistoryEvent =
  | MetaEvent
  | RoleEvent
  | LeaseEvent
  | LeaseStoreEvent
  | StoreStorageEvent
  | ActEvent
  | PromotionEvidenceEvent
  | WitnessEvent
  | DnsAnswerEvent
  | PeerProbeEvent
  | AppAuthorityEvent
  | AppWriteEvent
  | FaultEvent
  | ProcessEvent
  | ClockEvent
  | NoteEvent;

export type EventKind = HistoryEvent['kind'];

/** Distributive Omit so each union member keeps its own fields. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What an executor hands the recorder: everything but seq. */
export type NewEvent = DistributiveOmit<HistoryEvent, 'seq'>;
