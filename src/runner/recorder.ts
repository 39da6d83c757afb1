/**
 * Collects the history of a real run or a game day. Global time `t` is the harness's
 * CLOCK_MONOTONIC in ms since the run started (process.hrtime, which every process on the
 * machine shares, so app events stamped by the apps themselves convert exactly). Events
 * arrive out of order (tailed files, pollers); `finish()` sorts them by t (stable for equal
 * t), puts meta first and assigns seq, in the src/contracts/history.ts format.
 */
import type { DistributiveOmit, HistoryEvent, MetaEvent, NewEvent } from '../contracts/history.ts';

/** CLOCK_MONOTONIC in ms, the same clock in every process of this machine. */
export const hrNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class Recorder {
  private readonly events: NewEvent[] = [];
  private meta: Omit<MetaEvent, 'seq'> | null = null;
  /** hrtime ms at t = 0 */
  readonly originHrMs: number;
  /** events after this t are dropped (set when the scenario ends, before teardown) */
  private cutoffT = Number.POSITIVE_INFINITY;
  /** sees every kept event as it is recorded (anchored steps watch protocol instants) */
  private readonly listeners: Array<(ev: NewEvent) => void> = [];

  constructor(originHrMs = hrNowMs()) {
    this.originHrMs = originHrMs;
  }

  /** current global t */
  now(): number {
    return round3(hrNowMs() - this.originHrMs);
  }

  /** converts a CLOCK_MONOTONIC stamp (ms) from any local process into global t */
  tOfHr(hrMs: number): number {
    return round3(hrMs - this.originHrMs);
  }

  setMeta(meta: Omit<MetaEvent, 'seq'>): void {
    this.meta = meta;
  }

  record(ev: NewEvent): void {
    if (ev.t > this.cutoffT) return;
    this.events.push(ev);
    for (const l of this.listeners) l(ev);
  }

  /** Calls `fn` with every event recorded from now on, in arrival order. */
  subscribe(fn: (ev: NewEvent) => void): void {
    this.listeners.push(fn);
  }

  /** stamps with the current t */
  recordNow(ev: DistributiveOmit<NewEvent, 't'>): void {
    this.record({ ...ev, t: this.now() } as unknown as NewEvent);
  }

  note(source: string, message: string, data?: Record<string, unknown>): void {
    this.recordNow({ kind: 'note', source, message, ...(data ? { data } : {}) });
  }

  closeAt(t: number): void {
    this.cutoffT = t;
  }

  count(): number {
    return this.events.length + (this.meta ? 1 : 0);
  }

  snapshot(): NewEvent[] {
    return [...this.events];
  }

  finish(): HistoryEvent[] {
    const sorted = this.events
      .filter((e) => e.t <= this.cutoffT)
      .map((e, i) => ({ e, i }))
      .sort((x, y) => x.e.t - y.e.t || x.i - y.i)
      .map((x) => x.e);
    const out: HistoryEvent[] = [];
    let seq = 0;
    if (this.meta) out.push({ ...this.meta, seq: seq++ } as HistoryEvent);
    for (const e of sorted) out.push({ ...e, seq: seq++ } as HistoryEvent);
    return out;
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
