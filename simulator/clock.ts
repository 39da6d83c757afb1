/**
 * A node's local clock as a piecewise-linear function of global time:
 *   local(t) = base + (t − t0)·(1 + rate)
 * Drift changes and jumps start a new segment. Readings are floored to whole ms, like a
 * monotonic millisecond clock. Offsets between nodes are irrelevant to the controllers
 * (they never compare clocks) but matter for the store's TTL and the apps' windows.
 */
export class NodeClock {
  private t0 = 0;
  private base: number;
  private rateNow: number;

  constructor(offsetMs = 0, rate = 0) {
    this.base = offsetMs;
    this.rateNow = rate;
  }

  get rate(): number {
    return this.rateNow;
  }

  /** local ms at global time t (t ≥ the last change) */
  read(t: number): number {
    return Math.floor(this.base + (t - this.t0) * (1 + this.rateNow));
  }

  /** exact (unfloored) local time, for converting deadlines */
  private exact(t: number): number {
    return this.base + (t - this.t0) * (1 + this.rateNow);
  }

  setRate(t: number, rate: number): void {
    this.base = this.exact(t);
    this.t0 = t;
    this.rateNow = rate;
  }

  jump(t: number, deltaMs: number): void {
    this.base = this.exact(t) + deltaMs;
    this.t0 = t;
  }

  /**
   * Earliest global time ≥ `notBefore` at which the clock reads ≥ `localMs`, assuming no
   * further change (a timer set now fires at that real time even if the clock later jumps).
   */
  globalAt(localMs: number, notBefore: number): number {
    const g = Math.ceil(this.t0 + (localMs - this.base) / (1 + this.rateNow));
    return Math.max(g, notBefore);
  }
}
