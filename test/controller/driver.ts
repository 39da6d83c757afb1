/** Test driver for the pure core: a fake clock that is just a number, plus action bookkeeping. */
import {
  type ControllerState,
  type CreateOptions,
  createControllerState,
  defaultControllerConfig,
  step,
  view,
} from '../../src/controller/core.ts';
import type { ControllerAction, ControllerConfig, ControllerInput } from '../../src/controller/types.ts';

type Input = ControllerInput extends infer T ? (T extends unknown ? Omit<T, 'nowMs'> : never) : never;

export function config(p: Partial<ControllerConfig> = {}): ControllerConfig {
  return defaultControllerConfig({ region: 'b', peerRegion: 'a', witnesses: ['w1', 'w2', 'w3'], ...p });
}

export class Driver {
  s: ControllerState;
  nowMs: number;
  wakeAtMs: number;
  /** every action ever emitted, with the local time of the step */
  history: { nowMs: number; action: ControllerAction }[] = [];

  constructor(cfg: ControllerConfig = config(), opts: CreateOptions = {}, startMs = 0) {
    this.nowMs = startMs;
    this.s = createControllerState(cfg, startMs, opts);
    this.wakeAtMs = startMs;
  }

  /** Feeds one input at the current time (or at `atMs`), returns the actions of that step. */
  feed(input: Input, atMs = this.nowMs): ControllerAction[] {
    this.nowMs = atMs;
    // step must never write its input: a frozen state makes any such write throw here.
    deepFreeze(this.s);
    const r = step(this.s, { ...input, nowMs: atMs } as ControllerInput);
    this.s = r.state;
    this.wakeAtMs = r.wakeAtMs;
    for (const action of r.actions) this.history.push({ nowMs: atMs, action });
    return r.actions;
  }

  tick(atMs = this.nowMs): ControllerAction[] {
    return this.feed({ type: 'tick' }, atMs);
  }

  advance(ms: number): ControllerAction[] {
    return this.tick(this.nowMs + ms);
  }

  get view() {
    return view(this.s);
  }

  /** Answers the last status poll (sent in an earlier step) with the given holder/epoch. */
  status(holder: string | null, epoch: number, atMs = this.nowMs): ControllerAction[] {
    return this.feed(
      {
        type: 'lease-result',
        op: 'status',
        sentAtMs: lastOf(this.history, 'lease-status')?.sentAtMs ?? atMs,
        ok: true,
        granted: false,
        holder,
        epoch,
        ttlMs: null,
      },
      atMs,
    );
  }

  acquireResult(
    granted: boolean,
    epoch: number,
    holder: string | null,
    atMs = this.nowMs,
    sentAtMs?: number,
  ) {
    return this.feed(
      {
        type: 'lease-result',
        op: 'acquire',
        sentAtMs: sentAtMs ?? lastOf(this.history, 'lease-acquire')!.sentAtMs,
        ok: true,
        granted,
        holder,
        epoch,
        ttlMs: 30_000,
      },
      atMs,
    );
  }

  renewResult(granted: boolean, epoch: number, atMs = this.nowMs, sentAtMs?: number) {
    return this.feed(
      {
        type: 'lease-result',
        op: 'renew',
        sentAtMs: sentAtMs ?? lastOf(this.history, 'lease-renew')!.sentAtMs,
        ok: true,
        granted,
        holder: granted ? this.s.config.region : null,
        epoch,
        ttlMs: 30_000,
      },
      atMs,
    );
  }

  witness(round: number, verdicts: Record<string, 'reachable' | 'unreachable' | 'unknown'>) {
    const out: ControllerAction[] = [];
    for (const [witness, verdict] of Object.entries(verdicts)) {
      out.push(...this.feed({ type: 'witness-result', round, witness, verdict }));
    }
    return out;
  }

  peer(ok: boolean, times = 1) {
    const out: ControllerAction[] = [];
    for (let i = 0; i < times; i++) out.push(...this.feed({ type: 'peer-result', ok }));
    return out;
  }
}

export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export function lastOf<T extends ControllerAction['type']>(
  history: { action: ControllerAction }[],
  type: T,
): Extract<ControllerAction, { type: T }> | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const a = history[i]!.action;
    if (a.type === type) return a as Extract<ControllerAction, { type: T }>;
  }
  return undefined;
}

export function types(actions: ControllerAction[]): string[] {
  return actions.map((a) => (a.type === 'event' ? `event:${a.event.kind}` : a.type));
}

export function roleEvents(actions: ControllerAction[]) {
  return actions.flatMap((a) => (a.type === 'event' && a.event.kind === 'role' ? [a.event] : []));
}

export function ofType<T extends ControllerAction['type']>(actions: ControllerAction[], type: T) {
  return actions.filter((a): a is Extract<ControllerAction, { type: T }> => a.type === type);
}

/** Drives a fresh controller to primary via the failover path; returns the driver at grant time. */
export function toPrimaryViaFailover(cfg = config(), epoch = 7): Driver {
  const d = new Driver(cfg);
  d.tick(0);
  d.status('a', epoch - 1, 5);
  d.peer(false, cfg.peerFailureThreshold);
  const round = lastOf(d.history, 'witness-query')!.round;
  d.witness(round, { w1: 'unreachable', w2: 'unreachable' });
  d.acquireResult(true, epoch, 'b', d.nowMs + 20);
  return d;
}
