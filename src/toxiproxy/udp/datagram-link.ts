/**
 * One direction of one UDP session: datagrams from the source pass through the proxy's
 * toxics for that direction, in creation order, and are then sent on. Each toxic is a stage
 * with one run (toxicity rolled at every (re)start, as for TCP links); a run sees each
 * datagram as it arrives. Adding, updating or removing a toxic rewires the stages in place;
 * an interrupted run forwards what it holds (latency), never drops it.
 */
import type { ToxicSpec } from '../link.ts';
import { type LongTimer, setLongTimeout } from '../timers.ts';
import type { ToxicTarget } from '../toxic-collection.ts';
import {
  type Datagram,
  type DatagramPort,
  type DatagramRun,
  type LinkState,
  passThroughDatagramRun,
} from '../toxics/types.ts';

export interface DatagramLinkHooks {
  random(): number;
  /** The datagram left the last toxic: send it to the destination. */
  send(data: Buffer): void;
  /** A toxic ended the session (timeout, limit_data). */
  closeSession(): void;
}

class DatagramStage {
  private run: DatagramRun;
  /** False once the stage is removed or its session is gone. */
  private alive = true;
  /** The current run's liveness; an interrupted run's late callbacks find it false. */
  private generation = { alive: true };
  /** True while an interrupted run hands on what it held. */
  private handingOver = false;
  private readonly timers = new Set<LongTimer>();
  private readonly state: LinkState = {};

  constructor(
    readonly spec: ToxicSpec,
    private readonly link: DatagramLink,
  ) {
    this.run = this.startRun();
  }

  private startRun(): DatagramRun {
    const port = this.makePort();
    const applies = this.link.hooks.random() < this.spec.toxicity;
    const behaviour = this.spec.kind.datagram;
    return applies && behaviour
      ? behaviour.start({ ...this.spec.attributes }, port, this.state)
      : passThroughDatagramRun(port);
  }

  private makePort(): DatagramPort {
    const generation = { alive: true };
    this.generation = generation;
    const port: DatagramPort = {
      forward: (datagram) => {
        if (generation.alive || this.handingOver) this.link.afterStage(this, datagram);
      },
      closeSession: () => {
        if (generation.alive) this.link.hooks.closeSession();
      },
      after: (delayMs, fn) => {
        const timer = setLongTimeout(() => {
          this.timers.delete(timer);
          if (generation.alive) fn();
        }, delayMs);
        this.timers.add(timer);
        return {
          cancel: () => {
            timer.cancel();
            this.timers.delete(timer);
          },
        };
      },
      nowMs: () => performance.now(),
      random: () => this.link.hooks.random(),
    };
    return port;
  }

  onDatagram(datagram: Datagram): void {
    if (this.alive) this.run.onDatagram(datagram);
  }

  /** Stop the run, letting it forward what it holds; cancel its timers. */
  private interrupt(): void {
    this.generation.alive = false;
    this.handingOver = true;
    try {
      this.run.onInterrupt();
    } finally {
      this.handingOver = false;
    }
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  restart(): void {
    if (!this.alive) return;
    this.interrupt();
    this.run = this.startRun();
  }

  /** Removal: hand on what the run holds, then stop. */
  detach(): void {
    this.interrupt();
    this.alive = false;
  }

  /** The session is gone: forward nothing, cancel everything. */
  dispose(): void {
    this.generation.alive = false;
    this.alive = false;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }
}

export class DatagramLink implements ToxicTarget {
  private stages: DatagramStage[] = [];
  private disposed = false;

  constructor(
    readonly direction: 'upstream' | 'downstream',
    toxics: readonly ToxicSpec[],
    readonly hooks: DatagramLinkHooks,
  ) {
    for (const spec of toxics) this.stages.push(new DatagramStage(spec, this));
  }

  /** A datagram arrived from the source. */
  push(data: Buffer): void {
    if (this.disposed) return;
    const first = this.stages[0];
    if (first === undefined) this.hooks.send(data);
    else first.onDatagram({ data, readAtMs: performance.now() });
  }

  /** Where a stage's output goes: the next stage still in the chain, or the destination. */
  afterStage(stage: DatagramStage, datagram: Datagram): void {
    if (this.disposed) return;
    const index = this.stages.indexOf(stage);
    if (index < 0) return;
    const next = this.stages[index + 1];
    if (next === undefined) this.hooks.send(datagram.data);
    else next.onDatagram(datagram);
  }

  addToxic(spec: ToxicSpec): void {
    if (this.disposed) return;
    // As on TCP links, the toxic that was last restarts (a new toxicity roll).
    const previous = this.stages.at(-1);
    this.stages.push(new DatagramStage(spec, this));
    previous?.restart();
  }

  updateToxic(spec: ToxicSpec): void {
    if (this.disposed) return;
    this.stages.find((s) => s.spec === spec)?.restart();
  }

  /** Removal never ends the session (a timeout toxic's removal closes TCP streams only). */
  removeToxic(spec: ToxicSpec): void {
    if (this.disposed) return;
    const index = this.stages.findIndex((s) => s.spec === spec);
    if (index < 0) return;
    const stage = this.stages[index]!;
    stage.detach(); // held datagrams go to the next stage while it is still wired
    this.stages.splice(index, 1);
    this.stages[index - 1]?.restart();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const stage of this.stages) stage.dispose();
    this.stages = [];
  }
}
