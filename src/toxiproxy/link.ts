/**
 * A link: one direction of one proxied connection (client→upstream is the `upstream` link,
 * upstream→client the `downstream` link), reading chunks from its source socket, passing
 * them through its ordered toxic chain and writing them to its destination (spec §5.3).
 *
 * With no toxics the source writes straight into the destination (the hot path: one write
 * per read, back-pressure by pause/resume, no per-chunk objects). With toxics, each toxic is
 * a Stage holding a queue and one ToxicRun that handles one chunk at a time. Adding,
 * updating or removing a toxic rewires the stages of every live link in place; held data is
 * passed on, never dropped (except where a toxic drops it by design).
 *
 * EOF is an item in the stream (END) that follows the data. When END leaves the chain the
 * link tells its connection, which closes the destination fully (no half-open, spec §5.2).
 */
import type { Socket } from 'node:net';
import { type LongTimer, setLongTimeout } from './timers.ts';
import {
  type Attributes,
  type Chunk,
  type LinkState,
  passThroughRun,
  type ToxicPort,
  type ToxicRun,
  type ToxicType,
} from './toxics/types.ts';

export const END: unique symbol = Symbol('END');
export type Item = Chunk | typeof END;

interface Consumer {
  push(item: Item): void;
}

/** The live definition of a toxic; links read it when a run (re)starts. */
export interface ToxicSpec {
  readonly name: string;
  readonly kind: ToxicType;
  toxicity: number;
  attributes: Attributes;
}

export interface LinkHooks {
  random(): number;
  /** END reached the destination: the connection decides how to close. */
  onOutputClosed(link: Link): void;
}

type LivePort = ToxicPort & { alive: boolean };

class Stage implements Consumer {
  next: Consumer;
  private queue: Item[] = [];
  private busy = false;
  private pumping = false;
  private endTaken = false;
  outputClosed = false;
  detached = false;
  /** Counted in the link's fullStages while the queue is over the toxic's buffer. */
  private full = false;
  private timer: LongTimer | undefined;
  private closeTimer: LongTimer | undefined;
  private readonly state: LinkState = {};
  private port!: LivePort;
  private run!: ToxicRun;

  constructor(
    readonly spec: ToxicSpec,
    private readonly link: Link,
    next: Consumer,
  ) {
    this.next = next;
    this.startRun();
  }

  private startRun(): void {
    const port = this.makePort();
    this.port = port;
    // The toxicity dice, rolled on every (re)start of the toxic on this link (spec §5.4).
    const applies = this.link.hooks.random() < this.spec.toxicity;
    this.run = applies
      ? this.spec.kind.start({ ...this.spec.attributes }, port, this.state)
      : passThroughRun(port);
  }

  private makePort(): LivePort {
    const port: LivePort = {
      alive: true,
      forward: (chunk) => {
        if (port.alive && !this.outputClosed) this.next.push(chunk);
      },
      finish: () => {
        if (!port.alive) return;
        this.busy = false;
        this.pump();
      },
      closeOutput: () => {
        if (port.alive) this.closeOutput();
      },
      closeOutputAfter: (delayMs) => {
        if (!port.alive || this.closeTimer) return;
        if (delayMs <= 0) {
          this.closeOutput();
          return;
        }
        this.closeTimer = setLongTimeout(() => {
          this.closeTimer = undefined;
          this.closeOutput();
        }, delayMs);
      },
      setTimer: (fn, delayMs) => {
        if (!port.alive) return;
        this.timer?.cancel();
        this.timer = setLongTimeout(() => {
          this.timer = undefined;
          if (port.alive) fn();
        }, delayMs);
      },
      clearTimer: () => {
        this.timer?.cancel();
        this.timer = undefined;
      },
      nowMs: () => performance.now(),
      random: () => this.link.hooks.random(),
    };
    return port;
  }

  push(item: Item): void {
    if (this.outputClosed || this.detached) return;
    this.queue.push(item);
    if (!this.full && this.queue.length > this.spec.kind.bufferChunks) {
      this.full = true;
      this.link.stageFullChanged(+1);
    }
    this.pump();
  }

  private pump(): void {
    // Runs may call finish() synchronously from onChunk; the loop, not recursion, moves on.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.busy && !this.outputClosed && this.queue.length > 0) {
        const item = this.queue.shift()!;
        if (this.full && this.queue.length <= this.spec.kind.bufferChunks) {
          this.full = false;
          this.link.stageFullChanged(-1);
        }
        this.busy = true;
        if (item === END) {
          this.endTaken = true;
          this.run.onEnd();
        } else {
          this.run.onChunk(item);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private releaseFull(): void {
    if (this.full) {
      this.full = false;
      this.link.stageFullChanged(-1);
    }
  }

  closeOutput(): void {
    if (this.outputClosed) return;
    this.outputClosed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.closeTimer?.cancel();
    this.closeTimer = undefined;
    this.queue = [];
    this.releaseFull();
    const target = this.detached ? this.link.consumerAfterDetached(this) : this.next;
    target.push(END);
  }

  /** Stop the current run, letting it pass on what it holds. */
  private interrupt(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.outputClosed) this.run.onInterrupt();
    this.port.alive = false;
    this.busy = false;
  }

  /** Update / neighbour change: stop and start again with the current settings and a new roll. */
  restart(): void {
    if (this.outputClosed) return;
    this.interrupt();
    if (this.outputClosed) return; // the interrupted run closed (slow_close mid-wait)
    this.startRun();
    // An EOF already taken by the old run must still come out (unless a close is pending).
    if (this.endTaken && !this.closeTimer) {
      this.closeOutput();
      return;
    }
    this.pump();
  }

  /** Removal: stop, and hand back the items not yet processed (already-closed output: none). */
  detach(): Item[] {
    this.interrupt();
    this.detached = true;
    const rest = this.outputClosed ? [] : this.queue;
    this.queue = [];
    this.releaseFull();
    return rest;
  }

  /** The connection is gone: cancel everything, forward nothing. */
  dispose(): void {
    this.port.alive = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.closeTimer?.cancel();
    this.closeTimer = undefined;
    this.queue = [];
    this.releaseFull();
    this.outputClosed = true;
  }

  /** A pending close survives removal (reset_peer ignores interrupts during its wait). */
  get closing(): boolean {
    return this.closeTimer !== undefined;
  }
}

export class Link {
  private stages: Stage[] = [];
  private readonly sink: Consumer;
  private sourceEnded = false;
  private outputEnded = false;
  private disposed = false;
  private fullStages = 0;
  private destinationBlocked = false;
  private sourcePaused = true;
  /** Detached stages with a pending close, and where their END should go. */
  private readonly lingering = new Set<Stage>();

  constructor(
    readonly direction: 'upstream' | 'downstream',
    readonly source: Socket,
    readonly destination: Socket,
    toxics: readonly ToxicSpec[],
    readonly hooks: LinkHooks,
  ) {
    this.sink = { push: (item) => this.toDestination(item) };
    for (const spec of toxics) this.append(spec, false);
  }

  /** Begin reading the source (sockets arrive paused). */
  start(): void {
    this.source.on('data', this.onData);
    this.destination.on('drain', this.onDrain);
    this.sourcePaused = true;
    this.updateFlow();
  }

  private readonly onData = (data: Buffer): void => {
    if (this.sourceEnded) return;
    const first = this.stages[0];
    if (first === undefined) {
      this.writeDestination(data);
      return;
    }
    first.push({ data, readAtMs: performance.now() });
  };

  private readonly onDrain = (): void => {
    if (!this.destinationBlocked) return;
    this.destinationBlocked = false;
    this.updateFlow();
  };

  private writeDestination(data: Buffer): void {
    if (this.outputEnded || this.destination.destroyed || this.destination.writableEnded) return;
    if (!this.destination.write(data) && !this.destinationBlocked) {
      this.destinationBlocked = true;
      this.updateFlow();
    }
  }

  private toDestination(item: Item): void {
    if (this.outputEnded) return;
    if (item === END) {
      this.outputEnded = true;
      this.hooks.onOutputClosed(this);
      return;
    }
    this.writeDestination(item.data);
  }

  /** Pause the source while the destination or an unbuffered toxic pushes back. */
  private updateFlow(): void {
    if (this.disposed || this.sourceEnded) return;
    const shouldPause = this.destinationBlocked || this.fullStages > 0;
    if (shouldPause && !this.sourcePaused) {
      this.sourcePaused = true;
      this.source.pause();
    } else if (!shouldPause && this.sourcePaused) {
      this.sourcePaused = false;
      this.source.resume();
    }
  }

  stageFullChanged(delta: number): void {
    this.fullStages += delta;
    this.updateFlow();
  }

  /** The source hit EOF or an error, or was closed by the other link: EOF enters the chain. */
  endSource(): void {
    if (this.sourceEnded) return;
    this.sourceEnded = true;
    this.source.off('data', this.onData);
    if (!this.source.destroyed) this.source.pause();
    const first = this.stages[0];
    if (first) first.push(END);
    else this.sink.push(END);
  }

  get outputClosed(): boolean {
    return this.outputEnded;
  }

  private append(spec: ToxicSpec, live: boolean): void {
    const stage = new Stage(spec, this, this.sink);
    const previous = this.stages.at(-1);
    this.stages.push(stage);
    if (previous) {
      previous.next = stage;
      // Go restarts the toxic that was last (re-rolling its toxicity); what it held flows
      // into the new toxic.
      if (live) previous.restart();
    }
  }

  /** A toxic was added to the proxy: it goes at the end of this link's chain. */
  addToxic(spec: ToxicSpec): void {
    if (this.disposed) return;
    this.append(spec, true);
  }

  updateToxic(spec: ToxicSpec): void {
    if (this.disposed) return;
    this.stages.find((s) => s.spec === spec)?.restart();
  }

  /**
   * A toxic was removed: what it holds and its queue go to the next stage, in order, then the
   * stage before it restarts. `closeConnection` (timeout) ends the stream at that point.
   */
  removeToxic(spec: ToxicSpec, closeConnection: boolean): void {
    if (this.disposed) return;
    const index = this.stages.findIndex((s) => s.spec === spec);
    if (index < 0) return;
    const stage = this.stages[index]!;
    const wasClosed = stage.outputClosed;
    const next = stage.next;
    const rest = stage.detach();
    this.stages.splice(index, 1);
    const previous = this.stages[index - 1];
    if (previous) previous.next = next;
    if (stage.closing) this.lingering.add(stage);
    if (!wasClosed) {
      for (const item of rest) next.push(item);
      if (closeConnection) next.push(END);
    }
    previous?.restart();
  }

  /** Where a detached stage's delayed close goes: the first stage after it that still exists. */
  consumerAfterDetached(stage: Stage): Consumer {
    this.lingering.delete(stage);
    let target = stage.next;
    while (target instanceof Stage && target.detached) target = target.next;
    return target;
  }

  /** The connection is gone: stop every timer, drop everything, read no more. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sourceEnded = true;
    this.outputEnded = true;
    this.source.off('data', this.onData);
    this.destination.off('drain', this.onDrain);
    for (const stage of this.stages) stage.dispose();
    for (const stage of this.lingering) stage.dispose();
    this.lingering.clear();
    this.stages = [];
  }
}
