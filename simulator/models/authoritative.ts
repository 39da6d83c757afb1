/**
 * PowerDNS authoritative of one region, with LUA ifurlextup health-check semantics as the
 * real topology configures them (src/topology/configs.ts; recipe §3, reference §4.2):
 *
 * - The zone is what the harness loads (src/topology/configs.ts `zoneRecords`, the same code
 *   as the real boot) and what the controllers PATCH through the API (the agent's own
 *   requests, src/agent/publish-plan.ts); each LUA record is read as PowerDNS evaluates it
 *   (lua-record.ts): svc.<zone> has ordered units {{primary app},{dr app}},
 *   <r>.regions.<zone> {{app-r},{tombstone}}. The first unit with an up address answers; a
 *   record PowerDNS could not evaluate answers SERVFAIL.
 * - Check URLs name the path a check takes: `sim://auth-x->app-r/health` goes over that link
 *   to app-r, `sim://tombstone/health` is always up, anything else never answers.
 * - One check per (URL, stringmatch) (svc and the region names share them), registered lazily
 *   by the first query that evaluates it. Until its first result an address counts as DOWN —
 *   the first-answer quirk.
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

import { zoneRecords } from '../../src/topology/configs.ts';
import type { NodeClock } from '../clock.ts';
import type { SimContext } from '../context.ts';
import type { LinkState } from '../net.ts';
import { type Call, Proc, type Server } from '../net.ts';
import type { AppReply } from './app.ts';
import { type LuaRecord, readLuaRecord } from './lua-record.ts';

export const TOMBSTONE = 'tombstone';
/** the tombstone's check URL: always up */
const TOMBSTONE_URL = 'sim://tombstone/health';
/** the API key every simulated authoritative is configured with (PDNS_API_KEY) */
export const SIM_PDNS_API_KEY = 'sim-pdns-api-key';
/** PowerDNS's one server id in the API path */
const SERVER_ID = 'localhost';

/** The URL `auth` checks `app` at: its own auth->app path (the topology's SVC_CHECK_URLS form). */
export function simCheckUrl(auth: string, app: string): string {
  return `sim://${auth}->${app}/health`;
}

/** The base URL of an authoritative's API, as a controller is configured with it (PDNS_API_URLS). */
export function simApiUrl(auth: string): string {
  return `sim://${auth}`;
}

/** A PowerDNS API request (the agent's PATCH), or a DNS query. */
export type AuthRequest =
  | { type: 'query'; name: string }
  | { type: 'api'; url: string; method: string; headers: Record<string, string>; body: string };

export interface DnsReply {
  rcode: 'NOERROR' | 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN';
  answers: string[];
}

/** An API answer: 204 when the PATCH was taken */
export interface ApiReply {
  status: number;
  body: string;
}

interface Check {
  key: string;
  /** null: a URL no simulated path serves (never answers); the tombstone's has `always` */
  link: LinkState | null;
  server: Server | null;
  always: boolean;
  stringmatch: string | null;
  /** null until the first result: counts as down */
  up: boolean | null;
}

/** One address of a unit, with the check that decides it. */
interface UnitAddress {
  answer: string;
  key: string;
  url: string;
  stringmatch: string | null;
}

/** A record as evaluated: ordered units, or why PowerDNS cannot evaluate it (SERVFAIL). */
type Units = { units: UnitAddress[][]; error: null } | { units: null; error: string };

/** What observe() compares to tell a new answer from the last one recorded. */
function answerKey(rcode: string, answers: string[]): string {
  return `${rcode} ${answers.join(',')}`;
}

const TIMEOUT_KEY = answerKey('TIMEOUT', []);
const SERVFAIL_KEY = answerKey('SERVFAIL', []);

function unitsOf(r: LuaRecord | { error: string }): Units {
  if ('error' in r) return { units: null, error: r.error };
  const units = r.units.map((u) =>
    u.map((a) => ({
      answer: a.answer,
      url: a.checkUrl,
      stringmatch: r.stringmatch,
      key: `${a.checkUrl} ${r.stringmatch ?? ''}`,
    })),
  );
  return { units, error: null };
}

export class AuthoritativeModel implements Server {
  readonly proc: Proc;
  /** the svc record, persisted (gsqlite3) */
  private svc: Units = { units: null, error: 'no record' };
  /** derived from `svc` by setSvc: its answers, and the answer keys when unit i answers alone */
  private svcAnswers: string[] = [];
  private upKeys: (string | null)[] = [];
  private allDownKey = '';
  /** per region name: its units {{app-r},{tombstone}} */
  private readonly regionUnits = new Map<string, Units>();
  private readonly checks = new Map<string, Check>();
  private loopRunning = false;
  /** restarted process: its checker thread's first pass may find nothing queued (#16369) */
  private restarted = false;
  private cycleStartedAt = 0;
  private outstanding = 0;
  /** last service answer recorded by the DNS observation (see observe()) */
  private observed: string | null = null;
  private readonly svcFqdn: string;
  /** the zone's URL on this server's API */
  private readonly apiPath: string;
  /** PATCH bodies read so far (see readPatch) */
  private readonly bodies = new Map<string, { reply: ApiReply; svc: Units | null }>();

  constructor(
    private readonly sim: SimContext,
    readonly region: string,
    clock: NodeClock,
    initialPrimary: string,
  ) {
    this.proc = new Proc(`auth-${region}`, clock);
    const { spec } = sim;
    this.svcFqdn = spec.serviceName;
    this.apiPath = `${simApiUrl(this.proc.id)}/api/v1/servers/${SERVER_ID}/zones/${encodeURIComponent(spec.zone)}`;
    const label = (fqdn: string) => fqdn.replace(`.${spec.zone}`, '');
    const regions = [initialPrimary, ...spec.regions.filter((r) => r !== initialPrimary)];
    const app = (r: string) => ({ answer: `app-${r}`, checkUrl: simCheckUrl(this.proc.id, `app-${r}`) });
    // the zone the harness loads, built by the real boot's code
    const rows = zoneRecords({
      zone: spec.zone,
      authAddresses: spec.regions.map((r) => `auth-${r}`),
      serviceLabel: label(spec.serviceName),
      serviceUnits: regions.map(app),
      regionNames: spec.regions.map((r) => ({
        label: label(spec.regionName(r)),
        app: app(r),
        tombstone: { answer: TOMBSTONE, checkUrl: TOMBSTONE_URL },
      })),
      ttlS: 1,
    });
    const lua = (fqdn: string) => rows.find((row) => row.type === 'LUA' && `${row.name}.` === fqdn);
    const svcRow = lua(spec.serviceName);
    this.setSvc(svcRow ? unitsOf(readLuaRecord(svcRow.content)) : { units: null, error: 'no record' });
    for (const r of spec.regions) {
      const row = lua(spec.regionName(r));
      const units: Units = row ? unitsOf(readLuaRecord(row.content)) : { units: null, error: 'no record' };
      this.regionUnits.set(spec.regionName(r), units);
    }
  }

  /** A new svc record, and what every query and observation derives from it (built once here). */
  private setSvc(svc: Units): void {
    this.svc = svc;
    const units = svc.units ?? [];
    this.svcAnswers = units.flat().map((a) => a.answer);
    this.upKeys = units.map((u) => (u.length === 1 ? answerKey('NOERROR', [u[0]!.answer]) : null));
    this.allDownKey = answerKey('NOERROR', this.svcAnswers);
  }

  /** The harness queries every LUA name once after start (recipe advice), registering all checks. */
  warmUp(): void {
    for (const r of this.sim.spec.regions) {
      for (const unit of this.regionUnits.get(this.sim.spec.regionName(r))?.units ?? []) {
        for (const a of unit) this.register(a);
      }
    }
    this.observe();
  }

  /**
   * The DNS observer's view (docs/invariants.md, dns-follows-lease): what this authoritative
   * would answer for the service name now, recorded as a `dns-answer` whenever it changes —
   * after a publish, a health-check result, a crash or a restart. Computed without drawing
   * from the PRNG: when every unit is down the real server picks at random, recorded as all
   * candidates with no region; a unit with several up addresses is recorded the same way.
   */
  private observe(): void {
    let key: string;
    let rcode = 'NOERROR';
    let first = -1;
    const units = this.svc.units;
    if (this.proc.state === 'crashed') {
      key = TIMEOUT_KEY;
      rcode = 'TIMEOUT';
    } else if (units === null) {
      key = SERVFAIL_KEY;
      rcode = 'SERVFAIL';
    } else {
      // the first unit with an up address, found without allocating (this runs on every
      // check result); the answer itself is built only when it is new
      first = 0;
      while (first < units.length && !this.unitUp(units[first]!)) first++;
      if (first === units.length) key = this.allDownKey;
      else key = this.upKeys[first] ?? answerKey('NOERROR', this.upAnswers(units[first]!));
    }
    if (key === this.observed) return;
    this.observed = key;
    let answers: string[] = [];
    if (units !== null && first >= 0) {
      answers = first === units.length ? [...this.svcAnswers] : this.upAnswers(units[first]!);
    }
    const region = answers.length === 1 && answers[0]!.startsWith('app-') ? answers[0]!.slice(4) : null;
    this.sim.rec.emit({
      kind: 'dns-answer',
      t: this.sim.engine.now,
      resolver: this.proc.id,
      name: this.svcFqdn,
      rcode,
      answers,
      region,
      observer: 'dns-observer',
    });
  }

  /** whether any address of a unit has an up check (registering none: observe() is not a query) */
  private unitUp(unit: UnitAddress[]): boolean {
    for (let k = 0; k < unit.length; k++) if (this.checks.get(unit[k]!.key)?.up === true) return true;
    return false;
  }

  /** a unit's addresses whose checks are up (registering none: observe() is not a query) */
  private upAnswers(unit: UnitAddress[]): string[] {
    if (unit.length === 1) return this.checks.get(unit[0]!.key)?.up === true ? [unit[0]!.answer] : [];
    return unit.filter((a) => this.checks.get(a.key)?.up === true).map((a) => a.answer);
  }

  serve(call: Call): void {
    const req = call.req as AuthRequest;
    if (req.type === 'api') {
      this.sim.net.reply(call, this.api(req));
      return;
    }
    this.sim.net.reply(call, this.answer(req.name));
  }

  /**
   * The PowerDNS API, as far as a publish uses it: PATCH of the zone's rrsets. A rejected
   * request changes nothing; the svc LUA record is replaced by what the body carries (read
   * at query time, so content PowerDNS cannot evaluate is stored and answers SERVFAIL).
   */
  private api(req: Extract<AuthRequest, { type: 'api' }>): ApiReply {
    if (req.url !== this.apiPath) return { status: 404, body: `Not Found: ${req.url}` };
    if (req.method !== 'PATCH') return { status: 405, body: 'Method Not Allowed' };
    const key = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'x-api-key')?.[1];
    if (key !== SIM_PDNS_API_KEY) return { status: 401, body: 'Unauthorized' };
    let read = this.bodies.get(req.body);
    if (read === undefined) {
      read = this.readPatch(req.body);
      this.bodies.set(req.body, read);
    }
    if (read.svc !== null) {
      this.setSvc(read.svc);
      this.observe();
    }
    return read.reply;
  }

  /** A PATCH body's rrsets, read once per distinct body (a controller sends the same few). */
  private readPatch(text: string): { reply: ApiReply; svc: Units | null } {
    const zone = this.sim.spec.zone;
    let rrsets: unknown;
    try {
      rrsets = (JSON.parse(text) as { rrsets?: unknown }).rrsets;
    } catch {
      return { reply: { status: 400, body: 'body is not JSON' }, svc: null };
    }
    if (!Array.isArray(rrsets)) return { reply: { status: 422, body: 'no rrsets' }, svc: null };
    let svc: Units | null = null;
    for (const r of rrsets as Array<Record<string, unknown>>) {
      const name = r.name;
      if (typeof name !== 'string' || !(name === zone || name.endsWith(`.${zone}`))) {
        const body = `RRset ${String(name)} IN ${String(r.type)}: Name is out of zone`;
        return { reply: { status: 422, body }, svc: null };
      }
      if (r.changetype !== 'REPLACE' && r.changetype !== 'DELETE') {
        return { reply: { status: 422, body: 'bad changetype' }, svc: null };
      }
      // another name or type is stored beside the svc LUA record, which keeps answering
      if (name !== this.svcFqdn || r.type !== 'LUA') continue;
      const records = r.records as Array<{ content?: unknown; disabled?: unknown }> | undefined;
      const live = r.changetype === 'REPLACE' ? (records ?? []).filter((x) => x.disabled !== true) : [];
      const content = live[0]?.content;
      svc =
        live.length === 1 && typeof content === 'string'
          ? unitsOf(readLuaRecord(content))
          : { units: null, error: `${live.length} LUA records` };
    }
    return { reply: { status: 204, body: '' }, svc };
  }

  answer(name: string): DnsReply {
    if (name === this.svcFqdn) return this.evaluate(this.svc);
    const units = this.regionUnits.get(name);
    if (units !== undefined) return this.evaluate(units);
    return { rcode: 'NXDOMAIN', answers: [] };
  }

  private evaluate(r: Units): DnsReply {
    if (r.units === null) return { rcode: 'SERVFAIL', answers: [] };
    return { rcode: 'NOERROR', answers: [this.ifurlup(r.units)] };
  }

  private ifurlup(units: UnitAddress[][]): string {
    for (const unit of units) {
      let up: string | null = null;
      let count = 0;
      for (const a of unit) {
        if (this.register(a).up === true) {
          count++;
          // selector=random among the unit's up addresses
          if (up === null || this.sim.prng.int(count) === 0) up = a.answer;
        }
      }
      if (up !== null) return up;
    }
    // backupSelector=random over every address of every unit
    const all = units.flat();
    return all.length === 1 ? all[0]!.answer : all[this.sim.prng.int(all.length)]!.answer;
  }

  /** The check a URL names: over the link `sim://from->to/...` names, the tombstone's, or none. */
  private newCheck(a: UnitAddress): Check {
    const base = { key: a.key, stringmatch: a.stringmatch, up: null };
    if (a.url === TOMBSTONE_URL) return { ...base, link: null, server: null, always: true };
    const m = /^sim:\/\/([^/]+)->([^/]+)\//.exec(a.url);
    const spec = this.sim.spec;
    const known = m !== null && spec.links.some((l) => l.from === m[1] && l.to === m[2]);
    if (!known) return { ...base, link: null, server: null, always: false };
    return {
      ...base,
      link: this.sim.link(`${m[1]}->${m[2]}`),
      server: this.sim.server(m[2]!),
      always: false,
    };
  }

  private register(a: UnitAddress): Check {
    let c = this.checks.get(a.key);
    if (!c) {
      c = this.newCheck(a);
      this.checks.set(a.key, c);
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
      if (check.always) {
        check.up = true;
        continue;
      }
      // a URL no path serves: the check fails (connection refused) without a message
      if (check.link === null || check.server === null) {
        check.up = false;
        continue;
      }
      this.outstanding++;
      net.call(
        check.link,
        this.proc,
        check.server,
        { type: 'health' },
        timings.healthCheckTimeoutMs,
        (ok, reply) => {
          if (this.proc.incarnation !== inc) return;
          const body = (reply as AppReply | null)?.body;
          check.up =
            ok && body !== undefined && (check.stringmatch === null || body.includes(check.stringmatch));
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
    for (const unit of this.svc.units ?? []) for (const a of unit) this.register(a);
    this.observe();
  }
}
