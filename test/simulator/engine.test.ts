import { describe, expect, it } from 'vitest';
import { NodeClock } from '../../simulator/clock.ts';
import { Engine } from '../../simulator/engine.ts';
import { cutLink, scheduleFaults } from '../../simulator/faults.ts';
import { Fnv1a, fnv1aHex } from '../../simulator/hash.ts';
import { type Call, type LinkState, Net, newLink, Proc } from '../../simulator/net.ts';
import { Prng } from '../../simulator/prng.ts';
import { World } from '../../simulator/world.ts';
import { Scenario } from '../../src/scenario/schema.ts';
import type { CutMode } from '../../src/scenario/validate.ts';

describe('Engine', () => {
  it('runs events in time order, ties in insertion order', () => {
    const e = new Engine();
    const seen: string[] = [];
    const log = (x: unknown) => seen.push(`${e.now}:${x as string}`);
    e.at(30, log, 'c');
    e.at(10, log, 'a1');
    e.at(20, log, 'b');
    e.at(10, log, 'a2');
    e.at(10, log, 'a3');
    e.run(100);
    expect(seen).toEqual(['10:a1', '10:a2', '10:a3', '20:b', '30:c']);
    expect(e.now).toBe(100);
  });

  it('keeps a large random schedule sorted (heap property)', () => {
    const e = new Engine();
    const rng = new Prng(7);
    const times: number[] = [];
    let last = -1;
    let ordered = true;
    for (let i = 0; i < 5000; i++) {
      const t = rng.int(1000);
      times.push(t);
      e.at(t, () => {
        if (e.now < last) ordered = false;
        last = e.now;
      });
    }
    e.run(1000);
    expect(ordered).toBe(true);
    expect(e.processed).toBe(5000);
  });

  it('stops at the horizon, clamps the past to now, and stop() ends the run', () => {
    const e = new Engine();
    const seen: number[] = [];
    e.at(50, () => {
      seen.push(e.now);
      e.at(10, () => seen.push(e.now)); // in the past: runs now
      e.at(70, () => seen.push(e.now));
      e.at(200, () => seen.push(e.now));
    });
    e.run(100);
    expect(seen).toEqual([50, 50, 70]);
    expect(e.pending).toBe(1);
    const s = new Engine();
    let n = 0;
    for (let i = 1; i <= 5; i++) s.at(i, () => (++n === 2 ? s.stop() : undefined));
    s.run(100);
    expect(n).toBe(2);
    expect(s.stopped).toBe(true);
  });

  it('traces (time, seq) so two identical runs hash alike and different ones do not', () => {
    const hashOf = (extra: boolean) => {
      const e = new Engine({ trace: true });
      e.at(5, () => {});
      e.at(7, () => {});
      if (extra) e.at(9, () => {});
      e.run(10);
      return e.trace!.hex();
    };
    expect(hashOf(false)).toBe(hashOf(false));
    expect(hashOf(false)).not.toBe(hashOf(true));
  });
});

describe('Prng', () => {
  it('is a pure function of the seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 10 }, () => a.u32());
    expect(Array.from({ length: 10 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => c.u32())).not.toEqual(xs);
  });

  it('covers its ranges roughly uniformly', () => {
    const r = new Prng(1);
    const buckets = new Array(10).fill(0) as number[];
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.int(10);
      if (x < 0 || x >= 10 || !Number.isInteger(x)) outOfRange++;
      else buckets[x]!++;
    }
    expect(outOfRange).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(600);
    const f = r.float();
    expect(f >= 0 && f < 1).toBe(true);
    expect(r.range(3, 3)).toBe(3);
    expect(r.chance(0)).toBe(false);
  });
});

describe('Fnv1a', () => {
  it('distinguishes content and boundaries', () => {
    expect(fnv1aHex('abc')).toBe(fnv1aHex('abc'));
    expect(fnv1aHex('abc')).not.toBe(fnv1aHex('abd'));
    expect(new Fnv1a().string('ab').string('c').hex()).not.toBe(new Fnv1a().string('a').string('bc').hex());
    expect(new Fnv1a().number(1).hex()).not.toBe(new Fnv1a().number(1.5).hex());
    expect(fnv1aHex('')).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('NodeClock', () => {
  it('drifts, jumps, and converts local deadlines to global time', () => {
    const c = new NodeClock(1000, 0.01); // 1% fast, 1 s ahead
    expect(c.read(0)).toBe(1000);
    expect(c.read(10_000)).toBe(11_100);
    c.jump(10_000, 500);
    expect(c.read(10_000)).toBe(11_600);
    c.setRate(10_000, 0);
    expect(c.read(20_000)).toBe(21_600);
    expect(c.globalAt(22_600, 20_000)).toBe(21_000);
    expect(c.globalAt(0, 20_000)).toBe(20_000); // already past: no earlier than notBefore
  });
});

describe('Proc', () => {
  it('queues work while paused and runs it in order on resume; drops it when crashed', () => {
    const p = new Proc('x', new NodeClock());
    const seen: unknown[] = [];
    const fn = (a: unknown) => seen.push(a);
    p.run(fn, 1);
    expect(p.pause()).toBe(true);
    p.run(fn, 2);
    p.run(fn, 3);
    expect(seen).toEqual([1]);
    expect(p.pause()).toBe(false); // nested pause
    expect(p.resume()).toBe(null);
    const token = p.resume();
    expect(token).not.toBe(null);
    // continued, but not running until it wakes: new work still queues behind the old
    p.run(fn, 'late');
    expect(seen).toEqual([1]);
    p.wake(token!);
    expect(seen).toEqual([1, 2, 3, 'late']);
    const inc = p.incarnation;
    expect(p.crash()).toBe(true);
    p.run(fn, 4);
    expect(p.restart()).toBe(true);
    p.run(fn, 5, inc); // meant for the old incarnation
    p.run(fn, 6);
    expect(seen).toEqual([1, 2, 3, 'late', 6]);
  });

  it('a pause or crash before the wake voids it: the process stays stopped', () => {
    const p = new Proc('x', new NodeClock());
    const seen: unknown[] = [];
    p.pause();
    p.run((a) => seen.push(a), 1);
    const first = p.resume()!;
    expect(p.pause()).toBe(true); // stopped again while waking: a new pause
    p.wake(first);
    expect(seen).toEqual([]);
    const second = p.resume()!;
    p.wake(second);
    expect(seen).toEqual([1]);
    p.pause();
    const third = p.resume()!;
    expect(p.crash()).toBe(true);
    p.wake(third);
    expect(p.state).toBe('crashed');
  });
});

describe('cuts: one vocabulary (docs/scenarios.md "Fault vocabulary")', () => {
  /** One request over a fresh link to a server that answers after `serveDelayMs`. */
  function exchange(
    setup: (link: LinkState, net: Net, e: Engine) => void,
    opts: { serveDelayMs?: number; cutAtMs?: number } = {},
  ) {
    const e = new Engine();
    const net = new Net(e, new Prng(1));
    const link = newLink('x->y', 10, 0);
    const from = new Proc('x', new NodeClock(0, 0));
    let served = 0;
    const server = {
      proc: new Proc('y', new NodeClock(0, 0)),
      serve(call: Call) {
        served++;
        e.after(opts.serveDelayMs ?? 0, () => net.reply(call, 'pong'));
      },
    };
    const out: { ok: boolean | null; error: string | null; at: number } = { ok: null, error: null, at: -1 };
    if (opts.cutAtMs === undefined) setup(link, net, e);
    else e.at(opts.cutAtMs, () => setup(link, net, e));
    net.call(link, from, server, 'ping', 5000, (ok, _r, error) => {
      out.ok = ok;
      out.error = error;
      out.at = e.now;
    });
    e.run(10_000);
    return { ...out, served };
  }

  it('drop: silence until the caller times out; the responder never sees the request', () => {
    const r = exchange((l) => cutLinkState(l, 'drop', false));
    expect(r).toEqual({ ok: false, error: 'timeout', at: 5000, served: 0 });
  });

  it('refuse: the caller is refused at once (one link delay), the responder never sees it', () => {
    const r = exchange((l) => cutLinkState(l, 'refuse', true));
    expect(r).toEqual({ ok: false, error: 'connection refused', at: 10, served: 0 });
  });

  it('a both-ways refuse resets a call waiting for its reply; one-way leaves it alone', () => {
    const both = exchange((l, net) => cutLinkState(l, 'refuse', false, net), {
      serveDelayMs: 100,
      cutAtMs: 50,
    });
    expect(both).toEqual({ ok: false, error: 'connection reset', at: 50, served: 1 });
    const one = exchange((l, net) => cutLinkState(l, 'refuse', true, net), {
      serveDelayMs: 100,
      cutAtMs: 50,
    });
    expect(one).toEqual({ ok: true, error: null, at: 120, served: 1 });
  });

  it('a both-ways drop loses the reply of a request already served; one-way lets it through', () => {
    const both = exchange((l) => cutLinkState(l, 'drop', false), { serveDelayMs: 100, cutAtMs: 50 });
    expect(both).toEqual({ ok: false, error: 'timeout', at: 5000, served: 1 });
    const one = exchange((l) => cutLinkState(l, 'drop', true), { serveDelayMs: 100, cutAtMs: 50 });
    expect(one).toEqual({ ok: true, error: null, at: 120, served: 1 });
  });

  it('a partition acts on exactly the named links (never the reverse link) with the default mode refuse', () => {
    const s = Scenario.parse({
      name: 'x',
      duration: 30_000,
      steps: [{ at: 1000, for: 5000, fault: 'partition', target: 'ctl-a->peer' }],
    });
    const w = new World(s, 1, 'durable');
    scheduleFaults(w, s.steps);
    w.engine.run(2000);
    expect(w.link('ctl-a->peer')).toMatchObject({ refuseRequest: 1, refuseReply: 1, cutRequest: 0 });
    expect(w.link('ctl-b->peer')).toMatchObject({ refuseRequest: 0, refuseReply: 0, cutRequest: 0 });
    w.engine.run(7000);
    expect(w.link('ctl-a->peer')).toMatchObject({ refuseRequest: 0, refuseReply: 0 });
  });
});

/** The simulator's own cut applier on a bare link (it needs only the world's network). */
function cutLinkState(l: LinkState, mode: CutMode, oneway: boolean, net?: Net): void {
  cutLink({ net } as unknown as World, l, 1, mode, oneway);
}
