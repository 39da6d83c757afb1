/**
 * Protocol instants for anchored fault steps (issue #14 item 1) and the protocol phase for
 * coverage, both read from the history as it is recorded — the same events a real run
 * records, so an anchor means the same thing wherever it is evaluated.
 *
 * An anchored step is armed at its `at`; it fires `offset` ms after the first matching
 * instant at or after that. `lease-expiry` is known ahead (the store's grant or renewal
 * names its expiry), so a negative offset lands before it; a renewal that moves the expiry
 * moves the step with it. Other instants are seen when they happen: a negative offset there
 * is clamped to "now" (documented in docs/scenarios.md).
 */
import type { HistoryEvent, NewEvent } from '../src/contracts/history.ts';
import type { AnchorEvent } from '../src/scenario/schema.ts';
import { Recorder } from './recorder.ts';

/** Coarse protocol phase at an instant, one axis of the coverage cells. */
export const PHASES = ['boot', 'steady', 'renewing', 'candidacy', 'no-primary'] as const;
export type Phase = (typeof PHASES)[number];

interface Watch {
  on: AnchorEvent;
  region: string | undefined;
  armedAtMs: number;
  fire: (instantMs: number) => void;
  done: boolean;
}

export class ObservedRecorder extends Recorder {
  private watches: Watch[] = [];
  private readonly roles = new Map<string, string>();
  private readonly renewing = new Set<string>();
  private everHeld = false;
  private lastWitnessT = new Map<string, number>();
  /** the last witness event began a round (tracked on every event, watched or not) */
  private witnessRoundStarts = false;
  /** global t of the store's current expiry, or null */
  expiryAtMs: number | null = null;

  constructor(private readonly nowMs: () => number) {
    super();
  }

  /** Calls `fire(instant)` once, for the first `on` instant (of `region`) at or after now. */
  watch(on: AnchorEvent, region: string | undefined, fire: (instantMs: number) => void): Watch {
    const w: Watch = { on, region, armedAtMs: this.nowMs(), fire, done: false };
    this.watches.push(w);
    if (on === 'lease-expiry' && this.expiryAtMs !== null && this.expiryAtMs >= w.armedAtMs) {
      fire(this.expiryAtMs);
    }
    return w;
  }

  phase(): Phase {
    if (!this.everHeld) return 'boot';
    let primary = false;
    let candidate = false;
    for (const r of this.roles.values()) {
      if (r === 'primary') primary = true;
      if (r === 'candidate') candidate = true;
    }
    if (candidate) return 'candidacy';
    if (!primary) return 'no-primary';
    return this.renewing.size > 0 ? 'renewing' : 'steady';
  }

  override emit(ev: NewEvent): HistoryEvent {
    const full = super.emit(ev);
    this.track(full);
    if (this.watches.length > 0) this.notify(full);
    return full;
  }

  private track(e: HistoryEvent): void {
    if (e.kind === 'role') {
      this.roles.set(e.region, e.to);
      if (e.to === 'primary') this.everHeld = true;
      if (e.to !== 'primary') this.renewing.delete(e.region);
    } else if (e.kind === 'lease' && e.op === 'renew') {
      if (e.phase === 'sent') this.renewing.add(e.region);
      else this.renewing.delete(e.region);
    } else if (e.kind === 'witness') {
      const last = this.lastWitnessT.get(e.region) ?? Number.NEGATIVE_INFINITY;
      this.lastWitnessT.set(e.region, e.t);
      this.witnessRoundStarts = e.t - last > 500;
    } else if (e.kind === 'lease-store') {
      if ((e.op === 'grant' || e.op === 'renew') && e.expiresAt !== null && e.storeNowMs !== undefined) {
        this.expiryAtMs = e.t + (e.expiresAt - e.storeNowMs);
      } else if (e.op === 'expire' || e.op === 'release') this.expiryAtMs = null;
    }
  }

  private instantOf(e: HistoryEvent): { on: AnchorEvent; region: string | undefined; t: number } | null {
    switch (e.kind) {
      case 'lease':
        if (e.op !== 'renew') return null;
        return { on: e.phase === 'sent' ? 'renew-send' : 'renew-reply', region: e.region, t: e.t };
      case 'lease-store':
        return (e.op === 'grant' || e.op === 'renew') && this.expiryAtMs !== null
          ? { on: 'lease-expiry', region: e.region, t: this.expiryAtMs }
          : null;
      case 'witness':
        return this.witnessRoundStarts ? { on: 'witness-round', region: e.region, t: e.t } : null;
      case 'role':
        return e.to === 'primary' ? { on: 'promotion', region: e.region, t: e.t } : null;
      case 'act':
        return e.action === 'publish' ? { on: 'publish', region: e.region, t: e.t } : null;
      default:
        return null;
    }
  }

  private notify(e: HistoryEvent): void {
    const hit = this.instantOf(e);
    if (hit === null) return;
    for (const w of this.watches) {
      if (w.done || w.on !== hit.on) continue;
      if (w.region !== undefined && hit.on !== 'lease-expiry' && w.region !== hit.region) continue;
      if (hit.t < w.armedAtMs) continue;
      // a lease expiry is re-predicted by every renewal: the watch follows the newest one
      if (hit.on !== 'lease-expiry') w.done = true;
      w.fire(hit.t);
    }
    if (this.watches.length > 16) this.watches = this.watches.filter((w) => !w.done);
  }
}
