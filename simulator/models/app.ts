/**
 * App/database stand-in of one region, mirroring src/topology/app/server.ts:
 * - promote/extend {epoch, validityMs}: refused if epoch < highest epoch seen; otherwise
 *   authority for validityMs from *receipt*, measured on this app's own clock;
 * - demote {epoch}: refused if older than the held epoch; otherwise authority ends now;
 * - write: accepted only while authority is valid;
 * - health: "OK" while the process runs.
 * State lives in process memory (lost on crash), like the real stand-in.
 * Every decision becomes an app-authority / app-write event; `untilT` is the global time
 * at which this app's clock reaches the end of the window.
 */

import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import { type Call, Proc, type Server } from '../net.ts';

export type AppRequest =
  | { type: 'promote' | 'extend'; epoch: number; validityMs: number }
  | { type: 'demote'; epoch: number; reason: string }
  | { type: 'write'; client: string }
  | { type: 'health' };

export interface AppReply {
  ok: boolean;
  error?: string;
  body?: string;
}

export class AppModel implements Server {
  readonly proc: Proc;
  private highestEpochSeen = -1;
  private authorityEpoch: number | null = null;
  /** app-local ms */
  private validUntilLocal = 0;

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    clock: NodeClock,
  ) {
    this.proc = new Proc(`app-${region}`, clock);
  }

  private localNow(): number {
    return this.proc.clock.read(this.sim.engine.now);
  }

  holding(): boolean {
    return this.authorityEpoch !== null && this.localNow() < this.validUntilLocal;
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
      case 'promote':
      case 'extend':
        net.reply(call, this.grant(req.type, req.epoch, req.validityMs));
        return;
      case 'demote':
        net.reply(call, this.demote(req.epoch, req.reason));
        return;
    }
  }

  private grant(op: 'promote' | 'extend', epoch: number, validityMs: number): AppReply {
    const { rec, engine } = this.sim;
    if (epoch < this.highestEpochSeen) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'reject',
        epoch,
        reason: `${op}: stale epoch ${epoch} < ${this.highestEpochSeen}`,
      });
      return { ok: false, error: 'stale epoch' };
    }
    this.highestEpochSeen = epoch;
    this.authorityEpoch = epoch;
    this.validUntilLocal = this.localNow() + validityMs;
    this.emitGrant(op);
    return { ok: true };
  }

  private emitGrant(reason: string): void {
    const { rec, engine, monitor } = this.sim;
    const untilT = this.proc.clock.globalAt(this.validUntilLocal, engine.now);
    rec.emit({
      kind: 'app-authority',
      t: engine.now,
      region: this.region,
      op: 'grant',
      epoch: this.authorityEpoch!,
      untilT,
      reason,
    });
    monitor.grant(this.region, engine.now, untilT);
  }

  private demote(epoch: number, reason: string): AppReply {
    const { rec, engine, monitor } = this.sim;
    if (this.authorityEpoch !== null && epoch < this.authorityEpoch) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'reject',
        epoch,
        reason: `demote: stale epoch ${epoch} < ${this.authorityEpoch}`,
      });
      return { ok: false, error: 'stale epoch' };
    }
    this.highestEpochSeen = Math.max(this.highestEpochSeen, epoch);
    this.authorityEpoch = null;
    this.validUntilLocal = 0;
    rec.emit({
      kind: 'app-authority',
      t: engine.now,
      region: this.region,
      op: 'revoke',
      epoch,
      reason: `demote: ${reason}`,
    });
    monitor.revoke(this.region, engine.now);
    return { ok: true };
  }

  private write(client: string): void {
    const { rec, engine } = this.sim;
    const holding = this.holding();
    rec.emit({
      kind: 'app-write',
      t: engine.now,
      region: this.region,
      client,
      epoch: this.authorityEpoch,
      accepted: holding,
      ...(holding ? {} : { reason: this.authorityEpoch === null ? 'no authority' : 'authority lapsed' }),
    });
  }

  /** The process died: in-memory authority and fencing epoch are gone. */
  onCrash(): void {
    const { rec, engine, monitor } = this.sim;
    if (this.holding()) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'revoke',
        epoch: this.authorityEpoch!,
        reason: 'process crashed',
      });
      monitor.revoke(this.region, engine.now);
    }
    this.highestEpochSeen = -1;
    this.authorityEpoch = null;
    this.validUntilLocal = 0;
  }

  /** Our clock changed (drift/jump fault): the window's end in global time moved. */
  onClockChange(): void {
    if (this.authorityEpoch === null) return;
    const { rec, engine, monitor } = this.sim;
    if (this.localNow() >= this.validUntilLocal) {
      rec.emit({
        kind: 'app-authority',
        t: engine.now,
        region: this.region,
        op: 'revoke',
        epoch: this.authorityEpoch,
        reason: 'clock change ended the window',
      });
      monitor.revoke(this.region, engine.now);
      this.authorityEpoch = null;
      return;
    }
    this.emitGrant('clock change moved the window end');
  }
}
