import { describe, expect, it } from 'vitest';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';
import { binWrites, deriveFacts, failoverTiming, faultTouchesRegion } from '../../src/report/facts.ts';
import { syntheticRun } from './helpers/synthetic.ts';

describe('deriveFacts on a failover story', () => {
  const run = syntheticRun();
  const facts = deriveFacts(run.history);

  it('reads regions, witnesses and the time range from the history', () => {
    expect(facts.regions).toEqual(['a', 'b']);
    expect(facts.witnesses).toEqual(['w1', 'w2', 'w3']);
    expect(facts.startT).toBe(0);
    expect(facts.endT).toBe(run.history[run.history.length - 1]!.t);
    expect(facts.eventCount).toBe(run.history.length);
    expect(facts.warnings).toEqual([]);
  });

  it('builds role intervals per region, inferring the role before the first event', () => {
    const a = facts.roles['a']!.map((s) => [s.role, s.startT, s.endT, s.epoch]);
    expect(a).toEqual([
      ['standby', 0, 10, null],
      ['candidate', 10, 40, null],
      ['primary', 40, 11_700, 1],
      ['fenced', 11_700, 30_500, 1],
      ['standby', 30_500, facts.endT, null],
    ]);
    expect(facts.roles['a']![0]!.inferred).toBe(true);
    expect(facts.roles['a']![4]!.open).toBe(true);
    const bPrimary = facts.roles['b']!.find((s) => s.role === 'primary')!;
    expect(bPrimary.startT).toBe(run.expected.promotedAtT);
    expect(bPrimary.epoch).toBe(2);
  });

  it('merges lease-store renewals into one holder interval per grant', () => {
    const spans = facts.leaseByLocation['']!;
    expect(facts.leaseSource).toBe('lease-store');
    expect(spans.map((s) => [s.holder, s.epoch])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(spans[0]!.updates).toBe(10); // grant + 9 renewals before the fault
    expect(spans[0]!.endT).toBe(spans[1]!.startT);
  });

  it('pairs fault start and end events into windows with their verification', () => {
    expect(facts.faults).toHaveLength(1);
    const f = facts.faults[0]!;
    expect([f.id, f.fault, f.target, f.startT, f.endT]).toEqual(['f1', 'isolate', 'a', 10_000, 30_000]);
    expect(f.ended).toBe(true);
    expect(f.verifiedStart).toBe(true);
    expect(f.verifiedEnd).toBe(true);
    expect(f.links).toContain('ctl-a->worker');
    expect(f.components).toBeNull();
  });

  it('lists components that failed by an unexpected exception', () => {
    expect(facts.processErrors).toEqual([]);
    const withBug = deriveFacts(syntheticRun({ componentError: true }).history);
    expect(withBug.processErrors).toEqual([
      expect.objectContaining({
        t: 20_000,
        label: "ctl-b crash: TypeError: Cannot read properties of undefined (reading 'epoch')",
      }),
    ]);
  });

  it('counts write outcomes per region', () => {
    expect(facts.writes.accepted).toBe(run.expected.writesAccepted);
    expect(facts.writes.rejected).toBe(run.expected.writesRejected);
    expect(facts.writes.total).toBe(run.expected.writesAccepted + run.expected.writesRejected);
    const b = facts.writes.byRegion['b']!;
    expect(b.rejected).toBeGreaterThan(0); // DNS moved to b before b had authority
    expect(facts.writes.rejectReasons['no write authority']).toBe(run.expected.writesRejected);
  });

  it('merges app authority grants into windows that end at their last untilT', () => {
    const a = facts.authority['a']!;
    expect(a).toHaveLength(1);
    expect(a[0]!.startT).toBe(50);
    expect(a[0]!.endT).toBe(9000 + 2700);
    expect(a[0]!.grants).toBe(10);
    expect(facts.authority['b']![0]!.epoch).toBe(2);
  });

  it('derives the failover time from the fault and the promotion', () => {
    expect(facts.failovers).toHaveLength(1);
    const f = facts.failovers[0]!;
    expect(f.fromRegion).toBe('a');
    expect(f.toRegion).toBe('b');
    expect(f.lostAtT).toBe(10_000);
    expect(f.measuredMs).toBe(run.expected.failoverMs);
    expect(f.lostCause).toContain('isolate');
  });

  it('keeps witness votes and DNS answers as step functions per target/name', () => {
    const w1a = facts.witnessVotes['w1']!['a']!;
    expect(w1a).toHaveLength(1);
    expect(w1a[0]!.value).toBe('unreachable');
    expect(w1a[0]!.count).toBeGreaterThan(1);
    expect(facts.witnessVotes['w3']!['a']![0]!.value).toBe('unknown');
    const svc = facts.dnsAnswers['w1']!['svc.app.example.']!;
    expect(svc.map((r) => r.value)).toEqual(['a', 'b']);
    expect(svc[1]!.startT).toBeGreaterThan(10_000);
    expect(facts.dnsAnswers['w2']!['a.regions.app.example.']![0]!.value).toBe('SERVFAIL');
  });

  it('marks acts outside the safe window only in the violating story', () => {
    expect(
      Object.values(facts.acts)
        .flat()
        .filter((a) => a.outsideSafeWindow),
    ).toEqual([]);
    const bad = deriveFacts(syntheticRun({ violation: true }).history);
    const outside = bad.acts['a']!.filter((a) => a.outsideSafeWindow);
    expect(outside.map((a) => a.t)).toEqual([12_005, 13_005, 14_005]);
  });
});

describe('failoverTiming', () => {
  const facts = deriveFacts(syntheticRun().history);
  it('prefers the checker measurement and uses the meta bound otherwise', () => {
    expect(failoverTiming(facts, { failoverMs: 1234 })).toEqual({
      measuredMs: 1234,
      boundMs: 6000,
      source: 'verdict',
      withinBound: true,
    });
    const derived = failoverTiming(facts, {});
    expect(derived.source).toBe('history');
    expect(derived.measuredMs).toBe(facts.failovers[0]!.measuredMs);
    // a history-derived time is shown but not judged against the liveness bound
    expect(derived.withinBound).toBeNull();
    expect(failoverTiming(facts, { failoverMs: 7000, failoverBoundMs: 6500 }).withinBound).toBe(false);
  });
  it('reports nothing measured when no failover happened', () => {
    const quiet = syntheticRun().history.filter((e) => !(e.kind === 'role' && e.region === 'b'));
    const t = failoverTiming(deriveFacts(quiet));
    expect(t.measuredMs).toBeNull();
    expect(t.source).toBeNull();
    expect(t.withinBound).toBeNull();
  });
});

describe('binWrites', () => {
  it('puts every write of the region in exactly one bin', () => {
    const run = syntheticRun({ writeIntervalMs: 37 });
    const bins = binWrites(run.history, 'a', 0, 40_000, 100);
    expect(bins).toHaveLength(100);
    const inA = run.history.filter((e) => e.kind === 'app-write' && e.region === 'a');
    expect(bins.reduce((n, b) => n + b.accepted + b.rejected, 0)).toBe(inA.length);
    // After a's authority ends (11.7 s) its bins hold only rejections.
    expect(bins.slice(30).every((b) => b.accepted === 0)).toBe(true);
    expect(bins[20]!.accepted).toBeGreaterThan(0);
  });
});

describe('edge cases', () => {
  const meta = syntheticRun().history[0]!;
  const at = (seq: number, e: NewEvent) => ({ ...e, seq }) as HistoryEvent;

  it('keeps a fault that never ended open to the end, and warns about unpaired ends', () => {
    const h = [
      meta,
      at(2, {
        kind: 'fault',
        t: 100,
        phase: 'start',
        id: 'x',
        fault: 'pause',
        target: 'ctl-a',
        verified: null,
      }),
      at(3, {
        kind: 'fault',
        t: 200,
        phase: 'end',
        id: 'y',
        fault: 'pause',
        target: 'ctl-b',
        verified: true,
      }),
      at(4, { kind: 'note', t: 900, source: 'workload', message: 'done' }),
    ];
    const f = deriveFacts(h);
    expect(f.faults).toHaveLength(1);
    expect(f.faults[0]!.ended).toBe(false);
    expect(f.faults[0]!.endT).toBe(900);
    expect(f.warnings.join('\n')).toContain('fault y ended');
  });

  it('warns when the history does not start with meta or seq goes backwards', () => {
    const h = [
      at(5, { kind: 'note', t: 0, source: 's', message: 'm' }),
      at(4, { kind: 'note', t: 1, source: 's', message: 'm' }),
    ];
    const f = deriveFacts(h);
    expect(f.meta).toBeNull();
    expect(f.warnings.some((w) => w.includes('meta'))).toBe(true);
    expect(f.warnings.some((w) => w.includes('seq'))).toBe(true);
  });

  it('measures a clean handover from the moment the old primary left', () => {
    const h = [
      meta,
      at(2, {
        kind: 'role',
        t: 10,
        region: 'a',
        from: 'candidate',
        to: 'primary',
        reason: 'r',
        epoch: 1,
        localMs: 0,
      }),
      at(3, {
        kind: 'role',
        t: 500,
        region: 'a',
        from: 'primary',
        to: 'standby',
        reason: 'operator demote',
        epoch: null,
        localMs: 0,
      }),
      at(4, {
        kind: 'role',
        t: 1700,
        region: 'b',
        from: 'candidate',
        to: 'primary',
        reason: 'r',
        epoch: 2,
        localMs: 0,
      }),
    ];
    const [f] = deriveFacts(h).failovers;
    expect(f!.lostAtT).toBe(500);
    expect(f!.measuredMs).toBe(1200);
  });

  it('recognises which fault targets touch a region', () => {
    expect(faultTouchesRegion('a', 'a')).toBe(true);
    expect(faultTouchesRegion('ctl-a->worker', 'a')).toBe(true);
    expect(faultTouchesRegion('w1->auth-a, w2->auth-a', 'a')).toBe(true);
    expect(faultTouchesRegion('ctl-b->w*', 'a')).toBe(false);
    expect(faultTouchesRegion('worker', 'a')).toBe(false);
  });
});
