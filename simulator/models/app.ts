/**
 * App/database stand-in of one region: a thin adapter around the real app's fence
 * (src/topology/app/fence.ts, the module src/topology/app/server.ts runs) on this app's own
 * clock. Its rules are there; here are only the simulated I/O and the history events:
 * every decision becomes an app-authority / app-write event; `untilT` is the global time at
 * which this app's clock reaches the end of the window.
 * Like the real app (APP_STATE_FILE), the highest epoch seen is durable: it survives a
 * simulated crash and restart; authority does not.
 */

import { type AuthorityHookCall, readAuthorityCommand } from '../../src/contracts/authority-hook.ts';
import type { AppWriteEvent } from '../../src/contracts/history.ts';
import * as fence from '../../src/topology/app/fence.ts';
import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import { type Call, Proc, type Server } from '../net.ts';

export type AppRequest =
  /** POST /authority: the controller's webhook body (its decoded JSON), read as the real app reads it */
  { type: 'authority'; body: AuthorityHookCall } | { type: 'write'; client: string } | { type: 'health' };

export interface AppReply {
  ok: boolean;
  error?: string;
  body?: string;
}

export class AppModel implements Server {
  readonly proc: Proc;
  private state: fence.FenceState = fence.INITIAL_FENCE;
  /** what the real app keeps in APP_STATE_FILE: survives crashes */
  private durableHighestEpochSeen = -1;

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    clock: NodeClock,
  ) {
    this.proc = new Proc(`app-${region}`, clock, true);
  }

  private localNow(): number {
    return this.proc.clock.read(this.sim.engine.now);
  }

  holding(): boolean {
    return fence.holding(this.state, this.localNow());
  }

  serve(call: Call): void {
    const req = call.req as AppRequest;
    const { net } = this.sim;
    switch (req.type) {
      case 'health':
        net.reply(call, { ok: true, body: `OK ${this.region}` } satisfies AppReply);
        return;
      case 'write':
        this.write(req.client);
        net.reply(call, { ok: true } satisfies AppReply);
        return;
      case 'authority':
        net.reply(call, this.authority(req.body));
        return;
    }
  }

  /** The webhook: the body read by the real app's rules (readAuthorityCommand), then the fence. */
  private authority(body: AuthorityHookCall): AppReply {
    const c = readAuthorityCommand(body as unknown as Record<string, unknown>);
    if ('error' in c) return { ok: false, error: c.error };
    if (c.op === 'demote') return this.decide(fence.demote(this.state, c.epoch, c.reason));
    return this.decide(fence.grant(this.state, c.op, c.epoch, c.validityMs, this.localNow()));
  }

  private decide(step: fence.FenceStep): AppReply {
    this.state = step.state;
    if (step.persist) this.durableHighestEpochSeen = step.state.highestEpochSeen;
    const d = step.decision;
    const { rec, engine, monitor } = this.sim;
    switch (d.op) {
      case 'reject':
        rec.emit({
          kind: 'app-authority',
          t: engine.now,
          region: this.region,
          op: 'reject',
          epoch: d.epoch,
          reason: d.reason,
        });
        return { ok: false, error: 'stale epoch' };
      case 'grant':
        this.emitGrant(d.reason);
        return { ok: true };
      case 'revoke':
        rec.emit({
          kind: 'app-authority',
          t: engine.now,
          region: this.region,
          op: 'revoke',
          epoch: d.epoch,
          reason: d.reason,
        });
        monitor.revoke(this.region, engine.now);
        return { ok: true };
    }
  }

  private emitGrant(reason: string): void {
    const { rec, engine, monitor } = this.sim;
    const untilT = this.proc.clock.globalAt(this.state.validUntilMs, engine.now);
    rec.emit({
      kind: 'app-authority',
      t: engine.now,
      region: this.region,
      op: 'grant',
      epoch: this.state.authorityEpoch!,
      untilT,
      reason,
    });
    monitor.grant(this.region, engine.now, untilT);
  }

  private write(client: string): void {
    const { rec, engine } = this.sim;
    const d = fence.write(this.state, this.localNow());
    const ev: Omit<AppWriteEvent, 'seq'> = {
      kind: 'app-write',
      t: engine.now,
      region: this.region,
      client,
      epoch: d.epoch,
      accepted: d.accepted,
    };
    // the last key, set rather than spread in (`...(c ? {} : { reason })` is a slow generic copy
    // in V8, and this is one event per client write)
    if (!d.accepted) ev.reason = d.reason;
    rec.emit(ev);
  }

  /** The process died: authority is gone; the fencing epoch is on disk and survives. */
  onCrash(): void {
    const { rec, engine, monitor } = this.sim;
    if (this.holding()) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'revoke',
        epoch: this.state.authorityEpoch!,
        reason: 'process crashed',
      });
      monitor.revoke(this.region, engine.now);
    }
    this.state = fence.restart(this.durableHighestEpochSeen);
  }

  /** Our clock changed (drift/jump fault): the window's end in global time moved. */
  onClockChange(): void {
    if (this.state.authorityEpoch === null) return;
    const { rec, engine, monitor } = this.sim;
    if (this.localNow() >= this.state.validUntilMs) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'revoke',
        epoch: this.state.authorityEpoch,
        reason: 'clock change ended the window',
      });
      monitor.revoke(this.region, engine.now);
      this.state = { ...this.state, authorityEpoch: null };
      return;
    }
    this.emitGrant('clock change moved the window end');
  }
}
