/**
 * What a toxic is, as the link pipeline sees it.
 *
 * A toxic *type* (latency, bandwidth, …) describes its attributes and starts a *run* on one
 * link (one direction of one connection). A run handles one chunk at a time, like the
 * goroutine loop of a Go toxic: it gets a chunk, forwards whatever it wants through its port,
 * and calls `finish()` when it is ready for the next one. Runs are restarted when the toxic
 * is updated or a neighbour is added/removed (spec §5.3); every start re-rolls toxicity.
 */

/** The bytes of one socket read, stamped with when they were read (latency counts from it). */
export interface Chunk {
  data: Buffer;
  readAtMs: number;
}

/** A toxic's view of its place in the chain. Valid until the run is interrupted. */
export interface ToxicPort {
  /** Hand a chunk to the next stage (or the destination socket). */
  forward(chunk: Chunk): void;
  /** The current chunk is fully handled; deliver the next one. */
  finish(): void;
  /** Close this stage's output: the EOF travels down the chain and tears down the connection. */
  closeOutput(): void;
  /** closeOutput after `delayMs`, and keep that timer even if the run is interrupted (reset_peer). */
  closeOutputAfter(delayMs: number): void;
  /** The run's single timer; cleared automatically on interrupt and connection teardown. */
  setTimer(fn: () => void, delayMs: number): void;
  clearTimer(): void;
  nowMs(): number;
  /** Uniform in [0, 1); the server's RNG (injectable for tests). */
  random(): number;
}

export interface ToxicRun {
  onChunk(chunk: Chunk): void;
  /** The source hit EOF and everything before it has passed this toxic. */
  onEnd(): void;
  /**
   * The run is being stopped (update, neighbour change, removal). Forward any data it holds
   * now; its timer is already cleared. The port stops working once this returns.
   */
  onInterrupt(): void;
}

/** Attribute values are integers in every toxic (spec §6). */
export type Attributes = Record<string, number>;

/** Per-link state that survives restarts of a toxic on that link (limit_data's count). */
export type LinkState = Record<string, number>;

export interface AttributeSpec {
  name: string;
  /**
   * Go type, for "cannot unmarshal … of type int64" messages. Every Toxiproxy attribute is an
   * integer; `float64` exists only for our `loss` extension (a probability).
   */
  goType: 'int64' | 'int' | 'float64';
}

/** One datagram of a UDP proxy, stamped with when it was received (latency counts from it). */
export interface Datagram {
  data: Buffer;
  readAtMs: number;
}

/** A toxic's view of one direction of one UDP session. Valid until the run is interrupted. */
export interface DatagramPort {
  /** Hand a datagram to the next toxic (or send it on). */
  forward(datagram: Datagram): void;
  /** Forget the session (its client 5-tuple): later datagrams from the client open a new one. */
  closeSession(): void;
  /** A timer of this run; all are cancelled when the run is interrupted or the session ends. */
  after(delayMs: number, fn: () => void): { cancel(): void };
  nowMs(): number;
  /** Uniform in [0, 1); the server's RNG (injectable for tests). */
  random(): number;
}

/**
 * How a toxic treats datagrams. Unlike a byte stream, datagrams are independent: a run sees
 * each one as it arrives (no one-at-a-time queue), and may hold, drop or forward it.
 */
export interface DatagramRun {
  onDatagram(datagram: Datagram): void;
  /** The run is being stopped (update, neighbour change, removal): forward what it holds now. */
  onInterrupt(): void;
}

export interface DatagramToxic {
  start(attrs: Attributes, port: DatagramPort, state: LinkState): DatagramRun;
}

export interface ToxicType {
  type: string;
  /** Go struct name, for error messages. */
  goStruct: string;
  /** In the JSON order Go writes them. */
  attributes: readonly AttributeSpec[];
  /**
   * Chunks this toxic may queue before the link stops reading its source. Go's latency toxic
   * has a 1024-chunk buffer; the others are unbuffered, so a slow toxic pushes back at once.
   */
  bufferChunks: number;
  /**
   * Reject attribute sets on which the Go server crashes (documented deviation: 400, not a
   * dead process). Returns the `bad request body:` detail, or undefined when fine.
   */
  validate?(attrs: Attributes): string | undefined;
  /** Removing the toxic closes every connection it was attached to (timeout). */
  closesConnectionOnRemove?: boolean;
  /** Present at connect time → both sockets close with RST (SO_LINGER 0), whatever the toxicity. */
  resetsPeer?: boolean;
  start(attrs: Attributes, port: ToxicPort, state: LinkState): ToxicRun;
  /** Datagram behaviour on UDP proxies (our extension); a type without it is refused there. */
  datagram?: DatagramToxic;
}

/** The datagram run used when the toxicity roll says "not this session". */
export function passThroughDatagramRun(port: DatagramPort): DatagramRun {
  return {
    onDatagram(datagram) {
      port.forward(datagram);
    },
    onInterrupt() {},
  };
}

/** The run used when the toxicity roll says "not this link": plain pass-through. */
export function passThroughRun(port: ToxicPort): ToxicRun {
  return {
    onChunk(chunk) {
      port.forward(chunk);
      port.finish();
    },
    onEnd() {
      port.closeOutput();
    },
    onInterrupt() {},
  };
}
