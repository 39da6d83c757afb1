/**
 * Properties over arbitrary input sequences and timings. The environment answers the core's
 * own requests in any order, with any outcome (granted or not, stale or fresh epochs), drops
 * some, and injects operator commands; the checks below use only what was fed in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ControllerState,
  createControllerState,
  defaultControllerConfig,
  safeWindowMs,
  step,
  view,
} from '../../src/controller/core.ts';
import type {
  ControllerAction,
  ControllerConfig,
  ControllerEvent,
  ControllerInput,
  Mode,
} from '../../src/controller/types.ts';

type Cmd = {
  dtMs: number;
  kind: 'tick' | 'peer' | 'witness' | 'respond' | 'resource' | 'operator';
  a: number;
  b: number;
  flag: boolean;
};

const cmdArb: fc.Arbitrary<Cmd> = fc.record({
  dtMs: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 1200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 5000 }) },
  ),
  kind: fc.constantFrom(
    'tick',
    'peer',
    'peer',
    'witness',
    'witness',
    'respond',
    'respond',
    'respond',
    'resource',
    'operator',
  ),
  a: fc.nat(1000),
  b: fc.nat(1000),
  flag: fc.boolean(),
});

const setupArb = fc.record({
  mode: fc.constantFrom<Mode>('automatic', 'automatic', 'semi-automatic', 'manual'),
  preferred: fc.boolean(),
  peerFlaky: fc.boolean(),
  vacancies: fc.boolean(),
  cmds: fc.array(cmdArb, { minLength: 10, maxLength: 150, size: 'max' }),
});

/** Automatic mode, peer down, witnesses agree, lease held by the peer until it is not. */
const failoverSetupArb = fc.record({
  mode: fc.constant<Mode>('automatic'),
  preferred: fc.constant(false),
  peerFlaky: fc.constant(false),
  vacancies: fc.constant(false),
  cmds: fc.array(cmdArb, { minLength: 60, maxLength: 200, size: 'max' }),
});

const ACTING = new Set(['promote', 'extend', 'publish', 'lease-renew']);

interface Outstanding {
  op: 'acquire' | 'renew' | 'status' | 'release';
  sentAtMs: number;
  epoch: number | null;
}

/** Runs a sequence, checking every property after every step; returns the trace. */
function run(setup: { mode: Mode; preferred: boolean; peerFlaky: boolean; vacancies: boolean; cmds: Cmd[] }) {
  const cfg: ControllerConfig = defaultControllerConfig({
    region: 'b',
    peerRegion: 'a',
    witnesses: ['w1', 'w2', 'w3'],
    leaseTtlMs: 3000,
    witnessRoundTimeoutMs: 1500,
    mode: setup.mode,
  });
  const L = safeWindowMs(cfg);
  let s: ControllerState = createControllerState(cfg, 0, {
    initialRole: setup.preferred ? 'primary' : 'standby',
  });
  let now = 0;
  const outstanding: Outstanding[] = [];
  let witnessRound = 0;
  /** per epoch: latest send time of a granted acquire/renew result that was fed */
  const grantedSentAt = new Map<number, number>();
  let maxEpochFed = 0;
  let vacantSeen = false;
  let operatorApprovalFed = false;
  const unreachableFed = new Set<string>(); // `${round}/${witness}`
  let lastActionEpoch = 0;
  const promotedEpochs = new Set<number>();
  let lastDemotionAtMs: number | null = null;
  const trace: { nowMs: number; input: ControllerInput; actions: ControllerAction[] }[] = [];

  const apply = (input: ControllerInput) => {
    const epochsBefore = maxEpochFed;
    const r = step(s, input);
    trace.push({ nowMs: input.nowMs, input, actions: r.actions });
    expect(r.wakeAtMs).toBeGreaterThan(input.nowMs);
    for (const a of r.actions) {
      // P3: epochs carried by actions never decrease
      if ('epoch' in a && typeof a.epoch === 'number') {
        expect(a.epoch).toBeGreaterThanOrEqual(lastActionEpoch);
        lastActionEpoch = a.epoch;
      }
      // P1: acting only within L of the send time of a successful renewal/grant of that epoch
      if (ACTING.has(a.type)) {
        const ep = (a as { epoch: number }).epoch;
        const sent = grantedSentAt.get(ep);
        expect(sent, `${a.type} epoch ${ep} without any grant`).toBeDefined();
        expect(input.nowMs).toBeLessThan(sent! + L);
        // the window recorded on the action is the one it relied on, and it is honest
        const recorded = (a as { safeUntilMs?: number }).safeUntilMs;
        expect(recorded).toBeGreaterThan(input.nowMs);
        expect(recorded).toBeLessThanOrEqual(sent! + L);
        if (a.type === 'promote' || a.type === 'extend') {
          expect(input.nowMs + a.validityMs).toBeLessThanOrEqual(sent! + L);
          expect(a.validityMs).toBeGreaterThan(0);
        }
      }
      // P2: no promotion without the lease and (quorum | vacancy | operator)
      if (a.type === 'promote' && !promotedEpochs.has(a.epoch)) {
        promotedEpochs.add(a.epoch);
        expect(input.type === 'lease-result' && input.op === 'acquire' && input.granted && input.ok).toBe(
          true,
        );
        expect((input as { epoch: number }).epoch).toBe(a.epoch);
        expect(a.epoch).toBeGreaterThan(epochsBefore);
        const ev = r.actions
          .map((x) => (x.type === 'event' ? x.event : null))
          .find(
            (e): e is Extract<ControllerEvent, { kind: 'promotion-evidence' }> =>
              e?.kind === 'promotion-evidence',
          );
        expect(ev).toBeDefined();
        expect(ev!.epoch).toBe(a.epoch);
        if (ev!.basis === 'failover') {
          expect(cfg.mode).not.toBe('manual');
          expect(ev!.peerFailures).toBeGreaterThanOrEqual(cfg.peerFailureThreshold);
          expect(ev!.unreachableVotes).toBeGreaterThanOrEqual(cfg.witnessQuorum);
          const unreachable = Object.entries(ev!.votes).filter(([, v]) => v === 'unreachable');
          expect(unreachable.length).toBeGreaterThanOrEqual(cfg.witnessQuorum);
          for (const [w] of unreachable) {
            expect([...unreachableFed].some((k) => k.endsWith(`/${w}`))).toBe(true);
          }
        } else if (ev!.basis === 'bootstrap' || ev!.basis === 'vacant-lease') {
          expect(vacantSeen).toBe(true);
        } else {
          expect(ev!.basis).toBe('operator');
        }
        if (cfg.mode !== 'automatic' && !(ev!.basis === 'bootstrap' && setup.preferred)) {
          expect(operatorApprovalFed).toBe(true);
          expect(ev!.approvedBy).toBe('operator');
        }
        // anti-flapping: an automatic promotion never comes within the hold-down of a demotion
        if (ev!.approvedBy === 'automatic' && lastDemotionAtMs !== null) {
          expect(input.nowMs - lastDemotionAtMs).toBeGreaterThanOrEqual(cfg.promotionHoldDownMs);
        }
      }
      if (a.type === 'demote') lastDemotionAtMs = input.nowMs;
      if (a.type === 'lease-acquire') outstanding.push({ op: 'acquire', sentAtMs: a.sentAtMs, epoch: null });
      if (a.type === 'lease-renew') outstanding.push({ op: 'renew', sentAtMs: a.sentAtMs, epoch: a.epoch });
      if (a.type === 'lease-status') outstanding.push({ op: 'status', sentAtMs: a.sentAtMs, epoch: null });
      if (a.type === 'lease-release')
        outstanding.push({ op: 'release', sentAtMs: a.sentAtMs, epoch: a.epoch });
      if (a.type === 'witness-query') witnessRound = a.round;
    }
    s = r.state;
    // P4: a primary that hears nothing for longer than L demotes on the next input
    if (view(s).role === 'primary') {
      const late = step(s, { type: 'tick', nowMs: input.nowMs + L });
      expect(view(late.state).role).not.toBe('primary');
      expect(late.actions.some((x) => x.type === 'demote')).toBe(true);
      expect(late.actions.some((x) => ACTING.has(x.type))).toBe(false);
    }
  };

  apply({ type: 'tick', nowMs: 0 });
  for (const c of setup.cmds) {
    now += c.dtMs;
    switch (c.kind) {
      case 'tick':
        apply({ type: 'tick', nowMs: now });
        break;
      case 'peer':
        apply({ type: 'peer-result', nowMs: now, ok: c.a % (setup.peerFlaky ? 2 : 10) === 0 });
        break;
      case 'witness': {
        const witness = ['w1', 'w2', 'w3', 'w1', 'w2', 'w3', 'w9'][c.a % 7]!;
        const verdicts = setup.peerFlaky
          ? (['unreachable', 'reachable', 'unknown'] as const)
          : (['unreachable', 'unreachable', 'unreachable', 'unreachable', 'unknown'] as const);
        const verdict = verdicts[c.b % verdicts.length]!;
        const round = c.flag || c.a % 3 !== 0 ? witnessRound : Math.max(0, witnessRound - 1);
        if (verdict === 'unreachable') unreachableFed.add(`${round}/${witness}`);
        apply({ type: 'witness-result', nowMs: now, round, witness, verdict });
        break;
      }
      case 'respond': {
        if (outstanding.length === 0) {
          apply({ type: 'tick', nowMs: now });
          break;
        }
        // mostly one of the newest requests; sometimes a stale one from long ago
        const idx =
          c.a % 5 === 0
            ? c.b % outstanding.length
            : outstanding.length - 1 - (c.a % Math.min(3, outstanding.length));
        const [req] = outstanding.splice(idx, 1);
        const ok = c.b % 6 !== 0;
        const epochOffset = (c.b >> 1) % 4; // 0..3 relative to what was fed so far
        let granted = false;
        let holder: string | null = null;
        let epoch: number | null = null;
        if (ok) {
          if (req!.op === 'acquire') {
            granted = c.flag || c.b % 3 === 0;
            epoch = granted ? maxEpochFed + epochOffset : maxEpochFed + (epochOffset % 2);
            holder = granted ? 'b' : c.b % 5 === 0 ? null : 'a';
          } else if (req!.op === 'renew') {
            granted = c.flag || c.b % 3 !== 0;
            epoch = granted
              ? c.b % 7 === 0
                ? req!.epoch! + 1
                : req!.epoch!
              : req!.epoch! + (epochOffset % 2);
            holder = granted ? 'b' : 'a';
          } else if (req!.op === 'status') {
            // without `vacancies` the peer always holds the lease: only failover/operator paths remain
            holder = c.flag && setup.vacancies ? null : 'a';
            epoch = c.a % 4 === 0 && setup.vacancies ? 0 : Math.max(1, maxEpochFed + (epochOffset % 2));
            if (holder === null) vacantSeen = true;
          } else {
            epoch = req!.epoch;
          }
        }
        if (ok && granted && epoch !== null) {
          grantedSentAt.set(epoch, Math.max(grantedSentAt.get(epoch) ?? -1, req!.sentAtMs));
        }
        const input: ControllerInput = {
          type: 'lease-result',
          nowMs: now,
          op: req!.op,
          sentAtMs: req!.sentAtMs,
          ok,
          granted,
          holder,
          epoch,
          ttlMs: ok ? 3000 : null,
        };
        apply(input);
        if (ok && epoch !== null) maxEpochFed = Math.max(maxEpochFed, epoch);
        break;
      }
      case 'resource': {
        const epoch = Math.max(1, lastActionEpoch - (c.a % 2));
        const action = (['promote', 'extend', 'demote'] as const)[c.b % 3]!;
        if (c.a % 4 === 3) apply({ type: 'publish-result', nowMs: now, epoch, ok: c.flag });
        else apply({ type: 'promote-result', nowMs: now, epoch, ok: c.flag || c.b % 2 === 0, action });
        break;
      }
      case 'operator': {
        if (c.b % (setup.mode === 'automatic' ? 16 : 4) !== 0) {
          apply({ type: 'tick', nowMs: now }); // keep operator commands rare
          break;
        }
        const command = (['approve', 'reject', 'promote', 'demote'] as const)[c.a % 4]!;
        if (command === 'approve' || command === 'promote') operatorApprovalFed = true;
        apply({ type: 'operator', nowMs: now, command });
        break;
      }
    }
  }
  return { trace, final: s };
}

describe('controller core properties', () => {
  it('safety properties hold over arbitrary inputs and timings', () => {
    fc.assert(
      fc.property(setupArb, (setup) => {
        run(setup);
      }),
      { numRuns: 400 },
    );
  });

  it('safety properties hold on failover-heavy sequences', () => {
    fc.assert(
      fc.property(failoverSetupArb, (setup) => {
        run(setup);
      }),
      { numRuns: 200 },
    );
  });

  it('the generator reaches primary often enough to make the properties bite', () => {
    let primaries = 0;
    let demotions = 0;
    let failovers = 0;
    fc.assert(
      fc.property(setupArb, (setup) => {
        const { trace } = run(setup);
        const acts = trace.flatMap((t) => t.actions);
        if (acts.some((a) => a.type === 'promote')) primaries += 1;
        if (
          acts.some(
            (a) =>
              a.type === 'event' && a.event.kind === 'promotion-evidence' && a.event.basis === 'failover',
          )
        ) {
          failovers += 1;
        }
        if (acts.some((a) => a.type === 'demote')) demotions += 1;
      }),
      { numRuns: 200, seed: 42 },
    );
    let failoverHeavy = 0;
    fc.assert(
      fc.property(failoverSetupArb, (setup) => {
        const acts = run(setup).trace.flatMap((t) => t.actions);
        if (
          acts.some(
            (a) =>
              a.type === 'event' && a.event.kind === 'promotion-evidence' && a.event.basis === 'failover',
          )
        ) {
          failoverHeavy += 1;
        }
      }),
      { numRuns: 100, seed: 42 },
    );
    expect(primaries).toBeGreaterThan(20);
    expect(demotions).toBeGreaterThan(10);
    expect(failoverHeavy).toBeGreaterThan(5);
    expect(failovers + failoverHeavy).toBeGreaterThan(10);
    expect(demotions).toBeGreaterThan(10);
  });

  it('a paused primary (no input for longer than L) demotes on its next tick, whatever came before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 100_000 }),
        (renewals, pauseExtraMs) => {
          const cfg = defaultControllerConfig({
            region: 'a',
            peerRegion: 'b',
            witnesses: ['w1', 'w2', 'w3'],
          });
          const L = safeWindowMs(cfg);
          let s = createControllerState(cfg, 0, { initialRole: 'primary' });
          const feed = (input: ControllerInput) => {
            const r = step(s, input);
            s = r.state;
            return r;
          };
          feed({ type: 'tick', nowMs: 0 });
          feed({
            type: 'lease-result',
            nowMs: 5,
            op: 'status',
            sentAtMs: 0,
            ok: true,
            granted: false,
            holder: null,
            epoch: 0,
            ttlMs: null,
          });
          feed({
            type: 'lease-result',
            nowMs: 9,
            op: 'acquire',
            sentAtMs: 5,
            ok: true,
            granted: true,
            holder: 'a',
            epoch: 1,
            ttlMs: 30_000,
          });
          let lastSent = 5;
          for (let i = 0; i < renewals; i++) {
            const r = feed({ type: 'tick', nowMs: lastSent + cfg.heartbeatMs });
            const renew = r.actions.find((a) => a.type === 'lease-renew');
            expect(renew).toBeDefined();
            lastSent = (renew as { sentAtMs: number }).sentAtMs;
            feed({
              type: 'lease-result',
              nowMs: lastSent + 3,
              op: 'renew',
              sentAtMs: lastSent,
              ok: true,
              granted: true,
              holder: 'a',
              epoch: 1,
              ttlMs: 30_000,
            });
          }
          expect(view(s).role).toBe('primary');
          const r = feed({ type: 'tick', nowMs: lastSent + L + pauseExtraMs });
          expect(view(s).role).toBe('fenced');
          expect(r.actions.filter((a) => a.type !== 'event').map((a) => a.type)).toEqual([
            'demote',
            'lease-status',
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
