/**
 * The protocol instants anchored fault steps wait for (issue #14 item 1), read from history
 * events. One reading for both executors: the simulator's recorder (simulator/anchors.ts)
 * and the real runner's resolver (src/runner/anchors.ts) feed every event they record
 * through `AnchorInstants.observe`, so an anchor means the same instant wherever it runs.
 */
import type { NewEvent } from '../contracts/history.ts';
import type { AnchorEvent } from './schema.ts';

export interface AnchorInstant {
  on: AnchorEvent;
  region: string | undefined;
  /** global t of the instant */
  t: number;
}

/** Witness answers closer than this (production ms) belong to one round. */
export const WITNESS_ROUND_GAP_MS = 500;

/** The lease request ops an anchor can name, and the anchor of their send and reply. */
const LEASE_ANCHORS: Partial<Record<string, { sent: AnchorEvent; result: AnchorEvent }>> = {
  renew: { sent: 'renew-send', result: 'renew-reply' },
  acquire: { sent: 'acquire-send', result: 'acquire-reply' },
};

/** The protocol instant an event marks, if any; keeps the little state the reading needs. */
export class AnchorInstants {
  /** global t at which the store's current lease runs out, or null */
  expiryAtT: number | null = null;
  private readonly lastWitnessT = new Map<string, number>();

  /** @param witnessRoundGapMs the round gap on this run's time scale */
  constructor(private readonly witnessRoundGapMs = WITNESS_ROUND_GAP_MS) {}

  /** Call with every recorded event, in order: the witness rounds and the expiry need them all. */
  observe(e: NewEvent): AnchorInstant | null {
    switch (e.kind) {
      case 'lease': {
        const anchors = LEASE_ANCHORS[e.op];
        return anchors === undefined ? null : { on: anchors[e.phase], region: e.region, t: e.t };
      }
      case 'lease-store':
        return this.storeInstant(e);
      case 'witness': {
        const last = this.lastWitnessT.get(e.region) ?? Number.NEGATIVE_INFINITY;
        this.lastWitnessT.set(e.region, e.t);
        return e.t - last > this.witnessRoundGapMs ? { on: 'witness-round', region: e.region, t: e.t } : null;
      }
      case 'role':
        return e.to === 'primary' ? { on: 'promotion', region: e.region, t: e.t } : null;
      case 'act':
        return e.action === 'publish' ? { on: 'publish', region: e.region, t: e.t } : null;
      default:
        return null;
    }
  }

  /**
   * The simulator's store says grant/renew/expire/release (`op`); a polled view has no `op`
   * and says the same with a live holder and an expiry, or none (expired, released).
   */
  private storeInstant(e: Extract<NewEvent, { kind: 'lease-store' }>): AnchorInstant | null {
    const grants = e.op === undefined ? e.holder !== null : e.op === 'grant' || e.op === 'renew';
    if (grants && e.expiresAt !== null && e.storeNowMs !== undefined) {
      this.expiryAtT = e.t + (e.expiresAt - e.storeNowMs);
      return { on: 'lease-expiry', region: e.region ?? e.holder ?? undefined, t: this.expiryAtT };
    }
    if (e.op === 'expire' || e.op === 'release' || (e.op === undefined && e.holder === null)) {
      this.expiryAtT = null;
    }
    return null;
  }
}

/** Whether a watch for `on` (of `region`, if named) at or after `armedAtT` takes this instant. */
export function anchorMatches(
  on: AnchorEvent,
  region: string | undefined,
  armedAtT: number,
  hit: AnchorInstant,
): boolean {
  if (on !== hit.on || hit.t < armedAtT) return false;
  // the store holds one lease: its expiry is not a region's own instant
  return region === undefined || hit.on === 'lease-expiry' || region === hit.region;
}
