/**
 * The one translation of what the core was fed and what it emitted into history events
 * (src/contracts/history.ts). Every executor records a controller through this: the simulator
 * stamps the records with virtual time, the agent writes them to its EVENTS_FILE and the
 * real runner stamps them with the time it read them. Owned by the driver (driver.ts).
 *
 * Records carry everything but `t` and `seq`, which only the executor can assign.
 */
import type {
  ActEvent,
  DistributiveOmit,
  LeaseEvent,
  NoteEvent,
  PeerProbeEvent,
  PromotionEvidenceEvent,
  RoleEvent,
  WitnessEvent,
} from '../contracts/history.ts';
import type { ControllerAction, ControllerInput, ControllerView, RegionId } from './types.ts';

/** A history event about one controller, before the executor stamps `t` and `seq`. */
export type ControllerRecord = DistributiveOmit<
  RoleEvent | LeaseEvent | ActEvent | PromotionEvidenceEvent | WitnessEvent | PeerProbeEvent | NoteEvent,
  'seq' | 't'
>;

export const CONTROLLER_RECORD_KINDS: ReadonlySet<string> = new Set<ControllerRecord['kind']>([
  'role',
  'lease',
  'act',
  'promotion-evidence',
  'witness',
  'peer-probe',
  'note',
]);

type LeaseResult = Extract<ControllerInput, { type: 'lease-result' }>;
type LeaseRecord = Extract<ControllerRecord, { kind: 'lease' }>;
type WitnessRecord = Extract<ControllerRecord, { kind: 'witness' }>;

/** The acting window a step started with: what a demotion (which carries none) gave up. */
export interface WindowBefore {
  heldEpoch: number | null;
  safeUntilMs: number | null;
}

/**
 * Acting actions carry the window the core checked them against; a demote gives one up.
 * Module-level, not a closure per action: one is created for every emitted action.
 */
function windowOf(before: WindowBefore, epoch: number, carried: number | undefined): number | null {
  return carried ?? (before.heldEpoch === epoch ? before.safeUntilMs : null);
}

export class HistoryTranslation {
  /** epoch of the last grant a lease result reported (what the store said, for promotion evidence) */
  private lastGrantedEpoch: number | null = null;

  constructor(
    private readonly region: RegionId,
    private readonly peerRegion: RegionId,
  ) {}

  /** Records for an input fed to the core (ticks and most inputs produce none: their effects do). */
  input(input: ControllerInput): ControllerRecord[] {
    if (input.type === 'lease-result') return [this.leaseResult(input)];
    return [];
  }

  private leaseResult(r: LeaseResult): ControllerRecord {
    const acquiring = r.op === 'acquire' || r.op === 'renew';
    if (acquiring && r.ok && r.granted && r.epoch !== null) this.lastGrantedEpoch = r.epoch;
    // key by key in this order rather than with `...(c ? { k } : {})`, which V8 runs as a slow
    // generic copy (a record per lease result): the same keys in the same order
    const rec: Partial<LeaseRecord> = {
      kind: 'lease',
      region: this.region,
      op: r.op,
      phase: 'result',
      ok: r.ok,
    };
    if (acquiring) rec.granted = r.granted;
    rec.epoch = r.epoch;
    rec.holder = r.holder;
    if (r.error !== undefined) rec.error = r.error;
    rec.sentLocalMs = r.sentAtMs;
    rec.localMs = r.nowMs;
    return rec as LeaseRecord;
  }

  /**
   * Records for one emitted action. `nowMs` is the step's local time, `before` the window the
   * step started with, `after` the view once the step finished.
   */
  action(
    a: ControllerAction,
    nowMs: number,
    before: WindowBefore,
    after: ControllerView,
  ): ControllerRecord[] {
    const region = this.region;
    switch (a.type) {
      case 'lease-acquire':
      case 'lease-status':
      case 'lease-release':
      case 'lease-renew': {
        const op = a.type.slice('lease-'.length) as LeaseEvent['op'];
        const epoch = 'epoch' in a ? a.epoch : undefined;
        const sent: Partial<LeaseRecord> = { kind: 'lease', region, op, phase: 'sent' };
        if (epoch !== undefined) sent.epoch = epoch; // as leaseResult builds its record
        sent.sentLocalMs = a.sentAtMs;
        sent.localMs = nowMs;
        if (a.type !== 'lease-renew') return [sent as LeaseRecord];
        const renew: ControllerRecord = {
          kind: 'act',
          region,
          action: 'renew',
          epoch: a.epoch,
          localMs: nowMs,
          safeUntilLocalMs: windowOf(before, a.epoch, a.safeUntilMs),
        };
        return [sent as LeaseRecord, renew];
      }
      case 'promote':
      case 'extend':
        return [
          {
            kind: 'act',
            region,
            action: a.type,
            epoch: a.epoch,
            localMs: nowMs,
            safeUntilLocalMs: windowOf(before, a.epoch, a.safeUntilMs),
            validityMs: a.validityMs,
          },
        ];
      case 'demote':
        return [
          {
            kind: 'act',
            region,
            action: 'demote',
            epoch: a.epoch,
            localMs: nowMs,
            safeUntilLocalMs: windowOf(before, a.epoch, undefined),
          },
        ];
      case 'publish':
        return [
          {
            kind: 'act',
            region,
            action: 'publish',
            epoch: a.epoch,
            localMs: nowMs,
            safeUntilLocalMs: windowOf(before, a.epoch, a.safeUntilMs),
            activeRegion: a.activeRegion,
          },
        ];
      case 'await-approval':
        return [this.note(`awaiting operator approval: ${a.reason}`, after)];
      case 'event':
        return this.event(a.event, nowMs, after);
      case 'witness-query':
      case 'peer-probe':
        return [];
    }
  }

  private event(
    e: Extract<ControllerAction, { type: 'event' }>['event'],
    nowMs: number,
    after: ControllerView,
  ): ControllerRecord[] {
    const region = this.region;
    switch (e.kind) {
      case 'role':
        return [
          { kind: 'role', region, from: e.from, to: e.to, reason: e.reason, epoch: e.epoch, localMs: nowMs },
        ];
      case 'promotion-evidence':
        return [
          {
            kind: 'promotion-evidence',
            region,
            epoch: e.epoch,
            peerFailures: e.peerFailures,
            votes: { ...e.votes },
            unreachableVotes: e.unreachableVotes,
            quorum: e.quorum,
            leaseGranted: this.lastGrantedEpoch === e.epoch,
            approvedBy: e.approvedBy,
            ...(e.basis !== undefined ? { basis: e.basis } : {}),
          },
        ];
      case 'witness': {
        // The core always asks about its peer (witness-query targets config.peerRegion).
        const w: WitnessRecord = {
          kind: 'witness',
          region,
          witness: e.witness,
          target: this.peerRegion,
          verdict: e.verdict,
        };
        if (e.detail !== undefined) w.detail = e.detail; // last key, as leaseResult builds its record
        return [w];
      }
      case 'peer':
        return [{ kind: 'peer-probe', region, ok: e.ok, consecutiveFailures: e.consecutiveFailures }];
      case 'log':
        return e.level === 'warn' || e.level === 'error' ? [this.note(e.message, after)] : [];
      case 'lease':
        // recorded from the lease-result input, which also carries the send and receive times
        return [];
    }
  }

  private note(message: string, after: ControllerView): ControllerRecord {
    return { kind: 'note', source: `ctl-${this.region}`, message, data: { role: after.role } };
  }
}
