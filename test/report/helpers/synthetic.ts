/**
 * Realistic synthetic runs for the report tests (the simulator and the real runner are still
 * being built). Story, in global ms (defaults):
 *
 *   0        meta; processes start; a acquires the lease (epoch 1) and becomes primary,
 *            grants app-a write authority, publishes itself in DNS
 *   every 1s a renews (lease-store update, act extend, app-authority grant); b probes a every 300 ms
 *   10 000   fault f1: isolate a (verified). a's renewals time out; b's probes fail
 *   ~11 000  auth-b's health check loses app-a: witnesses' svc answers move to b (b rejects
 *            writes: no authority yet); b asks the witnesses (2 unreachable, 1 unknown)
 *   11 700   a's safe window ends: a demotes itself (fenced); app-a's authority expires at 11 730
 *   12 015   the lease expires in the store; b acquires epoch 2 at 12 900 and is primary at 12 930
 *   30 000   fault f1 ends (verified); a sees b holding epoch 2 and becomes standby
 *
 * With `violation`, a ignores its safe window: it keeps extending app-a's authority under
 * epoch 1 until 15 000, so both regions are primary and app-a accepts stale-epoch writes
 * (split brain); the verdict then fails single-primary, act-within-safe-window and single-writer.
 *
 * Two writers: `c1` follows the service's DNS answer (its writes to an isolated region are
 * lost, not recorded by any app), `local-a` writes to app-a from inside region a.
 */

import type { CheckOutcome, Verdict, Violation } from '../../../src/check/verdict.ts';
import type { HistoryEvent, NewEvent } from '../../../src/contracts/history.ts';

export interface SyntheticOptions {
  scenario?: string;
  violation?: boolean;
  /** each writer writes this often; 15 ms gives a ~5,500-event history */
  writeIntervalMs?: number;
  durationMs?: number;
  faultStartMs?: number;
  faultEndMs?: number;
  /** did the executor confirm the isolation took effect (fault start `verified`) */
  faultVerified?: boolean | null;
  /** put the checker's failover measurement into the verdict (else reports derive it) */
  verdictMeasuresFailover?: boolean;
  seed?: number;
  /** ctl-b crashes with an unexpected exception at 20 s and is restarted (a bug, not a fault) */
  componentError?: boolean;
}

export interface SyntheticRun {
  history: HistoryEvent[];
  verdict: Verdict;
  /** facts the story fixes, for assertions */
  expected: {
    failoverMs: number;
    failoverBoundMs: number;
    promotedAtT: number;
    faultStartT: number;
    faultEndT: number;
    writesAccepted: number;
    writesRejected: number;
  };
}

const BOUND_MS = 6000;
const LEASE_TTL_MS = 3000;
const HEARTBEAT_MS = 1000;
const SAFE_WINDOW_MS = 2700;
const PEER_PROBE_MS = 300;
const A_BOOT_MS = 500_000; // a's local monotonic clock reads t + this
const B_BOOT_MS = 200_000;
const TOMBSTONE_IP = '127.0.9.99';
const APP_IP: Record<string, string> = { a: '127.0.1.10', b: '127.0.2.10' };

export function syntheticRun(opts: SyntheticOptions = {}): SyntheticRun {
  const scenario = opts.scenario ?? 'isolate-primary';
  const violation = opts.violation ?? false;
  const writeEveryMs = opts.writeIntervalMs ?? 250;
  const endT = opts.durationMs ?? 40_000;
  const faultStart = opts.faultStartMs ?? 10_000;
  const faultEnd = opts.faultEndMs ?? 30_000;
  const ev: NewEvent[] = [];
  const add = (e: NewEvent) => ev.push(e);
  const aLocal = (t: number) => t + A_BOOT_MS;
  const bLocal = (t: number) => t + B_BOOT_MS;

  add({
    kind: 'meta',
    t: 0,
    runId: `run-${opts.seed ?? 42}`,
    scenario,
    executor: 'sim',
    seed: opts.seed ?? 42,
    leaseBackend: 'durable',
    regions: ['a', 'b'],
    initialPrimary: 'a',
    witnesses: ['w1', 'w2', 'w3'],
    timing: {
      leaseTtlMs: LEASE_TTL_MS,
      heartbeatMs: HEARTBEAT_MS,
      safeWindowMs: SAFE_WINDOW_MS,
      peerCheckIntervalMs: PEER_PROBE_MS,
      peerFailureThreshold: 3,
      witnessQuorum: 2,
      failoverBoundMs: BOUND_MS,
      maxClockDriftRate: 0.001,
    },
    withinAssumptions: true,
    timeScale: 0.1,
  });
  for (const [i, c] of ['ctl-a', 'ctl-b', 'app-a', 'app-b', 'w1', 'w2', 'w3', 'worker'].entries()) {
    add({ kind: 'process', t: 1 + i, component: c, op: 'start', pid: 4000 + i });
  }

  // a becomes the initial primary.
  add({
    kind: 'role',
    t: 10,
    region: 'a',
    from: 'standby',
    to: 'candidate',
    reason: 'initial primary: acquiring the lease',
    epoch: null,
    localMs: aLocal(10),
  });
  add({
    kind: 'lease',
    t: 10,
    region: 'a',
    op: 'acquire',
    phase: 'sent',
    sentLocalMs: aLocal(10),
    localMs: aLocal(10),
  });
  add({ kind: 'lease-store', t: 25, holder: 'a', epoch: 1, expiresAt: 25 + LEASE_TTL_MS });
  add({
    kind: 'lease',
    t: 30,
    region: 'a',
    op: 'acquire',
    phase: 'result',
    ok: true,
    epoch: 1,
    holder: 'a',
    sentLocalMs: aLocal(10),
    localMs: aLocal(30),
  });
  add({
    kind: 'role',
    t: 40,
    region: 'a',
    from: 'candidate',
    to: 'primary',
    reason: 'lease granted (epoch 1)',
    epoch: 1,
    localMs: aLocal(40),
  });
  add({
    kind: 'act',
    t: 45,
    region: 'a',
    action: 'promote',
    epoch: 1,
    localMs: aLocal(45),
    safeUntilLocalMs: aLocal(10 + SAFE_WINDOW_MS),
    validityMs: SAFE_WINDOW_MS - 35,
  });
  add({ kind: 'app-authority', t: 50, region: 'a', op: 'grant', epoch: 1, untilT: 10 + SAFE_WINDOW_MS });
  add({
    kind: 'act',
    t: 55,
    region: 'a',
    action: 'publish',
    epoch: 1,
    localMs: aLocal(55),
    safeUntilLocalMs: aLocal(10 + SAFE_WINDOW_MS),
    activeRegion: 'a',
  });

  // a's heartbeats.
  let lastRenewSent = 10;
  const aDemoteT = violation ? 15_000 : lastSafeT();
  function lastSafeT(): number {
    let sent = 10;
    for (let t = HEARTBEAT_MS; t < faultStart; t += HEARTBEAT_MS) sent = t;
    return sent + SAFE_WINDOW_MS;
  }
  for (let t = HEARTBEAT_MS; t < endT; t += HEARTBEAT_MS) {
    if (t >= aDemoteT) break;
    add({
      kind: 'lease',
      t,
      region: 'a',
      op: 'renew',
      phase: 'sent',
      epoch: 1,
      sentLocalMs: aLocal(t),
      localMs: aLocal(t),
    });
    if (t < faultStart) {
      lastRenewSent = t;
      add({ kind: 'lease-store', t: t + 15, holder: 'a', epoch: 1, expiresAt: t + 15 + LEASE_TTL_MS });
      add({
        kind: 'lease',
        t: t + 20,
        region: 'a',
        op: 'renew',
        phase: 'result',
        ok: true,
        epoch: 1,
        holder: 'a',
        sentLocalMs: aLocal(t),
        localMs: aLocal(t + 20),
      });
      add({
        kind: 'act',
        t: t + 25,
        region: 'a',
        action: 'extend',
        epoch: 1,
        localMs: aLocal(t + 25),
        safeUntilLocalMs: aLocal(t + SAFE_WINDOW_MS),
        validityMs: SAFE_WINDOW_MS - 25,
      });
      add({
        kind: 'app-authority',
        t: t + 30,
        region: 'a',
        op: 'grant',
        epoch: 1,
        untilT: t + SAFE_WINDOW_MS,
      });
    } else {
      add({
        kind: 'lease',
        t: t + 500,
        region: 'a',
        op: 'renew',
        phase: 'result',
        ok: false,
        error: 'timeout',
        sentLocalMs: aLocal(t),
        localMs: aLocal(t + 500),
      });
      if (violation && t > lastRenewSent + SAFE_WINDOW_MS - HEARTBEAT_MS) {
        // The bug under test: extending although the safe window has run out.
        add({
          kind: 'act',
          t: t + 5,
          region: 'a',
          action: 'extend',
          epoch: 1,
          localMs: aLocal(t + 5),
          safeUntilLocalMs: aLocal(lastRenewSent + SAFE_WINDOW_MS),
          validityMs: SAFE_WINDOW_MS,
        });
        add({
          kind: 'app-authority',
          t: t + 10,
          region: 'a',
          op: 'grant',
          epoch: 1,
          untilT: t + 10 + SAFE_WINDOW_MS,
        });
      }
    }
  }
  add({
    kind: 'role',
    t: aDemoteT,
    region: 'a',
    from: 'primary',
    to: 'fenced',
    reason: violation ? 'lease lost: renewal failed' : 'safe window ended without a renewal',
    epoch: 1,
    localMs: aLocal(aDemoteT),
  });
  add({
    kind: 'act',
    t: aDemoteT + 5,
    region: 'a',
    action: 'demote',
    epoch: 1,
    localMs: aLocal(aDemoteT + 5),
    safeUntilLocalMs: null,
  });
  const aAuthorityEnd = violation ? 14_010 + SAFE_WINDOW_MS : lastRenewSent + SAFE_WINDOW_MS;

  // Store expiry and b's takeover.
  const storeExpiry = lastRenewSent + 15 + LEASE_TTL_MS;
  let t = 100;
  let failures = 0;
  let candidateT = -1;
  for (; t < endT; t += PEER_PROBE_MS) {
    const ok = t < faultStart || t >= faultEnd;
    failures = ok ? 0 : failures + 1;
    add({ kind: 'peer-probe', t, region: 'b', ok, consecutiveFailures: failures });
    if (failures === 3 && candidateT < 0) {
      candidateT = t + 5;
      break;
    }
  }
  add({
    kind: 'role',
    t: candidateT,
    region: 'b',
    from: 'standby',
    to: 'candidate',
    reason: 'peer a unreachable 3 times',
    epoch: null,
    localMs: bLocal(candidateT),
  });
  const votes = { w1: 'unreachable', w2: 'unreachable', w3: 'unknown' } as const;
  add({
    kind: 'witness',
    t: candidateT + 15,
    region: 'b',
    witness: 'w1',
    target: 'a',
    verdict: 'unreachable',
    detail: `NOERROR ${TOMBSTONE_IP} (tombstone)`,
  });
  add({
    kind: 'dns-answer',
    t: candidateT + 14,
    resolver: 'w1',
    name: 'a.regions.app.example.',
    rcode: 'NOERROR',
    answers: [TOMBSTONE_IP],
    region: null,
  });
  add({
    kind: 'witness',
    t: candidateT + 22,
    region: 'b',
    witness: 'w2',
    target: 'a',
    verdict: 'unreachable',
    detail: 'SERVFAIL',
  });
  add({
    kind: 'dns-answer',
    t: candidateT + 21,
    resolver: 'w2',
    name: 'a.regions.app.example.',
    rcode: 'SERVFAIL',
    answers: [],
  });
  add({
    kind: 'witness',
    t: candidateT + 1005,
    region: 'b',
    witness: 'w3',
    target: 'a',
    verdict: 'unknown',
    detail: 'timeout',
  });
  // b keeps asking about a once per heartbeat while it waits for the lease.
  let acquireT = candidateT + 30;
  let promotedT = -1;
  while (promotedT < 0) {
    add({
      kind: 'lease',
      t: acquireT,
      region: 'b',
      op: 'acquire',
      phase: 'sent',
      sentLocalMs: bLocal(acquireT),
      localMs: bLocal(acquireT),
    });
    if (acquireT + 10 >= storeExpiry) {
      add({
        kind: 'lease-store',
        t: acquireT + 10,
        holder: 'b',
        epoch: 2,
        expiresAt: acquireT + 10 + LEASE_TTL_MS,
      });
      add({
        kind: 'lease',
        t: acquireT + 20,
        region: 'b',
        op: 'acquire',
        phase: 'result',
        ok: true,
        epoch: 2,
        holder: 'b',
        sentLocalMs: bLocal(acquireT),
        localMs: bLocal(acquireT + 20),
      });
      add({
        kind: 'promotion-evidence',
        t: acquireT + 25,
        region: 'b',
        epoch: 2,
        peerFailures: 3,
        votes,
        unreachableVotes: 2,
        quorum: 2,
        leaseGranted: true,
        approvedBy: 'automatic',
      });
      promotedT = acquireT + 30;
    } else {
      add({
        kind: 'lease',
        t: acquireT + 20,
        region: 'b',
        op: 'acquire',
        phase: 'result',
        ok: true,
        epoch: 1,
        holder: 'a',
        sentLocalMs: bLocal(acquireT),
        localMs: bLocal(acquireT + 20),
      });
      add({
        kind: 'witness',
        t: acquireT + 40,
        region: 'b',
        witness: 'w1',
        target: 'a',
        verdict: 'unreachable',
        detail: `NOERROR ${TOMBSTONE_IP} (tombstone)`,
      });
      add({
        kind: 'witness',
        t: acquireT + 45,
        region: 'b',
        witness: 'w2',
        target: 'a',
        verdict: 'unreachable',
        detail: 'SERVFAIL',
      });
      acquireT += HEARTBEAT_MS;
    }
  }
  add({
    kind: 'role',
    t: promotedT,
    region: 'b',
    from: 'candidate',
    to: 'primary',
    reason: 'lease granted (epoch 2) with 2/2 unreachable votes',
    epoch: 2,
    localMs: bLocal(promotedT),
  });
  add({
    kind: 'act',
    t: promotedT + 5,
    region: 'b',
    action: 'promote',
    epoch: 2,
    localMs: bLocal(promotedT + 5),
    safeUntilLocalMs: bLocal(acquireT + SAFE_WINDOW_MS),
    validityMs: SAFE_WINDOW_MS - 35,
  });
  add({
    kind: 'app-authority',
    t: promotedT + 8,
    region: 'b',
    op: 'grant',
    epoch: 2,
    untilT: acquireT + SAFE_WINDOW_MS,
  });
  add({
    kind: 'act',
    t: promotedT + 10,
    region: 'b',
    action: 'publish',
    epoch: 2,
    localMs: bLocal(promotedT + 10),
    safeUntilLocalMs: bLocal(acquireT + SAFE_WINDOW_MS),
    activeRegion: 'b',
  });
  for (let h = acquireT + HEARTBEAT_MS; h < endT; h += HEARTBEAT_MS) {
    add({
      kind: 'lease',
      t: h,
      region: 'b',
      op: 'renew',
      phase: 'sent',
      epoch: 2,
      sentLocalMs: bLocal(h),
      localMs: bLocal(h),
    });
    add({ kind: 'lease-store', t: h + 10, holder: 'b', epoch: 2, expiresAt: h + 10 + LEASE_TTL_MS });
    add({
      kind: 'lease',
      t: h + 20,
      region: 'b',
      op: 'renew',
      phase: 'result',
      ok: true,
      epoch: 2,
      holder: 'b',
      sentLocalMs: bLocal(h),
      localMs: bLocal(h + 20),
    });
    add({
      kind: 'act',
      t: h + 25,
      region: 'b',
      action: 'extend',
      epoch: 2,
      localMs: bLocal(h + 25),
      safeUntilLocalMs: bLocal(h + SAFE_WINDOW_MS),
      validityMs: SAFE_WINDOW_MS - 25,
    });
    add({ kind: 'app-authority', t: h + 30, region: 'b', op: 'grant', epoch: 2, untilT: h + SAFE_WINDOW_MS });
  }
  // Peer probes by b resume (failing during the fault, ok after it; b keeps probing as primary).
  for (t += PEER_PROBE_MS; t < endT; t += PEER_PROBE_MS) {
    const ok = t < faultStart || t >= faultEnd;
    failures = ok ? 0 : failures + 1;
    add({ kind: 'peer-probe', t, region: 'b', ok, consecutiveFailures: failures });
  }

  // The fault itself, with the links the executor resolved "isolate a" to.
  const cut = [
    'ctl-a->worker',
    'ctl-a->w1',
    'ctl-a->w2',
    'ctl-a->w3',
    'ctl-a->peer',
    'w1->auth-a',
    'w2->auth-a',
    'w3->auth-a',
    'auth-b->app-a',
    'client->app-a',
  ];
  add({
    kind: 'fault',
    t: faultStart,
    phase: 'start',
    id: 'f1',
    fault: 'isolate',
    target: 'a',
    verified: opts.faultVerified === undefined ? true : opts.faultVerified,
    detail: `cut ${cut.length} links`,
    links: cut,
  });
  if (opts.componentError) {
    add({
      kind: 'process',
      t: 20_000,
      component: 'ctl-b',
      op: 'crash',
      pid: 4001,
      error: "TypeError: Cannot read properties of undefined (reading 'epoch')",
    });
    add({ kind: 'process', t: 20_050, component: 'ctl-b', op: 'restart', pid: 4100 });
  }
  add({ kind: 'fault', t: faultEnd, phase: 'end', id: 'f1', fault: 'isolate', target: 'a', verified: true });
  add({
    kind: 'role',
    t: faultEnd + 500,
    region: 'a',
    from: 'fenced',
    to: 'standby',
    reason: 'lease held by b (epoch 2)',
    epoch: null,
    localMs: aLocal(faultEnd + 500),
  });
  add({
    kind: 'lease',
    t: faultEnd + 480,
    region: 'a',
    op: 'status',
    phase: 'result',
    ok: true,
    epoch: 2,
    holder: 'b',
    sentLocalMs: aLocal(faultEnd + 470),
    localMs: aLocal(faultEnd + 480),
  });

  // DNS: the service name as each witness answers it, every 2 s; auth-b's health check drops
  // app-a about 1 s into the isolation, so answers move to b before b is primary.
  const dnsMovesT = faultStart + 1000;
  for (let d = 100; d < endT; d += 2000) {
    for (const [i, w] of ['w1', 'w2', 'w3'].entries()) {
      const td = d + i * 7;
      const region = td < dnsMovesT ? 'a' : 'b';
      add({
        kind: 'dns-answer',
        t: td,
        resolver: w,
        name: 'svc.app.example.',
        rcode: 'NOERROR',
        answers: [APP_IP[region]!],
        region,
      });
    }
  }

  // Writes.
  let accepted = 0;
  let rejected = 0;
  const aAuthorised = (tw: number) => tw >= 50 && tw < aAuthorityEnd;
  const bAuthorised = (tw: number) => tw >= promotedT + 8;
  for (let w = 200; w < endT; w += writeEveryMs) {
    // c1 follows DNS; its writes to an isolated a never arrive.
    const target = w < dnsMovesT ? 'a' : 'b';
    if (!(target === 'a' && w >= faultStart && w < faultEnd)) {
      const ok = target === 'a' ? aAuthorised(w) : bAuthorised(w);
      add({
        kind: 'app-write',
        t: w,
        region: target,
        client: 'c1',
        epoch: ok ? (target === 'a' ? 1 : 2) : null,
        accepted: ok,
        ...(ok ? {} : { reason: 'no write authority' }),
      });
      if (ok) accepted++;
      else rejected++;
    }
    const ok = aAuthorised(w + 3);
    add({
      kind: 'app-write',
      t: w + 3,
      region: 'a',
      client: 'local-a',
      epoch: ok ? 1 : null,
      accepted: ok,
      ...(ok ? {} : { reason: 'no write authority' }),
    });
    if (ok) accepted++;
    else rejected++;
  }

  // Record: order by t (stable, so same-t events keep their story order), then number.
  const sorted = ev.filter((e) => e.t <= endT).sort((p, q) => p.t - q.t);
  const history = sorted.map((e, i) => ({ ...e, seq: i + 1 }) as HistoryEvent);
  const failoverMs = promotedT - faultStart;
  const verdict = buildVerdict(history, {
    violation,
    failoverMs,
    measure: opts.verdictMeasuresFailover ?? true,
  });
  return {
    history,
    verdict,
    expected: {
      failoverMs,
      failoverBoundMs: BOUND_MS,
      promotedAtT: promotedT,
      faultStartT: faultStart,
      faultEndT: faultEnd,
      writesAccepted: accepted,
      writesRejected: rejected,
    },
  };
}

/** What the checker would say about the story (its real rules live in src/check). */
function buildVerdict(
  history: HistoryEvent[],
  o: { violation: boolean; failoverMs: number; measure: boolean },
): Verdict {
  const bPrimary = history.find((e) => e.kind === 'role' && e.region === 'b' && e.to === 'primary')!;
  const aPrimary = history.find((e) => e.kind === 'role' && e.region === 'a' && e.to === 'primary')!;
  const outcomes: CheckOutcome[] = [];
  const pass = (name: string, kind: CheckOutcome['kind'], detail: string) =>
    outcomes.push({
      name,
      kind,
      category: kind === 'expectation' ? 'expectation' : 'safety',
      ok: true,
      detail,
      violations: [],
    });
  if (o.violation) {
    const unsafeActs = history.filter(
      (e) =>
        e.kind === 'act' &&
        e.region === 'a' &&
        e.safeUntilLocalMs !== null &&
        e.localMs >= e.safeUntilLocalMs,
    );
    const staleWrites = history.filter(
      (e) => e.kind === 'app-write' && e.region === 'a' && e.accepted && e.t >= bPrimary.t,
    );
    const sp: Violation = {
      invariant: 'single-primary',
      at: bPrimary.t,
      detail: 'regions a (epoch 1) and b (epoch 2) are both primary',
      events: [aPrimary.seq, bPrimary.seq, ...unsafeActs.filter((e) => e.t > bPrimary.t).map((e) => e.seq)],
    };
    const sw: Violation = {
      invariant: 'act-within-safe-window',
      at: unsafeActs[0]!.t,
      detail: `a extended write authority ${unsafeActs.length} times after its safe window ended`,
      events: unsafeActs.map((e) => e.seq),
    };
    const wr: Violation = {
      invariant: 'single-writer',
      at: staleWrites[0]!.t,
      detail: `app-a accepted ${staleWrites.length} writes under stale epoch 1 while b held epoch 2`,
      events: [bPrimary.seq, ...staleWrites.map((e) => e.seq)],
    };
    for (const v of [sp, sw, wr]) {
      outcomes.push({
        name: v.invariant,
        kind: 'invariant',
        category: 'safety',
        ok: false,
        detail: v.detail,
        violations: [v],
      });
    }
  } else {
    pass('single-primary', 'invariant', 'at most one primary at every instant');
    pass('act-within-safe-window', 'invariant', 'every act inside its safe window');
    pass('single-writer', 'invariant', 'writes accepted only under the newest epoch');
  }
  pass('epoch-monotonic', 'invariant', 'epochs strictly increase per grant');
  pass('promotion-has-quorum-and-lease', 'invariant', '1 promotion, each with 2/2 votes and the lease');
  pass(
    'failover-within',
    'expectation',
    `failover took ${(o.failoverMs / 1000).toFixed(2)} s (bound 6.00 s)`,
  );
  const violations = outcomes.flatMap((c) => c.violations);
  return {
    ok: violations.length === 0,
    outcomes,
    violations,
    withinAssumptions: true,
    measurements: {
      ...(o.measure ? { failoverMs: o.failoverMs, failoverBoundMs: BOUND_MS } : {}),
      roleTransitions: history.filter((e) => e.kind === 'role').length,
    },
  };
}
