/**
 * Model semantics, driven directly through the world's network with a test sender process.
 */
import { describe, expect, it } from 'vitest';
import { NodeClock } from '../../simulator/clock.ts';
import {
  type ApiReply,
  type AuthoritativeModel,
  type AuthRequest,
  type DnsReply,
  SIM_PDNS_API_KEY,
  simApiUrl,
  simCheckUrl,
} from '../../simulator/models/authoritative.ts';
import { type LeaseReply, type LeaseRequest, SIM_WALL_EPOCH_MS } from '../../simulator/models/lease-store.ts';
import { Proc, type Reply } from '../../simulator/net.ts';
import { World } from '../../simulator/world.ts';
import { publishOrder, publishPatches } from '../../src/agent/publish-plan.ts';
import { authorityHookCall } from '../../src/contracts/authority-hook.ts';
import { Scenario } from '../../src/scenario/schema.ts';

type ApiReq = Extract<AuthRequest, { type: 'api' }>;

function world(seed = 1, backend: 'durable' | 'kv' = 'durable'): World {
  const s = Scenario.parse({ name: 'models', duration: '1h', workload: { clients: 0 } });
  return new World(s, seed, backend);
}

interface Outcome {
  ok: boolean;
  reply: Reply;
  error: string | null;
  atMs: number;
}

/** Sends a request from a test process over a topology link; the outcome lands in the returned box. */
function send(w: World, linkId: string, to: string, req: unknown, timeoutMs = 5000): { out: Outcome | null } {
  const box: { out: Outcome | null } = { out: null };
  const from = new Proc('tester', new NodeClock());
  w.net.call(w.link(linkId), from, w.server(to), req, timeoutMs, (ok, reply, error) => {
    box.out = { ok, reply, error, atMs: w.engine.now };
  });
  return box;
}

/** The reply in a box, failing the test if none arrived. */
function rep<T>(box: { out: Outcome | null }): T {
  if (box.out === null) throw new Error('no outcome');
  return box.out.reply as T;
}

const crash = (w: World, id: string) => {
  w.proc(id).crash();
  w.component(id).onCrash?.();
};

describe('PowerDNS ifurlextup model', () => {
  const svc = 'svc.app.example.';

  it('first-answer quirk: before its first check result an address counts as down (random backup answer)', () => {
    const first = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const w = world(seed);
      const auth = w.component('auth-a') as AuthoritativeModel;
      first.add(auth.answer(svc).answers[0]!); // registers the checks; none has a result yet
      w.engine.run(3000); // first check cycle completes
      expect(auth.answer(svc).answers).toEqual(['app-a']); // published order: a first
    }
    expect([...first].sort()).toEqual(['app-a', 'app-b']);
  });

  it('the quirk comes back after the authoritative restarts (checks are process memory)', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const w = world(seed);
      const auth = w.component('auth-a') as AuthoritativeModel;
      auth.warmUp();
      w.engine.run(3000);
      crash(w, 'auth-a');
      w.proc('auth-a').restart();
      seen.add(auth.answer('a.regions.app.example.').answers[0]!);
    }
    expect([...seen].sort()).toEqual(['app-a', 'tombstone']);
  });

  it('all addresses down → backupSelector over all addresses, never empty or SERVFAIL', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const w = world(seed);
      const auth = w.component('auth-b') as AuthoritativeModel;
      auth.warmUp();
      crash(w, 'app-a');
      crash(w, 'app-b');
      w.engine.run(8000);
      const r = auth.answer(svc);
      expect(r.rcode).toBe('NOERROR');
      expect(r.answers).toHaveLength(1);
      seen.add(r.answers[0]!);
      // the region name falls back to the always-up tombstone instead
      expect(auth.answer('a.regions.app.example.').answers).toEqual(['tombstone']);
    }
    expect([...seen].sort()).toEqual(['app-a', 'app-b']);
  });

  /** The PATCH ctl-b sends auth-a to publish `active` (the agent's own request). */
  const patch = (active: string, edit: (r: ApiReq) => ApiReq = (r) => r): ApiReq => {
    const opts = {
      apiUrls: [simApiUrl('auth-a')],
      apiKey: SIM_PDNS_API_KEY,
      serverId: 'localhost',
      zone: 'app.example',
      serviceName: 'svc',
      checkUrls: {
        [simApiUrl('auth-a')]: { a: simCheckUrl('auth-a', 'app-a'), b: simCheckUrl('auth-a', 'app-b') },
      },
      ttlSeconds: 1,
      timeoutMs: 1000,
    };
    const o = publishOrder(
      { region: 'b', peerRegion: 'a', selfAppAddress: 'app-b', peerAppAddress: 'app-a' },
      active,
    );
    const p = publishPatches(opts, o.active, o.other, o.regions)[0]!;
    if ('error' in p) throw new Error(p.error);
    return edit({ type: 'api', url: p.url, method: p.method, headers: p.headers, body: p.body });
  };
  const published = (w: World, req: ApiReq) => {
    const auth = w.component('auth-a') as AuthoritativeModel;
    auth.warmUp();
    w.engine.run(3000);
    const pub = send(w, 'ctl-b->auth-a', 'auth-a', req);
    w.engine.run(4000);
    return { auth, reply: rep<ApiReply>(pub) };
  };

  it('follows the published order and drops a dead first unit after a check cycle', () => {
    const w = world();
    const { auth, reply } = published(w, patch('b'));
    expect(reply.status).toBe(204);
    expect(auth.answer(svc).answers).toEqual(['app-b']);
    crash(w, 'app-b');
    w.engine.run(9000); // the next cycle (every 5 s) sees app-b down
    expect(auth.answer(svc).answers).toEqual(['app-a']);
  });

  it('refuses a PATCH with the wrong key, zone path or method, and keeps the loaded order', () => {
    const cases: Array<[(r: ApiReq) => ApiReq, number]> = [
      [(r) => ({ ...r, headers: { ...r.headers, 'X-API-Key': 'wrong' } }), 401],
      [(r) => ({ ...r, url: r.url.replace(/app\.example\.$/, 'app.example') }), 404],
      [(r) => ({ ...r, method: 'PUT' }), 405],
      [(r) => ({ ...r, body: r.body.replace('svc.app.example.', 'svc.other.example.') }), 422],
    ];
    for (const [edit, status] of cases) {
      const w = world();
      const { auth, reply } = published(w, patch('b', edit));
      expect(reply.status).toBe(status);
      expect(auth.answer(svc).answers).toEqual(['app-a']);
    }
  });

  it('a LUA record PowerDNS cannot evaluate answers SERVFAIL', () => {
    const w = world();
    const { auth, reply } = published(
      w,
      patch('b', (r) => ({ ...r, body: r.body.replace('ifurlextup(', 'ifurlextup(( ') })),
    );
    expect(reply.status).toBe(204); // stored as sent: LUA is evaluated at query time
    expect(auth.answer(svc)).toEqual({ rcode: 'SERVFAIL', answers: [] });
  });

  it('each address is up or down by the check URL the record gives it, not by its own health', () => {
    const w = world();
    // app-b's unit checked at app-a's URL: with app-b dead and app-a alive, app-b still answers
    const swapped = (r: ApiReq) => ({
      ...r,
      body: r.body.replace(
        "['app-b']='sim://auth-a->app-b/health'",
        "['app-b']='sim://auth-a->app-a/health'",
      ),
    });
    const { auth } = published(w, patch('b', swapped));
    crash(w, 'app-b');
    w.engine.run(20_000);
    expect(auth.answer(svc).answers).toEqual(['app-b']);
  });
});

describe('unbound witness model', () => {
  const q = { name: 'a.regions.app.example.' };
  const warm = (w: World) => {
    for (const a of w.auths) a.warmUp();
    w.engine.run(3000);
  };

  it('SERVFAIL when neither authoritative is reachable', () => {
    const w = world();
    warm(w);
    w.link('w1->auth-a').cutRequest++;
    w.link('w1->auth-b').cutRequest++;
    const r = send(w, 'ctl-b->w1', 'w1', q);
    w.engine.run(10_000);
    expect(r.out?.ok).toBe(true);
    expect(rep<DnsReply>(r).rcode).toBe('SERVFAIL');
    expect(r.out!.atMs - 3000).toBeGreaterThanOrEqual(2000); // two 1 s upstream timeouts
  });

  it('one authoritative refused: answered by the other without delay', () => {
    const w = world();
    warm(w);
    crash(w, 'auth-a');
    const r = send(w, 'ctl-b->w1', 'w1', q);
    w.engine.run(10_000);
    expect(r.out?.reply).toEqual({ rcode: 'NOERROR', answers: ['app-a'] });
    expect(r.out!.atMs - 3000).toBeLessThan(200);
  });

  it('one authoritative blackholed: answered after at most one upstream timeout', () => {
    for (let seed = 0; seed < 10; seed++) {
      const w = world(seed);
      warm(w);
      w.link('w2->auth-b').cutRequest++;
      const r = send(w, 'ctl-b->w2', 'w2', q);
      w.engine.run(10_000);
      expect(rep<DnsReply>(r).rcode).toBe('NOERROR');
      expect(r.out!.atMs - 3000).toBeLessThan(1200);
    }
  });

  it('a witness that is down answers nothing (connection refused)', () => {
    const w = world();
    warm(w);
    crash(w, 'w3');
    const r = send(w, 'ctl-b->w3', 'w3', q);
    w.engine.run(10_000);
    expect(r.out).toMatchObject({ ok: false, error: 'connection refused' });
  });

  it('witness-stale serves the cached answer after the region changed', () => {
    const w = world();
    warm(w);
    const wit = w.component('w1') as unknown as { addStale(ms: number): void };
    wit.addStale(60_000);
    const before = send(w, 'ctl-b->w1', 'w1', q);
    w.engine.run(4000);
    expect(rep<DnsReply>(before).answers).toEqual(['app-a']);
    crash(w, 'app-a');
    w.engine.run(15_000);
    const stale = send(w, 'ctl-b->w1', 'w1', q);
    const fresh = send(w, 'ctl-b->w2', 'w2', q);
    w.engine.run(20_000);
    expect(rep<DnsReply>(stale).answers).toEqual(['app-a']);
    expect(rep<DnsReply>(fresh).answers).toEqual(['tombstone']);
  });
});

describe('lease store: durable (the real lease-state.ts, atomic per request)', () => {
  const lease = (w: World, region: string, req: Omit<LeaseRequest, 'region'>) =>
    send(w, `ctl-${region}->worker`, 'worker', { ...req, region });

  it('two concurrent acquires: exactly one is granted; epochs only grow', () => {
    const w = world();
    const a = lease(w, 'a', { op: 'acquire' });
    const b = lease(w, 'b', { op: 'acquire' });
    w.engine.run(1000);
    const grants = [a, b].filter((x) => rep<LeaseReply>(x).granted);
    expect(grants).toHaveLength(1);
    const holder = grants[0] === a ? 'a' : 'b';
    const other = holder === 'a' ? 'b' : 'a';
    expect((grants[0]!.out!.reply as LeaseReply).epoch).toBe(1);
    const stolen = lease(w, other, { op: 'renew', epoch: 1 });
    w.engine.run(2000);
    expect(rep<LeaseReply>(stolen).granted).toBe(false);
    w.engine.run(40_000); // the grant expires on the Worker's clock
    const next = lease(w, other, { op: 'acquire' });
    w.engine.run(41_000);
    expect(next.out?.reply).toMatchObject({ granted: true, holder: other, epoch: 2 });
    // The store's own observations, when they happened: the loser's refusals, the expiry
    // at the grant's end on the Worker's clock (no request needed), the next grant.
    const stores = w.rec.events.filter((e) => e.kind === 'lease-store') as Array<{
      op: string;
      epoch: number;
      region: string;
      t: number;
      storeNowMs: number;
      expiresAt: number | null;
    }>;
    expect(stores.map((e) => `${e.op} ${e.region} ${e.epoch}`)).toEqual([
      `grant ${holder} 1`,
      `refuse ${other} 1`,
      `refuse ${other} 1`,
      `expire ${holder} 1`,
      `grant ${other} 2`,
    ]);
    const [grant, , , expire] = stores;
    expect(expire!.storeNowMs).toBe(grant!.expiresAt);
    expect(SIM_WALL_EPOCH_MS + w.clocks.get('worker')!.read(expire!.t)).toBe(grant!.expiresAt);
  });

  it('a Worker clock jumped far backwards still serves (its Date.now stays a valid timestamp)', () => {
    const w = world();
    w.clocks.get('worker')!.jump(0, -3_600_000);
    const a = lease(w, 'a', { op: 'acquire' });
    w.engine.run(1000);
    expect(rep<LeaseReply>(a)).toMatchObject({ granted: true, epoch: 1 });
  });

  it('survives a Worker crash (state is in Durable Object storage)', () => {
    const w = world();
    const a = lease(w, 'a', { op: 'acquire' });
    w.engine.run(1000);
    expect(rep<LeaseReply>(a).granted).toBe(true);
    crash(w, 'worker');
    const refused = lease(w, 'b', { op: 'acquire' });
    w.engine.run(2000);
    expect(refused.out).toMatchObject({ ok: false, error: 'connection refused' });
    w.proc('worker').restart();
    const b = lease(w, 'b', { op: 'acquire' });
    w.engine.run(3000);
    expect(b.out?.reply).toMatchObject({ granted: false, holder: 'a', epoch: 1 });
  });
});

describe('lease store: legacy-kv (mirrors src/worker/legacy-kv.ts + kv-locations.ts)', () => {
  const lease = (w: World, region: string, req: Omit<LeaseRequest, 'region'>) =>
    send(w, `ctl-${region}->worker`, 'worker', { ...req, region });

  it('a cached negative lookup at one location lets both regions acquire', () => {
    const w = world(1, 'kv');
    const status = lease(w, 'b', { op: 'status' }); // loc-b caches "absent" for 60 s
    w.engine.run(1000);
    expect(rep<LeaseReply>(status).holder).toBeNull();
    const a = lease(w, 'a', { op: 'acquire' });
    w.engine.run(2000);
    expect(a.out?.reply).toMatchObject({ granted: true, holder: 'a', ttlMs: 60_000 });
    const aView = lease(w, 'a', { op: 'status' });
    const b = lease(w, 'b', { op: 'acquire' });
    w.engine.run(3000);
    expect(rep<LeaseReply>(aView).holder).toBe('a'); // the writer's location sees its write
    expect(b.out?.reply).toMatchObject({ granted: true, holder: 'b' }); // stale "absent": granted again
    // Epochs are timestamps: nothing fences the older holder.
    expect(rep<LeaseReply>(b).epoch).toBeGreaterThan(rep<LeaseReply>(a).epoch);
  });

  it('reads stay stale for the cache TTL, then see the central value', () => {
    const w = world(1, 'kv');
    lease(w, 'a', { op: 'acquire' });
    w.engine.run(1000);
    const early = lease(w, 'b', { op: 'status' }); // loc-b caches a's value
    w.engine.run(2000);
    expect(rep<LeaseReply>(early).holder).toBe('a');
    // a releases at its own location; loc-b keeps the cached 'a' for up to 60 s
    lease(w, 'a', { op: 'release', epoch: 0 });
    w.engine.run(3000);
    const stale = lease(w, 'b', { op: 'status' });
    w.engine.run(4000);
    expect(rep<LeaseReply>(stale).holder).toBe('a');
    w.engine.run(63_000);
    const fresh = lease(w, 'b', { op: 'status' });
    w.engine.run(64_000);
    expect(rep<LeaseReply>(fresh).holder).toBeNull();
  });

  it('kv-staleness stretches the cache lifetime', () => {
    const w = world(1, 'kv');
    w.store.addStaleness(120_000);
    lease(w, 'b', { op: 'status' }); // cached absent for 120 s now
    w.engine.run(1000);
    lease(w, 'a', { op: 'acquire' });
    w.engine.run(90_000);
    const b = lease(w, 'b', { op: 'status' });
    w.engine.run(91_000);
    expect(rep<LeaseReply>(b).holder).toBeNull();
  });
});

describe('app stand-in', () => {
  /** a hook as ctl-a's webhook POSTs it (the body src/contracts/authority-hook.ts builds) */
  const app = (
    w: World,
    r: { type: 'promote' | 'extend' | 'demote'; epoch: number; validityMs?: number; reason?: string },
  ) => {
    const call = { action: r.type, epoch: r.epoch, validityMs: r.validityMs ?? 0, reason: r.reason };
    return send(w, 'ctl-a->app-a', 'app-a', {
      type: 'authority',
      body: authorityHookCall(call, 'a'),
    });
  };
  const write = (w: World) => send(w, 'client->app-a', 'app-a', { type: 'write', client: 'c' });
  const writes = (w: World) =>
    w.rec.events.filter((e) => e.kind === 'app-write') as Array<{
      accepted: boolean;
      reason?: string;
      epoch: number | null;
    }>;

  it('accepts writes only inside the window it was granted, measured from receipt', () => {
    const w = world();
    app(w, { type: 'promote', epoch: 3, validityMs: 10_000 });
    w.engine.run(100);
    const grant = w.rec.events.find((e) => e.kind === 'app-authority')!;
    expect(grant).toMatchObject({ op: 'grant', epoch: 3 });
    // untilT is the global time the app's (slightly drifting) clock reaches receipt + 10 s
    expect(Math.abs((grant as { untilT: number }).untilT - (grant.t + 10_000))).toBeLessThanOrEqual(10);
    write(w);
    w.engine.run(5000);
    w.engine.run(11_000);
    write(w);
    w.engine.run(12_000);
    expect(writes(w).map((x) => [x.accepted, x.reason])).toEqual([
      [true, undefined],
      [false, 'authority lapsed'],
    ]);
  });

  it('keeps its fencing epoch across a crash and restart (it is on disk), not its authority', () => {
    const w = world();
    app(w, { type: 'promote', epoch: 5, validityMs: 20_000 });
    w.engine.run(100);
    crash(w, 'app-a');
    w.proc('app-a').restart();
    const stale = app(w, { type: 'promote', epoch: 4, validityMs: 20_000 });
    write(w);
    w.engine.run(200);
    expect(rep<{ ok: boolean }>(stale).ok).toBe(false);
    expect(writes(w).at(-1)).toMatchObject({ accepted: false, reason: 'no authority' });
  });

  it('fences: refuses an older epoch, and a stale demote cannot revoke a newer term', () => {
    const w = world();
    app(w, { type: 'promote', epoch: 5, validityMs: 20_000 });
    w.engine.run(100);
    const old = app(w, { type: 'extend', epoch: 4, validityMs: 20_000 });
    const oldDemote = app(w, { type: 'demote', epoch: 4, reason: 'late' });
    w.engine.run(200);
    expect(old.out?.reply).toMatchObject({ ok: false, error: 'stale epoch' });
    expect(oldDemote.out?.reply).toMatchObject({ ok: false });
    write(w);
    w.engine.run(300);
    expect(writes(w)[0]).toMatchObject({ accepted: true, epoch: 5 });
    app(w, { type: 'demote', epoch: 5, reason: 'test' });
    w.engine.run(400);
    write(w);
    w.engine.run(500);
    expect(writes(w)[1]).toMatchObject({ accepted: false, reason: 'no authority' });
  });
});

describe('network', () => {
  it('cut link: the sender times out; loss 1.0 drops everything; crashed server refuses fast', () => {
    const w = world();
    w.link('ctl-a->app-a').cutRequest++;
    const cut = send(w, 'ctl-a->app-a', 'app-a', { type: 'health' }, 700);
    w.link('client->app-b').lossProbability = 1;
    const lost = send(w, 'client->app-b', 'app-b', { type: 'health' }, 700);
    crash(w, 'auth-b');
    const refused = send(w, 'ctl-a->auth-b', 'auth-b', { type: 'query', name: 'x' }, 700);
    w.engine.run(2000);
    expect(cut.out).toMatchObject({ ok: false, error: 'timeout', atMs: 700 });
    expect(lost.out).toMatchObject({ ok: false, error: 'timeout' });
    expect(refused.out).toMatchObject({ ok: false, error: 'connection refused' });
    expect(refused.out!.atMs).toBeLessThan(200);
  });

  it('one-way cut of replies: the request takes effect but the sender never hears back', () => {
    const w = world();
    w.link('ctl-a->worker').cutReply++;
    const r = send(w, 'ctl-a->worker', 'worker', { op: 'acquire', region: 'a' }, 1000);
    w.engine.run(2000);
    expect(r.out).toMatchObject({ ok: false, error: 'timeout' });
    expect(w.rec.events.some((e) => e.kind === 'lease-store' && e.holder === 'a')).toBe(true);
  });

  it('paused server: requests wait and are served on resume, after the sender gave up', () => {
    const w = world();
    w.proc('app-a').pause();
    const r = send(w, 'client->app-a', 'app-a', { type: 'write', client: 'c' }, 1000);
    w.engine.run(5000);
    expect(r.out).toMatchObject({ ok: false, error: 'timeout' });
    expect(w.rec.events.some((e) => e.kind === 'app-write')).toBe(false);
    const proc = w.proc('app-a');
    proc.wake(proc.resume()!);
    expect(w.rec.events.filter((e) => e.kind === 'app-write')).toHaveLength(1);
  });
});

describe('controller model (the production driver with simulated ports)', () => {
  it('hook ordering as in production: a demote issued while an extend is in flight reaches the app after it', () => {
    const w = world();
    const a = w.controllers.find((c) => c.region === 'a')!;
    w.start();
    w.engine.run(5000);
    expect(a.role).toBe('primary');
    // slow app link: each hook takes ~3 s for the round trip (under the app request timeout)
    w.link('ctl-a->app-a').addLatencyMs = 1500;
    const renewResult = () =>
      w.rec.events.find(
        (e) => e.kind === 'lease' && e.region === 'a' && e.op === 'renew' && e.phase === 'result' && e.ok,
      );
    while (renewResult() === undefined) w.engine.run(w.engine.now + 10);
    // the extend for that renewal is on its way to the app; the operator demotes now
    a.operator('demote');
    w.engine.run(w.engine.now + 10_000);
    const app = w.rec.events.filter((e) => e.kind === 'app-authority' && e.region === 'a' && e.t > 5000);
    const extendAt = app.find((e) => e.kind === 'app-authority' && e.op === 'grant')?.t;
    const revokeAt = app.find((e) => e.kind === 'app-authority' && e.op === 'revoke')?.t;
    expect(extendAt).toBeDefined();
    expect(revokeAt).toBeDefined();
    // the demote left only after the extend's reply came back (another 1.5 s), never beside it
    expect(revokeAt! - extendAt!).toBeGreaterThanOrEqual(1500 + 1500);
    expect(app.map((e) => (e.kind === 'app-authority' ? e.op : ''))).toEqual(['grant', 'revoke']);
  });
});
