/**
 * An unbound witness resolver configured as in the recipe §6a / src/topology/configs.ts:
 * stub zone to both authoritatives over TCP, caching off (cache-max-ttl 0, stub-no-cache),
 * tcp-auth-query-timeout 1 s, infra-host-ttl 1 s with keep-probing.
 *
 * Behaviour (recipe §6 table, final config):
 * - one auth unreachable (refused): answered by the other, no added latency;
 * - one auth blackholed: that query waits the 1 s upstream timeout, then asks the other;
 *   a recently failed upstream is tried last for infra-host-ttl;
 * - both unreachable → SERVFAIL (after the timeouts that apply);
 * - otherwise upstreams alternate (equal RTT → random pick here).
 * The `witness-stale` fault turns on a cache that serves the first answer it got for a name
 * for `stale` ms (a resolver serving outdated data); SERVFAILs are never cached.
 */

import type { NodeClock } from '../clock.ts';
import { Routes, type SimContext } from '../context.ts';
import { type Call, Proc, type Server } from '../net.ts';
import type { AuthRequest, DnsReply } from './authoritative.ts';

export interface WitnessQuery {
  name: string;
}

interface Pending {
  call: Call;
  name: string;
  order: string[];
  next: number;
}

export class WitnessModel implements Server {
  readonly proc: Proc;
  private readonly lastFailAt = new Map<string, number>();
  private readonly auths: string[];
  /** active witness-stale faults (ms); the longest applies */
  private readonly staleFaults: number[] = [];
  private readonly cache = new Map<string, { reply: DnsReply; untilMs: number }>();
  private readonly routes: Routes;

  constructor(
    private readonly sim: SimContext,
    readonly id: string,
    clock: NodeClock,
  ) {
    this.proc = new Proc(id, clock);
    this.routes = new Routes(sim, id);
    this.auths = sim.spec.regions.map((r) => `auth-${r}`);
  }

  serve(call: Call): void {
    const { name } = call.req as WitnessQuery;
    const now = this.sim.engine.now;
    if (this.staleFaults.length > 0) {
      const hit = this.cache.get(name);
      if (hit && now < hit.untilMs) {
        this.sim.net.reply(call, hit.reply);
        return;
      }
    }
    this.forward({ call, name, order: this.upstreamOrder(now), next: 0 });
  }

  private upstreamOrder(now: number): string[] {
    const ttl = this.sim.timings.witnessInfraHostTtlMs;
    const [a, b] = this.auths;
    if (a === undefined || b === undefined) return [...this.auths];
    const aBad = now - (this.lastFailAt.get(a) ?? Number.NEGATIVE_INFINITY) < ttl;
    const bBad = now - (this.lastFailAt.get(b) ?? Number.NEGATIVE_INFINITY) < ttl;
    if (aBad !== bBad) return aBad ? [b, a] : [a, b];
    return this.sim.prng.int(2) === 0 ? [a, b] : [b, a];
  }

  private forward(p: Pending): void {
    const auth = p.order[p.next]!;
    const inc = this.proc.incarnation;
    const route = this.routes.to(auth);
    this.sim.net.call(
      route.link,
      this.proc,
      route.server,
      { type: 'query', name: p.name } satisfies AuthRequest,
      this.sim.timings.witnessUpstreamTimeoutMs,
      (ok, reply) => {
        if (this.proc.incarnation !== inc) return;
        if (ok) {
          const r = reply as DnsReply;
          if (this.staleFaults.length > 0 && r.rcode === 'NOERROR') {
            this.cache.set(p.name, {
              reply: r,
              untilMs: this.sim.engine.now + Math.max(...this.staleFaults),
            });
          }
          this.sim.net.reply(p.call, r);
          return;
        }
        this.lastFailAt.set(auth, this.sim.engine.now);
        p.next++;
        if (p.next < p.order.length) this.forward(p);
        else this.sim.net.reply(p.call, { rcode: 'SERVFAIL', answers: [] } satisfies DnsReply);
      },
    );
  }

  addStale(staleMs: number): void {
    this.staleFaults.push(staleMs);
  }

  removeStale(staleMs: number): void {
    const i = this.staleFaults.indexOf(staleMs);
    if (i >= 0) this.staleFaults.splice(i, 1);
    if (this.staleFaults.length === 0) this.cache.clear();
  }

  onCrash(): void {
    this.lastFailAt.clear();
    this.cache.clear();
  }
}
