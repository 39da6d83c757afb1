/**
 * The lease store's own log on real runs: the durable Worker records every grant, renewal,
 * release, refusal and expiry as it happens (GET /observations, see src/worker/lease-object.ts),
 * and this reader copies them into the history as `lease-store` events with their `op`, exactly
 * as the simulator's store does. The checker then judges what the store did, not only what a
 * poller happened to see: a grant made before the poller started (the bootstrap, while the
 * topology boots) or between two polls (a renewal right before the Worker was SIGKILLed) is in
 * the history all the same.
 *
 * Times: `storeMs` is the Worker's wall clock (workerd's Date.now, which advances with I/O); the
 * Worker runs unfaked on this machine, so `t = storeMs − wall time at the recorder's origin`,
 * capped at the time the entry was read (it cannot have happened later).
 */
import type { NewEvent } from '../contracts/history.ts';
import type { LeaseClient } from '../worker/client.ts';
import type { LeaseObservation } from '../worker/protocol.ts';

/** Pages read per poll at most: the log is short; this bounds a runaway loop. */
const MAX_PAGES_PER_POLL = 20;

export interface StoreLogSink {
  now(): number;
  record(ev: NewEvent): void;
}

export class StoreLogReader {
  private since = 0;
  /** polls run one after another: two at once would read (and record) the same entries */
  private chain: Promise<void> = Promise.resolve();
  private readonly wallAtOriginMs: number;

  constructor(
    private readonly client: LeaseClient,
    private readonly lease: string,
    private readonly sink: StoreLogSink,
  ) {
    this.wallAtOriginMs = Date.now() - sink.now();
  }

  /**
   * Reads every entry logged since the last read; never throws (a down Worker is read later).
   * Calls queue behind one in flight, so the runner's final read at the end of a run sees
   * everything the store logged before it.
   */
  poll(): Promise<void> {
    this.chain = this.chain.then(() => this.readPages());
    return this.chain;
  }

  private async readPages(): Promise<void> {
    for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
      let res: Awaited<ReturnType<LeaseClient['observations']>>;
      try {
        res = await this.client.observations(this.lease, this.since);
      } catch {
        return;
      }
      if (res.status !== 200) return;
      const readT = this.sink.now();
      for (const o of res.body.observations) this.sink.record(storeEvent(o, this.tOf(o.storeMs, readT)));
      if (res.body.next <= this.since) return;
      this.since = res.body.next;
    }
  }

  private tOf(storeMs: number, readT: number): number {
    return Math.min(readT, storeMs - this.wallAtOriginMs);
  }
}

/** One log entry as a history event (the shape simulator/models/lease-store.ts records). */
export function storeEvent(o: LeaseObservation, t: number): NewEvent {
  return {
    kind: 'lease-store',
    t,
    holder: o.holder,
    epoch: o.epoch,
    expiresAt: o.expiresAt,
    op: o.op,
    region: o.region,
    storeNowMs: o.storeMs,
    ...(o.requested ? { requested: o.requested } : {}),
  } as NewEvent;
}
