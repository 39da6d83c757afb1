/**
 * Online early warning for the single-primary invariant, so exploration can stop a run at
 * the first overlap instead of simulating the remaining minutes (shrinking re-runs a
 * failing schedule hundreds of times). The verdict still comes from src/check/checker.ts
 * on the recorded history; this only decides when to stop.
 */
export class SafetyMonitor {
  /** global ms until which each region's app holds write authority (exclusive) */
  private readonly until = new Map<string, number>();
  overlapAt: number | null = null;

  constructor(private readonly onOverlap: (() => void) | null) {}

  grant(region: string, nowMs: number, untilMs: number): void {
    for (const [r, u] of this.until) {
      if (r !== region && u > nowMs && untilMs > nowMs && this.overlapAt === null) {
        this.overlapAt = nowMs;
        this.onOverlap?.();
      }
    }
    this.until.set(region, untilMs);
  }

  revoke(region: string, nowMs: number): void {
    const u = this.until.get(region);
    if (u !== undefined && u > nowMs) this.until.set(region, nowMs);
  }
}
