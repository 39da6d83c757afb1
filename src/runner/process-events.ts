/**
 * Follows the event files the apps and controllers append to (JSONL) and turns their lines
 * into history events, for every executor that runs the local topology (the scenario runner
 * and local game days). It also remembers each controller's last role and each app's write
 * authority, so that a crash — after which the process reports nothing — can be written into
 * the history as what it means: the role is gone, the authority is gone.
 */
import type { NewEvent, Role } from '../contracts/history.ts';
import type { Topology } from '../topology/local.ts';
import { appEvent, controllerEvent } from './events.ts';
import { hrNowMs } from './recorder.ts';
import { JsonlTail } from './tail.ts';

/** Where the events go: each executor has its own recorder. */
export interface EventSink {
  /** CLOCK_MONOTONIC ms at global t = 0 */
  readonly originHrMs: number;
  tOfHr(hrMs: number): number;
  now(): number;
  add(ev: NewEvent): void;
}

type CollectedTopology = Pick<Topology, 'apps' | 'controllers' | 'spec' | 'proxies'>;

export class ProcessEventCollector {
  private readonly tails: JsonlTail[] = [];
  readonly state = {
    appAuthority: new Map<string, { epoch: number; untilT: number }>(),
    /** apps that were granted authority at least once */
    everGranted: new Set<string>(),
    /** last role and local clock each controller reported */
    roles: new Map<string, { role: Role; localMs: number }>(),
  };
  /** Date.now() at global t = 0 (wall and CLOCK_MONOTONIC tick together on this machine) */
  private readonly wallAtOriginMs: number;

  constructor(
    topo: CollectedTopology,
    private readonly sink: EventSink,
  ) {
    this.wallAtOriginMs = Date.now() - (hrNowMs() - sink.originHrMs);
    for (const [r, app] of Object.entries(topo.apps)) {
      this.tails.push(
        new JsonlTail(app.eventsFile, (raw) => {
          const ev = appEvent(raw, (hr) => sink.tOfHr(hr));
          if (!ev) return;
          if (ev.kind === 'app-authority' && ev.op === 'grant' && ev.untilT !== undefined) {
            this.state.appAuthority.set(r, { epoch: ev.epoch, untilT: ev.untilT });
            this.state.everGranted.add(r);
          }
          if (ev.kind === 'app-authority' && ev.op === 'revoke') this.state.appAuthority.delete(r);
          sink.add(ev);
        }),
      );
    }
    const witnessIds = new Map<string, string>();
    for (const [r, c] of Object.entries(topo.controllers)) {
      for (const w of topo.spec.witnesses) {
        const p = topo.proxies.get(`ctl-${r}->${w}`);
        if (p) witnessIds.set(`${p.listen.host}:${p.listen.port}`, w);
      }
      this.tails.push(
        new JsonlTail(c.eventsFile, (raw, hr) => {
          const ev = controllerEvent(raw, this.controllerT(c, raw, hr), (id) => witnessIds.get(id) ?? id);
          if (ev === null) return;
          if (ev.kind === 'role') this.state.roles.set(r, { role: ev.to, localMs: ev.localMs });
          sink.add(ev);
        }),
      );
    }
  }

  /**
   * Global t of a controller line. Controllers not under libfaketime stamp lines with the
   * real wall clock (wallMs), which converts exactly; a faked controller's stamps are fake by
   * design, so its lines get the time the harness read them (files are polled every 20 ms).
   * Never later than the arrival: a line cannot be written after it was read.
   */
  private controllerT(
    c: Topology['controllers'][string],
    raw: Record<string, unknown>,
    arrivedHrMs: number,
  ): number {
    const arrivedT = this.sink.tOfHr(arrivedHrMs);
    if (c.faketime || typeof raw.wallMs !== 'number') return arrivedT;
    return Math.min(arrivedT, raw.wallMs - this.wallAtOriginMs);
  }

  /** Reads whatever the files gained since the last poll. */
  poll(hrMs = hrNowMs()): void {
    for (const t of this.tails) t.poll(hrMs);
  }

  /**
   * A killed process reports nothing, so the history says what its death means, exactly as
   * the simulator does: a controller's role is gone (it restarts as a fresh standby), an
   * app's write authority is gone.
   */
  crashed(component: string, reason = 'process crashed (state lost)'): void {
    this.poll();
    const m = /^(ctl|app)-(.+)$/.exec(component);
    if (!m) return;
    const region = m[2]!;
    const now = this.sink.now();
    if (m[1] === 'ctl') {
      const last = this.state.roles.get(region);
      if (last && last.role !== 'standby') {
        this.sink.add({
          kind: 'role',
          t: now,
          region,
          from: last.role,
          to: 'standby',
          reason,
          epoch: null,
          localMs: last.localMs,
        });
      }
      this.state.roles.delete(region);
    } else {
      const a = this.state.appAuthority.get(region);
      if (a && a.untilT > now) {
        this.sink.add({
          kind: 'app-authority',
          t: now,
          region,
          op: 'revoke',
          epoch: a.epoch,
          reason: 'process crashed',
        });
      }
      this.state.appAuthority.delete(region);
    }
  }

  close(): void {
    for (const t of this.tails) t.close();
  }
}
