/**
 * summary.md: short enough for a pull-request comment. Plain-word status (no emoji, so it
 * reads the same in a terminal, an e-mail and GitHub), the checks, failover vs bound, faults,
 * and the first violation with its events — the "why did it fail" a reviewer needs first.
 */
import { compactJson, formatMs, formatT, mdCell, mdCode, startedText } from './format.ts';
import { firstViolation, type ReportModel, verificationOf } from './model.ts';

const MAX_CHECK_ROWS = 20;
const MAX_FAULT_ROWS = 8;
const MAX_VIOLATION_EVENTS = 8;

const OUTCOME_WORD = {
  pass: 'pass',
  fail: 'FAIL',
  'not-evaluated': 'not evaluated',
  'not-exercised': 'NOT EXERCISED',
  'expected-violation': 'violated (expected)',
} as const;

export function renderSummary(model: ReportModel, opts: { timelineHref?: string } = {}): string {
  const href = opts.timelineHref ?? 'timeline.html';
  const out: string[] = [];
  const failing = model.checks.filter((c) => c.outcome === 'fail');
  const statusWord =
    model.status === 'passed'
      ? 'PASSED'
      : model.status === 'failed'
        ? `FAILED (${failing.length} of ${model.checks.length} checks failed)`
        : 'UNKNOWN (no verdict recorded)';
  out.push(`### failover-lab \`${model.scenario}\`: ${statusWord}`);
  out.push('');
  const facts: string[] = [`executor ${model.executor}`];
  if (model.seed !== null) facts.push(`seed ${model.seed}`);
  facts.push(startedText(model.startedAt));
  if (model.wallSeconds !== null) facts.push(`wall ${model.wallSeconds.toFixed(1)} s`);
  facts.push(`${model.facts.eventCount} events over ${formatMs(model.facts.endT - model.facts.startT)}`);
  const within = model.verdict?.withinAssumptions ?? model.facts.meta?.withinAssumptions;
  if (within !== undefined) facts.push(`within assumptions: ${within ? 'yes' : 'no'}`);
  out.push(facts.join(' · '));
  out.push('');

  if (model.checks.length > 0) {
    out.push('| check | kind | result | detail |');
    out.push('|---|---|---|---|');
    // Failing checks first: in a long list the reader should not have to hunt for them.
    const ordered = [...failing, ...model.checks.filter((c) => c.outcome !== 'fail')];
    for (const c of ordered.slice(0, MAX_CHECK_ROWS)) {
      out.push(`| ${mdCell(c.name, 60)} | ${c.kind} | ${OUTCOME_WORD[c.outcome]} | ${mdCell(c.detail)} |`);
    }
    if (ordered.length > MAX_CHECK_ROWS)
      out.push(`| … | | | ${ordered.length - MAX_CHECK_ROWS} more in result.json |`);
    out.push('');
  }

  out.push(`**Failover:** ${failoverLine(model)}`);
  out.push('');
  const avail = availabilityLine(model);
  if (avail) {
    out.push(`**Availability:** ${avail}`);
    out.push('');
  }
  out.push(`**Faults:** ${faultsLine(model)}`);
  const faults = model.facts.faults;
  if (faults.length > 0) {
    out.push('');
    out.push('| fault | target | window | applied | reverted |');
    out.push('|---|---|---|---|---|');
    for (const f of faults.slice(0, MAX_FAULT_ROWS)) {
      const window = f.ended
        ? `${formatMs(f.startT)} – ${formatMs(f.endT)}`
        : `${formatMs(f.startT)} – (never ended)`;
      out.push(
        `| ${mdCell(`${f.fault} (${f.id})`, 60)} | ${mdCell(f.target, 60)} | ${window} | ${verificationOf(f.verifiedStart)} | ${f.ended ? verificationOf(f.verifiedEnd) : 'never ended'} |`,
      );
    }
    if (faults.length > MAX_FAULT_ROWS) out.push(`| … | | ${faults.length - MAX_FAULT_ROWS} more | | |`);
  }
  out.push('');

  const v = firstViolation(model);
  if (v) {
    out.push(`**First violation:** \`${v.invariant}\` at ${formatT(v.at)}: ${mdCell(v.detail, 400)}`);
    out.push('');
    out.push('| seq | t | event |');
    out.push('|---|---|---|');
    for (const seq of v.events.slice(0, MAX_VIOLATION_EVENTS)) {
      const e = model.bySeq.get(seq);
      out.push(
        e
          ? `| ${seq} | ${(e.t / 1000).toFixed(3)} s | ${mdCode(compactJson(e, 200)).replace(/\|/g, '\\|')} |`
          : `| ${seq} | | (not in history) |`,
      );
    }
    if (v.events.length > MAX_VIOLATION_EVENTS) {
      out.push(`| … | | ${v.events.length - MAX_VIOLATION_EVENTS} more events in the timeline |`);
    }
    out.push('');
  }
  const errors = model.facts.processErrors;
  if (errors.length > 0) {
    const shown = errors
      .slice(0, 3)
      .map((e) => `${mdCell(e.label, 200)} (seq ${e.seq}, ${formatT(e.t)})`)
      .join('; ');
    out.push(
      `**Component errors (bugs, not injected faults):** ${shown}${errors.length > 3 ? `; … ${errors.length - 3} more` : ''}`,
    );
    out.push('');
  }
  if (model.replay) {
    out.push(`**Replay:** ${mdCode(model.replay)}`);
    out.push('');
  }
  if (typeof model.extra['resilienceScore'] === 'number') {
    out.push(`**Resilience score:** ${model.extra['resilienceScore']}`);
    out.push('');
  }
  out.push(`Timeline: [timeline.html](${href}) · results: result.json, junit.xml, history.jsonl`);
  return `${out.join('\n')}\n`;
}

function failoverLine(model: ReportModel): string {
  const f = model.failover;
  const first = model.facts.failovers[0];
  const bound = f.boundMs !== null ? ` (bound ${formatMs(f.boundMs)})` : '';
  if (f.measuredMs === null) {
    if (first)
      return `${first.fromRegion ?? '?'} → ${first.toRegion} at ${formatT(first.promotedAtT)}; loss time unknown${bound}`;
    return `no failover happened${bound}`;
  }
  const verdictWord = f.withinBound === null ? '' : f.withinBound ? ' — within bound' : ' — OVER BOUND';
  const route = first ? `${first.fromRegion ?? '?'} → ${first.toRegion}, ` : '';
  const source = f.source === 'history' ? ' (derived from the history)' : '';
  return `${route}${formatMs(f.measuredMs)}${bound}${verdictWord}${source}`;
}

function faultsLine(model: ReportModel): string {
  const faults = model.facts.faults;
  if (faults.length === 0) return 'none';
  const applied = faults.filter((f) => f.verifiedStart === true).length;
  const notApplied = faults.filter((f) => f.verifiedStart === false).length;
  const reverted = faults.filter((f) => f.ended && f.verifiedEnd === true).length;
  const open = faults.filter((f) => !f.ended).length;
  const parts = [`${faults.length} injected`, `${applied} verified applied`, `${reverted} verified reverted`];
  if (notApplied > 0) parts.push(`${notApplied} NOT confirmed applied`);
  if (open > 0) parts.push(`${open} never ended`);
  return parts.join(', ');
}

/** Writes accepted / attempted and the longest stretch without a writable region, from the checker's verdict. */
function availabilityLine(model: ReportModel): string | null {
  const m = model.verdict?.measurements;
  if (!m || m.availability === undefined) return null;
  const parts = [
    `${(m.availability * 100).toFixed(1)} % of writes accepted (${m.acceptedWrites ?? 0} of ${(m.acceptedWrites ?? 0) + (m.rejectedWrites ?? 0)})`,
  ];
  if (m.longestUnavailableMs !== undefined)
    parts.push(`longest stretch without a writable region ${formatMs(m.longestUnavailableMs)}`);
  if (m.longestUnexplainedUnavailableMs !== undefined && m.unavailabilityBoundMs !== undefined)
    parts.push(
      `${formatMs(m.longestUnexplainedUnavailableMs)} of it unexplained by faults (bound ${formatMs(m.unavailabilityBoundMs)})`,
    );
  return parts.join(' · ');
}
