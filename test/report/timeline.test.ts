import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import type { ObservationRun } from '../../src/report/facts.ts';
import { buildModel } from '../../src/report/model.ts';
import { boundRuns, niceStep, renderTimeline } from '../../src/report/timeline.ts';
import { syntheticRun } from './helpers/synthetic.ts';

const startedAt = new Date('2026-11-24T06:30:00.123Z');

function render(run: ReturnType<typeof syntheticRun>, scenario = 'isolate-primary'): string {
  return renderTimeline(
    buildModel({ scenario, executor: 'sim', history: run.history, verdict: run.verdict, startedAt }),
  );
}

describe('timeline.html (static)', () => {
  it('is self-contained: no external URL, stylesheet, font or script source', () => {
    const html = render(syntheticRun({ violation: true }));
    // XML namespace names are identifiers, never fetched.
    const withoutNamespaces = html
      .replaceAll('http://www.w3.org/2000/svg', '')
      .replaceAll('http://www.w3.org/1999/xlink', '');
    expect(withoutNamespaces).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/@import|@font-face/i);
    expect(html.match(/url\(([^)]*)\)/g)?.every((u) => u.startsWith('url(#'))).toBe(true);
    expect(html).toContain("default-src 'none'");
  });

  it('has a lane per region and shared component, fault shading and one marker per violation', () => {
    const run = syntheticRun({ violation: true });
    const html = render(run);
    for (const lane of [
      'lane-role-a',
      'lane-role-b',
      'lane-epoch-a',
      'lane-authority-b',
      'lane-writes-a',
      'lane-writes-b',
      'lane-lease',
      'lane-witness-w1',
      'lane-witness-w3',
      'lane-dns-w1',
      'lane-dns-w2',
    ]) {
      expect(html).toContain(`data-testid="${lane}"`);
    }
    expect(html.match(/data-testid="fault-window"/g)).toHaveLength(1);
    expect(html.match(/data-testid="violation-marker"/g)).toHaveLength(run.verdict.violations.length);
    for (const v of run.verdict.violations) expect(html).toContain(`href="#ev-${v.events[0]}"`);
    const passing = render(syntheticRun());
    expect(passing).not.toContain('data-testid="violation-marker"');
  });

  it('marks a violation the scenario expected in its own style and says it was detected', () => {
    const run = syntheticRun({ violation: true });
    // what the checker returns for a `violation-detected` expectation: the run passes and
    // the violated invariants carry expectedViolation
    const verdict = {
      ...run.verdict,
      ok: true,
      outcomes: run.verdict.outcomes.map((o) => (o.ok ? o : { ...o, expectedViolation: true })),
    };
    const html = renderTimeline(
      buildModel({ scenario: 'kv', executor: 'sim', history: run.history, verdict, startedAt }),
    );
    const expectedCount = verdict.outcomes
      .filter((o) => o.expectedViolation)
      .flatMap((o) => o.violations).length;
    expect(expectedCount).toBeGreaterThan(0);
    expect(html.match(/data-testid="expected-violation-marker"/g)).toHaveLength(expectedCount);
    expect(html).not.toContain('data-testid="violation-marker"');
    expect(html).toContain('data-testid="why-expected"');
    expect(html).toMatch(/The scenario expects (this violation|these violations)/);
    expect(html).not.toContain('Why it failed');
  });

  it('says "start time unknown" rather than 1970 when a re-render has no start time', () => {
    const run = syntheticRun();
    const html = renderTimeline(
      buildModel({
        scenario: 's',
        executor: 'sim',
        history: run.history,
        verdict: run.verdict,
        startedAt: new Date(0),
      }),
    );
    expect(html).toContain('start time unknown');
    expect(html).not.toContain('1970-01-01');
  });

  it('shows what a fault acted on and component errors', () => {
    const html = render(syntheticRun({ componentError: true }));
    expect(html).toContain('acted on ctl-a-&gt;worker, ctl-a-&gt;w1');
    expect(html).toContain('data-testid="component-errors"');
    expect(html).toContain('ctl-b crash: TypeError');
    expect(render(syntheticRun())).not.toContain('data-testid="component-errors"');
  });

  it('escapes hostile text everywhere (scenario names, reasons, notes)', () => {
    const run = syntheticRun();
    const hostile = '</script><script>window.pwned=1</script><img src=x onerror=alert(1)>';
    const last = run.history[run.history.length - 1]!;
    const history: HistoryEvent[] = [
      ...run.history,
      { kind: 'note', seq: last.seq + 1, t: last.t, source: hostile, message: hostile },
    ];
    const html = renderTimeline(
      buildModel({
        scenario: hostile,
        executor: 'sim',
        history,
        verdict: run.verdict,
        startedAt,
        extra: { note: hostile },
      }),
    );
    expect(html.match(/<script/g)).toHaveLength(3); // two JSON blocks and the page script
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;/script&gt;');
  });

  it('keeps the DOM bounded for a 5,000+ event history', () => {
    const run = syntheticRun({ violation: true, writeIntervalMs: 15 });
    expect(run.history.length).toBeGreaterThan(5000);
    const html = render(run);
    const elements = html.match(/<(rect|text|line|path|g|a)\b/g) ?? [];
    expect(elements.length).toBeLessThan(2500);
    expect(html.length).toBeLessThan(4_000_000);
  });

  it('adds lanes for a third region found only in events', () => {
    const run = syntheticRun();
    const last = run.history[run.history.length - 1]!;
    const history: HistoryEvent[] = [
      ...run.history,
      {
        kind: 'role',
        seq: last.seq + 1,
        t: last.t,
        region: 'c',
        from: 'standby',
        to: 'fenced',
        reason: 'x',
        epoch: null,
        localMs: 0,
      },
    ];
    const html = renderTimeline(
      buildModel({ scenario: 's', executor: 'sim', history, verdict: null, startedAt }),
    );
    expect(html).toContain('data-testid="lane-role-c"');
    expect(html).toContain('data-status="unknown"');
  });
});

describe('boundRuns', () => {
  it('coalesces a flapping step function into at most maxRuns bins, keeping the vote count', () => {
    const runs: ObservationRun<string>[] = Array.from({ length: 5000 }, (_, i) => ({
      value: i % 3 === 0 ? 'unreachable' : 'reachable',
      startT: i * 10,
      endT: (i + 1) * 10,
      startSeq: i,
      endSeq: i,
      lastT: i * 10,
      open: false,
      count: 1,
    }));
    const bounded = boundRuns(runs, 600);
    expect(bounded.length).toBeLessThanOrEqual(600);
    expect(bounded.reduce((n, r) => n + r.count, 0)).toBe(5000);
    expect(bounded.every((r) => r.value === 'reachable' && r.mixed)).toBe(true);
    expect(boundRuns(runs.slice(0, 10), 600).every((r) => !r.mixed)).toBe(true);
  });
});

describe('niceStep', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect([niceStep(3), niceStep(130), niceStep(4000), niceStep(1000)]).toEqual([5, 200, 5000, 1000]);
  });
});
