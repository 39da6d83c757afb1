/**
 * Protocol instants for anchored fault steps (issue #14 item 1) and the protocol phase for
 * coverage, both read from the history as it is recorded — the same events a real run
 * records, read by the same code as the real runner's (src/scenario/anchor-instants.ts), so
 * an anchor means the same thing wherever it is evaluated.
 *
 * An anchored step is armed at its `at`; it fires `offset` ms after the first matching
 * instant at or after that. `lease-expiry` is known ahead (the store's grant or renewal
 * names its expiry), so a negative offset lands before it; a renewal that moves the expiry
 * moves the step with it. Other instants are seen when they happen: a negative offset there
 * is clamped to "now" (documented in docs/scenarios.md).
 */
import type { HistoryEvent, NewEvent } from '../src/contracts/history.ts';
import { type AnchorInstant, AnchorInstants, anchorMatches } from '../src/scenario/anchor-instants.ts';
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
  private readonly instants = new AnchorInstants();

  /** global t of the store's current expiry, or null */
  get expiryAtMs(): number | null {
    return this.instants.expiryAtT;
  }

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
    const hit = this.instants.observe(full);
    if (hit !== null && this.watches.length > 0) this.notify(hit);
    return full;
  }

  /** The phase's inputs: roles and renewals in flight. */
  private track(e: HistoryEvent): void {
    if (e.kind === 'role') {
      this.roles.set(e.region, e.to);
      if (e.to === 'primary') this.everHeld = true;
      if (e.to !== 'primary') this.renewing.delete(e.region);
    } else if (e.kind === 'lease' && e.op === 'renew') {
      if (e.phase === 'sent') this.renewing.add(e.region);
      else this.renewing.delete(e.region);
    }
  }

  private notify(hit: AnchorInstant): void {
    for (const w of this.watches) {
      if (w.done || !anchorMatches(w.on, w.region, w.armedAtMs, hit)) continue;
      // a lease expiry is re-predicted by every renewal: the watch follows the newest one
      if (hit.on !== 'lease-expiry') w.done = true;
      w.fire(hit.t);
    }
    if (this.watches.length > 16) this.watches = this.watches.filter((w) => !w.done);
  }
}
