import { parse, type TestSuite, type TestSuites } from 'junit2json';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/check/verdict.ts';
import { escapeXml } from '../../src/report/format.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { buildModel } from '../../src/report/model.ts';
import { syntheticRun } from './helpers/synthetic.ts';

const startedAt = new Date('2026-11-24T06:30:00.123Z');

async function suiteOf(xml: string): Promise<{ root: TestSuites; suite: TestSuite }> {
  const root = (await parse(xml)) as TestSuites;
  expect(root.testsuite).toHaveLength(1);
  return { root, suite: root.testsuite![0]! };
}

function modelFor(run: ReturnType<typeof syntheticRun>, verdict: Verdict | null = run.verdict) {
  return buildModel({
    scenario: 'isolate-primary',
    executor: 'sim',
    history: run.history,
    verdict,
    startedAt,
    wallSeconds: 1.5,
  });
}

describe('junit.xml', () => {
  it('a failing run: one testcase per check, failures name the invariant and quote the violating events', async () => {
    const run = syntheticRun({ violation: true });
    const { root, suite } = await suiteOf(renderJunit(modelFor(run)));
    const cases = suite.testcase!;
    expect(cases.map((c) => c.name)).toEqual(run.verdict.outcomes.map((o) => o.name));
    const failing = cases.filter((c) => c.failure);
    expect(failing.map((c) => c.name)).toEqual(['single-primary', 'act-within-safe-window', 'single-writer']);
    expect(suite.tests).toBe(cases.length);
    expect(suite.failures).toBe(3);
    expect(root.failures).toBe(3);
    expect(suite.errors).toBe(0);

    const sp = failing[0]!.failure![0]!;
    expect(sp.message).toContain('single-primary');
    const violation = run.verdict.violations[0]!;
    const text = sp.inner!;
    expect(text).toContain('single-primary');
    for (const seq of violation.events) {
      const e = run.history.find((h) => h.seq === seq)!;
      expect(text).toContain(`seq ${seq} t=${(e.t / 1000).toFixed(3)} s`);
      expect(text).toContain(JSON.stringify(e));
    }
    expect(failing[0]!.classname).toBe('failover-lab.isolate-primary.safety');
    expect(cases.find((c) => c.name === 'failover-within')!.classname).toBe(
      'failover-lab.isolate-primary.expectation',
    );
    // Passing checks carry no failure.
    expect(cases.find((c) => c.name === 'epoch-monotonic')!.failure).toBeUndefined();
    const props = Object.fromEntries(suite.properties!.map((p) => [p.name, String(p.value)]));
    expect(props['executor']).toBe('sim');
    expect(props['seed']).toBe('42');
    expect(props['failoverMs']).toBe(String(run.expected.failoverMs));
  });

  it('a passing run has no failures and the same number of testcases', async () => {
    const run = syntheticRun();
    const { root, suite } = await suiteOf(renderJunit(modelFor(run)));
    expect(suite.testcase!.every((c) => !c.failure && !c.error)).toBe(true);
    expect(suite.failures).toBe(0);
    expect(root.tests).toBe(run.verdict.outcomes.length);
    expect(suite.tests).toBe(suite.testcase!.length);
    expect(suite.time).toBe(1.5);
    expect(suite.timestamp).toBe('2026-11-24T06:30:00');
  });

  it('escapes markup, quotes and characters XML forbids', async () => {
    const run = syntheticRun({ violation: true });
    const nasty = `a<b & "c" 'd' ]]> \u0001\u0008 tab\there\nnewline`;
    const verdict: Verdict = {
      ...run.verdict,
      outcomes: run.verdict.outcomes.map((o, i) =>
        i === 0
          ? {
              ...o,
              name: `single-primary <${nasty}>`,
              violations: o.violations.map((v) => ({ ...v, detail: nasty })),
            }
          : o,
      ),
    };
    const xml = renderJunit(modelFor(run, verdict));
    expect([...xml].filter((ch) => ch.charCodeAt(0) < 0x09)).toEqual([]);
    const { suite } = await suiteOf(xml);
    const c = suite.testcase![0]!;
    expect(c.name).toContain('a<b & "c" \'d\' ]]>');
    expect(c.failure![0]!.message).toContain('tab\there\nnewline');
    expect(c.failure![0]!.inner).toContain('a<b & "c"');
  });

  it('keeps violations of an invariant the verdict has no outcome for', async () => {
    const run = syntheticRun({ violation: true });
    const verdict: Verdict = { ...run.verdict, outcomes: run.verdict.outcomes.filter((o) => o.ok) };
    const { suite } = await suiteOf(renderJunit(modelFor(run, verdict)));
    const failing = suite.testcase!.filter((c) => c.failure).map((c) => c.name);
    expect(failing).toEqual(['single-primary', 'act-within-safe-window', 'single-writer']);
    expect(suite.failures).toBe(3);
  });

  it('marks not-evaluated checks skipped and expected violations as passes', async () => {
    const run = syntheticRun({ violation: true });
    const verdict: Verdict = {
      ...run.verdict,
      ok: true, // e.g. a known-unsafe scenario whose violation-detected expectation held
      outcomes: [
        ...run.verdict.outcomes,
        {
          name: 'no-failover',
          kind: 'expectation',
          ok: true,
          evaluated: false,
          detail: 'no relevant events',
          violations: [],
        },
      ],
    };
    const { suite } = await suiteOf(renderJunit(modelFor(run, verdict)));
    expect(suite.failures).toBe(0);
    expect(suite.skipped).toBe(1);
    const expected = suite.testcase!.find((c) => c.name === 'single-primary')!;
    expect(expected.failure).toBeUndefined();
    expect(expected['system-out']!.join('')).toContain('violated as expected');
  });

  it("honours the checker's expectedViolation flag even when the run failed for another reason", async () => {
    const run = syntheticRun({ violation: true });
    const verdict: Verdict = {
      ...run.verdict,
      outcomes: run.verdict.outcomes.map((o) =>
        o.name === 'single-primary' ? { ...o, expectedViolation: true } : o,
      ),
    };
    const { suite } = await suiteOf(renderJunit(modelFor(run, verdict)));
    const failing = suite.testcase!.filter((c) => c.failure).map((c) => c.name);
    expect(failing).toEqual(['act-within-safe-window', 'single-writer']);
    expect(suite.failures).toBe(2);
  });

  it('without a verdict, says so as one skipped testcase', async () => {
    const run = syntheticRun();
    const { suite } = await suiteOf(renderJunit(modelFor(run, null)));
    expect(suite.tests).toBe(1);
    expect(suite.skipped).toBe(1);
    expect(suite.testcase![0]!.skipped![0]!.message).toContain('no verdict');
  });

  it('replaces lone surrogates and U+FFFE but keeps valid pairs and whitespace', () => {
    expect(escapeXml('a\uD800b\uDC00c\uFFFE\u{1F600}\t\n\r<')).toBe(
      'a\uFFFDb\uFFFDc\uFFFD\u{1F600}\t\n\r&lt;',
    );
  });
});
