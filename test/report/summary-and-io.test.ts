import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import { jsonErrorLineCol, parseHistory, serializeHistory } from '../../src/report/history-io.ts';
import { buildModel, checkRows } from '../../src/report/model.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { syntheticRun } from './helpers/synthetic.ts';

const startedAt = new Date('2026-11-24T06:30:00.123Z');

describe('summary.md', () => {
  it('a failing run: status line, failing checks first, failover vs bound, faults, first violation, link', () => {
    const run = syntheticRun({ violation: true });
    const md = renderSummary(
      buildModel({
        scenario: 'isolate-primary',
        executor: 'sim',
        history: run.history,
        verdict: run.verdict,
        startedAt,
        wallSeconds: 2.25,
        extra: { replay: 'npx failover-lab sim --scenario isolate-primary --seed 42 --path "0:1"' },
      }),
    );
    const lines = md.split('\n');
    expect(lines[0]).toBe('### failover-lab `isolate-primary`: FAILED (3 of 6 checks failed)');
    expect(md).toContain('| single-primary | invariant | FAIL |');
    expect(md.indexOf('| single-primary |')).toBeLessThan(md.indexOf('| epoch-monotonic |'));
    expect(md).toContain(
      `**Failover:** a → b, ${(run.expected.failoverMs / 1000).toFixed(2)} s (bound 6.00 s) — within bound`,
    );
    expect(md).toContain('**Faults:** 1 injected, 1 verified applied, 1 verified reverted');
    expect(md).toContain('| isolate (f1) | a | 10.0 s – 30.0 s | verified | verified |');
    // The earliest violation by time, whichever check it belongs to.
    const v = [...run.verdict.violations].sort((p, q) => p.at - q.at)[0]!;
    expect(v.invariant).toBe('act-within-safe-window');
    expect(md).toContain('**First violation:** `act-within-safe-window` at t=12.005 s');
    for (const seq of v.events) {
      const e = run.history.find((h) => h.seq === seq)!;
      expect(md).toContain(`| ${seq} | ${(e.t / 1000).toFixed(3)} s |`);
    }
    expect(md).toContain(
      '**Replay:** `npx failover-lab sim --scenario isolate-primary --seed 42 --path "0:1"`',
    );
    expect(md).toContain('[timeline.html](timeline.html)');
    // Short enough for a PR comment, and emoji-free.
    expect(lines.length).toBeLessThan(50);
    expect(md.length).toBeLessThan(8000);
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('a passing run says PASSED and has no violation section', () => {
    const run = syntheticRun({ verdictMeasuresFailover: false });
    const md = renderSummary(
      buildModel({ scenario: 's', executor: 'real', history: run.history, verdict: run.verdict, startedAt }),
    );
    expect(md.split('\n')[0]).toBe('### failover-lab `s`: PASSED');
    expect(md).not.toContain('First violation');
    expect(md).toContain('(derived from the history)');
  });

  it('reports component errors (bugs) separately from injected faults', () => {
    const run = syntheticRun({ componentError: true });
    const md = renderSummary(
      buildModel({ scenario: 's', executor: 'real', history: run.history, verdict: run.verdict, startedAt }),
    );
    expect(md).toContain('**Component errors (bugs, not injected faults):** ctl-b crash: TypeError');
    expect(md).toContain('t=20.000 s');
  });

  it('escapes table pipes in details', () => {
    const run = syntheticRun();
    const verdict = {
      ...run.verdict,
      outcomes: run.verdict.outcomes.map((o, i) => (i === 0 ? { ...o, detail: 'a | b\nc' } : o)),
    };
    const md = renderSummary(
      buildModel({ scenario: 's', executor: 'sim', history: run.history, verdict, startedAt }),
    );
    expect(md).toContain('a \\| b c');
  });
});

describe('checkRows', () => {
  it('adds a failing verdict row when the verdict failed without a failing check', () => {
    const run = syntheticRun();
    const rows = checkRows({ ...run.verdict, ok: false });
    expect(rows[rows.length - 1]).toMatchObject({ name: 'verdict', outcome: 'fail' });
  });
});

describe('history.jsonl', () => {
  it('round-trips every event, one per line', () => {
    const run = syntheticRun();
    const text = serializeHistory(run.history);
    expect(text.split('\n')).toHaveLength(run.history.length + 1);
    expect(parseHistory(text, 'h.jsonl')).toEqual(run.history);
  });

  const bad = (text: string) => {
    try {
      parseHistory(text, 'runs/x/history.jsonl');
    } catch (err) {
      expect(err).toBeInstanceOf(BadInputError);
      return (err as Error).message;
    }
    throw new Error('expected a BadInputError');
  };

  it('names file:line:col for a line that is not JSON', () => {
    const msg = bad('{"seq":1,"t":0,"kind":"meta"}\n\n{"seq":2,"t":1,"kind":"note",}\n');
    expect(msg).toMatch(/^runs\/x\/history\.jsonl:3:\d+: not valid JSON: /);
    expect(msg).not.toContain('\n');
  });

  it('names file:line for a truncated last line', () => {
    expect(bad('{"seq":1,"t":0,"kind":"meta"}\n{"seq":2,"t":1,"ki')).toMatch(
      /^runs\/x\/history\.jsonl:2:\d+: /,
    );
  });

  it('names file:line for JSON that is not an event', () => {
    expect(bad('{"seq":1,"t":0,"kind":"meta"}\n[1,2]\n')).toBe(
      'runs/x/history.jsonl:2: not a history event: expected a JSON object',
    );
    expect(bad('{"seq":1,"kind":"meta"}\n')).toBe(
      'runs/x/history.jsonl:1: not a history event: missing numeric field "t"',
    );
    expect(bad('{"seq":"1","t":0,"kind":"meta"}\n')).toContain('"seq"');
  });

  it('accepts CRLF line ends and event kinds it does not know (forward compatible)', () => {
    const events = parseHistory(
      '{"seq":1,"t":0,"kind":"meta"}\r\n{"seq":2,"t":5,"kind":"future-thing","x":1}\r\n',
      'h',
    );
    expect(events.map((e) => e.kind)).toEqual(['meta', 'future-thing']);
  });

  it('locates JSON errors exactly when JSON.parse rejects the text', () => {
    const parses = (s: string) => {
      try {
        JSON.parse(s);
        return true;
      } catch {
        return false;
      }
    };
    // Valid documents, and the same documents with one character inserted or deleted.
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\n', '\\', '0', '-', '.'),
      )
      .map(([doc, at, ch]) => {
        const i = at % (doc.length + 1);
        return ch === '' ? doc.slice(0, i) + doc.slice(i + 1) : doc.slice(0, i) + ch + doc.slice(i);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated), (text) => {
        const located = jsonErrorLineCol(text);
        expect(located === null).toBe(parses(text));
        if (located) expect(located.col).toBeGreaterThan(0);
      }),
      { numRuns: 3000, seed: 7 },
    );
    expect(jsonErrorLineCol('{\n  "a": nul\n}')).toEqual({
      line: 2,
      col: 11,
      problem: 'unexpected "\\n", expected "null"',
    });
  });
});
