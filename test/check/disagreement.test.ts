/**
 * The `authoritatives-disagree` expectation (issue #15 item 4): the DNS observer's per-
 * authoritative answers, and whether two of them named different regions at once after the
 * first fault.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/checker.ts';
import { authoritativeDisagreements, disagreementMs } from '../../src/check/disagreement.ts';
import { collectFacts } from '../../src/check/facts.ts';
import type { HistoryEvent, NewEvent } from '../../src/contracts/history.ts';

function history(build: (h: (e: NewEvent) => void) => void): HistoryEvent[] {
  const out: HistoryEvent[] = [
    {
      seq: 0,
      t: 0,
      kind: 'meta',
      runId: 't',
      scenario: 't',
      executor: 'sim',
      regions: ['a', 'b'],
      initialPrimary: 'a',
      witnesses: ['w1', 'w2', 'w3'],
      timing: {
        leaseTtlMs: 30_000,
        heartbeatMs: 10_000,
        safeWindowMs: 27_000,
        peerCheckIntervalMs: 3_333,
        peerFailureThreshold: 3,
        witnessQuorum: 2,
        failoverBoundMs: 34_000,
        maxClockDriftRate: 0.001,
        promotionHoldDownMs: 30_000,
      },
      withinAssumptions: true,
    },
  ];
  build((e) => out.push({ ...e, seq: out.length } as HistoryEvent));
  return out;
}

const dns = (t: number, auth: string, region: string | null) =>
  ({
    kind: 'dns-answer',
    t,
    resolver: auth,
    name: 'svc.app.example.',
    rcode: 'NOERROR',
    answers: region === null ? ['app-a', 'app-b'] : [`app-${region}`],
    region,
    observer: 'dns-observer',
  }) as NewEvent;

const tombstoneVote = (t: number) =>
  ({
    kind: 'witness',
    t,
    region: 'b',
    witness: 'w1',
    target: 'a',
    verdict: 'unreachable',
    detail: 'NOERROR tombstone',
  }) as NewEvent;

const flap = (h: (e: NewEvent) => void, from: number, to: number) => {
  const base = {
    kind: 'fault',
    id: 'f0',
    fault: 'flap',
    target: 'auth-a->app-a',
    verified: true,
    links: ['auth-a->app-a'],
  };
  h({ ...base, t: from, phase: 'start' } as NewEvent);
  h({ ...base, t: to, phase: 'end' } as NewEvent);
};

const expectation = (events: HistoryEvent[]) =>
  checkHistory(events, { expectations: [{ 'authoritatives-disagree': true }] }).outcomes.find(
    (o) => o.name === 'authoritatives-disagree',
  )!;

describe('authoritatives-disagree', () => {
  it('finds the span where auth-a answered b while auth-b answered a, and its length', () => {
    const events = history((h) => {
      h(dns(100, 'auth-a', 'a'));
      h(dns(100, 'auth-b', 'a'));
      h(dns(20_000, 'auth-a', 'b'));
      h(dns(25_000, 'auth-a', 'a'));
      h(dns(40_000, 'auth-b', 'b')); // a failover: both follow within 1 s
      h(dns(41_000, 'auth-a', 'b'));
      h({ kind: 'note', t: 60_000, source: 't', message: 'end' } as NewEvent);
    });
    const spans = authoritativeDisagreements(collectFacts(events));
    expect(spans.map((s) => [s.from, s.to, s.answers])).toEqual([
      [20_000, 25_000, { 'auth-a': 'b', 'auth-b': 'a' }],
      [40_000, 41_000, { 'auth-a': 'a', 'auth-b': 'b' }],
    ]);
    expect(disagreementMs(spans)).toBe(6_000);
  });

  it('passes when the observer saw a disagreement after the first fault', () => {
    const o = expectation(
      history((h) => {
        h(dns(100, 'auth-a', 'a'));
        h(dns(100, 'auth-b', 'a'));
        flap(h, 15_000, 75_000);
        h(dns(16_000, 'auth-a', 'b'));
        h(dns(35_000, 'auth-a', 'a'));
        h({ kind: 'note', t: 100_000, source: 't', message: 'end' } as NewEvent);
      }),
    );
    expect(o).toMatchObject({ ok: true, evaluated: true });
    expect(o.detail).toContain('auth-a → b, auth-b → a');
  });

  it('fails when both authoritatives always agreed (or only an answer without a region differed)', () => {
    const o = expectation(
      history((h) => {
        h(dns(100, 'auth-a', 'a'));
        h(dns(100, 'auth-b', 'a'));
        flap(h, 15_000, 75_000);
        h(tombstoneVote(16_500)); // the flap had an effect: a witness got auth-a's tombstone
        h(dns(16_000, 'auth-a', null)); // a random pick over every address names no region
        h(dns(30_000, 'auth-a', 'a'));
        h(dns(50_000, 'auth-b', 'a'));
        h({ kind: 'note', t: 100_000, source: 't', message: 'end' } as NewEvent);
      }),
    );
    expect(o.ok).toBe(false);
    expect(o.detail).toContain('never saw two authoritatives');
  });

  it('does not count a disagreement of booting authoritatives before the first fault', () => {
    const o = expectation(
      history((h) => {
        h(dns(100, 'auth-a', 'a'));
        h(dns(100, 'auth-b', 'b')); // first answers after a start are random
        h(dns(3_000, 'auth-b', 'a'));
        flap(h, 15_000, 75_000);
        h(dns(16_000, 'auth-a', 'a'));
        h(tombstoneVote(16_500));
        h({ kind: 'note', t: 100_000, source: 't', message: 'end' } as NewEvent);
      }),
    );
    expect(o.ok).toBe(false);
  });
});
