/**
 * The operator's commands judged on what the apps observed (src/check/invariants/operator.ts):
 * `operator-approval` (semi-automatic: an approval, not voided by a rejection's hold-down,
 * recent enough; manual: a promote) and `operator-demote` (authority ends within L(1+ρ) + d);
 * and the operator's part in the liveness checks (approval shifts the takeover bound; a stretch
 * waiting for the operator is explained).
 */
import { describe, expect, it } from 'vitest';
import { approvalReachMs } from '../../src/check/invariants/operator.ts';
import { approvalRequestNote } from '../../src/contracts/approval-request.ts';
import type { NewEvent } from '../../src/contracts/history.ts';
import { designInput, designSpec } from '../../src/contracts/spec.ts';
import { faultEvent, operatorNote, outcomeOf, appGrant as promote } from './helpers/history.ts';

type Mode = 'automatic' | 'semi-automatic' | 'manual';

const op = operatorNote;
const approve = (t: number, region: string) => op(t, region, 'approve');
/** a's bootstrap, then the operator's approval of b's takeover and b's promotion a second later */
const approvedTakeoverByB = (): NewEvent[] => [
  promote(4_000, 'a', 1),
  approve(60_000, 'b'),
  promote(61_000, 'b', 2),
];
/**
 * the operator's record of a request for approval: the simulator's pager (exact), or the real
 * runner's scrape of the controller's metrics page (made in [sinceT, t])
 */
const asks = (t: number, region: string, sinceT?: number): NewEvent =>
  approvalRequestNote({ t, region, ...(sinceT !== undefined ? { sinceT } : {}) });
const specIn = (mode: Mode) =>
  designSpec(designInput({ witnessCount: 3, leaseTtlMs: 30_000, controllerMode: mode }), 'test');
const judge = (mode: Mode, events: NewEvent[], name = 'operator-approval') =>
  outcomeOf(name, events, specIn(mode));
const revoke = (t: number, region: string, epoch: number): NewEvent => ({
  kind: 'app-authority',
  t,
  region,
  op: 'revoke',
  epoch,
  reason: 'demote: operator-demote',
});
const end = (t: number) => ({ kind: 'note', t, source: 'runner', message: 'end' }) as NewEvent;
const processOp = (t: number, component: string, o: 'crash' | 'restart' | 'pause' | 'resume'): NewEvent => ({
  kind: 'process',
  t,
  component,
  op: o,
});

describe('operator-approval', () => {
  it('passes the preferred bootstrap and a failover the operator approved', () => {
    const o = judge('semi-automatic', approvedTakeoverByB());
    expect(o).toMatchObject({ ok: true, evaluated: true });
  });

  it('fails a promotion without an approval since the region last took over', () => {
    const o = judge('semi-automatic', [...approvedTakeoverByB(), promote(150_000, 'a', 3)]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'operator-approval', at: 150_000 });
    // one approval covers one promotion
    const twice = judge('semi-automatic', [...approvedTakeoverByB(), promote(75_000, 'b', 4)]);
    expect(twice.ok).toBe(false);
  });

  it('an approval reaches a promotion at most W = (T+H)(1+ρ) + 3d + p later', () => {
    const reach = approvalReachMs(specIn('semi-automatic'));
    expect(reach).toBe(40_040 + 1_500 + 2_000);
    const at = (dt: number) =>
      judge('semi-automatic', [promote(4_000, 'a', 1), approve(60_000, 'b'), promote(60_000 + dt, 'b', 2)]);
    expect(at(reach).ok).toBe(true);
    // an approval the core ignored (no candidacy waiting) cannot excuse a candidacy long after
    expect(at(reach + 1).ok).toBe(false);
  });

  it('an approval that answers a request the operator already refused is void', () => {
    const events = (approveAt: number, askedAgainAt?: number) => [
      promote(4_000, 'a', 1),
      asks(30_000, 'b'),
      op(50_000, 'b', 'reject', 'f1'),
      ...(askedAgainAt ? [asks(askedAgainAt, 'b')] : []),
      approve(approveAt, 'b'),
      promote(approveAt + 100, 'b', 2),
    ];
    const refused = judge('semi-automatic', events(65_000));
    expect(refused.ok).toBe(false);
    expect(refused.violations[0]?.detail).toContain('already refused');
    // b asked again after the reject: the approval answers the new request
    expect(judge('semi-automatic', events(85_000, 81_000)).ok).toBe(true);
    // a demote answers a waiting request with "no" as well
    const demoted = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      asks(30_000, 'b'),
      op(50_000, 'b', 'demote', 'f1'),
      approve(65_000, 'b'),
      promote(65_100, 'b', 2),
    ]);
    expect(demoted.ok).toBe(false);
    // an operator promote starts a candidacy of its own
    const promoted = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      asks(30_000, 'b'),
      op(50_000, 'b', 'reject', 'f1'),
      op(65_000, 'b', 'promote', 'f2'),
      promote(65_100, 'b', 2),
    ]);
    expect(promoted.ok).toBe(true);
  });

  it('a refusal is not counted when it was lost, or came before the request it would answer', () => {
    // approved at 40 s, then rejected: the approval answered the request first
    const raced = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      asks(30_000, 'b'),
      approve(40_000, 'b'),
      op(50_000, 'b', 'reject', 'f1'),
      promote(50_100, 'b', 2),
    ]);
    expect(raced.ok).toBe(true);
    // ctl-b was down at the reject: lost
    const down = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      asks(30_000, 'b'),
      processOp(45_000, 'ctl-b', 'crash'),
      op(50_000, 'b', 'reject', 'f1'),
      processOp(55_000, 'ctl-b', 'restart'),
      approve(65_000, 'b'),
      promote(65_100, 'b', 2),
    ]);
    expect(down.ok).toBe(true);
    // without the operator's record of requests (the real topology) nothing is void
    const unrecorded = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      op(50_000, 'b', 'reject', 'f1'),
      approve(65_000, 'b'),
      promote(65_100, 'b', 2),
    ]);
    expect(unrecorded.ok).toBe(true);
  });

  it('a refused request opens the hold-down: asking again inside it fails while the other region is down', () => {
    const regionCrash: NewEvent[] = [
      faultEvent('start', 20_000, 'a', 'crash', { id: 'f0' }),
      faultEvent('end', 200_000, 'a', 'crash', { id: 'f0' }),
    ];
    const events = (askedAgainAt: number, crash = regionCrash) => [
      promote(4_000, 'a', 1),
      ...crash,
      asks(30_000, 'b'),
      op(50_000, 'b', 'reject', 'f1'),
      asks(askedAgainAt, 'b'),
    ];
    const early = judge('semi-automatic', events(62_000));
    expect(early.ok).toBe(false);
    expect(early.violations[0]?.detail).toContain('inside the promotion hold-down');
    // H_d = 30 s on a clock up to ρ fast
    expect(judge('semi-automatic', events(80_000)).ok).toBe(true);
    // a's region up: b's candidacy may have ended on its own (the peer answered again) before
    // the reject, which then met nothing: not judged
    expect(judge('semi-automatic', events(62_000, [])).ok).toBe(true);
  });

  it("a request seen over a scrape's span is before or after a refusal only when all of its span is", () => {
    // the real runner saw b ask between two scrapes of its metrics page, sinceT..t
    const approvedAfter = (asked: NewEvent) =>
      judge('semi-automatic', [
        promote(4_000, 'a', 1),
        asked,
        op(50_000, 'b', 'reject', 'f1'),
        approve(65_000, 'b'),
        promote(65_100, 'b', 2),
      ]);
    // wholly before the reject: the approval answers a refused request
    expect(approvedAfter(asks(30_000, 'b', 29_900)).ok).toBe(false);
    // b may have asked after the reject: the approval may answer that request
    expect(approvedAfter(asks(50_100, 'b', 49_900)).ok).toBe(true);

    const regionCrash: NewEvent[] = [
      faultEvent('start', 20_000, 'a', 'crash', { id: 'f0' }),
      faultEvent('end', 200_000, 'a', 'crash', { id: 'f0' }),
    ];
    const askedAgain = (again: NewEvent) =>
      judge('semi-automatic', [
        promote(4_000, 'a', 1),
        ...regionCrash,
        asks(30_000, 'b', 29_900),
        op(50_000, 'b', 'reject', 'f1'),
        again,
      ]);
    // asked again, at the latest 12 s after the reject: inside the hold-down
    const early = askedAgain(asks(62_000, 'b', 61_900));
    expect(early.ok).toBe(false);
    expect(early.violations[0]?.detail).toContain('inside the promotion hold-down');
    // the span reaches past the hold-down's end (30 s / 1.001 after the reject): it may be after
    expect(askedAgain(asks(80_100, 'b', 61_900)).ok).toBe(true);
    // the span holds the reject: this may be the request it refused
    expect(askedAgain(asks(62_000, 'b', 49_900)).ok).toBe(true);
  });

  it('says whether the refused-request rules were applied, and counts them as evaluated', () => {
    const regionCrash: NewEvent[] = [
      faultEvent('start', 20_000, 'a', 'crash', { id: 'f0' }),
      faultEvent('end', 200_000, 'a', 'crash', { id: 'f0' }),
    ];
    // no promotion of b: only the hold-down rule is judged, on the operator's record of requests
    const judged = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      ...regionCrash,
      asks(30_000, 'b'),
      op(50_000, 'b', 'reject', 'f1'),
      approve(65_000, 'b'),
      asks(81_000, 'b'),
    ]);
    expect(judged).toMatchObject({ ok: true, evaluated: true });
    expect(judged.detail).toContain(
      'refused requests judged on 2 approval request(s) the operator saw: 1 refusal(s) against the promotion hold-down, 1 approval(s) void',
    );
    // the same commands without a record of requests: nothing to judge them on, and it says so
    const unrecorded = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      ...regionCrash,
      op(50_000, 'b', 'reject', 'f1'),
      approve(65_000, 'b'),
    ]);
    expect(unrecorded).toMatchObject({ ok: true, evaluated: false });
    expect(unrecorded.detail).toContain('no approval request recorded: refused requests not judged');
  });

  it('a command typed to a paused controller is taken when it is continued; to a crashed one, never', () => {
    const W = approvalReachMs(specIn('manual'));
    const typedWhilePaused = (resumeAt: number, o: 'resume' | 'crash') =>
      judge('manual', [
        promote(4_000, 'a', 1),
        processOp(9_000, 'ctl-b', 'pause'),
        op(9_100, 'b', 'promote', 'f1'),
        processOp(resumeAt, 'ctl-b', o),
        promote(resumeAt + 100, 'b', 2),
      ]);
    // continued 44 s later (beyond W from the typing): the promote counts from the resume
    expect(9_100 + W).toBeLessThan(53_100);
    expect(typedWhilePaused(53_000, 'resume').ok).toBe(true);
    expect(typedWhilePaused(53_000, 'crash').ok).toBe(false);
  });

  it('in manual mode a promotion follows an operator promote of that region (an approve is not one)', () => {
    expect(
      judge('manual', [promote(4_000, 'a', 1), op(55_000, 'b', 'promote', 'f1'), promote(55_050, 'b', 2)]),
    ).toMatchObject({ ok: true, evaluated: true });
    const approved = judge('manual', [
      promote(4_000, 'a', 1),
      op(55_000, 'b', 'approve', 'f1'),
      promote(55_050, 'b', 2),
    ]);
    expect(approved.ok).toBe(false);
    expect(approved.violations[0]?.detail).toContain('manual mode');
    // a promote of the other region does not count
    expect(
      judge('manual', [promote(4_000, 'a', 1), op(55_000, 'a', 'promote', 'f1'), promote(55_050, 'b', 2)]).ok,
    ).toBe(false);
  });

  it('is not evaluated in automatic mode', () => {
    expect(judge('automatic', [promote(4_000, 'a', 1), promote(61_000, 'b', 2)])).toMatchObject({
      ok: true,
      evaluated: false,
    });
  });
});

describe('operator-demote', () => {
  // L at T = 30 s is 27 442 ms; L(1+ρ) + d + 1 ms
  const bound = Math.ceil(27_442 * 1.001) + 500 + 1;

  it("passes a demote that ends the region's authority at once", () => {
    const o = judge(
      'manual',
      [promote(34_000, 'a', 1), op(40_000, 'a', 'demote', 'f0'), revoke(40_010, 'a', 1), end(60_000)],
      'operator-demote',
    );
    expect(o).toMatchObject({ ok: true, evaluated: true });
    // still writing when the run ends before the bound: not judged
    const short = judge(
      'manual',
      [promote(4_000, 'a', 1), op(40_000, 'a', 'demote', 'f0')],
      'operator-demote',
    );
    expect(short).toMatchObject({ ok: true, evaluated: false });
  });

  it('fails a region that keeps writing beyond L(1+ρ) + d after the demote', () => {
    // extends keep coming after the demote: the window runs on past the bound
    const extend = (t: number) => promote(t, 'a', 1, t + 27_000, 'extend');
    const events = [
      promote(4_000, 'a', 1),
      extend(14_000),
      extend(24_000),
      extend(34_000),
      op(40_000, 'a', 'demote', 'f0'),
      extend(44_000),
      extend(54_000),
      extend(64_000),
      { kind: 'note', t: 120_000, source: 'runner', message: 'end' } as NewEvent,
    ];
    const o = judge('manual', events, 'operator-demote');
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'operator-demote', at: 40_000 + bound });
    // the last grant before the demote may run out on its own: exactly at the bound passes
    const lapse = judge(
      'manual',
      [
        promote(4_000, 'a', 1),
        promote(40_000 - 499, 'a', 1, 40_000 + bound, 'extend'),
        op(40_000, 'a', 'demote', 'f0'),
        { kind: 'note', t: 120_000, source: 'runner', message: 'end' } as NewEvent,
      ],
      'operator-demote',
    );
    expect(lapse).toMatchObject({ ok: true, evaluated: true });
  });

  it('does not judge a demote typed to a paused or crashed controller, or a region not writing', () => {
    const extend = (t: number) => promote(t, 'a', 1, t + 27_000, 'extend');
    const keepsWriting = [extend(44_000), extend(54_000), extend(64_000)];
    const end = { kind: 'note', t: 120_000, source: 'runner', message: 'end' } as NewEvent;
    const paused = judge(
      'manual',
      [
        promote(4_000, 'a', 1),
        processOp(39_000, 'ctl-a', 'pause'),
        op(40_000, 'a', 'demote', 'f0'),
        ...keepsWriting,
        end,
      ],
      'operator-demote',
    );
    expect(paused).toMatchObject({ ok: true, evaluated: false });
    const idle = judge('manual', [op(40_000, 'b', 'demote', 'f0'), end], 'operator-demote');
    expect(idle).toMatchObject({ ok: true, evaluated: false });
  });
});

describe("the operator's part in liveness", () => {
  const regionCrash = (t: number, end: number): NewEvent[] => [
    { kind: 'fault', t, phase: 'start', id: 'f0', fault: 'crash', target: 'a', verified: true } as NewEvent,
    {
      kind: 'fault',
      t: end,
      phase: 'end',
      id: 'f0',
      fault: 'crash',
      target: 'a',
      verified: true,
    } as NewEvent,
  ];
  const role = (t: number, region: string, from: string, to: string): NewEvent =>
    ({ kind: 'role', t, region, from, to, reason: 'x', epoch: null }) as NewEvent;
  /** the simulated approver's announcement (simulator/world.ts): it answers every request */
  const approver = {
    kind: 'note',
    t: 0,
    source: 'operator',
    message: 'simulated approver',
    data: { approver: 'simulated', delayMs: 5000 },
  } as NewEvent;
  const history = (approvalAt: number, primaryAt: number): NewEvent[] => [
    approver,
    role(4_000, 'a', 'candidate', 'primary'),
    promote(4_000, 'a', 1),
    ...regionCrash(20_000, 190_000),
    approve(approvalAt, 'b'),
    role(primaryAt, 'b', 'candidate', 'primary'),
    promote(primaryAt, 'b', 2),
  ];

  it("semi-automatic failover-liveness counts from the simulated approver's approval when it is later", () => {
    // bound 34.031 s from the loss; approved at 60 s: one acquire (2.5 s + 3d) after it
    expect(judge('semi-automatic', history(60_000, 63_900), 'failover-liveness').ok).toBe(true);
    expect(judge('semi-automatic', history(60_000, 64_100), 'failover-liveness').ok).toBe(false);
    // automatic mode ignores approvals: the bound runs from the loss
    expect(judge('automatic', history(60_000, 63_900), 'failover-liveness').ok).toBe(false);
  });

  it('is not judged in semi-automatic mode when nobody answers approval requests', () => {
    const o = judge('semi-automatic', history(60_000, 140_000).slice(1), 'failover-liveness');
    expect(o).toMatchObject({ ok: true, evaluated: false });
    expect(o.detail).toContain('nobody answers approval requests');
    // with the simulated approver it is judged, and fails
    expect(judge('semi-automatic', history(60_000, 140_000), 'failover-liveness').ok).toBe(false);
  });

  it("write-availability: a stretch waiting for the operator's promote is explained until it, plus B", () => {
    const events = (promoteAt: number): NewEvent[] => [
      promote(4_000, 'a', 1),
      op(40_000, 'a', 'demote', 'f0'),
      revoke(40_010, 'a', 1),
      op(promoteAt, 'b', 'promote', 'f1'),
      promote(promoteAt + 50, 'b', 2, promoteAt + 27_050),
      { kind: 'note', t: promoteAt + 20_000, source: 'runner', message: 'end' } as NewEvent,
    ];
    expect(judge('manual', events(150_000), 'write-availability').ok).toBe(true);
    // the same gap in automatic mode has nothing to explain it
    expect(judge('automatic', events(150_000), 'write-availability').ok).toBe(false);
  });

  it('write-availability: semi-automatic with the simulated approver waits until its approval, plus B', () => {
    const events = (approveAt: number): NewEvent[] => [
      approver,
      promote(4_000, 'a', 1),
      revoke(40_010, 'a', 1),
      approve(approveAt, 'b'),
      promote(approveAt + 80_000, 'b', 2, approveAt + 107_000),
      { kind: 'note', t: approveAt + 100_000, source: 'runner', message: 'end' } as NewEvent,
    ];
    // explained until B = 34.031 s after the approval: a takeover 80 s after it leaves 46 s
    const o = judge('semi-automatic', events(60_000), 'write-availability');
    expect(o.ok).toBe(false);
    expect(judge('semi-automatic', events(60_000).slice(1), 'write-availability').ok).toBe(true);
  });
});
