import { describe, expect, it } from 'vitest';
import {
  createControllerState,
  defaultControllerConfig,
  failoverBoundMs,
  InvariantError,
  safeWindowMs,
  step,
  validateControllerConfig,
} from '../../src/controller/core.ts';
import type { ControllerAction } from '../../src/controller/types.ts';
import { config, Driver, lastOf, ofType, roleEvents, toPrimaryViaFailover, types } from './driver.ts';

describe('config', () => {
  it('defaults match the documented numbers and L ≈ 27.44 s', () => {
    const c = config();
    expect(c).toMatchObject({
      leaseTtlMs: 30_000,
      heartbeatMs: 10_000,
      maxClockDriftRate: 0.001,
      maxPauseMs: 2000,
      maxDelayMs: 500,
      witnessQuorum: 2,
      peerFailureThreshold: 3,
      unknownWitnessPolicy: 'abstain',
      mode: 'automatic',
      leaseStatusPollMs: 10_000,
      promotionHoldDownMs: 30_000,
    });
    expect(safeWindowMs(c)).toBe(27_442);
    expect(validateControllerConfig(c)).toEqual([]);
    expect(failoverBoundMs(c)).toBe(34_031);
  });

  it('scales the derived defaults with the lease TTL', () => {
    const c = config({ leaseTtlMs: 600 });
    expect(c.heartbeatMs).toBe(200);
    expect(c.maxPauseMs).toBe(40);
    expect(c.maxDelayMs).toBe(10);
    expect(validateControllerConfig(c)).toEqual([]);
  });

  it('rejects a heartbeat that leaves no room inside L', () => {
    const problems = validateControllerConfig(config({ heartbeatMs: 27_000 }));
    expect(problems.join('\n')).toMatch(/heartbeatMs \+ 2\*maxDelayMs .* must be < safe window L/);
  });

  it('rejects L <= 0, bad quorum, same regions and duplicate witnesses', () => {
    expect(validateControllerConfig(config({ maxPauseMs: 40_000 })).join()).toMatch(
      /safe window L .* must be > 0/,
    );
    expect(validateControllerConfig(config({ witnessQuorum: 4 })).join()).toMatch(/witnessQuorum/);
    expect(validateControllerConfig(config({ peerRegion: 'b' })).join()).toMatch(/must differ/);
    expect(validateControllerConfig(config({ witnesses: ['w', 'w'] })).join()).toMatch(/unique/);
    expect(validateControllerConfig(config({ maxClockDriftRate: -1 })).join()).toMatch(/maxClockDriftRate/);
  });

  it('createControllerState refuses an invalid config', () => {
    expect(() => createControllerState(config({ witnessQuorum: 0 }), 0)).toThrow(InvariantError);
  });
});

describe('standby observation and bootstrap', () => {
  it('first tick probes the peer and polls the lease status', () => {
    const d = new Driver();
    expect(types(d.tick(0))).toEqual(['peer-probe', 'lease-status']);
    expect(d.view.role).toBe('standby');
    expect(d.wakeAtMs).toBeGreaterThan(0);
    expect(d.wakeAtMs).toBeLessThanOrEqual(config().peerCheckIntervalMs);
  });

  it('the preferred initial primary acquires on the first never-held poll and promotes on the grant', () => {
    const d = new Driver(config({ region: 'a', peerRegion: 'b' }), { initialRole: 'primary' });
    d.tick(0);
    const a = d.status(null, 0, 10);
    expect(roleEvents(a).map((e) => `${e.from}->${e.to}`)).toEqual(['standby->candidate']);
    expect(types(a)).toContain('lease-acquire');
    const g = d.acquireResult(true, 1, 'a', 30);
    expect(types(g)).toEqual(['event:lease', 'event:promotion-evidence', 'event:role', 'promote', 'publish']);
    const ev = g.find((x) => x.type === 'event' && x.event.kind === 'promotion-evidence');
    expect(ev).toMatchObject({ event: { basis: 'bootstrap', epoch: 1 } });
    const safeUntilMs = 10 + 27_442;
    expect(ofType(g, 'promote')[0]).toEqual({
      type: 'promote',
      epoch: 1,
      validityMs: safeUntilMs - 30,
      safeUntilMs,
    });
    expect(ofType(g, 'publish')[0]).toEqual({ type: 'publish', epoch: 1, activeRegion: 'a', safeUntilMs });
    expect(d.view).toMatchObject({ role: 'primary', heldEpoch: 1, safeUntilMs: 10 + 27_442 });
  });

  it('a non-preferred region needs two never-held polls, and loses a race cleanly', () => {
    const d = new Driver();
    d.tick(0);
    expect(types(d.status(null, 0, 10))).not.toContain('lease-acquire');
    d.tick(10_000);
    const a = d.status(null, 0, 10_010);
    expect(types(a)).toContain('lease-acquire');
    const r = d.acquireResult(false, 1, 'a', 10_020);
    expect(roleEvents(r)).toMatchObject([{ from: 'candidate', to: 'standby' }]);
    expect(d.view.highestEpochSeen).toBe(1);
  });

  it('a store that says "never held" after this controller saw a grant is not a cold start', () => {
    // The legacy KV Worker's status always reports epoch 0. The preferred region lost the
    // race to b (epoch 3), so it has seen a grant: epoch-0 polls now take the held-before
    // path (two polls and a live peer), not the one-poll preferred bootstrap.
    const d = new Driver(config({ region: 'a', peerRegion: 'b' }), { initialRole: 'primary' });
    d.tick(0);
    expect(types(d.status(null, 0, 10))).toContain('lease-acquire');
    d.acquireResult(false, 3, 'b', 20);
    expect(d.view).toMatchObject({ role: 'standby', highestEpochSeen: 3 });
    d.peer(false);
    d.tick(10_000);
    expect(types(d.status(null, 0, 10_010))).not.toContain('lease-acquire');
    d.tick(20_000);
    expect(types(d.status(null, 0, 20_010))).not.toContain('lease-acquire'); // peer down: a failover question
    d.peer(true);
    d.tick(30_000);
    const a = d.status(null, 0, 30_010);
    expect(types(a)).toContain('lease-acquire');
    const g = d.acquireResult(true, 9, 'a', 30_020);
    expect(g.find((x) => x.type === 'event' && x.event.kind === 'promotion-evidence')).toMatchObject({
      event: { basis: 'vacant-lease' },
    });
  });

  it('manual mode never bootstraps by itself', () => {
    const d = new Driver(config({ mode: 'manual' }));
    d.tick(0);
    d.status(null, 0, 10);
    d.tick(10_000);
    expect(types(d.status(null, 0, 10_010))).not.toContain('lease-acquire');
    expect(d.view.role).toBe('standby');
  });

  it('fills a vacant (previously held) lease only while the peer answers', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(true);
    d.status(null, 4, 10);
    d.tick(10_000);
    d.peer(true);
    const a = d.status(null, 4, 10_010);
    expect(types(a)).toContain('lease-acquire');
    const g = d.acquireResult(true, 5, 'b', 10_030);
    expect(g.find((x) => x.type === 'event' && x.event.kind === 'promotion-evidence')).toMatchObject({
      event: { basis: 'vacant-lease' },
    });

    const e = new Driver();
    e.tick(0);
    e.peer(false);
    e.status(null, 4, 10);
    e.tick(10_000);
    expect(types(e.status(null, 4, 10_010))).not.toContain('lease-acquire');
  });

  // Regression (found by the simulator on scenarios/two-witnesses-down.yaml): a witness round
  // without quorum zeroes the failure counter so fresh evidence is needed; that zero must not
  // read as "the peer answers" and open the vacant-lease gate while the peer is still down.
  it('does not fill a vacant lease after a no-quorum witness round while the peer is still down', () => {
    const cfg = config();
    const d = new Driver(cfg);
    d.tick(0);
    d.status('a', 4, 5);
    d.peer(false, cfg.peerFailureThreshold);
    const round = lastOf(d.history, 'witness-query')!.round;
    d.witness(round, { w1: 'unreachable', w2: 'unknown', w3: 'unknown' });
    expect(d.view.role).toBe('standby');
    // the lease then runs out at the Worker: vacant, previously held
    d.status(null, 4, d.nowMs + 10);
    d.tick(d.nowMs + 10_000);
    const a = d.status(null, 4, d.nowMs + 10);
    expect(types(a)).not.toContain('lease-acquire');
    expect(d.view.role).toBe('standby');
  });

  it('treats an expired lease (expiresAt <= serverTime) as vacant', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(true);
    const expired = {
      type: 'lease-result' as const,
      op: 'status' as const,
      ok: true,
      granted: false,
      holder: 'a',
      epoch: 4,
      ttlMs: 30_000,
      expiresAt: 100,
      serverTime: 200,
    };
    d.feed({ ...expired, sentAtMs: 0 }, 10);
    d.tick(10_000);
    d.peer(true);
    expect(types(d.feed({ ...expired, sentAtMs: 10_000 }, 10_010))).toContain('lease-acquire');
  });
});

describe('failover gates', () => {
  it('asks the witnesses only after N consecutive peer failures, then acquires on quorum', () => {
    const d = new Driver();
    d.tick(0);
    d.status('a', 6, 5);
    expect(types(d.peer(false, 2))).not.toContain('witness-query');
    const q = d.peer(false);
    expect(ofType(q, 'witness-query')).toEqual([{ type: 'witness-query', round: 1, target: 'a' }]);
    expect(types(d.witness(1, { w1: 'unreachable' }))).not.toContain('lease-acquire');
    const c = d.witness(1, { w2: 'unreachable' });
    expect(roleEvents(c)).toMatchObject([{ from: 'standby', to: 'candidate' }]);
    expect(types(c)).toContain('lease-acquire');
    const g = d.acquireResult(true, 7, 'b', 50);
    const ev = g.find((x) => x.type === 'event' && x.event.kind === 'promotion-evidence');
    expect(ev).toMatchObject({
      event: {
        basis: 'failover',
        peerFailures: 3,
        unreachableVotes: 2,
        quorum: 2,
        votes: { w1: 'unreachable', w2: 'unreachable', w3: 'unknown' },
        approvedBy: 'automatic',
      },
    });
    expect(d.view.role).toBe('primary');
  });

  it('a recovered probe resets the failure count', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 2);
    d.peer(true);
    expect(types(d.peer(false, 2))).not.toContain('witness-query');
  });

  it('unknown witness answers abstain by default and the round fails', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    const out = d.witness(1, { w1: 'unreachable', w2: 'unknown', w3: 'unknown' });
    expect(types(out)).not.toContain('lease-acquire');
    expect(d.view.role).toBe('standby');
    expect(d.view.peerConsecutiveFailures).toBe(0); // fresh evidence required next time
  });

  it("'count-unreachable' (legacy, unsafe) counts timeouts as unreachable", () => {
    const d = new Driver(config({ unknownWitnessPolicy: 'count-unreachable' }));
    d.tick(0);
    d.peer(false, 3);
    const out = d.witness(1, { w1: 'unknown', w2: 'unknown' });
    expect(types(out)).toContain('lease-acquire');
  });

  it('witnesses that never answer count as unknown at the round deadline', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable' });
    expect(d.wakeAtMs).toBe(config().witnessRoundTimeoutMs);
    d.tick(config().witnessRoundTimeoutMs);
    expect(d.view.role).toBe('standby');
    expect(d.view.witnessVerdicts).toEqual({ w1: 'unreachable', w2: 'unknown', w3: 'unknown' });
  });

  it('answers for an old round do not count', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'reachable', w2: 'reachable' }); // round 1 fails early
    d.peer(false, 3);
    expect(lastOf(d.history, 'witness-query')?.round).toBe(2);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    expect(d.view.role).toBe('standby');
  });

  it('a candidate returns to standby when the peer answers again', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    const out = d.peer(true);
    expect(roleEvents(out)).toMatchObject([{ from: 'candidate', to: 'standby', reason: 'peer-recovered' }]);
  });

  it('retries a refused acquire, then gives up at the candidate deadline and holds down', () => {
    const cfg = config();
    const d = new Driver(cfg);
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    d.acquireResult(false, 6, 'a', 100);
    expect(types(d.tick(100 + cfg.acquireRetryMs! - 1))).not.toContain('lease-acquire');
    expect(types(d.tick(100 + cfg.acquireRetryMs!))).toContain('lease-acquire');
    const out = d.tick(cfg.candidateTimeoutMs!);
    expect(roleEvents(out)).toMatchObject([
      { from: 'candidate', to: 'standby', reason: 'lease-not-granted-in-time' },
    ]);
    // hold-down: failures do not start a new round
    expect(types(d.peer(false, 5))).not.toContain('witness-query');
    d.tick(cfg.candidateTimeoutMs! + cfg.promotionHoldDownMs);
    expect(types(d.peer(false, 3))).toContain('witness-query');
  });

  it('refuses a grant whose epoch is not higher than one already seen', () => {
    const d = new Driver();
    d.tick(0);
    d.status('a', 9, 5);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    const out = d.acquireResult(true, 9, 'b', 50);
    expect(types(out)).not.toContain('promote');
    expect(d.view.role).toBe('candidate');
  });

  it('does not use a grant that arrives after L from its send time', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    const sent = lastOf(d.history, 'lease-acquire')!.sentAtMs;
    const out = d.acquireResult(true, 3, 'b', sent + 27_442);
    expect(types(out)).not.toContain('promote');
  });

  it('releases a grant that arrives after it went back to standby, naming that epoch', () => {
    // kept, the grant would block both regions for a whole TTL with nobody primary
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    d.peer(true);
    expect(d.view.role).toBe('standby');
    const out = d.acquireResult(true, 4, 'b', d.nowMs + 30);
    expect(types(out)).not.toContain('promote');
    expect(ofType(out, 'lease-release')).toMatchObject([{ epoch: 4 }]);
  });

  it('releases a lease the store holds in our name from an acquire whose reply was lost', () => {
    const d = new Driver();
    d.tick(0);
    d.status('a', 3, 5);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    d.peer(true);
    const out = d.status('b', 4, d.nowMs + 100);
    expect(ofType(out, 'lease-release')).toMatchObject([{ epoch: 4 }]);
  });

  it('a candidate whose acquire is refused as held by itself releases that lease, then wins the next one', () => {
    // the first acquire timed out while the Worker was paused; the Worker granted it on resuming
    const d = new Driver();
    d.tick(0);
    d.status('a', 3, 5);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    expect(d.view.role).toBe('candidate');
    const refused = d.acquireResult(false, 4, 'b', d.nowMs + 30);
    expect(d.view.role).toBe('candidate');
    expect(ofType(refused, 'lease-release')).toMatchObject([{ epoch: 4 }]);
    // released once, not on every refused retry
    expect(types(d.acquireResult(false, 4, 'b', d.nowMs + 2_600))).not.toContain('lease-release');
    const out = d.acquireResult(true, 5, 'b', d.nowMs + 2_600);
    expect(types(out)).toContain('promote');
  });

  it('never releases a lease in our name that the previous incarnation may have held', () => {
    const d = new Driver();
    d.tick(0);
    expect(types(d.status('b', 5, 5))).not.toContain('lease-release');
    expect(types(d.status('b', 5, 60_000))).not.toContain('lease-release');
  });

  it('without a status before its first acquire, waits until an earlier lease is surely gone', () => {
    const d = new Driver();
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    d.peer(true);
    expect(types(d.status('b', 4, 1_000))).not.toContain('lease-release');
    expect(ofType(d.status('b', 4, 40_000), 'lease-release')).toMatchObject([{ epoch: 4 }]);
  });

  it('leaves to expire a lease it acted on after demoting without confirmation', () => {
    const d = toPrimaryViaFailover(config(), 7);
    d.advance(40_000);
    expect(d.view.role).not.toBe('primary');
    expect(types(d.status('b', 7, d.nowMs + 10))).not.toContain('lease-release');
  });

  it('does not release a stale grant whose epoch is below one already seen', () => {
    const d = new Driver();
    d.tick(0);
    d.status('a', 9, 5);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    const out = d.acquireResult(true, 8, 'b', 50);
    expect(types(out)).not.toContain('lease-release');
  });
});

describe('primary', () => {
  it('renews every heartbeat and re-hands the remaining window as extend', () => {
    const d = toPrimaryViaFailover();
    const grantSent = d.s.lastRenewalSentAtMs!;
    expect(d.wakeAtMs).toBe(grantSent + 10_000);
    const r = d.tick(grantSent + 10_000);
    expect(ofType(r, 'lease-renew')).toEqual([
      { type: 'lease-renew', epoch: 7, sentAtMs: grantSent + 10_000, safeUntilMs: grantSent + 27_442 },
    ]);
    d.feed({ type: 'promote-result', epoch: 7, ok: true });
    d.feed({ type: 'publish-result', epoch: 7, ok: true });
    const e = d.renewResult(true, 7, grantSent + 10_040);
    expect(ofType(e, 'extend')).toEqual([
      { type: 'extend', epoch: 7, validityMs: 27_442 - 40, safeUntilMs: grantSent + 10_000 + 27_442 },
    ]);
    expect(types(e)).not.toContain('publish');
    expect(d.view.safeUntilMs).toBe(grantSent + 10_000 + 27_442);
  });

  it('re-sends promote and publish after a renewal until the resource confirms them', () => {
    const d = toPrimaryViaFailover();
    d.feed({ type: 'promote-result', epoch: 7, ok: false, error: 'webhook 500' });
    d.feed({ type: 'publish-result', epoch: 7, ok: false, error: 'pdns 500' });
    d.advance(10_000);
    const out = d.renewResult(true, 7, d.nowMs + 5);
    expect(types(out)).toEqual(['event:lease', 'promote', 'publish']);
  });

  it('demotes itself exactly when L has elapsed since the last successful renewal send', () => {
    const d = toPrimaryViaFailover();
    const until = d.view.safeUntilMs!;
    d.tick(d.nowMs + 10_000); // renewal sent, never answered
    d.tick(d.nowMs + 12_000); // abandoned and re-sent
    expect(d.wakeAtMs).toBeLessThanOrEqual(until);
    d.tick(until - 1);
    expect(d.view.role).toBe('primary');
    const out = d.tick(until);
    expect(roleEvents(out)).toMatchObject([
      { from: 'primary', to: 'fenced', reason: 'safe-window-elapsed', epoch: 7 },
    ]);
    expect(ofType(out, 'demote')).toEqual([{ type: 'demote', epoch: 7, reason: 'safe-window-elapsed' }]);
    expect(types(out)).not.toContain('lease-release');
    expect(d.view.demotionsTotal).toBe(1);
  });

  it('a late input after L demotes before it is handled (paused process)', () => {
    const d = toPrimaryViaFailover();
    const until = d.view.safeUntilMs!;
    const renewSent = d.nowMs;
    const out = d.renewResult(true, 7, until + 5_000, renewSent);
    expect(types(out).filter((t) => ['extend', 'promote', 'lease-renew', 'publish'].includes(t))).toEqual([]);
    expect(d.view.role).toBe('fenced');
  });

  it('demotes at once when a renewal is refused or shows a higher epoch', () => {
    const d = toPrimaryViaFailover();
    d.advance(10_000);
    const out = d.renewResult(false, 7, d.nowMs + 10);
    expect(roleEvents(out)).toMatchObject([{ to: 'fenced', reason: 'renewal-refused' }]);

    const e = toPrimaryViaFailover();
    e.advance(10_000);
    const out2 = e.feed({
      type: 'lease-result',
      op: 'renew',
      sentAtMs: e.nowMs,
      ok: true,
      granted: false,
      holder: 'a',
      epoch: 8,
      ttlMs: 30_000,
    });
    expect(roleEvents(out2)[0]?.reason).toMatch(/higher-epoch-seen/);
    expect(e.view.highestEpochSeen).toBe(8);
  });

  it('ignores a renewal result claiming a send time in the future', () => {
    const d = toPrimaryViaFailover();
    const until = d.view.safeUntilMs!;
    d.advance(10_000);
    d.renewResult(true, 7, d.nowMs + 1, d.nowMs + 50_000);
    expect(d.view.safeUntilMs).toBe(until);
  });

  it('retries a renewal that failed in transport', () => {
    const cfg = config();
    const d = toPrimaryViaFailover(cfg);
    d.advance(10_000);
    d.feed({
      type: 'lease-result',
      op: 'renew',
      sentAtMs: d.nowMs,
      ok: false,
      granted: false,
      holder: null,
      epoch: null,
      ttlMs: null,
      error: 'timeout',
    });
    expect(types(d.advance(cfg.acquireRetryMs!))).toContain('lease-renew');
  });

  it('steps down after repeated resource failures', () => {
    const d = toPrimaryViaFailover();
    d.feed({ type: 'promote-result', epoch: 7, ok: false });
    d.feed({ type: 'promote-result', epoch: 7, ok: false });
    const out = d.feed({ type: 'promote-result', epoch: 7, ok: false });
    expect(roleEvents(out)).toMatchObject([{ to: 'fenced', reason: 'resource-failed' }]);
  });

  it('fenced waits out the hold-down, then returns to standby', () => {
    const cfg = config();
    const d = toPrimaryViaFailover(cfg);
    d.advance(10_000);
    d.renewResult(false, 7, d.nowMs + 1);
    const fencedAt = d.nowMs;
    d.tick(fencedAt + cfg.promotionHoldDownMs - 1);
    expect(d.view.role).toBe('fenced');
    const out = d.tick(fencedAt + cfg.promotionHoldDownMs);
    expect(roleEvents(out)).toMatchObject([{ from: 'fenced', to: 'standby', reason: 'hold-down-elapsed' }]);
  });
});

describe('lease TTL the store grants (the safe window assumes config.leaseTtlMs)', () => {
  function candidate(): Driver {
    const d = new Driver();
    d.tick(0);
    d.status('a', 6, 5);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    return d;
  }
  function grant(d: Driver, ttlMs: number | null, op: 'acquire' | 'renew', epoch = 7): ControllerAction[] {
    const sent = lastOf(d.history, op === 'acquire' ? 'lease-acquire' : 'lease-renew')!.sentAtMs;
    return d.feed({
      type: 'lease-result',
      op,
      sentAtMs: sent,
      ok: true,
      granted: true,
      holder: 'b',
      epoch,
      ttlMs,
    });
  }
  const errors = (acts: ControllerAction[]) =>
    acts.flatMap((a) =>
      a.type === 'event' && a.event.kind === 'log' && a.event.level === 'error' ? [a.event.message] : [],
    );

  it('refuses a grant whose TTL is shorter than the one L was computed from, and says both values', () => {
    const d = candidate();
    const out = grant(d, 500, 'acquire');
    expect(types(out)).not.toContain('promote');
    expect(types(out)).not.toContain('publish');
    expect(d.view.role).toBe('standby');
    expect(d.view.leaseTtlRefusalsTotal).toBe(1);
    expect(d.view.storeLeaseTtlMs).toBe(500);
    expect(errors(out).join('\n')).toMatch(/500 ms.*30000 ms/);
    expect(roleEvents(out).at(-1)).toMatchObject({ to: 'standby', reason: 'lease-ttl-mismatch' });
  });

  it('refuses a grant that carries no TTL', () => {
    const d = candidate();
    const out = grant(d, null, 'acquire');
    expect(types(out)).not.toContain('promote');
    expect(d.view.leaseTtlRefusalsTotal).toBe(1);
  });

  it('accepts a grant whose TTL is at least the assumed one', () => {
    const d = candidate();
    expect(types(grant(d, 45_000, 'acquire'))).toContain('promote');
    expect(d.view.role).toBe('primary');
    expect(d.view.leaseTtlRefusalsTotal).toBe(0);
  });

  it('a primary whose renewal comes back with a shorter TTL demotes at once', () => {
    const d = toPrimaryViaFailover();
    d.advance(10_000);
    const out = grant(d, 29_999, 'renew');
    expect(types(out)).toContain('demote');
    expect(types(out)).not.toContain('extend');
    expect(d.view.role).toBe('fenced');
    expect(roleEvents(out).at(-1)).toMatchObject({ to: 'fenced', reason: 'lease-ttl-mismatch' });
    expect(d.view.leaseTtlRefusalsTotal).toBe(1);
  });

  it('a status reply advertising a shorter TTL is reported once, at the first poll', () => {
    const d = new Driver();
    d.tick(0);
    const sent = lastOf(d.history, 'lease-status')!.sentAtMs;
    const reply = {
      type: 'lease-result',
      op: 'status',
      sentAtMs: sent,
      ok: true,
      granted: false,
      holder: null,
      epoch: 0,
      ttlMs: 3000,
    } as const;
    expect(errors(d.feed(reply, 5)).join()).toMatch(
      /3000 ms is shorter than the configured LEASE_TTL_MS 30000 ms/,
    );
    d.tick(10_000);
    const sent2 = lastOf(d.history, 'lease-status')!.sentAtMs;
    expect(errors(d.feed({ ...reply, sentAtMs: sent2 }, 10_005))).toEqual([]);
  });
});

describe('modes and operator', () => {
  it('semi-automatic waits for approval before acquiring', () => {
    const d = new Driver(config({ mode: 'semi-automatic' }));
    d.tick(0);
    d.peer(false, 3);
    const c = d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    expect(types(c)).toContain('await-approval');
    expect(types(c)).not.toContain('lease-acquire');
    expect(d.view.awaitingApproval).toBe(true);
    expect(types(d.advance(60_000))).not.toContain('lease-acquire');
    const a = d.feed({ type: 'operator', command: 'approve' });
    expect(types(a)).toContain('lease-acquire');
    const g = d.acquireResult(true, 1, 'b', d.nowMs + 5);
    expect(g.find((x) => x.type === 'event' && x.event.kind === 'promotion-evidence')).toMatchObject({
      event: { approvedBy: 'operator' },
    });
  });

  it('semi-automatic reject returns to standby with hold-down', () => {
    const d = new Driver(config({ mode: 'semi-automatic' }));
    d.tick(0);
    d.peer(false, 3);
    d.witness(1, { w1: 'unreachable', w2: 'unreachable' });
    const r = d.feed({ type: 'operator', command: 'reject' });
    expect(roleEvents(r)).toMatchObject([{ from: 'candidate', to: 'standby', reason: 'operator-rejected' }]);
    expect(d.view.phase).toBe('standby/hold-down');
  });

  it('manual mode never asks witnesses; operator promote still needs the lease', () => {
    const d = new Driver(config({ mode: 'manual' }));
    d.tick(0);
    expect(types(d.peer(false, 10))).not.toContain('witness-query');
    const p = d.feed({ type: 'operator', command: 'promote' });
    expect(types(p)).toContain('lease-acquire');
    expect(types(d.acquireResult(false, 3, 'a', 10))).not.toContain('promote');
    expect(d.view.role).toBe('candidate');
    d.tick(config().acquireRetryMs! + 10);
    const g = d.acquireResult(true, 4, 'b', d.nowMs + 5);
    expect(types(g)).toContain('promote');
  });

  it('operator demote demotes first and releases only after the resource confirms', () => {
    const d = toPrimaryViaFailover();
    const out = d.feed({ type: 'operator', command: 'demote' });
    expect(types(out).slice(0, 2)).toEqual(['event:role', 'demote']);
    expect(types(out)).not.toContain('lease-release');
    const rel = d.feed({ type: 'promote-result', epoch: 7, ok: true, action: 'demote' });
    expect(ofType(rel, 'lease-release')).toEqual([{ type: 'lease-release', epoch: 7, sentAtMs: d.nowMs }]);
  });

  it('a late demote confirmation after re-promotion releases nothing', () => {
    const d = toPrimaryViaFailover();
    d.feed({ type: 'operator', command: 'demote' });
    d.feed({ type: 'operator', command: 'promote' });
    d.acquireResult(true, 8, 'b', d.nowMs + 10);
    expect(d.view.heldEpoch).toBe(8);
    const late = d.feed({ type: 'promote-result', epoch: 7, ok: true, action: 'demote' });
    expect(types(late)).not.toContain('lease-release');
    expect(d.view.role).toBe('primary');
  });
});

describe('shutdown', () => {
  it('a primary demotes, then releases after the demotion is confirmed', () => {
    const d = toPrimaryViaFailover();
    const out = d.feed({ type: 'shutdown' });
    expect(types(out)).toEqual(['event:role', 'demote']);
    expect(d.view.shutdownComplete).toBe(false);
    expect(types(d.advance(5_000))).toEqual([]);
    const rel = d.feed({ type: 'promote-result', epoch: 7, ok: true, action: 'demote' });
    expect(types(rel)).toEqual(['lease-release']);
    expect(d.view.shutdownComplete).toBe(true);
  });

  it('an unconfirmed demotion leaves the lease to expire', () => {
    const d = toPrimaryViaFailover();
    d.feed({ type: 'shutdown' });
    const rel = d.feed({ type: 'promote-result', epoch: 7, ok: false, action: 'demote' });
    expect(types(rel)).not.toContain('lease-release');
    expect(d.view.shutdownComplete).toBe(true);
  });

  it('a standby just stops', () => {
    const d = new Driver();
    d.tick(0);
    const out = d.feed({ type: 'shutdown' });
    expect(roleEvents(out)).toMatchObject([{ from: 'standby', to: 'fenced', reason: 'shutdown' }]);
    expect(types(d.advance(100_000))).toEqual([]);
  });
});

describe('core hygiene', () => {
  it('throws when the local clock goes backwards', () => {
    const s = createControllerState(config(), 100);
    expect(() => step(s, { type: 'tick', nowMs: 99 })).toThrow(InvariantError);
  });

  it('state is plain JSON and step is deterministic', () => {
    const d = toPrimaryViaFailover();
    const copy = JSON.parse(JSON.stringify(d.s));
    expect(copy).toEqual(d.s);
    const a = step(d.s, { type: 'tick', nowMs: d.nowMs + 10_000 });
    const b = step(copy, { type: 'tick', nowMs: d.nowMs + 10_000 });
    expect(a).toEqual(b);
  });

  it('does not mutate the input state', () => {
    const d = toPrimaryViaFailover();
    const before = JSON.stringify(d.s);
    step(d.s, { type: 'tick', nowMs: d.nowMs + 40_000 });
    expect(JSON.stringify(d.s)).toBe(before);
  });

  it('step keeps every field of the state, in order (copyState lists them one by one)', () => {
    const fresh = createControllerState(config(), 0);
    const d = toPrimaryViaFailover();
    for (const s of [fresh, d.s]) {
      const next = step(s, { type: 'tick', nowMs: s.nowMs + 1 }).state;
      expect(Object.keys(next)).toEqual(Object.keys(fresh));
    }
  });

  it('defaultControllerConfig keeps explicit values', () => {
    const c = defaultControllerConfig({ region: 'x', peerRegion: 'y', witnesses: ['a'], heartbeatMs: 5000 });
    expect(c.heartbeatMs).toBe(5000);
    expect(c.witnessQuorum).toBe(1);
  });
});
