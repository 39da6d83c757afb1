/**
 * History recorder for game days: global t = ms of CLOCK_MONOTONIC since the game day
 * started (the clock the topology's apps stamp their events with, so their lines convert
 * exactly). Events may arrive late (log files are polled); `history()` orders them by t
 * (meta first) and assigns seq, in the src/check/history.ts format.
 */
import type { DistributiveOmit, HistoryEvent } from '../check/history.ts';

export type EventBody = DistributiveOmit<HistoryEvent, 'seq' | 't'>;

/** CLOCK_MONOTONIC in ms, the same clock in every process of this machine. */
export const hrNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class Recorder {
  private readonly raw: Array<DistributiveOmit<HistoryEvent, 'seq'>> = [];
  readonly originHrMs: number;

  constructor(originHrMs = hrNowMs()) {
    this.originHrMs = originHrMs;
  }

  /** ms since the game day started */
  now(): number {
    return this.tOfHr(hrNowMs());
  }

  /** global t of a CLOCK_MONOTONIC stamp */
  tOfHr(hrMs: number): number {
    return Math.round((hrMs - this.originHrMs) * 10) / 10;
  }

  record(body: EventBody, t = this.now()): void {
    this.raw.push({ ...body, t } as DistributiveOmit<HistoryEvent, 'seq'>);
  }

  /** An event that already carries its t (converted from another process's log). */
  recordAt(event: DistributiveOmit<HistoryEvent, 'seq'>): void {
    this.raw.push(event);
  }

  note(source: string, message: string, data?: Record<string, unknown>): void {
    this.record({ kind: 'note', source, message, ...(data ? { data } : {}) });
  }

  /** The history: meta first, then by t (stable for equal t), seq assigned. */
  history(): HistoryEvent[] {
    const meta = this.raw.filter((e) => e.kind === 'meta');
    const rest = this.raw.filter((e) => e.kind !== 'meta').sort((a, b) => a.t - b.t);
    return [...meta, ...rest].map(
      (e, seq) => ({ ...e, seq, t: e.kind === 'meta' ? 0 : e.t }) as HistoryEvent,
    );
  }

  /** Events recorded so far, unordered (tests). */
  get events(): ReadonlyArray<DistributiveOmit<HistoryEvent, 'seq'>> {
    return this.raw;
  }
}
