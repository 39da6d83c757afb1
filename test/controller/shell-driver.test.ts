/**
 * The shared driver (src/controller/driver.ts) with hand-operated ports: every port call
 * waits until the test answers it, so orderings the executors can produce are forced here.
 */
import { describe, expect, it } from 'vitest';
import {
  ControllerDriver,
  type ControllerPorts,
  type ControllerRecord,
  type LeaseOp,
  type LeaseReply,
  leaseResultInput,
  type Outcome,
  type ResourceCall,
  type WitnessObservation,
} from '../../src/controller/driver.ts';
import type { ControllerInput } from '../../src/controller/types.ts';
import { witnessVerdict } from '../../src/controller/witness-verdict.ts';
import { config } from './driver.ts';

const TTL_MS = 30_000;
const ADDR = { reachable: '127.0.1.10', tombstone: '127.0.9.9' };

class Harness {
  nowMs = 0;
  wakeAtMs = Number.POSITIVE_INFINITY;
  records: ControllerRecord[] = [];
  inputs: ControllerInput[] = [];
  lease: { op: LeaseOp; epoch: number | null; done: (r: LeaseReply) => void }[] = [];
  witness: { witness: string; done: (o: WitnessObservation) => void }[] = [];
  peer: ((o: Outcome) => void)[] = [];
  resource: { call: ResourceCall; done: (o: Outcome) => void }[] = [];
  /** resource calls started so far, in order, and the most ever outstanding at once */
  resourceLog: string[] = [];
  maxOutstandingHooks = 0;
  failures: unknown[] = [];
  readonly driver: ControllerDriver;

  constructor(initialRole: 'primary' | 'standby' = 'primary', cfg = config()) {
    const ports: ControllerPorts = {
      now: () => this.nowMs,
      wakeAt: (t) => {
        this.wakeAtMs = t;
      },
      lease: (op, epoch, done) => this.lease.push({ op, epoch, done }),
      witness: (witness, _target, done) => this.witness.push({ witness, done }),
      peer: (done) => this.peer.push(done),
      resource: (call, done) => {
        this.resource.push({ call, done });
        this.resourceLog.push(call.action);
        this.maxOutstandingHooks = Math.max(this.maxOutstandingHooks, this.resource.length);
      },
      publish: (_epoch, _region, done) => done({ ok: true }),
      awaitApproval: () => {},
      record: (r) => this.records.push(r),
      stepped: (s) => this.inputs.push(s.input),
      coreFailed: (err) => this.failures.push(err),
    };
    this.driver = new ControllerDriver(cfg, ports, { initialRole, witnessAddresses: () => ADDR });
  }

  /** Answers the oldest pending lease request of `op`. */
  answerLease(op: LeaseOp, reply: Partial<LeaseReply> & { ok: boolean }): void {
    const i = this.lease.findIndex((l) => l.op === op);
    expect(i, `a pending ${op}`).toBeGreaterThanOrEqual(0);
    const [req] = this.lease.splice(i, 1);
    req!.done({ granted: false, holder: null, epoch: null, ttlMs: TTL_MS, ...reply });
  }

  answerHook(ok = true): ResourceCall {
    const r = this.resource.shift()!;
    r.done(ok ? { ok: true } : { ok: false, error: 'hook failed' });
    return r.call;
  }

  advanceTo(ms: number): void {
    this.nowMs = ms;
    this.driver.tick();
  }

  /** Standby b bootstraps on a vacant lease and is granted `epoch`. */
  toPrimary(epoch = 1): void {
    this.driver.start();
    this.answerLease('status', { ok: true, holder: null, epoch: 0 });
    this.nowMs = 20;
    this.answerLease('acquire', { ok: true, granted: true, holder: 'b', epoch });
    expect(this.driver.view?.role).toBe('primary');
  }
}

describe('hook ordering (the rule production and the simulator share)', () => {
  it('promote/extend/demote reach the resource one at a time, in emission order: a demote is never overtaken', () => {
    const h = new Harness();
    h.toPrimary();
    expect(h.resourceLog).toEqual(['promote']);
    // the promote is still running when a renewal succeeds (extend) and the next one is refused (demote)
    h.advanceTo(10_020);
    h.answerLease('renew', { ok: true, granted: true, holder: 'b', epoch: 1 });
    h.advanceTo(20_020);
    h.answerLease('renew', { ok: true, granted: false, holder: 'a', epoch: 2 });
    expect(h.driver.view?.role).toBe('fenced');
    // the core emitted a re-hand (promote: the first was not confirmed yet) and then the demote
    const emitted = h.records.flatMap((r) =>
      r.kind === 'act' && r.action !== 'publish' && r.action !== 'renew' ? [r.action] : [],
    );
    expect(emitted).toEqual(['promote', 'promote', 'demote']);
    expect(h.resourceLog).toEqual(['promote']); // the others wait behind the first
    h.answerHook();
    expect(h.resourceLog).toEqual(['promote', 'promote']);
    h.answerHook();
    expect(h.resourceLog).toEqual(emitted);
    h.answerHook();
    expect(h.maxOutstandingHooks).toBe(1);
    // every outcome went back to the core, in the same order
    const results = h.inputs.flatMap((i) => (i.type === 'promote-result' ? [i.action] : []));
    expect(results).toEqual(emitted);
  });

  it('a demote emitted while an extend is in flight starts only after that extend finished', () => {
    const h = new Harness();
    h.toPrimary();
    h.answerHook(); // promote confirmed
    h.advanceTo(10_020);
    h.answerLease('renew', { ok: true, granted: true, holder: 'b', epoch: 1 });
    expect(h.resourceLog).toEqual(['promote', 'extend']);
    h.advanceTo(20_020);
    h.answerLease('renew', { ok: true, granted: false, holder: 'a', epoch: 2 });
    expect(h.resourceLog).toEqual(['promote', 'extend']);
    expect(h.answerHook().action).toBe('extend');
    expect(h.resourceLog).toEqual(['promote', 'extend', 'demote']);
  });

  it('a failed hook does not stall the queue', () => {
    const h = new Harness();
    h.toPrimary();
    h.advanceTo(10_020);
    h.answerLease('renew', { ok: true, granted: true, holder: 'b', epoch: 1 });
    expect(h.answerHook(false).action).toBe('promote');
    expect(h.resource.length).toBe(1);
    const fed = h.inputs.find((i) => i.type === 'promote-result');
    expect(fed).toMatchObject({ ok: false, error: 'hook failed', action: 'promote' });
  });
});

describe('witness verdict (one rule)', () => {
  it('reachable if ANY answer is the region address; unreachable only if every answer is the tombstone', () => {
    const v = (addresses: string[], rcode = 'NOERROR') => witnessVerdict({ rcode, addresses }, ADDR).verdict;
    expect(v([ADDR.tombstone, ADDR.reachable])).toBe('reachable');
    expect(v([ADDR.reachable])).toBe('reachable');
    expect(v([ADDR.tombstone])).toBe('unreachable');
    expect(v([ADDR.tombstone, ADDR.tombstone])).toBe('unreachable');
    expect(v([ADDR.tombstone, '127.0.0.99'])).toBe('unknown');
    expect(v([])).toBe('unknown');
    // the witness got no answer at all: no evidence against the peer (issue #12)
    expect(v([], 'SERVFAIL')).toBe('unknown');
    expect(v([], 'REFUSED')).toBe('unknown');
    expect(v([], 'NXDOMAIN')).toBe('unknown');
    expect(witnessVerdict({ error: 'timeout' }, ADDR)).toEqual({ verdict: 'unknown', detail: 'timeout' });
    expect(witnessVerdict({ rcode: 'NOERROR', addresses: [] }, ADDR).detail).toBe('NOERROR (no A)');
  });

  it('the driver applies it to what the witness port observed and records the vote', () => {
    const h = new Harness('standby');
    h.driver.start();
    h.answerLease('status', { ok: true, holder: 'a', epoch: 3 });
    const cfg = config();
    for (let i = 0; i < cfg.peerFailureThreshold; i++) {
      h.nowMs += cfg.peerCheckIntervalMs;
      h.driver.tick();
      h.peer.shift()?.({ ok: false, error: 'refused' });
    }
    expect(h.witness.map((w) => w.witness)).toEqual(['w1', 'w2', 'w3']);
    h.witness[0]!.done({ rcode: 'NOERROR', addresses: [ADDR.tombstone, ADDR.reachable] });
    h.witness[1]!.done({ rcode: 'SERVFAIL', addresses: [] });
    const votes = h.records.flatMap((r) => (r.kind === 'witness' ? [[r.witness, r.verdict, r.target]] : []));
    expect(votes).toEqual([
      ['w1', 'reachable', 'a'],
      ['w2', 'unknown', 'a'],
    ]);
  });
});

describe('lease-result meaning (one definition)', () => {
  it('ok = a reply came back; granted = granted, and only for a grant-bearing op', () => {
    const failed = leaseResultInput('renew', 5, {
      ok: false,
      granted: true,
      holder: 'b',
      epoch: 4,
      ttlMs: TTL_MS,
      error: 'timeout',
    });
    expect(failed).toMatchObject({ ok: false, granted: false, holder: null, epoch: null, ttlMs: null });
    const status = leaseResultInput('status', 5, {
      ok: true,
      granted: true,
      holder: 'a',
      epoch: 4,
      ttlMs: 1,
    });
    expect(status).toMatchObject({ ok: true, granted: false, holder: 'a', epoch: 4 });
    const refused = leaseResultInput('acquire', 5, {
      ok: true,
      granted: false,
      holder: 'a',
      epoch: 4,
      ttlMs: 1,
    });
    expect(refused).toMatchObject({ ok: true, granted: false });
  });

  it('the history carries both, and promotion evidence says whether the store granted that epoch', () => {
    const h = new Harness();
    h.toPrimary(7);
    const results = h.records.filter((r) => r.kind === 'lease' && r.phase === 'result');
    expect(results).toEqual([
      expect.objectContaining({ op: 'status', ok: true, holder: null }),
      expect.objectContaining({
        op: 'acquire',
        ok: true,
        granted: true,
        epoch: 7,
        sentLocalMs: 0,
        localMs: 20,
      }),
    ]);
    expect(results[0]).not.toHaveProperty('granted');
    expect(h.records.find((r) => r.kind === 'promotion-evidence')).toMatchObject({
      epoch: 7,
      leaseGranted: true,
      basis: 'bootstrap',
    });
    const promote = h.records.find((r) => r.kind === 'act' && r.action === 'promote');
    expect(promote).toMatchObject({ epoch: 7, localMs: 20, safeUntilLocalMs: h.driver.view!.safeUntilMs });
  });
});

describe('driver loop', () => {
  it('a port that answers at once does not nest steps: its input is fed after the step', () => {
    const h = new Harness();
    const seen: string[] = [];
    const sync = new ControllerDriver(
      config(),
      {
        now: () => h.nowMs,
        wakeAt: () => {},
        lease: (op, _epoch, done) =>
          done(
            op === 'status'
              ? { ok: true, granted: false, holder: null, epoch: 0, ttlMs: TTL_MS }
              : { ok: true, granted: true, holder: 'b', epoch: 1, ttlMs: TTL_MS },
          ),
        witness: () => {},
        peer: () => {},
        resource: (call, done) => {
          seen.push(call.action);
          done({ ok: true });
        },
        publish: (_e, _r, done) => done({ ok: true }),
        awaitApproval: () => {},
        record: (r) => {
          if (r.kind === 'role') seen.push(`${r.from}->${r.to}`);
        },
        coreFailed: (err) => {
          throw err;
        },
      },
      { initialRole: 'primary', witnessAddresses: () => ADDR },
    );
    sync.start();
    expect(sync.view?.role).toBe('primary');
    expect(seen).toEqual(['standby->candidate', 'candidate->primary', 'promote']);
  });

  it('the clock fed to the core never goes backwards', () => {
    const h = new Harness();
    h.toPrimary();
    h.nowMs = 5; // the clock port steps back
    h.driver.tick();
    const times = h.inputs.map((i) => i.nowMs);
    expect(times.at(-1)).toBe(20);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('a core that throws stops the driver and is reported once; later answers are dropped', () => {
    const h = new Harness('standby', { ...config(), witnessQuorum: 0 });
    h.driver.start();
    expect(h.failures).toHaveLength(1);
    expect(h.driver.stopped).toBe(true);
    h.driver.tick();
    expect(h.inputs).toHaveLength(0);
  });
});
