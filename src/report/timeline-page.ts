/**
 * The HTML page of timeline.html around the chart: header, the "why it failed" section, the
 * cards, the legend, the checks and faults tables, warnings, the event table shell and the
 * inlined data and client script.
 */
import { escapeHtml, formatMs, formatT, jsonForScript, startedText } from './format.ts';
import { firstViolation, type ReportModel, verificationOf } from './model.ts';
import { TIMELINE_CLIENT_JS } from './timeline-client.ts';
import { TIMELINE_CSS } from './timeline-css.ts';
import { attr, ROLE_COLOURS } from './timeline-svg.ts';

export interface PageParts {
  chartSvg: string;
  labelSvg: string;
  clientData: unknown;
  eventRows: unknown[];
  violationsCount: number;
}

export function timelinePage(model: ReportModel, parts: PageParts): string {
  const statusText = model.status === 'passed' ? 'PASSED' : model.status === 'failed' ? 'FAILED' : 'UNKNOWN';
  const facts = model.facts;
  const kinds = Object.keys(facts.countsByKind).sort();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.scenario)} · ${statusText} · failover-lab timeline</title>
<style>${TIMELINE_CSS}</style>
</head>
<body data-status="${model.status}">
<header>
<h1><span class="status status-${model.status}" data-testid="status">${statusText}</span> ${escapeHtml(model.scenario)}</h1>
<p class="meta">${escapeHtml(headerLine(model))}</p>
${model.replay ? `<p class="meta">replay: <code>${escapeHtml(model.replay)}</code></p>` : ''}
</header>
${whySection(model)}
<section class="cards">
${failoverCard(model)}
${writesCard(model)}
${faultsCard(model)}
</section>
<section id="chart-section">
<div class="toolbar"><button id="zoom-out" data-testid="zoom-out" title="zoom out">−</button><button id="zoom-fit" data-testid="zoom-fit">fit</button><button id="zoom-in" data-testid="zoom-in" title="zoom in">+</button> <span id="zoom-level">1.0x</span> <span class="hint">Ctrl/Cmd + wheel zooms · scroll sideways to pan · hover a bar for details · click a red marker to see its events</span></div>
<div class="chart-wrap">${parts.labelSvg}<div id="chart-scroll" class="chart-scroll">${parts.chartSvg}</div></div>
${legend()}
</section>
${checksSection(model)}
${faultsTable(model)}
${warningsSection(model)}
<section id="events">
<h2>Events</h2>
<div class="event-controls">
<label>kind <select id="filter-kind"><option value="">all (${facts.eventCount})</option>${kinds.map((k) => `<option value="${attr(k)}">${escapeHtml(k)} (${facts.countsByKind[k]})</option>`).join('')}</select></label>
<label>text <input id="filter-text" type="search" placeholder="region, reason, JSON…"></label>
<label><input id="filter-flagged" type="checkbox"> violating events only${parts.violationsCount ? '' : ' (none)'}</label>
<button id="page-prev">‹ prev</button><button id="page-next">next ›</button> <span id="page-info"></span>
</div>
<noscript><p>The event table needs JavaScript; every event is in history.jsonl next to this file.</p></noscript>
<table class="events"><colgroup><col class="c-seq"><col class="c-t"><col class="c-kind"><col class="c-who"><col class="c-what"><col class="c-json"></colgroup><thead><tr><th>seq</th><th>t (s)</th><th>kind</th><th>who</th><th>what</th><th>event JSON (click a row to expand)</th></tr></thead><tbody id="events-body"></tbody></table>
</section>
${extraSection(model)}
<script type="application/json" id="timeline-data">${jsonForScript(parts.clientData)}</script>
<script type="application/json" id="events-data">${jsonForScript(parts.eventRows)}</script>
<script>${TIMELINE_CLIENT_JS}</script>
</body>
</html>
`;
}

function headerLine(model: ReportModel): string {
  const f = model.facts;
  const parts = [`executor ${model.executor}`];
  if (f.meta?.runId) parts.push(`run ${f.meta.runId}`);
  if (model.seed !== null) parts.push(`seed ${model.seed}`);
  if (f.meta?.leaseBackend) parts.push(`lease backend ${f.meta.leaseBackend}`);
  parts.push(startedText(model.startedAt));
  if (model.wallSeconds !== null) parts.push(`wall ${model.wallSeconds.toFixed(1)} s`);
  parts.push(`${f.eventCount} events over ${formatMs(f.endT - f.startT)}`);
  if (f.meta?.timeScale !== undefined) parts.push(`time scale ${f.meta.timeScale}`);
  const within = model.verdict?.withinAssumptions ?? f.meta?.withinAssumptions;
  if (within !== undefined) parts.push(within ? 'within assumptions' : 'OUTSIDE the documented assumptions');
  return parts.join(' · ');
}

function eventLinks(seqs: number[], max = 12): string {
  const links = seqs.slice(0, max).map((s) => `<a class="ev-link" href="#ev-${s}">#${s}</a>`);
  if (seqs.length > max) links.push(`… ${seqs.length - max} more`);
  return links.join(' ');
}

function whySection(model: ReportModel): string {
  return whyChecks(model) + componentErrors(model);
}

function componentErrors(model: ReportModel): string {
  const errors = model.facts.processErrors;
  if (errors.length === 0) return '';
  const items = errors
    .slice(0, 10)
    .map((e) => `<li>${escapeHtml(e.label)} — ${escapeHtml(formatT(e.t))}, event ${eventLinks([e.seq])}</li>`)
    .join('');
  return `<section class="why why-failed" data-testid="component-errors"><h2>Component errors (bugs, not injected faults)</h2><ul>${items}${errors.length > 10 ? `<li>… ${errors.length - 10} more</li>` : ''}</ul></section>`;
}

function whyChecks(model: ReportModel): string {
  if (model.status === 'unknown') {
    return '<section class="why why-unknown"><p>No verdict was recorded for this run (result.json was missing when the report was rendered), so no check outcomes are shown.</p></section>';
  }
  // Earliest violation first, so the list reads in the order things went wrong.
  const firstAt = (c: (typeof model.checks)[number]) => Math.min(...c.violations.map((v) => v.at), Infinity);
  const failing = model.checks.filter((c) => c.outcome === 'fail').sort((p, q) => firstAt(p) - firstAt(q));
  if (failing.length === 0) {
    const expected = model.checks.filter((c) => c.outcome === 'expected-violation');
    if (expected.length === 0) {
      return `<section class="why why-ok"><p>All ${model.checks.length} checks passed.</p></section>`;
    }
    const items = expected
      .map((c) => {
        const v = [...c.violations].sort((p, q) => p.at - q.at)[0];
        const where = v
          ? ` first at ${escapeHtml(formatT(v.at))}: ${escapeHtml(v.detail)} — events ${eventLinks(v.events)}`
          : '';
        return `<li><strong>${escapeHtml(c.name)}</strong>${where}</li>`;
      })
      .join('');
    return `<section class="why why-ok why-expected" data-testid="why-expected"><p>All ${model.checks.length} checks passed. The scenario expects ${expected.length === 1 ? 'this violation' : 'these violations'}, and ${expected.length === 1 ? 'it was' : 'they were'} detected:</p><ul>${items}</ul></section>`;
  }
  const first = firstViolation(model);
  const items = failing
    .map((c) => {
      const v = c.violations[0];
      const where = v
        ? ` first at ${escapeHtml(formatT(v.at))}: ${escapeHtml(v.detail)} — events ${eventLinks(v.events)}`
        : `: ${escapeHtml(c.detail)}`;
      const more = c.violations.length > 1 ? ` (${c.violations.length} violations)` : '';
      return `<li><strong>${escapeHtml(c.name)}</strong> <span class="kind">${c.kind}</span>${more}${where}</li>`;
    })
    .join('');
  return `<section class="why why-failed" data-testid="why"><h2>Why it failed</h2>${first ? `<p class="lead">First violation: <strong>${escapeHtml(first.invariant)}</strong> at ${escapeHtml(formatT(first.at))}.</p>` : ''}<ul>${items}</ul></section>`;
}

function failoverCard(model: ReportModel): string {
  const f = model.failover;
  const first = model.facts.failovers[0];
  let gauge = '';
  if (f.measuredMs !== null && f.boundMs !== null && f.boundMs > 0) {
    // Measured time as a bar on a scale that always shows the bound, which is a labelled tick.
    const scaleMs = Math.max(f.measuredMs, f.boundMs) * 1.15;
    const measuredPct = ((f.measuredMs / scaleMs) * 100).toFixed(1);
    const boundPct = ((f.boundMs / scaleMs) * 100).toFixed(1);
    gauge = `<div class="gauge" data-testid="failover-gauge"><div class="gauge-bar ${f.withinBound ? 'ok' : 'over'}" style="width:${measuredPct}%"></div><div class="gauge-bound" style="left:${boundPct}%"><span>bound</span></div></div>`;
  }
  const value = f.measuredMs !== null ? formatMs(f.measuredMs) : first ? 'unknown' : 'none';
  const bound = f.boundMs !== null ? `bound ${formatMs(f.boundMs)}` : 'no bound recorded';
  const verdict =
    f.withinBound === null
      ? ''
      : f.withinBound
        ? ' · within bound'
        : ' · <strong class="bad">over bound</strong>';
  const route = first
    ? `${escapeHtml(first.fromRegion ?? '?')} → ${escapeHtml(first.toRegion)} at ${escapeHtml(formatT(first.promotedAtT))}${first.lostCause ? `, lost when ${escapeHtml(first.lostCause)}` : ''}`
    : 'no change of primary';
  const source =
    f.source === 'history'
      ? ' (derived from the history)'
      : f.source === 'verdict'
        ? ' (measured by the checker)'
        : '';
  return `<div class="card" data-testid="failover-card"><h3>Failover</h3><p class="big">${value}</p><p>${bound}${verdict}${source}</p>${gauge}<p class="small">${route}</p></div>`;
}

function writesCard(model: ReportModel): string {
  const w = model.facts.writes;
  const reasons = Object.entries(w.rejectReasons)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([r, n]) => `${escapeHtml(r)} ×${n}`)
    .join(', ');
  const per = Object.entries(w.byRegion)
    .map(([r, s]) => `${escapeHtml(r)}: ${s.accepted} ok / ${s.rejected} rejected`)
    .join(' · ');
  return `<div class="card"><h3>App writes</h3><p class="big">${w.accepted} <span class="small">accepted</span> · ${w.rejected} <span class="small">rejected</span></p><p class="small">${per}</p>${reasons ? `<p class="small">rejections: ${reasons}</p>` : ''}</div>`;
}

function faultsCard(model: ReportModel): string {
  const faults = model.facts.faults;
  const applied = faults.filter((f) => f.verifiedStart === true).length;
  const reverted = faults.filter((f) => f.ended && f.verifiedEnd === true).length;
  const list = faults
    .slice(0, 4)
    .map(
      (f) =>
        `${escapeHtml(f.fault)} ${escapeHtml(f.target)} ${escapeHtml(formatT(f.startT))}–${f.ended ? escapeHtml(formatT(f.endT)) : '…'}`,
    )
    .join('<br>');
  return `<div class="card"><h3>Faults</h3><p class="big">${faults.length} <span class="small">injected</span></p><p class="small">${applied} verified applied · ${reverted} verified reverted</p><p class="small">${list}${faults.length > 4 ? '<br>…' : ''}</p></div>`;
}

function legend(): string {
  const sw = (fill: string, text: string) =>
    `<span class="sw"><svg width="14" height="10"><rect width="14" height="10" fill="${fill}"/></svg>${escapeHtml(text)}</span>`;
  const roles = Object.entries(ROLE_COLOURS).map(([r, c]) => sw(c, r));
  return `<div class="legend">${roles.join('')}${sw('#0f766e', 'write authority')}${sw('#16a34a', 'accepted write / reachable')}${sw('#dc2626', 'rejected write / unreachable / act outside safe window')}${sw('#a3a3a3', 'unknown vote')}${sw('rgba(251,191,36,0.45)', 'fault window')}<span class="sw"><svg width="14" height="14"><path d="M7 0 L14 7 L7 14 L0 7 Z" fill="#d0021b"/></svg>violation (click)</span><span class="sw"><svg width="14" height="14"><path d="M7 0 L14 7 L7 14 L0 7 Z" fill="#7c3aed"/></svg>expected violation</span></div>`;
}

function checksSection(model: ReportModel): string {
  if (model.checks.length === 0) return '';
  const rows = model.checks
    .map(
      (c) =>
        `<tr class="outcome-${c.outcome}"><td>${escapeHtml(c.name)}</td><td>${c.kind}${c.category && c.category !== c.kind ? ` · ${c.category}` : ''}</td><td class="outcome">${c.outcome}</td><td>${escapeHtml(c.detail)}</td><td>${c.violations.length ? eventLinks(c.violations.flatMap((v) => v.events).slice(0, 6), 6) : ''}</td></tr>`,
    )
    .join('');
  return `<section><h2>Checks</h2><table class="checks"><thead><tr><th>check</th><th>kind</th><th>result</th><th>detail</th><th>events</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function faultsTable(model: ReportModel): string {
  const faults = model.facts.faults;
  if (faults.length === 0) return '';
  const rows = faults
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.fault)}</td><td>${escapeHtml(f.target)}</td><td><a class="ev-link" href="#ev-${f.startSeq}">${escapeHtml(formatT(f.startT))}</a></td><td>${f.ended && f.endSeq !== null ? `<a class="ev-link" href="#ev-${f.endSeq}">${escapeHtml(formatT(f.endT))}</a>` : 'never ended'}</td><td>${f.ended ? formatMs(f.endT - f.startT) : ''}</td><td>${verificationOf(f.verifiedStart)}</td><td>${f.ended ? verificationOf(f.verifiedEnd) : ''}</td><td>${escapeHtml([f.detail ?? '', actedOn(f)].filter(Boolean).join(' · '))}</td></tr>`,
    )
    .join('');
  return `<section><h2>Faults</h2><table class="faults"><thead><tr><th>id</th><th>fault</th><th>target</th><th>start</th><th>end</th><th>duration</th><th>applied</th><th>reverted</th><th>detail · acted on</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function warningsSection(model: ReportModel): string {
  if (model.warnings.length === 0) return '';
  return `<section class="warnings"><h2>Warnings about this history</h2><ul>${model.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></section>`;
}

function extraSection(model: ReportModel): string {
  const keys = Object.keys(model.extra);
  if (keys.length === 0) return '';
  let json = JSON.stringify(model.extra, null, 2) ?? '';
  if (json.length > 20_000) json = `${json.slice(0, 20_000)}\n… (truncated; full text in result.json)`;
  return `<section><details><summary>Extra run data (${keys.map(escapeHtml).join(', ')})</summary><pre>${escapeHtml(json)}</pre></details></section>`;
}

/** What a fault acted on, as the executor resolved it (components, or links, shortened). */
export function actedOn(f: { links: string[] | null; components: string[] | null }): string {
  const list = [...(f.components ?? []), ...(f.links ?? [])];
  if (list.length === 0) return '';
  return list.length > 6 ? `${list.slice(0, 6).join(', ')} … (${list.length} in all)` : list.join(', ');
}
