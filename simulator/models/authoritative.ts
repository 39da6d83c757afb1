/**
 * PowerDNS authoritative of one region, with LUA ifurlextup health-check semantics as the
 * real topology configures them (src/topology/configs.ts; recipe §3, reference §4.2):
 *
 * - svc.<zone>: ordered units {{primary app},{dr app}} in the order the last publish set;
 *   <r>.regions.<zone>: {{app-r},{tombstone}}. The first unit with an up address answers.
 * - One check per target address (same URL and option table everywhere, so svc and the
 *   region names share it), registered lazily by the first query that evaluates it. Until
 *   its first result an address counts as DOWN — the first-answer quirk.
 * - All addresses down → backupSelector (default random) over ALL addresses of all units:
 *   4.7 never answers empty or SERVFAIL for these records.
 * - One checker loop: every interval it runs all registered checks in parallel and waits for
 *   all of them (a hanging target stretches the cycle to the check timeout). One failure =
 *   DOWN, one success = UP (no hysteresis in 4.7).
 * - Zone content (the published order) is in the database and survives a crash; the checks
 *   (and their state) are process memory and do not.
 * - After a restart nothing is pre-registered: the DNS observer's service-name queries (every
 *   100 ms in the real runner) register the app checks, a witness's first region-name query
 *   registers the tombstone's. The checker thread's first pass then runs at once or only one
 *   interval later, half the time each (4.7.3 measured on this machine: PowerDNS #16369, the
 *   thread can start before the check is queued; fixed in 5.1): the first-answer window is
 *   0–1 interval long (docs/topology.md "First answer after a start").
 * The tombstone is an always-up stand-in outside both regions: its check always succeeds.
 */

import type { NodeClock } from '../clock.ts';
import { Routes, type SimContext } from '../context.ts';
import { type Call, Proc, type Server } from '../net.ts';
import type { AppReply } from './app.ts';

export const TOMBSTONE = 'tombstone';

export type AuthRequest =
  | { type: 'query'; name: string }
  | { type: 'publish'; epoch: number; activeRegion: string };

export interface DnsReply {
  rcode: 'NOERROR' | 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN';
  answers: string[];
}

interface Check {
  target: string;
  /** null until the first result: counts as down */
  up: boolean | null;
}

/** What observe() compares to tell a new answer from the last one recorded. */
function answerKey(rcode: string, answers: string[]): string {
  return `${rcode} ${answers.join(',')}`;
}

const TIMEOUT_KEY = answerKey('TIMEOUT', []);

export class AuthoritativeModel implements Server {
  readonly proc: Proc;
  /** svc unit order, persisted (gsqlite3) */
  private order: string[] = [];
  /** derived from `order` by setOrder: its app addresses, svc units and all-down answer key */
  private orderApps: string[] = [];
  private svcUnits: string[][] = [];
  /** answer keys (see answerKey) when orderApps[i] is the first up address, and when none is */
  private upKeys: string[] = [];
  private allDownKey = '';
  /** per region name: its units {{app-r},{tombstone}} */
  private readonly regionUnits = new Map<string, string[][]>();
  private readonly checks = new Map<string, Check>();
  private loopRunning = false;
  /** restarted process: its checker thread's first pass may find nothing queued (#16369) */
  private restarted = false;
  private cycleStartedAt = 0;
  private outstanding = 0;
  /** last service answer recorded by the DNS observation (see observe()) */
  private observed: string | null = null;
  private readonly routes: Routes;

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    clock: NodeClock,
    initialPrimary: string,
  ) {
    this.proc = new Proc(`auth-${region}`, clock);
    this.routes = new Routes(sim, this.proc.id);
    const regions = sim.spec.regions;
    this.setOrder([initialPrimary, ...regions.filter((r) => r !== initialPrimary)]);
    for (const r of regions) this.regionUnits.set(sim.spec.regionName(r), [[`app-${r}`], [TOMBSTONE]]);
  }

  /** A new svc order, and what every query and observation derives from it (built once here). */
  private setOrder(order: string[]): void {
    this.order = order;
    this.orderApps = order.map((r) => `app-${r}`);
    this.svcUnits = this.orderApps.map((a) => [a]);
    this.upKeys = this.orderApps.map((a) => answerKey('NOERROR', [a]));
    this.allDownKey = answerKey('NOERROR', this.orderApps);
  }

  /** The harness queries every LUA name once after start (recipe advice), registering all checks. */
  warmUp(): void {
    for (const r of this.sim.spec.regions) this.register(`app-${r}`);
    this.register(TOMBSTONE);
    this.observe();
  }

  /**
   * The DNS observer's view (docs/invariants.md, dns-follows-lease): what this authoritative
   * would answer for the service name now, recorded as a `dns-answer` whenever it changes —
   * after a publish, a health-check result, a crash or a restart. Computed without drawing
   * from the PRNG: when every unit is down the real server picks at random, recorded as all
   * candidates with no region.
   */
  private observe(): void {
    const name = this.sim.spec.serviceName;
    let up: string | undefined;
    let key: string;
    // the answer's key first (it is usually unchanged), from the keys built by setOrder: the
    // answer itself only when it is new
    if (this.proc.state === 'crashed') key = TIMEOUT_KEY;
    else {
      const apps = this.orderApps;
      let i = 0;
      while (i < apps.length && this.checks.get(apps[i]!)?.up !== true) i++;
      up = apps[i];
      key = up !== undefined ? this.upKeys[i]! : this.allDownKey;
    }
    if (key === this.observed) return;
    this.observed = key;
    let answers: string[];
    let rcode = 'NOERROR';
    if (this.proc.state === 'crashed') {
      answers = [];
      rcode = 'TIMEOUT';
    } else {
      answers = up !== undefined ? [up] : [...this.orderApps];
    }
    const region = answers.length === 1 && answers[0]!.startsWith('app-') ? answers[0]!.slice(4) : null;
    this.sim.rec.emit({
      kind: 'dns-answer',
      t: this.sim.engine.now,
      resolver: this.proc.id,
      name,
      rcode,
      answers,
      region,
      observer: 'dns-observer',
    });
  }

  serve(call: Call): void {
    const req = call.req as AuthRequest;
    if (req.type === 'publish') {
      const regions = this.sim.spec.regions;
      this.setOrder([req.activeRegion, ...regions.filter((r) => r !== req.activeRegion)]);
      this.observe();
      this.sim.net.reply(call, { ok: true } satisfies AppReply);
      return;
    }
    this.sim.net.reply(call, this.answer(req.name));
  }

  answer(name: string): DnsReply {
    if (name === this.sim.spec.serviceName) {
      return { rcode: 'NOERROR', answers: [this.ifurlup(this.svcUnits)] };
    }
    const units = this.regionUnits.get(name);
    if (units !== undefined) return { rcode: 'NOERROR', answers: [this.ifurlup(units)] };
    return { rcode: 'NXDOMAIN', answers: [] };
  }

  private ifurlup(units: string[][]): string {
    for (const unit of units) {
      let up: string | null = null;
      let count = 0;
      for (const addr of unit) {
        if (this.register(addr).up === true) {
          count++;
          // selector=random among the unit's up addresses
          if (up === null || this.sim.prng.int(count) === 0) up = addr;
        }
      }
      if (up !== null) return up;
    }
    // backupSelector=random over every address of every unit
    const all = units.flat();
    return all.length === 1 ? all[0]! : all[this.sim.prng.int(all.length)]!;
  }

  private register(target: string): Check {
    let c = this.checks.get(target);
    if (!c) {
      c = { target, up: null };
      this.checks.set(target, c);
      if (!this.loopRunning) {
        // the checker thread starts on first use and runs its first cycle right away — or,
        // after a restart, half the time one interval later (the boot's race is hidden by the
        // harness's warm-up, which waits for clean answers, and stays undrawn)
        this.loopRunning = true;
        const late = this.restarted && this.sim.prng.int(2) === 1;
        this.sim.engine.after(
          late ? this.sim.timings.healthCheckIntervalMs : 0,
          this.onCycleTimer,
          this.proc.incarnation,
        );
      }
    }
    return c;
  }

  private readonly onCycleTimer = (incarnation: unknown): void => {
    this.proc.run(this.cycle, null, incarnation as number);
  };

  private readonly cycle = (): void => {
    const { net, engine, timings } = this.sim;
    this.cycleStartedAt = engine.now;
    this.outstanding = 0;
    const inc = this.proc.incarnation;
    for (const check of this.checks.values()) {
      if (check.target === TOMBSTONE) {
        check.up = true;
        continue;
      }
      this.outstanding++;
      const route = this.routes.to(check.target);
      net.call(
        route.link,
        this.proc,
        route.server,
        { type: 'health' },
        timings.healthCheckTimeoutMs,
        (ok, reply) => {
          if (this.proc.incarnation !== inc) return;
          check.up = ok && (reply as AppReply).body?.includes('OK') === true;
          this.observe();
          if (--this.outstanding === 0) this.endCycle();
        },
      );
    }
    if (this.outstanding === 0) this.endCycle();
  };

  private endCycle(): void {
    const { engine, timings } = this.sim;
    const next = Math.max(this.cycleStartedAt + timings.healthCheckIntervalMs, engine.now);
    engine.at(next, this.onCycleTimer, this.proc.incarnation);
  }

  onCrash(): void {
    this.checks.clear();
    this.loopRunning = false;
    this.outstanding = 0;
    this.observe();
  }

  /**
   * After a restart only the DNS observer's service-name queries register checks at once (the
   * app addresses); the tombstone's check waits for a witness's region-name query.
   */
  onRestart(): void {
    this.restarted = true;
    for (const r of this.order) this.register(`app-${r}`);
    this.observe();
  }
}
