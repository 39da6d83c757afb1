/**
 * Anchored fault steps on the real topology (issue #14 item 1): a step with an `anchor`
 * starts `offset` after the first matching protocol instant at or after its `at`, read from
 * the history events the runner already records — a controller's renew send/reply and
 * witness answers and role changes and publishes (its EVENTS_FILE), the lease store's
 * grants (the polled Worker status). The reading is shared with the simulator
 * (src/scenario/anchor-instants.ts), so a counterexample's anchor means the same thing in both executors
 * (test/runner/anchors.test.ts feeds a simulated history through this resolver and gets the
 * simulator's start times).
 *
 * Real events arrive late (files are polled every 20 ms, the store every few hundred ms) and
 * a little out of order across sources, so an instant may be learned after `instant +
 * offset` has passed: the step then starts at once and its fault event says how late. A
 * lease expiry is known ahead (the store names it), so negative offsets land before it; each
 * renewal re-predicts it and moves the step with it, as in the simulator.
 */
import type { NewEvent } from '../contracts/history.ts';
import {
  type AnchorInstant,
  AnchorInstants,
  anchorMatches,
  WITNESS_ROUND_GAP_MS,
} from '../scenario/anchor-instants.ts';
import type { Anchor } from '../scenario/schema.ts';

export type { AnchorInstant } from '../scenario/anchor-instants.ts';

interface Watch {
  anchor: Anchor;
  /** global t from which instants count */
  armedAtT: number;
  /** offset on this run's time scale */
  offsetMs: number;
  /** called with the start t, again when a lease expiry is re-predicted */
  schedule: (startT: number, instant: AnchorInstant) => void;
  done: boolean;
}

/** Resolves armed anchors against the events as they are recorded. */
export class AnchorResolver {
  private readonly instants: AnchorInstants;
  private readonly watches = new Set<Watch>();

  /** @param timeScale the run's time scale: offsets and the witness-round gap are production ms */
  constructor(private readonly timeScale = 1) {
    this.instants = new AnchorInstants(WITNESS_ROUND_GAP_MS * timeScale);
  }

  /** Feeds one recorded event (every event of the run, from the start, in arrival order). */
  observe(e: NewEvent): void {
    const hit = this.instants.observe(e);
    if (hit === null || this.watches.size === 0) return;
    for (const w of this.watches) {
      if (w.done || !anchorMatches(w.anchor.on, w.anchor.region, w.armedAtT, hit)) continue;
      // a lease expiry is re-predicted by every renewal: the watch follows the newest one
      if (hit.on !== 'lease-expiry') this.finish(w);
      w.schedule(hit.t + w.offsetMs, hit);
    }
  }

  /**
   * Arms `anchor` at global t `armedAtT`; `schedule(startT)` is called when the instant is
   * known (for a lease expiry: again on each re-prediction; the newest call counts).
   * Returns a cancel function (the caller cancels once the step has started or the run ends).
   */
  watch(
    anchor: Anchor,
    armedAtT: number,
    schedule: (startT: number, instant: AnchorInstant) => void,
  ): () => void {
    const w: Watch = { anchor, armedAtT, offsetMs: anchor.offset * this.timeScale, schedule, done: false };
    this.watches.add(w);
    const expiry = this.instants.expiryAtT;
    if (anchor.on === 'lease-expiry' && expiry !== null && expiry >= armedAtT) {
      schedule(expiry + w.offsetMs, { on: 'lease-expiry', region: undefined, t: expiry });
    }
    return () => this.finish(w);
  }

  private finish(w: Watch): void {
    w.done = true;
    this.watches.delete(w);
  }
}

/** Where an anchored step fired, for its fault event's detail. */
export function describeAnchorFire(
  anchor: Anchor,
  instant: AnchorInstant,
  startT: number,
  firedT: number,
  timeScale: number,
): string {
  const late = firedT - startT;
  const offset = anchor.offset * timeScale;
  return `anchored at ${anchor.on}${instant.region ? `(${instant.region})` : ''} t=${instant.t.toFixed(1)} ${offset >= 0 ? '+' : ''}${offset} ms → due t=${startT.toFixed(1)}${late > 1 ? `, started ${late.toFixed(1)} ms late (the instant was observed then)` : ''}`;
}

export interface AnchorFire {
  /** global t the step was due (instant + offset) */
  startT: number;
  instant: AnchorInstant;
  /** global t the step actually began */
  firedT: number;
}

/**
 * Waits, in real time, until an anchored step is due: resolves with where it fired, or null
 * when nothing matched before `deadlineT` (the step then never starts, as in the simulator).
 */
export function waitForAnchor(
  resolver: AnchorResolver,
  anchor: Anchor,
  armedAtT: number,
  nowT: () => number,
  deadlineT: number,
  signal: AbortSignal,
): Promise<AnchorFire | null> {
  return new Promise((resolve, reject) => {
    let due: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(due);
      clearTimeout(deadline);
      cancel();
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const deadline = setTimeout(
      () => {
        done();
        resolve(null);
      },
      Math.max(0, deadlineT - nowT()),
    );
    // Node's timers count whole ms of a cached loop clock and may fire up to 1 ms early by
    // the finer clock of the history: re-arm until the due t has really come.
    const fireAt = (startT: number, instant: AnchorInstant) => {
      const waitMs = startT - nowT();
      if (waitMs <= 0) {
        done();
        resolve({ startT, instant, firedT: nowT() });
        return;
      }
      due = setTimeout(() => fireAt(startT, instant), Math.ceil(waitMs));
    };
    const cancel = resolver.watch(anchor, armedAtT, (startT, instant) => {
      clearTimeout(due);
      // never synchronously: `watch` may call back before it returns `cancel`
      due = setTimeout(() => fireAt(startT, instant), Math.max(0, Math.ceil(startT - nowT())));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
