/**
 * The realistic bug zoo (`npm run mutate:bugs`, scripts/bug-zoo.mjs): mistakes an engineer
 * could plausibly make writing the production logic for the first time — wrong clock, wrong
 * unit, off-by-one, missing check, wrong order, stale read — each planted alone in a sandbox
 * copy and judged by the unchanged mutation kill test (test/mutation/search.mutation.ts).
 * Stryker's mutants are syntactic; these are the bugs the simulator exists to catch, so the
 * share it catches is the measure docs/simulator.md quotes.
 *
 * `find` must occur exactly once in `file` (the runner refuses the list otherwise, so it stays
 * honest as the code moves); `replace` is the buggy version. Each one compiles (tsc), and none
 * is sabotage (no throw, no deleted function): a reviewer could wave each through.
 */

export type BugClass =
  | 'wrong-clock'
  | 'wrong-unit'
  | 'wrong-formula'
  | 'off-by-one'
  | 'missing-check'
  | 'wrong-order'
  | 'inverted-condition'
  | 'stale-read'
  | 'wrong-field'
  | 'wrong-constant'
  | 'error-path';

export interface RealisticBug {
  /** short kebab-case name, also the sandbox directory */
  id: string;
  /** path from the package root */
  file: string;
  /** exact snippet, present exactly once in `file` */
  find: string;
  /** the buggy replacement */
  replace: string;
  class: BugClass;
  /** what the engineer was thinking, and what goes wrong */
  why: string;
}

const CONFIG = 'src/controller/config.ts';
const VERDICT = 'src/controller/witness-verdict.ts';
const CORE = 'src/controller/core.ts';
const DRIVER = 'src/controller/driver.ts';
const LEASE = 'src/worker/lease-state.ts';
const OBJECT = 'src/worker/lease-object.ts';
const FENCE = 'src/topology/app/fence.ts';

const L_LINE = 'return Math.floor((1 - rho) * (c.leaseTtlMs / (1 + rho) - c.maxPauseMs - c.maxDelayMs));';

const configBugs: RealisticBug[] = [
  {
    id: 'config-L-no-drift',
    file: CONFIG,
    find: L_LINE,
    replace: 'return Math.floor(c.leaseTtlMs - c.maxPauseMs - c.maxDelayMs);',
    class: 'wrong-formula',
    why: 'L = T − p − d without the clock-drift terms: ~57 ms too long at T = 30 s, so a primary on a fast clock acts after the Worker (slow clock) could re-grant',
  },
  {
    id: 'config-L-no-pause',
    file: CONFIG,
    find: L_LINE,
    replace: 'return Math.floor((1 - rho) * (c.leaseTtlMs / (1 + rho) - c.maxDelayMs));',
    class: 'wrong-formula',
    why: 'the process-pause bound p is forgotten in L: a primary paused right before an act acts up to p past the lease',
  },
  {
    id: 'config-L-is-ttl',
    file: CONFIG,
    find: L_LINE,
    replace: 'return Math.floor(c.leaseTtlMs / (1 + rho));',
    class: 'wrong-formula',
    why: '"the lease is valid for T on the Worker\'s clock, so I may act for T/(1+ρ)": uses the TTL as the safe window, ignoring pause and delay',
  },
  {
    id: 'config-pause-default-seconds',
    file: CONFIG,
    find: 'maxPauseMs: p.maxPauseMs ?? Math.round(leaseTtlMs / 15),',
    replace: 'maxPauseMs: p.maxPauseMs ?? Math.round(leaseTtlMs / 15 / 1000),',
    class: 'wrong-unit',
    why: 'the default pause bound computed in seconds (2) but used as ms: L grows by ~2 s',
  },
  {
    id: 'config-heartbeat-half-ttl',
    file: CONFIG,
    find: 'const heartbeatMs = p.heartbeatMs ?? Math.round(leaseTtlMs / 3);',
    replace: 'const heartbeatMs = p.heartbeatMs ?? Math.round(leaseTtlMs / 2);',
    class: 'wrong-constant',
    why: "renew at T/2 (a common rule of thumb) instead of the design's T/3: one failed renewal plus its timeout no longer fits comfortably inside L",
  },
  {
    id: 'config-acquire-retry-from-ttl',
    file: CONFIG,
    find: 'const acquireRetryMs = p.acquireRetryMs ?? Math.max(1, Math.round(heartbeatMs / 4));',
    replace: 'const acquireRetryMs = p.acquireRetryMs ?? Math.max(1, Math.round(leaseTtlMs / 4));',
    class: 'wrong-field',
    why: 'retry interval derived from the TTL instead of the heartbeat: 7.5 s between acquires (and renew retries), so a failover overruns its bound',
  },
  {
    id: 'config-quorum-half',
    file: CONFIG,
    find: 'witnessQuorum: p.witnessQuorum ?? Math.floor(witnessCount / 2) + 1,',
    replace: 'witnessQuorum: p.witnessQuorum ?? Math.floor(witnessCount / 2),',
    class: 'off-by-one',
    why: '"half the witnesses" instead of a majority: 1 of 3 votes is enough to fail over',
  },
  {
    id: 'config-holddown-heartbeat',
    file: CONFIG,
    find: 'promotionHoldDownMs: p.promotionHoldDownMs ?? leaseTtlMs,',
    replace: 'promotionHoldDownMs: p.promotionHoldDownMs ?? heartbeatMs,',
    class: 'wrong-field',
    why: 'hold-down set to H instead of T: a demoted region may try again after 10 s, before its old lease could even be gone',
  },
];

const verdictBugs: RealisticBug[] = [
  {
    id: 'verdict-servfail-unreachable',
    file: VERDICT,
    find: "if (o.rcode !== 'NOERROR') return { verdict: 'unknown', detail: o.rcode };",
    replace:
      "if (o.rcode !== 'NOERROR') return { verdict: o.rcode === 'SERVFAIL' ? 'unreachable' : 'unknown', detail: o.rcode };",
    class: 'inverted-condition',
    why: '"SERVFAIL means the region\'s authoritatives are down": a witness that is itself cut off votes the peer unreachable',
  },
  {
    id: 'verdict-timeout-unreachable',
    file: VERDICT,
    find: "if ('error' in o) return { verdict: 'unknown', detail: o.error };",
    replace: "if ('error' in o) return { verdict: 'unreachable', detail: o.error };",
    class: 'inverted-condition',
    why: 'a witness that does not answer (timeout) counted as evidence against the peer',
  },
  {
    id: 'verdict-empty-answer-unreachable',
    file: VERDICT,
    find: 'if (addrs.length > 0 && addrs.every((a) => a === addresses.tombstone)) {',
    replace: 'if (addrs.every((a) => a === addresses.tombstone)) {',
    class: 'missing-check',
    why: '[].every() is true: a NOERROR answer with no A record reads as the tombstone',
  },
];

const coreBugs: RealisticBug[] = [
  {
    id: 'core-grant-window-from-receipt',
    file: CORE,
    find: '  st.safeUntilMs = sentAtMs + st.safeWindowMs;\n  st.lastRenewalSentAtMs = sentAtMs;',
    replace: '  st.safeUntilMs = st.nowMs + st.safeWindowMs;\n  st.lastRenewalSentAtMs = st.nowMs;',
    class: 'wrong-clock',
    why: 'the first window counted from when the grant arrived, not from when the acquire was sent: it outlives the lease by the reply delay',
  },
  {
    id: 'core-renew-window-from-receipt',
    file: CORE,
    find: 'st.safeUntilMs = Math.max(st.safeUntilMs ?? 0, r.sentAtMs + L);',
    replace: 'st.safeUntilMs = Math.max(st.safeUntilMs ?? 0, st.nowMs + L);',
    class: 'wrong-clock',
    why: "a renewal extends the window from its reply's arrival instead of its send",
  },
  {
    id: 'core-demote-on-first-renew-failure',
    file: CORE,
    find: '        st.nextRenewAtMs = Math.max(st.nowMs, r.sentAtMs + acquireRetryMsOf(c));\n        return;',
    replace: "        demote(st, acts, 'renewal-failed', false);\n        return;",
    class: 'missing-check',
    why: 'one lost renewal demotes a healthy primary at once (no retry inside the window): spurious failovers on a brief blip',
  },
  {
    id: 'core-no-demote-while-renewing',
    file: CORE,
    find: '    if (st.safeUntilMs === null || now >= st.safeUntilMs) {',
    replace:
      '    if (st.safeUntilMs === null || (now >= st.safeUntilMs && st.renewInFlightSentAtMs === null)) {',
    class: 'missing-check',
    why: '"a renewal is in flight, its reply will extend the window": the primary stays primary past L while it waits',
  },
  {
    id: 'core-renew-retry-waits-heartbeat',
    file: CORE,
    find: 'st.nextRenewAtMs = Math.max(st.nowMs, r.sentAtMs + acquireRetryMsOf(c));',
    replace: 'st.nextRenewAtMs = st.nowMs + c.heartbeatMs;',
    class: 'wrong-constant',
    why: 'after a failed renewal the next one waits a full heartbeat, so a second attempt rarely fits inside L',
  },
  {
    id: 'core-demote-without-hold-down',
    file: CORE,
    find: "  st.holdDownUntilMs =\n    st.nowMs +\n    (reason === 'resource-failed' ? resourceFailedHoldDownMsOf(st.config) : st.config.promotionHoldDownMs);",
    replace: '  st.holdDownUntilMs = st.nowMs;',
    class: 'missing-check',
    why: 'a demoted primary may campaign again at once: regions ping-pong the lease',
  },
  {
    id: 'core-witness-round-ignores-hold-down',
    file: CORE,
    find: "      c.mode !== 'manual' &&\n      st.nowMs >= st.holdDownUntilMs\n",
    replace: "      c.mode !== 'manual'\n",
    class: 'missing-check',
    why: 'the failover path forgets the hold-down that the vacancy path checks',
  },
  {
    id: 'core-quorum-strict',
    file: CORE,
    find: '  if (unreachable >= c.witnessQuorum) {',
    replace: '  if (unreachable > c.witnessQuorum) {',
    class: 'off-by-one',
    why: '"more than the quorum" instead of "at least": 3 of 3 witnesses needed, one dead witness blocks every failover',
  },
  {
    id: 'core-silent-witness-counts',
    file: CORE,
    find: "  if (final && c.unknownWitnessPolicy === 'count-unreachable') {",
    replace: '  if (final) {',
    class: 'missing-check',
    why: 'a witness that never answered counts as "unreachable" whatever the policy (the legacy rule leaks in)',
  },
  {
    id: 'core-witness-stale-verdict',
    file: CORE,
    find: '    const v = round.answers[w];',
    replace: '    const v = round.answers[w] ?? st.witnessVerdicts[w];',
    class: 'stale-read',
    why: 'a witness that has not answered this round yet counts with what it said last time: rounds decide on old votes',
  },
  {
    id: 'core-peer-failures-not-consecutive',
    file: CORE,
    find: '  st.peerConsecutiveFailures = ok ? 0 : st.peerConsecutiveFailures + 1;',
    replace: '  if (!ok) st.peerConsecutiveFailures += 1;',
    class: 'missing-check',
    why: 'a successful probe does not reset the failure count: scattered failures on a flapping link add up to a failover',
  },
  {
    id: 'core-vacancy-ignores-peer',
    file: CORE,
    find: '  if (st.vacantPolls >= 2 && st.peerProbeSeen && st.lastPeerProbeOk) {',
    replace: '  if (st.vacantPolls >= 2) {',
    class: 'missing-check',
    why: 'a vacant lease is taken without checking that the peer answers: a failover without witness evidence',
  },
  {
    id: 'core-release-before-demote-confirmed',
    file: CORE,
    find: '  st.pendingRelease = release ? { epoch } : null;',
    replace:
      "  if (release) pushEpochAction(st, acts, { type: 'lease-release', epoch, sentAtMs: st.nowMs });\n  st.pendingRelease = null;",
    class: 'wrong-order',
    why: 'a planned demotion frees the lease right away instead of after the app confirmed it dropped authority',
  },
  {
    id: 'core-orphan-release-own-epoch',
    file: CORE,
    find: '  if (epoch <= st.maxActionEpoch) return;',
    replace: '  if (epoch < st.maxActionEpoch) return;',
    class: 'off-by-one',
    why: 'the "never acted on" test lets through the epoch we did act on: a demoted primary releases a lease its app may still write under',
  },
  {
    id: 'core-validity-full-window',
    file: CORE,
    find: '  const validityMs = Math.floor(st.safeUntilMs! - st.nowMs);',
    replace: '  const validityMs = st.safeWindowMs;',
    class: 'wrong-clock',
    why: 'the app is handed all of L from now, not what is left of L since the renewal was sent',
  },
  {
    id: 'core-extend-failures-ignored',
    file: CORE,
    find: '  st.resourceFailures += 1;',
    replace: "  if (action === 'promote') st.resourceFailures += 1;",
    class: 'missing-check',
    why: 'only failed promotes count toward stepping down; a primary whose app stopped taking extends keeps the lease forever',
  },
];

const driverBugs: RealisticBug[] = [
  {
    id: 'driver-hooks-not-serialised',
    file: DRIVER,
    find: 'if (this.hookBusy || this.halted) return;',
    replace: 'if (this.halted) return;',
    class: 'missing-check',
    why: 'resource calls are sent without waiting for the previous one: an extend can overtake a demote',
  },
  {
    id: 'driver-demote-jumps-queue',
    file: DRIVER,
    find: "        this.enqueueHook({ action: 'demote', epoch: a.epoch, validityMs: 0, reason: a.reason });",
    replace:
      "        this.hookQueue.unshift({ action: 'demote', epoch: a.epoch, validityMs: 0, reason: a.reason });\n        this.nextHook();",
    class: 'wrong-order',
    why: '"a demote is urgent": it is put ahead of queued extends, which then re-grant authority after it',
  },
  {
    id: 'driver-hook-stuck-after-failure',
    file: DRIVER,
    find: 'this.hookBusy = false;',
    replace: 'if (o.ok) this.hookBusy = false;',
    class: 'error-path',
    why: 'the busy flag is cleared on the success path only: after one failed app call no promote, extend or demote is ever sent again',
  },
  {
    id: 'driver-sent-at-from-reply',
    file: DRIVER,
    find: 'leaseResultInput(op, sentAtMs, reply)',
    replace: 'leaseResultInput(op, this.now(), reply)',
    class: 'wrong-clock',
    why: 'the lease result is stamped when the reply arrives: every window is counted from receipt',
  },
  {
    id: 'driver-demote-result-as-promote',
    file: DRIVER,
    find: 'action: call.action,\n',
    replace: '',
    class: 'wrong-field',
    why: 'the hook result omits which call it answers; the core reads every result as a promote, so a confirmed demote never frees the lease',
  },
  {
    id: 'driver-stop-exits-at-once',
    file: DRIVER,
    find: '    this.advanceStop();\n  }\n\n  /** The graceful stop has nothing left to do',
    replace: '    this.exitStopped(s);\n  }\n\n  /** The graceful stop has nothing left to do',
    class: 'missing-check',
    why: 'the stop exits once the shutdown input was fed, as a plain SIGTERM handler would: the demote goes out, the release after its answer never does',
  },
  {
    id: 'driver-stop-not-rechecked-on-answer',
    file: DRIVER,
    find: '      this.inFlight--;\n      this.advanceStop();',
    replace: '      this.inFlight--;',
    class: 'missing-check',
    why: 'the stop is re-checked after steps only, not when a call answers: a stop whose last call was the release waits for its cap',
  },
];

const leaseBugs: RealisticBug[] = [
  {
    id: 'lease-regrant-keeps-epoch',
    file: LEASE,
    find: '  const next: LeaseState = { holder: region, epoch: s.epoch + 1, expiresAt: nowMs + ttlMs };',
    replace:
      '  const next: LeaseState = {\n    holder: region,\n    epoch: s.holder === region ? s.epoch : s.epoch + 1,\n    expiresAt: nowMs + ttlMs,\n  };',
    class: 'missing-check',
    why: '"same holder, same term": a region re-acquiring its own expired lease gets its old epoch back',
  },
  {
    id: 'lease-renew-after-expiry',
    file: LEASE,
    find: '  const current = effectiveHolder(s, nowMs);\n  if (current !== region || epoch !== s.epoch) {',
    replace: '  if (s.holder !== region || epoch !== s.epoch) {',
    class: 'stale-read',
    why: 'renew compares the stored holder, not the effective one: an expired lease is revived by a late renewal',
  },
  {
    id: 'lease-release-resets-epoch',
    file: LEASE,
    find: '  const next: LeaseState = { holder: null, epoch: s.epoch, expiresAt: null };',
    replace: '  const next: LeaseState = INITIAL_LEASE_STATE;',
    class: 'wrong-field',
    why: 'a released lease goes back to the initial state, epoch 0 included: the next grant reuses epoch 1',
  },
  {
    id: 'lease-renew-extends-from-expiry',
    file: LEASE,
    find: '  const next: LeaseState = { holder: region, epoch: s.epoch, expiresAt: nowMs + ttlMs };',
    replace:
      '  const next: LeaseState = { holder: region, epoch: s.epoch, expiresAt: (s.expiresAt ?? nowMs) + ttlMs };',
    class: 'wrong-clock',
    why: '"renew adds T to the lease": expiry grows from the old expiry, so a dead holder\'s lease lingers far past T',
  },
  {
    id: 'lease-holder-reacquires',
    file: LEASE,
    find: '  if (effectiveHolder(s, nowMs) !== null) {',
    replace: '  const holder = effectiveHolder(s, nowMs);\n  if (holder !== null && holder !== region) {',
    class: 'missing-check',
    why: '"acquire is idempotent for the holder": the live holder asking again mints a new epoch under itself',
  },
  {
    id: 'lease-ttl-reported-seconds',
    file: LEASE,
    find: '    ttlMs,\n    expiresAt: holder === null ? null : s.expiresAt,',
    replace: '    ttlMs: ttlMs / 1000,\n    expiresAt: holder === null ? null : s.expiresAt,',
    class: 'wrong-unit',
    why: 'the reply carries the TTL in seconds under a field the client reads as ms',
  },
];

const workerBugs: RealisticBug[] = [
  {
    id: 'object-persist-only-granted',
    file: OBJECT,
    find: '    if (t.changed) writes.set(STATE_KEY, next);',
    replace: '    if (t.response.granted) writes.set(STATE_KEY, next);',
    class: 'wrong-field',
    why: 'the state is written when the response says granted, not when it changed: a release (granted false) is never stored',
  },
  {
    id: 'object-refusal-by-granted',
    file: OBJECT,
    find: "  if (!t.changed) return { op: 'refuse', requested: op, ...after } satisfies NewObservation;",
    replace: "  if (!r.granted) return { op: 'refuse', requested: op, ...after } satisfies NewObservation;",
    class: 'wrong-field',
    why: 'the observation log calls every ungranted answer a refusal: a release is logged as refused while the lease is freed',
  },
  {
    id: 'object-expiry-noted-twice',
    file: OBJECT,
    find: '  if (meta.expiredEpoch >= s.epoch) return null;',
    replace: '  if (meta.expiredEpoch > s.epoch) return null;',
    class: 'off-by-one',
    why: 'the "already noted" test is off by one: every request after an expiry logs it again',
  },
  {
    id: 'durable-epoch-not-forwarded',
    // the front Worker's forwarding (durable.ts) builds its command with objectCommandOf
    file: OBJECT,
    find: '  if (request.epoch !== undefined) cmd.epoch = request.epoch;\n',
    replace: '',
    class: 'wrong-field',
    why: 'the front Worker does not forward the epoch to the lease object: every renew and release is refused (epoch −1)',
  },
];

const fenceBugs: RealisticBug[] = [
  {
    id: 'fence-rejects-equal-epoch',
    file: FENCE,
    find: '  if (epoch < s.highestEpochSeen) {',
    replace: '  if (epoch <= s.highestEpochSeen) {',
    class: 'off-by-one',
    why: '"fencing tokens must strictly increase": an extend under the epoch the app already holds is refused',
  },
  {
    id: 'fence-extend-adds-to-window',
    file: FENCE,
    find: '    validUntilMs: nowMs + validityMs,',
    replace: '    validUntilMs: Math.max(s.validUntilMs, nowMs) + validityMs,',
    class: 'wrong-clock',
    why: 'an extend adds its validity to the current window instead of counting from receipt: authority outlives L',
  },
  {
    id: 'fence-write-ignores-expiry',
    file: FENCE,
    find: '  if (holding(s, nowMs)) return { accepted: true, epoch: s.authorityEpoch as number };',
    replace: '  if (s.authorityEpoch !== null) return { accepted: true, epoch: s.authorityEpoch };',
    class: 'missing-check',
    why: "writes check that authority was granted, not that it is still valid: a silent controller's app keeps writing",
  },
];

// ---------------------------------------------------------------------------------------
// Second batch (2026-12-07): 30 more first-draft mistakes, aimed at what the first 45 cover
// thinly — the Worker's request path (signing, nonces, the lease object, durable.ts's glue),
// lease-state.ts's boundaries, witness answers the first batch did not model (NXDOMAIN, mixed
// answers), the core's less-trodden paths (vacancy counting, candidacy deadline, early round
// close, orphaned and unused grants, reordered renewal replies, semi-automatic approval,
// manual mode, shutdown), the driver's result mapping and stop cap, config defaults and the
// fence's demote/validity/epoch rules. Same rules as above: one `find` per file, compiles,
// changes behaviour. Results (per bug, first violation): reports/mutation/bugs-batch2.json.

const REQUEST = 'src/worker/request.ts';
const SIGNING = 'src/worker/signing.ts';
const NONCES = 'src/worker/nonces.ts';

const workerBugs2: RealisticBug[] = [
  {
    // replaces a first draft, signing-skew-one-sided (a freshness check without Math.abs): a
    // pure no-op, since the lease object re-checks freshness two-sided (nonces.ts isStale)
    id: 'signing-skew-seconds',
    file: SIGNING,
    find: "if (Math.abs(serverTimeMs - claim.timestampMs) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'stale' };",
    replace:
      "if (Math.abs(serverTimeMs - claim.timestampMs) > MAX_CLOCK_SKEW_MS / 1000) return { ok: false, reason: 'stale' };",
    class: 'wrong-unit',
    why: '"the skew window is 30 (seconds)" compared with a difference in ms: any request that took over 30 ms, or any clock 30 ms apart, is refused as stale',
  },
  {
    id: 'request-sign-path-without-query',
    file: REQUEST,
    find: '    pathWithQuery: call.pathname + call.search,',
    replace: '    pathWithQuery: call.pathname,',
    class: 'wrong-field',
    why: '"the path is what is signed": the Worker rebuilds the canonical string without the query, so every signed GET /status?lease=… fails as bad-signature',
  },
  {
    id: 'nonce-keep-without-skew',
    file: NONCES,
    find: '  return claim.timestampMs + MAX_CLOCK_SKEW_MS + NONCE_GRACE_MS;',
    replace: '  return claim.timestampMs + NONCE_GRACE_MS;',
    class: 'wrong-formula',
    why: 'a nonce is kept for the grace second only, not for the 30 s a copy stays fresh: after a prune a replayed request is accepted again',
  },
  {
    id: 'nonce-prune-key-offset',
    file: NONCES,
    find: 'keys.push(key, NONCE_PREFIX + key.slice(INDEX_PREFIX.length + 14));',
    replace: 'keys.push(key, NONCE_PREFIX + key.slice(INDEX_PREFIX.length + 13));',
    class: 'off-by-one',
    why: 'the 13-digit time is sliced off but not its ":" separator: pruning deletes "nonce::<n>", the real nonce keys are never removed and storage grows for ever',
  },
  {
    id: 'object-expiry-stamped-when-noticed',
    file: OBJECT,
    find: '    expiresAt: s.expiresAt,\n    storeMs: s.expiresAt,',
    replace: '    expiresAt: s.expiresAt,\n    storeMs: nowMs,',
    class: 'wrong-clock',
    why: "the expiry is logged at the time the next request noticed it, not when it happened: the store's log says the lease lived on past its expiresAt",
  },
  {
    id: 'durable-object-per-region',
    // the naming moved into lease-object.ts objectCallOf, shared with the simulator's Worker
    file: OBJECT,
    find: '    name: request.lease,\n',
    replace: '    name: auth.region,\n',
    class: 'wrong-field',
    why: 'the Durable Object is named after the authenticated caller instead of the lease: each region gets a lease of its own and both are granted at once',
  },
];

const leaseBugs2: RealisticBug[] = [
  {
    id: 'lease-expiry-inclusive',
    file: LEASE,
    find: '  if (s.holder === null || s.expiresAt === null || nowMs >= s.expiresAt) return null;',
    replace: '  if (s.holder === null || s.expiresAt === null || nowMs > s.expiresAt) return null;',
    class: 'off-by-one',
    why: '"expires after expiresAt": at exactly expiresAt the old holder still holds (a renewal revives it) while the expiry timer already fired',
  },
  {
    id: 'lease-release-ignores-epoch',
    file: LEASE,
    // the condition alone: a Stryker comment now sits between it and its return (3b429c5)
    find: '  if (s.holder !== region || epoch !== s.epoch) {\n',
    replace: '  if (s.holder !== region) {\n',
    class: 'missing-check',
    why: '"only the holder can release, that is enough": a late release of an old epoch frees the same region\'s newer grant while it is primary under it',
  },
  {
    id: 'lease-view-stored-holder',
    file: LEASE,
    find: '  const holder = effectiveHolder(s, nowMs);\n  return {\n    granted,',
    replace: '  const holder = s.holder;\n  return {\n    granted,',
    class: 'stale-read',
    why: 'replies (status, refusals) report the stored holder and expiresAt even after the grant expired: an expired lease reads as held',
  },
];

const verdictBugs2: RealisticBug[] = [
  {
    id: 'verdict-nxdomain-unreachable',
    file: VERDICT,
    find: "if (o.rcode !== 'NOERROR') return { verdict: 'unknown', detail: o.rcode };",
    replace:
      "if (o.rcode === 'NXDOMAIN') return { verdict: 'unreachable', detail: o.rcode };\n  if (o.rcode !== 'NOERROR') return { verdict: 'unknown', detail: o.rcode };",
    class: 'inverted-condition',
    why: '"the name does not exist, so the region is gone": an NXDOMAIN (a zone being re-published, a misconfigured resolver) votes the peer unreachable',
  },
  {
    id: 'verdict-any-tombstone',
    file: VERDICT,
    find: 'if (addrs.length > 0 && addrs.every((a) => a === addresses.tombstone)) {',
    replace: 'if (addrs.includes(addresses.tombstone)) {',
    class: 'missing-check',
    why: 'one tombstone among the answers is taken for "down": a mixed answer (tombstone plus a foreign address) votes unreachable',
  },
];

const coreBugs2: RealisticBug[] = [
  {
    id: 'core-vacant-polls-not-consecutive',
    file: CORE,
    find: '      st.vacantPolls = vacant ? st.vacantPolls + 1 : 0;',
    replace: '      if (vacant) st.vacantPolls += 1;',
    class: 'missing-check',
    why: 'a held poll does not reset the vacancy count: one vacant poll long ago plus one now fills a "vacancy" that is a renewal gap',
  },
  {
    id: 'core-candidate-deadline-from-candidacy',
    file: CORE,
    find: '  cand.deadlineMs = st.nowMs + candidateTimeoutMsOf(st.config);',
    replace: '  cand.deadlineMs = cand.sinceMs + candidateTimeoutMsOf(st.config);',
    class: 'wrong-clock',
    why: 'the candidacy deadline counts from when the candidacy began, not from approval: an operator who approves late leaves no time to acquire',
  },
  {
    id: 'core-round-closes-without-quorum-yet',
    file: CORE,
    find: '  if (final || unreachable + pending < c.witnessQuorum) {',
    replace: '  if (final || unreachable < c.witnessQuorum) {',
    class: 'missing-check',
    why: '"no quorum, stay standby" judged on the answers so far: the round closes at its first answer, before the others can make a quorum',
  },
  {
    id: 'core-unknown-counts-under-abstain',
    file: CORE,
    find: "    if (v === 'unreachable' || (v === 'unknown' && c.unknownWitnessPolicy === 'count-unreachable')) {",
    replace: "    if (v !== 'reachable') {",
    class: 'missing-check',
    why: '"anything but reachable counts against the peer": unknown answers (SERVFAIL, timeouts) vote unreachable whatever the policy',
  },
  {
    id: 'core-orphan-release-ignores-incarnation',
    file: CORE,
    find: '  if (floor !== null ? epoch <= floor : st.nowMs < st.startedAtMs + leaseGoneBoundMs(c) + c.maxDelayMs)\n    return;\n',
    replace: '',
    class: 'missing-check',
    why: '"this incarnation never acted on it, so release it": a restarted controller frees the lease its previous incarnation\'s app may still write under',
  },
  {
    id: 'core-renew-timeout-heartbeat',
    file: CORE,
    find: '      if (st.renewInFlightSentAtMs !== null && now - st.renewInFlightSentAtMs >= reqTimeoutMs) {',
    replace:
      '      if (st.renewInFlightSentAtMs !== null && now - st.renewInFlightSentAtMs >= c.heartbeatMs) {',
    class: 'wrong-constant',
    why: 'a renewal is given a whole heartbeat to answer before it is retried: one lost renewal leaves a single retry inside L',
  },
  {
    id: 'core-renew-older-reply-rewinds',
    file: CORE,
    find: '      if (r.sentAtMs >= (st.lastRenewalSentAtMs ?? Number.NEGATIVE_INFINITY)) {',
    replace: '      {',
    class: 'wrong-order',
    why: 'every granted renewal reply updates the renewal bookkeeping, also one older than the last: a reordered reply rewinds lastRenewalSentAtMs',
  },
  {
    id: 'core-semi-auto-failover-only',
    file: CORE,
    find: "    approvedBy === 'automatic' &&\n    !(basis === 'bootstrap' && st.preferredBootstrap);",
    replace: "    basis === 'failover';",
    class: 'missing-check',
    why: '"only a failover needs the operator": in semi-automatic mode a vacancy fill or a standby bootstrap acquires without approval',
  },
  {
    id: 'core-manual-fills-vacancy',
    file: CORE,
    find: "  // A failing peer goes through the failover gates instead.\n  if (c.mode === 'manual') return;\n",
    replace: '  // A failing peer goes through the failover gates instead.\n',
    class: 'missing-check',
    why: 'manual mode blocks the witness path but not the vacancy path: a manual standby takes a vacant lease on its own',
  },
  {
    id: 'core-shutdown-done-early',
    file: CORE,
    find: "    demote(st, acts, 'shutdown', true);\n    st.shutdown = st.pendingRelease ? 'demoting' : 'done';",
    replace: "    demote(st, acts, 'shutdown', true);\n    st.shutdown = 'done';",
    class: 'wrong-order',
    why: 'a stopping primary reports done once the demote is sent: the process exits before the app confirms it, so the lease is never released',
  },
];

const driverBugs2: RealisticBug[] = [
  {
    id: 'driver-refusal-as-failure',
    file: DRIVER,
    find: "  if (!reply.ok) {\n    return {\n      type: 'lease-result',",
    replace:
      "  if (!reply.ok || (op !== 'status' && op !== 'release' && !reply.granted)) {\n    return {\n      type: 'lease-result',",
    class: 'error-path',
    why: '"not granted is a failed call": a refused renewal is retried like a lost one (no demote on refusal), a refused acquire says nothing about the holder',
  },
  {
    // replaces a first draft, driver-witness-own-addresses (compare the answers with our own
    // region's addresses): a pure no-op, production's witnessAddresses port ignores the target
    id: 'driver-failed-hook-drops-queue',
    file: DRIVER,
    find: '    this.runStep(input);\n    this.hookBusy = false;',
    replace:
      '    this.runStep(input);\n    if (!o.ok) this.hookQueue.length = 0;\n    this.hookBusy = false;',
    class: 'error-path',
    why: '"after a failed app call the queued ones are stale": a demote queued behind a failed extend is dropped, so the app is never told and the lease never released',
  },
  {
    id: 'driver-stop-cap-parallel',
    file: DRIVER,
    find: '  return appRequestTimeoutMs + leaseRequestTimeoutMs + 1000;',
    replace: '  return Math.max(appRequestTimeoutMs, leaseRequestTimeoutMs) + 1000;',
    class: 'wrong-formula',
    why: '"the demote and the release run in parallel": they run one after the other, so a slow demote leaves no time for the release before exit',
  },
];

const configBugs2: RealisticBug[] = [
  {
    // replaces a first draft, config-candidate-timeout-ttl (candidate timeout = T): caught at
    // load by validateControllerConfig (every scenario refuses the config), so no run judges it
    id: 'config-delay-default-lan',
    file: CONFIG,
    find: '    maxDelayMs: p.maxDelayMs ?? Math.round(leaseTtlMs / 60),',
    replace: '    maxDelayMs: p.maxDelayMs ?? 50,',
    class: 'wrong-constant',
    why: '"one-way delay is 50 ms on our network": d fixed at 50 ms whatever T, so L grows by 450 ms at T = 30 s and a slow reply lets the primary act after the lease',
  },
  {
    id: 'config-status-poll-ttl',
    file: CONFIG,
    find: '    leaseStatusPollMs: p.leaseStatusPollMs ?? heartbeatMs,',
    replace: '    leaseStatusPollMs: p.leaseStatusPollMs ?? leaseTtlMs,',
    class: 'wrong-field',
    why: 'status polled once a TTL instead of once a heartbeat: a vacancy (two polls) takes a minute to fill',
  },
];

const fenceBugs2: RealisticBug[] = [
  {
    id: 'fence-demote-ignores-epoch',
    file: FENCE,
    find: '  if (epoch !== null && s.authorityEpoch !== null && epoch < s.authorityEpoch) {',
    replace: '  if (epoch !== null && s.authorityEpoch !== null && epoch > s.authorityEpoch) {',
    class: 'inverted-condition',
    why: '"refuse a demote for a term we were never given": the comparison is the wrong way round, so a late demote of an older epoch revokes the newer term',
  },
  {
    id: 'fence-validity-seconds',
    file: FENCE,
    find: '    validUntilMs: nowMs + validityMs,',
    replace: '    validUntilMs: nowMs + validityMs * 1000,',
    class: 'wrong-unit',
    why: '"validity is in seconds, like a TTL": the app holds authority 1000× longer than the controller granted',
  },
  {
    id: 'fence-stale-epoch-after-lapse',
    file: FENCE,
    find: '  if (epoch < s.highestEpochSeen) {',
    replace: '  if (epoch < s.highestEpochSeen && holding(s, nowMs)) {',
    class: 'missing-check',
    why: '"an older epoch only matters while the newer one is live": once the newer authority lapsed (or after a demote) a stale promote/extend is granted',
  },
  {
    id: 'fence-write-boundary',
    file: FENCE,
    find: '  return s.authorityEpoch !== null && nowMs < s.validUntilMs;',
    replace: '  return s.authorityEpoch !== null && nowMs <= s.validUntilMs;',
    class: 'off-by-one',
    why: '"valid until validUntilMs" read inclusively: a write at exactly the end of the window is accepted',
  },
];

/**
 * The third batch: the operator's commands (issue #14, "a fault means one thing everywhere"),
 * which the simulator reaches through `operator` steps (semi-automatic-reject-then-approve,
 * manual-operator-switchover, the kill test's anchored demote).
 */
const operatorBugs3: RealisticBug[] = [
  {
    id: 'core-reject-only-while-acquiring',
    file: CORE,
    find: "    case 'reject':\n      if (st.role === 'candidate' && cand?.awaitingApproval) {",
    replace: "    case 'reject':\n      if (st.role === 'candidate' && !cand?.awaitingApproval) {",
    class: 'inverted-condition',
    why: '"a reject stops an acquiring candidate": the condition is inverted, so a candidacy waiting for approval ignores the reject and the next approval promotes it',
  },
  {
    id: 'core-reject-without-hold-down',
    file: CORE,
    find: "        toStandby(st, acts, 'operator-rejected', true);",
    replace: "        toStandby(st, acts, 'operator-rejected', false);",
    class: 'missing-check',
    why: '"a rejected candidate simply goes back to watching": without the hold-down it asks again within seconds, and an approval the operator meant for later lands on the new candidacy',
  },
  {
    id: 'core-demote-waits-for-renewal',
    file: CORE,
    find: "      if (st.role === 'primary') demote(st, acts, 'operator-demote', true);",
    replace:
      "      if (st.role === 'primary' && st.renewInFlightSentAtMs === null) demote(st, acts, 'operator-demote', true);",
    class: 'missing-check',
    why: '"do not demote in the middle of a renewal, its reply would confuse the bookkeeping": a demote typed while a renewal is in flight is dropped, and the region keeps writing',
  },
];

/** The second batch, kept apart so each batch's score stays comparable. */
export const REALISTIC_BUGS_BATCH2: readonly RealisticBug[] = [
  ...workerBugs2,
  ...leaseBugs2,
  ...verdictBugs2,
  ...coreBugs2,
  ...driverBugs2,
  ...configBugs2,
  ...fenceBugs2,
];

/** The third batch: the operator's commands. */
export const REALISTIC_BUGS_BATCH3: readonly RealisticBug[] = [...operatorBugs3];

const PUBLISH = 'src/agent/publish-plan.ts';
const LUA = 'src/agent/lua.ts';

/**
 * The fourth batch: what a controller sends PowerDNS and its resource. Until the simulator
 * sent the agent's own PATCH requests and read the LUA records back
 * (simulator/models/lua-record.ts), and sent the webhook's body to an app that reads it as
 * the real one does (src/contracts/authority-hook.ts), and sent the lease client's own requests and read its
 * answers with the client's parser (src/agent/lease-client.ts), none of these could be seen
 * there.
 */
const publishBugs4: RealisticBug[] = [
  {
    id: 'publish-order-self-inverted',
    file: PUBLISH,
    find: 'const selfActive = activeRegion === s.region;',
    replace: 'const selfActive = activeRegion !== s.region;',
    class: 'inverted-condition',
    why: '"self is active unless the peer was named": the test reads the wrong way round, so a region that takes over publishes its peer first',
  },
  {
    id: 'publish-extup-check-urls-crossed',
    file: PUBLISH,
    find: 'const checkUrl = checkUrlsOfApi[u.region];',
    replace: 'const checkUrl = checkUrlsOfApi[u.region === active.region ? other.region : active.region];',
    class: 'wrong-field',
    why: "each answer is paired with the other region's check URL: the service answers the dead region's address for as long as the live one passes its check",
  },
  {
    id: 'publish-first-api-only',
    file: PUBLISH,
    find: '  return o.apiUrls.map((base): PublishPatch => {',
    replace: '  return o.apiUrls.slice(0, 1).map((base): PublishPatch => {',
    class: 'missing-check',
    why: '"PowerDNS replicates the zone": only the first API is patched, but each authoritative has its own database, so the others keep answering the old order',
  },
  {
    id: 'publish-rrset-relative-name',
    file: PUBLISH,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    find: 'name: `${o.serviceName}.${o.zone}.`,',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    replace: 'name: `${o.serviceName}.`,',
    class: 'wrong-field',
    why: 'the rrset named by its label alone ("svc."), as in a zone file: PowerDNS refuses it as out of zone (422), so no publish ever lands',
  },
  {
    id: 'lua-stringmatch-lowercase',
    file: LUA,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    find: "return `ifurlextup({${body}}, {stringmatch='OK', timeout='1'})`;",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    replace: "return `ifurlextup({${body}}, {stringmatch='ok', timeout='1'})`;",
    class: 'wrong-constant',
    why: 'the health check looks for "ok" where the apps answer "OK ...": every check fails, and PowerDNS answers a random address',
  },
  {
    id: 'hook-validity-read-as-seconds',
    file: 'src/contracts/authority-hook.ts',
    find: '    return { op: action, epoch, validityMs };',
    replace: '    return { op: action, epoch, validityMs: validityMs * 1000 };',
    class: 'wrong-unit',
    why: 'the resource reads the webhook\'s validity as seconds ("validity" in a config file usually is): a grant lasts 1000 times longer than the controller\'s safe window, so a cut-off primary keeps writing',
  },
  {
    id: 'lease-client-renew-without-epoch',
    file: 'src/agent/lease-client.ts',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    find: 'op === \'acquire\' ? `{"lease":${lease}}`',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    replace: 'op !== \'release\' ? `{"lease":${lease}}`',
    class: 'missing-check',
    why: '"a renewal just extends what I hold": the epoch is sent with a release only, and the Worker cannot tell whose term a renewal extends',
  },
  {
    id: 'lease-client-ttl-from-expiry',
    file: 'src/agent/lease-client.ts',
    find: '    ttlMs: finiteOrNull(o.ttlMs),',
    replace: '    ttlMs: finiteOrNull(o.expiresAt),',
    class: 'wrong-field',
    why: 'the TTL read from the neighbouring field: every grant looks far longer than T, so a store deployed with a short TTL is trusted',
  },
];

/** The fourth batch: what a controller sends PowerDNS and its resource. */
export const REALISTIC_BUGS_BATCH4: readonly RealisticBug[] = [...publishBugs4];

export const REALISTIC_BUGS: readonly RealisticBug[] = [
  ...configBugs,
  ...verdictBugs,
  ...coreBugs,
  ...driverBugs,
  ...leaseBugs,
  ...workerBugs,
  ...fenceBugs,
  ...REALISTIC_BUGS_BATCH2,
  ...REALISTIC_BUGS_BATCH3,
  ...REALISTIC_BUGS_BATCH4,
];
