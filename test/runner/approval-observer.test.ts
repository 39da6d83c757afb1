/**
 * The real runner's approval observer (src/runner/approval-observer.ts) against a scripted
 * metrics page, no topology: every rise of failover_approval_requests_total becomes the
 * operator's note of a request, placed between the scrape that did not show it and the one
 * that did, in the simulator's shape (src/contracts/approval-request.ts); a controller's
 * restart starts the count again, and a reading of the process before it is not used.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { approvalRequestNote, approvalRequestOf } from '../../src/contracts/approval-request.ts';
import type { NewEvent } from '../../src/contracts/history.ts';
import { ApprovalObserver, approvalRequestsOf } from '../../src/runner/approval-observer.ts';

const page = (region: string, n: number) =>
  [
    '# HELP failover_approval_requests_total Times this controller asked the operator for approval',
    '# TYPE failover_approval_requests_total counter',
    `failover_approval_requests_total{region="${region}"} ${n}`,
    `failover_awaiting_approval{region="${region}"} 1`,
  ].join('\n');

/** An observer of ctl-b whose scrapes answer what `counter` holds; the clock moves by hand. */
function setup() {
  const events: NewEvent[] = [];
  const clock = { t: 1_000 };
  const counter = { n: 0 as number | null, hold: null as Promise<void> | null };
  const obs = new ApprovalObserver({
    admins: [{ region: 'b', admin: { host: '127.0.0.1', port: 1 } }],
    intervalMs: 3_600_000, // ticks by hand
    scrapeTimeoutMs: 1000,
    record: (ev) => events.push(ev),
    now: () => clock.t,
    get: async () => {
      const n = counter.n;
      clock.t += 10; // the scrape's round trip
      if (counter.hold) await counter.hold;
      if (n === null) throw new Error('ECONNREFUSED');
      return { status: 200, body: page('b', n) };
    },
  });
  return { events, clock, counter, obs };
}

/** after every scrape started so far has answered (they resolve in microtasks) */
const settle = () => new Promise<void>((r) => setImmediate(r));

let stop: (() => void) | null = null;
afterEach(() => stop?.());

describe('approval observer', () => {
  it('reads the counter of its region from a metrics page', () => {
    expect(approvalRequestsOf(page('b', 3), 'b')).toBe(3);
    expect(approvalRequestsOf(page('b', 3), 'a')).toBeNull();
    expect(approvalRequestsOf('failover_awaiting_approval{region="b"} 1', 'b')).toBeNull();
  });

  it("records each rise as the operator's note of a request, in the simulator's shape", async () => {
    const { events, clock, counter, obs } = setup();
    stop = () => obs.stop();
    obs.start(); // first scrape: sent at 1000, nothing asked
    await settle();
    expect(events).toEqual([]);
    clock.t = 5_000;
    counter.n = 2; // asked twice since (a request answered and asked again between scrapes)
    await obs.tick();
    expect(events).toHaveLength(2);
    // sinceT: when the last scrape that did not show them was sent; t: when this one answered
    expect(events[0]).toEqual(approvalRequestNote({ t: 5_010, region: 'b', sinceT: 1_000 }));
    expect(approvalRequestOf(events[0]!)).toEqual({ region: 'b', sinceT: 1_000, t: 5_010 });
    clock.t = 6_000;
    await obs.tick(); // no rise: nothing new
    expect(events).toHaveLength(2);
  });

  it('a restart of the controller starts the count again; a reading of the old process is dropped', async () => {
    const { events, clock, counter, obs } = setup();
    stop = () => obs.stop();
    counter.n = 1;
    obs.start();
    await settle();
    expect(events).toHaveLength(1);
    // a scrape of the old process still out when ctl-b restarts
    let release = () => {};
    counter.hold = new Promise((r) => {
      release = r;
    });
    counter.n = 3;
    clock.t = 2_000;
    const late = obs.tick();
    obs.observe({ kind: 'process', t: 2_500, component: 'ctl-b', op: 'restart' });
    release();
    await late;
    expect(events).toHaveLength(1);
    // the new process asked once: after its start, whatever the old one had counted
    counter.hold = null;
    counter.n = 1;
    clock.t = 4_000;
    await obs.tick();
    expect(events).toHaveLength(2);
    expect(approvalRequestOf(events[1]!)).toEqual({ region: 'b', sinceT: 2_500, t: 4_010 });
    // another component's process events change nothing
    obs.observe({ kind: 'process', t: 4_500, component: 'app-b', op: 'restart' });
    clock.t = 5_000;
    await obs.tick();
    expect(events).toHaveLength(2);
  });

  it('a controller that does not answer is asked again; what it counted meanwhile shows then', async () => {
    const { events, clock, counter, obs } = setup();
    stop = () => obs.stop();
    obs.start();
    await settle();
    counter.n = null; // down or paused
    clock.t = 3_000;
    await obs.tick();
    expect(events).toEqual([]);
    counter.n = 1;
    clock.t = 9_000;
    await obs.tick();
    // since the last reading (sent at 1000), not the failed scrape
    expect(approvalRequestOf(events[0]!)).toEqual({ region: 'b', sinceT: 1_000, t: 9_010 });
  });
});
