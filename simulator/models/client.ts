/**
 * The workload: `clients` writers, each every writeInterval resolving the service name
 * through one witness resolver (client i uses witness i mod n) and writing to the app the
 * answer points to. The client → resolver path is harness-internal (the topology has no
 * such link, so scenarios cannot cut it); client → app-r are real links.
 */

import type { NodeClock } from '../clock.ts';
import { Routes, type SimContext } from '../context.ts';
import { type LinkState, newLink, Proc, type Server } from '../net.ts';
import type { DnsReply } from './authoritative.ts';

export class ClientModel implements Server {
  readonly proc: Proc;
  private readonly resolverLinks: LinkState[];
  private readonly routes: Routes;

  constructor(
    private readonly sim: SimContext,
    clock: NodeClock,
    private readonly clients: number,
    private readonly writeIntervalMs: number,
  ) {
    this.proc = new Proc('client', clock);
    this.routes = new Routes(sim, 'client');
    this.resolverLinks = sim.spec.witnesses.map((w) => newLink(`client->${w}`, 1, 0, false));
  }

  serve(): void {
    // nothing calls the client
  }

  start(): void {
    if (this.clients === 0 || this.writeIntervalMs <= 0) return;
    for (let i = 0; i < this.clients; i++) {
      // spread the writers over the interval so they do not move in lockstep
      const phase = Math.floor(((i + 1) * this.writeIntervalMs) / this.clients);
      this.sim.engine.after(phase, this.onTimer, i);
    }
  }

  private readonly onTimer = (i: unknown): void => {
    this.sim.engine.after(this.writeIntervalMs, this.onTimer, i);
    this.proc.run(this.resolveAndWrite, i);
  };

  private readonly resolveAndWrite = (arg: unknown): void => {
    const i = arg as number;
    const { sim } = this;
    const witnesses = sim.spec.witnesses;
    const w = witnesses[i % witnesses.length]!;
    const name = sim.spec.serviceName;
    sim.net.call(
      this.resolverLinks[i % witnesses.length]!,
      this.proc,
      sim.server(w),
      { name },
      sim.timings.clientTimeoutMs,
      (ok, reply) => {
        const r = reply as DnsReply | null;
        const rcode = ok && r ? r.rcode : 'TIMEOUT';
        const answers = ok && r ? r.answers : [];
        const addr = answers[0];
        const region = addr?.startsWith('app-') ? addr.slice(4) : null;
        sim.rec.emit({ kind: 'dns-answer', t: sim.engine.now, resolver: w, name, rcode, answers, region });
        if (region === null) return;
        const route = this.routes.to(addr as string); // app-<region>: region came from it
        sim.net.call(
          route.link,
          this.proc,
          route.server,
          { type: 'write', client: `client-${i}` },
          sim.timings.clientTimeoutMs,
          NOOP,
        );
      },
    );
  };
}

const NOOP = (): void => {};
