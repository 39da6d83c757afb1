/**
 * Virtual time and the event queue. Single-threaded: one event runs at a time, in
 * (time, insertion seq) order, so equal-time events run in the order they were scheduled.
 * Time is integer milliseconds of *global* (true) time since the run started.
 *
 * Hot path: entries are pooled and the heap is an array of entries, so scheduling an event
 * allocates nothing once the pool is warm.
 */
import { Fnv1a } from './hash.ts';

export type Handler = (arg: unknown) => void;

interface Entry {
  t: number;
  seq: number;
  fn: Handler;
  arg: unknown;
}

export class Engine {
  /** current global time, ms */
  now = 0;
  /** events run so far */
  processed = 0;
  private readonly heap: Entry[] = [];
  private readonly pool: Entry[] = [];
  private seq = 0;
  private stopRequested = false;
  /** running FNV-1a over (time, seq) of every event run; null when not tracing */
  readonly trace: Fnv1a | null;

  constructor(opts: { trace?: boolean } = {}) {
    this.trace = opts.trace ? new Fnv1a() : null;
  }

  /** Runs `fn(arg)` at global time `t` (clamped to now: the past cannot be scheduled). */
  at(t: number, fn: Handler, arg?: unknown): void {
    const e = this.pool.pop() ?? { t: 0, seq: 0, fn, arg: undefined };
    e.t = t < this.now ? this.now : Math.ceil(t);
    e.seq = this.seq++;
    e.fn = fn;
    e.arg = arg;
    const h = this.heap;
    // sift up
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.t < e.t || (pe.t === e.t && pe.seq < e.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }

  after(delayMs: number, fn: Handler, arg?: unknown): void {
    this.at(this.now + delayMs, fn, arg);
  }

  /** Stops run() after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  get stopped(): boolean {
    return this.stopRequested;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs events with time ≤ untilMs, then leaves `now` at untilMs (unless stopped early). */
  run(untilMs: number): void {
    this.drain(untilMs);
    if (!this.stopRequested && this.now < untilMs) this.now = untilMs;
  }

  /**
   * The event loop, apart from run()'s epilogue: V8 optimised the loop (on-stack) before the
   * epilogue had ever run, so every run's end deoptimised it for want of type feedback and
   * the next run started interpreted (issue #18: one deopt per simulated run).
   */
  private drain(untilMs: number): void {
    const h = this.heap;
    while (h.length > 0 && !this.stopRequested) {
      const top = h[0]!;
      if (top.t > untilMs) break;
      this.popTop();
      this.now = top.t;
      this.processed++;
      if (this.trace) this.trace.number(top.t).number(top.seq);
      const fn = top.fn;
      const arg = top.arg;
      top.arg = undefined;
      this.pool.push(top);
      fn(arg);
    }
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    // sift down `last` from the root
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ce = h[l]!;
      if (r < n) {
        const re = h[r]!;
        if (re.t < ce.t || (re.t === ce.t && re.seq < ce.seq)) {
          c = r;
          ce = re;
        }
      }
      if (last.t < ce.t || (last.t === ce.t && last.seq < ce.seq)) break;
      h[i] = ce;
      i = c;
    }
    h[i] = last;
  }
}
