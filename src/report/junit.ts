/**
 * junit.xml: one <testsuite> per run, one <testcase> per invariant and expectation, so CI
 * (GitHub/GitLab/Jenkins test reports) shows which invariant broke. A failure's message names
 * the invariant; its text lists each violation with the violating events (seq, t, compact JSON).
 */
import { compactJson, escapeXml, escapeXmlAttr, formatMs, formatT } from './format.ts';
import type { CheckRow, ReportModel } from './model.ts';

/** Caps keep junit.xml small enough for CI viewers even when a run violates thousands of times. */
const MAX_VIOLATIONS_PER_CASE = 10;
const MAX_EVENTS_PER_VIOLATION = 12;

export function renderJunit(model: ReportModel): string {
  const rows = model.checks;
  const failures = rows.filter((r) => r.outcome === 'fail').length;
  const skipped =
    rows.filter((r) => r.outcome === 'not-evaluated' || r.outcome === 'not-exercised').length +
    (model.verdict ? 0 : 1);
  const tests = rows.length + (model.verdict ? 0 : 1);
  const timeSeconds = model.wallSeconds ?? (model.facts.endT - model.facts.startT) / 1000;
  const suiteName = `failover-lab.${model.scenario}`;
  const timestamp = model.startedAt.toISOString().replace(/\.\d{3}Z$/, '');
  const lines: string[] = [];
  lines.push('<?xml version="1.0" encoding="UTF-8"?>');
  lines.push(
    `<testsuites name="failover-lab" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${timeSeconds.toFixed(3)}">`,
  );
  lines.push(
    `  <testsuite name="${escapeXmlAttr(suiteName)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${timeSeconds.toFixed(3)}" timestamp="${timestamp}">`,
  );
  lines.push('    <properties>');
  for (const [name, value] of suiteProperties(model)) {
    lines.push(`      <property name="${escapeXmlAttr(name)}" value="${escapeXmlAttr(value)}"/>`);
  }
  lines.push('    </properties>');
  for (const row of rows) lines.push(...testcase(model, row, suiteName));
  if (!model.verdict) {
    lines.push(`    <testcase classname="${escapeXmlAttr(suiteName)}" name="verdict" time="0">`);
    lines.push(
      '      <skipped message="no verdict recorded: result.json was missing when this report was re-rendered"/>',
    );
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function suiteProperties(model: ReportModel): Array<[string, string]> {
  const props: Array<[string, string]> = [
    ['scenario', model.scenario],
    ['executor', model.executor],
    ['status', model.status],
  ];
  const meta = model.facts.meta;
  if (meta?.runId) props.push(['runId', meta.runId]);
  if (model.seed !== null) props.push(['seed', String(model.seed)]);
  if (meta?.path) props.push(['path', meta.path]);
  if (model.replay) props.push(['replay', model.replay]);
  if (model.verdict) props.push(['withinAssumptions', String(model.verdict.withinAssumptions)]);
  if (model.failover.measuredMs !== null) props.push(['failoverMs', String(model.failover.measuredMs)]);
  if (model.failover.boundMs !== null) props.push(['failoverBoundMs', String(model.failover.boundMs)]);
  return props;
}

function testcase(model: ReportModel, row: CheckRow, suiteName: string): string[] {
  const open = `    <testcase classname="${escapeXmlAttr(`${suiteName}.${row.category ?? row.kind}`)}" name="${escapeXmlAttr(row.name)}" time="0">`;
  if (row.outcome === 'pass') {
    return [`${open}`, `      <system-out>${escapeXml(row.detail)}</system-out>`, '    </testcase>'];
  }
  if (row.outcome === 'not-evaluated' || row.outcome === 'not-exercised') {
    return [
      open,
      `      <skipped message="${escapeXmlAttr(row.outcome === 'not-exercised' ? row.detail : `not evaluated: ${row.detail}`)}"/>`,
      '    </testcase>',
    ];
  }
  if (row.outcome === 'expected-violation') {
    // The checker judged the run ok although this check failed (a known-unsafe configuration
    // whose violation the scenario expects): a pass, with the violation kept as output.
    return [
      open,
      `      <system-out>${escapeXml(`violated as expected: ${row.detail}\n${violationText(model, row)}`)}</system-out>`,
      '    </testcase>',
    ];
  }
  const first = row.violations[0];
  const message = first
    ? `${row.kind} ${row.name} violated at ${formatT(first.at)}: ${first.detail}`
    : `${row.kind} ${row.name} failed: ${row.detail}`;
  return [
    open,
    `      <failure message="${escapeXmlAttr(message)}" type="${row.kind}-violated">${escapeXml(
      `${row.kind} ${row.name} failed: ${row.detail}\n${violationText(model, row)}`,
    )}</failure>`,
    '    </testcase>',
  ];
}

function violationText(model: ReportModel, row: CheckRow): string {
  const out: string[] = [];
  const shown = row.violations.slice(0, MAX_VIOLATIONS_PER_CASE);
  for (const [i, v] of shown.entries()) {
    out.push(
      `violation ${i + 1} of ${row.violations.length}: ${v.invariant} at ${formatT(v.at)}: ${v.detail}`,
    );
    for (const seq of v.events.slice(0, MAX_EVENTS_PER_VIOLATION)) {
      const e = model.bySeq.get(seq);
      out.push(e ? `  seq ${seq} ${formatT(e.t)} ${compactJson(e)}` : `  seq ${seq} (not in history.jsonl)`);
    }
    if (v.events.length > MAX_EVENTS_PER_VIOLATION) {
      out.push(`  … ${v.events.length - MAX_EVENTS_PER_VIOLATION} more events (see result.json)`);
    }
  }
  if (row.violations.length > shown.length) {
    out.push(`… ${row.violations.length - shown.length} more violations (see result.json)`);
  }
  if (model.failover.measuredMs !== null && row.name.includes('failover')) {
    out.push(
      `failover took ${formatMs(model.failover.measuredMs)} (bound ${formatMs(model.failover.boundMs)})`,
    );
  }
  return out.join('\n');
}
