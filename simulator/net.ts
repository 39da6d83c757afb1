/**
 * Processes and message delivery.
 *
 * A Proc is one component's process: up, paused (SIGSTOP: everything delivered to it waits
 * in a queue and runs, in order, a host wake latency after resume — timers fire late; a Node
 * process runs its expired timers before what arrived on its sockets, see wake) or crashed (deliveries are
 * dropped; requests to it are refused with a reset; on restart its incarnation changes so
 * replies and timers meant for the old process vanish).
 *
 * A request/response exchange (Call) travels over one topology link: the request on the
 * link's forward direction, the reply on its reverse. Each direction can be cut, delayed
 * (latency + jitter) or lossy. A cut either drops (silence: the sender gives up after its
 * timeout, like the real adapters do) or refuses (the sender's connection is refused or
 * reset at once); docs/scenarios.md "Fault vocabulary" is the one definition of both.
 */
import type { NodeClock } from './clock.ts';
import type { Engine } from './engine.ts';
import type { Prng } from './prng.ts';

export type ProcState = 'up' | 'paused' | 'crashed';
type Fn = (arg: unknown) => void;

export class Proc {
  state: ProcState = 'up';
  incarnation = 0;
  private pauseDepth = 0;
  private crashDepth = 0;
  /** invalidates a pending wake when the process is paused or crashed again */
  private wakeToken = 0;
  private queue: Array<Fn | unknown> = [];
  /** timers that expired while a Node process was stopped (see wake) */
  private timerQueue: Array<Fn | unknown> = [];

  constructor(
    readonly id: string,
    readonly clock: NodeClock,
    /**
     * A Node process (the controllers, the apps): after SIGSTOP/SIGCONT its epoll_wait returns
     * EINTR (man 7 signal), so libuv runs the expired timers before it polls the sockets again:
     * a request whose timeout passed while stopped times out even if its reply is waiting.
     * Measured on the real topology (docs/simulator.md "Pauses").
     */
    private readonly timersFirst = false,
  ) {}

  /** A timer's callback in this process: like run, but see `timersFirst`. */
  runTimer(fn: Fn, arg: unknown, incarnation = -1): void {
    if (this.state === 'paused' && this.timersFirst) {
      if (incarnation >= 0 && incarnation !== this.incarnation) return;
      this.timerQueue.push(fn, arg);
      return;
    }
    this.run(fn, arg, incarnation);
  }

  /** Runs fn(arg) in this process now, later (paused) or never (crashed / other incarnation). */
  run(fn: Fn, arg: unknown, incarnation = -1): void {
    if (this.state === 'crashed') return;
    if (incarnation >= 0 && incarnation !== this.incarnation) return;
    if (this.state === 'paused') {
      this.queue.push(fn, arg);
      return;
    }
    fn(arg);
  }

  /** returns true when this call actually paused the process (a process still waking counts) */
  pause(): boolean {
    this.pauseDepth++;
    if (this.pauseDepth === 1 && this.state === 'paused') {
      // SIGSTOP again before the last SIGCONT took effect: the pending wake is void
      this.wakeToken++;
      return true;
    }
    if (this.pauseDepth === 1 && this.state === 'up') {
      this.state = 'paused';
      return true;
    }
    return false;
  }

  /**
   * SIGCONT. Returns the wake token when the process will run again — it does so only when
   * wake(token) is called, some host latency later (a stopped process is not running the
   * instant it is continued) — or null when it stays paused or crashed.
   */
  resume(): number | null {
    if (this.pauseDepth === 0) return null;
    this.pauseDepth--;
    if (this.pauseDepth > 0 || this.state !== 'paused') return null;
    return ++this.wakeToken;
  }

  /** The process runs again: drains what was delivered while it was stopped, in order. */
  wake(token: number): void {
    if (token !== this.wakeToken || this.pauseDepth > 0 || this.state !== 'paused') return;
    this.state = 'up';
    // Drain in order, a Node process's expired timers first; a handler may schedule more
    // work but cannot re-pause us.
    const q = this.timerQueue.length > 0 ? this.timerQueue.concat(this.queue) : this.queue;
    this.queue = [];
    this.timerQueue = [];
    for (let i = 0; i < q.length; i += 2) {
      if (this.state !== 'up') break;
      (q[i] as Fn)(q[i + 1]);
    }
  }

  /** returns true when this call actually crashed the process */
  crash(): boolean {
    this.crashDepth++;
    if (this.crashDepth > 1 || this.state === 'crashed') return false;
    this.state = 'crashed';
    this.wakeToken++;
    this.incarnation++;
    this.queue = [];
    this.timerQueue = [];
    return true;
  }

  /** returns true when the process starts again */
  restart(): boolean {
    if (this.crashDepth === 0) return false;
    this.crashDepth--;
    if (this.crashDepth > 0 || this.state !== 'crashed') return false;
    this.incarnation++;
    this.state = this.pauseDepth > 0 ? 'paused' : 'up';
    return true;
  }
}

export interface LinkState {
  id: string;
  baseLatencyMs: number;
  baseJitterMs: number;
  /** >0: the request direction (from → to) drops everything */
  cutRequest: number;
  /** >0: the reply direction (to → from) drops everything */
  cutReply: number;
  /** >0: new requests are refused at once (the responder never sees them) */
  refuseRequest: number;
  /** >0: replies are replaced by a reset at once (connections closed) */
  refuseReply: number;
  /** calls sent and not yet answered, so a refusing cut can reset them when it starts */
  inflight: InflightCalls;
  addLatencyMs: number;
  addJitterMs: number;
  lossProbability: number;
  /** messages sent / dropped, for coverage */
  sent: number;
  dropped: number;
  /** false for harness-internal paths a scenario cannot name (e.g. client → resolver) */
  faultable: boolean;
}

export function newLink(
  id: string,
  baseLatencyMs: number,
  baseJitterMs: number,
  faultable = true,
): LinkState {
  return {
    id,
    baseLatencyMs,
    baseJitterMs,
    cutRequest: 0,
    cutReply: 0,
    refuseRequest: 0,
    refuseReply: 0,
    inflight: new InflightCalls(),
    addLatencyMs: 0,
    addJitterMs: 0,
    lossProbability: 0,
    sent: 0,
    dropped: 0,
    faultable,
  };
}

/**
 * A link's calls in flight, in the order they were sent: an intrusive doubly linked list
 * through the calls themselves (what a Set<Call> gave, without hashing every call in and out;
 * every call of a run passes through one).
 */
export class InflightCalls {
  private head: Call | null = null;
  private tail: Call | null = null;

  add(call: Call): void {
    call.inflightPrev = this.tail;
    call.inflightNext = null;
    if (this.tail === null) this.head = call;
    else this.tail.inflightNext = call;
    this.tail = call;
    call.inflightOn = this;
  }

  delete(call: Call): void {
    if (call.inflightOn !== this) return;
    const { inflightPrev: prev, inflightNext: next } = call;
    if (prev === null) this.head = next;
    else prev.inflightNext = next;
    if (next === null) this.tail = prev;
    else next.inflightPrev = prev;
    call.inflightPrev = null;
    call.inflightNext = null;
    call.inflightOn = null;
  }

  /** Empties the list, returning its calls in the order they were added. */
  drain(): Call[] {
    const out: Call[] = [];
    for (let c = this.head; c !== null; ) {
      const next: Call | null = c.inflightNext;
      out.push(c);
      c.inflightPrev = null;
      c.inflightNext = null;
      c.inflightOn = null;
      c = next;
    }
    this.head = null;
    this.tail = null;
    return out;
  }
}

export type Reply = unknown;
export type Done = (ok: boolean, reply: Reply, error: string | null) => void;

/** Something that serves requests: must eventually call net.reply(call, ...) or never answer. */
export interface Server {
  proc: Proc;
  serve(call: Call): void;
}

export interface Call {
  link: LinkState;
  from: Proc;
  fromIncarnation: number;
  to: Server;
  toIncarnation: number;
  req: unknown;
  done: boolean;
  onDone: Done;
  reply: Reply;
  error: string | null;
  /** the connection was reset by a refusing cut: a later reply never arrives */
  reset: boolean;
  /** membership of its link's InflightCalls */
  inflightOn: InflightCalls | null;
  inflightPrev: Call | null;
  inflightNext: Call | null;
}

export class Net {
  constructor(
    private readonly engine: Engine,
    private readonly prng: Prng,
  ) {}

  private delay(link: LinkState): number {
    const jitter = link.baseJitterMs + link.addJitterMs;
    const base = link.baseLatencyMs + link.addLatencyMs;
    return jitter > 0 ? base + this.prng.int(jitter + 1) : base;
  }

  private passes(link: LinkState, cut: number): boolean {
    link.sent++;
    if (cut > 0 || (link.lossProbability > 0 && this.prng.chance(link.lossProbability))) {
      link.dropped++;
      return false;
    }
    return true;
  }

  /** Sends `req` from `from` to `to` over `link`; `onDone` runs in `from` exactly once, unless `from` crashed. */
  call(link: LinkState, from: Proc, to: Server, req: unknown, timeoutMs: number, onDone: Done): void {
    const call: Call = {
      link,
      from,
      fromIncarnation: from.incarnation,
      to,
      toIncarnation: -1,
      req,
      done: false,
      onDone,
      reply: null,
      error: null,
      reset: false,
      inflightOn: null,
      inflightPrev: null,
      inflightNext: null,
    };
    this.engine.after(timeoutMs, this.onTimeout, call);
    if (!this.passes(link, link.cutRequest)) return;
    if (link.refuseRequest > 0) {
      // Refused before it reaches the responder; the refusal comes straight back.
      link.dropped++;
      call.error = 'connection refused';
      this.engine.after(this.delay(link), this.onReplyArrive, call);
      return;
    }
    link.inflight.add(call);
    this.engine.after(this.delay(link), this.onArrive, call);
  }

  /**
   * A refusing cut of the reply direction starts: every call on the link still waiting for
   * its reply sees its connection reset now (a disabled proxy closes open connections).
   */
  resetInflight(link: LinkState): void {
    for (const call of link.inflight.drain()) {
      if (call.done || call.reset) continue;
      call.reset = true;
      call.reply = null;
      call.error = 'connection reset';
      this.engine.after(0, this.onReplyArrive, call);
    }
  }

  /** A fire-and-forget message (no reply expected), e.g. a DNS answer to a harness-internal client. */
  reply(call: Call, reply: Reply): void {
    this.sendBack(call, reply, null);
  }

  fail(call: Call, error: string): void {
    this.sendBack(call, null, error);
  }

  private sendBack(call: Call, reply: Reply, error: string | null): void {
    const server = call.to.proc;
    // A server that crashed (or restarted) since it took the request never answers.
    if (server.state === 'crashed' || server.incarnation !== call.toIncarnation) return;
    if (call.reset) return;
    if (!this.passes(call.link, call.link.cutReply)) return;
    if (call.link.refuseReply > 0) {
      call.link.dropped++;
      call.reset = true;
      call.error = 'connection reset';
      this.engine.after(0, this.onReplyArrive, call);
      return;
    }
    call.reply = reply;
    call.error = error;
    this.engine.after(this.delay(call.link), this.onReplyArrive, call);
  }

  private readonly onTimeout = (arg: unknown): void => {
    const call = arg as Call;
    call.link.inflight.delete(call);
    if (call.done) return;
    call.from.runTimer(this.timeoutInSender, call, call.fromIncarnation);
  };

  private readonly timeoutInSender = (arg: unknown): void => {
    const call = arg as Call;
    if (call.done) return;
    call.done = true;
    call.onDone(false, null, 'timeout');
  };

  private readonly onArrive = (arg: unknown): void => {
    const call = arg as Call;
    const server = call.to.proc;
    if (server.state === 'crashed') {
      // Connection refused: the host answers with a reset on the reverse path.
      call.link.inflight.delete(call);
      if (this.passes(call.link, call.link.cutReply)) {
        call.error = 'connection refused';
        this.engine.after(this.delay(call.link), this.onReplyArrive, call);
      }
      return;
    }
    call.toIncarnation = server.incarnation;
    server.run(this.serveInServer, call);
  };

  private readonly serveInServer = (arg: unknown): void => {
    const call = arg as Call;
    if (call.to.proc.incarnation !== call.toIncarnation) return;
    call.to.serve(call);
  };

  private readonly onReplyArrive = (arg: unknown): void => {
    const call = arg as Call;
    call.link.inflight.delete(call);
    if (call.done) return;
    call.from.run(this.replyInSender, call, call.fromIncarnation);
  };

  private readonly replyInSender = (arg: unknown): void => {
    const call = arg as Call;
    if (call.done) return;
    call.done = true;
    if (call.error !== null) call.onDone(false, null, call.error);
    else call.onDone(true, call.reply, null);
  };
}
