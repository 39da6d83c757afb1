/** reports/index.html: every run in one table (scenario, time, executor, verdict, failover, link). */
import { escapeHtml, formatMs } from './format.ts';

/** One run as the index lists it (read from its result.json by store.ts collectIndexRows). */
export interface IndexRow {
  scenario: string;
  runDir: string;
  /** path of the run directory relative to the reports root */
  relDir: string;
  startedAt: string | null;
  executor: string | null;
  status: string;
  failoverMs: number | null;
  failoverBoundMs: number | null;
  /** result.json's judgement (null: the bound does not apply, e.g. a history-derived time) */
  failoverWithinBound: boolean | null;
  failedChecks: string[];
  hasTimeline: boolean;
  problem: string | null;
}

export function renderIndexPage(rows: IndexRow[], generatedAt: Date): string {
  const body = rows
    .map((r) => {
      const failover =
        r.failoverMs === null
          ? '—'
          : `${formatMs(r.failoverMs)}${r.failoverBoundMs !== null ? ` / ${formatMs(r.failoverBoundMs)}` : ''}`;
      // only a checker-measured failover is judged against the bound (see failoverTiming)
      const over = r.failoverWithinBound === false;
      const href = `${encodeURI(r.relDir)}/timeline.html`;
      const link = r.hasTimeline ? `<a href="${escapeHtml(href)}">timeline</a>` : '';
      const detail = r.problem ?? (r.failedChecks.length > 0 ? `failed: ${r.failedChecks.join(', ')}` : '');
      return `<tr class="status-${escapeHtml(r.status)}" data-testid="run-row"><td>${escapeHtml(r.scenario)}</td><td>${escapeHtml(r.startedAt ? r.startedAt.replace('T', ' ') : r.runDir)}</td><td>${escapeHtml(r.executor ?? '')}</td><td class="verdict">${escapeHtml(r.status)}</td><td${over ? ' class="over"' : ''}>${escapeHtml(failover)}</td><td>${link} <span class="dir">${escapeHtml(r.relDir)}</span></td><td class="detail">${escapeHtml(detail)}</td></tr>`;
    })
    .join('\n');
  const passed = rows.filter((r) => r.status === 'passed').length;
  const failed = rows.filter((r) => r.status === 'failed').length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>failover-lab reports</title>
<style>
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:16px;color:#111}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #e5e5e5;padding:4px 8px;text-align:left;white-space:nowrap}
td.detail{white-space:normal}
th{background:#f3f4f6}
.status-passed .verdict{color:#15803d;font-weight:600}
.status-failed .verdict{color:#b91c1c;font-weight:700}
.over{color:#b91c1c;font-weight:600}
.dir{color:#777;font-size:11px}
</style>
</head>
<body>
<h1>failover-lab reports</h1>
<p>${rows.length} runs · ${passed} passed · ${failed} failed · generated ${escapeHtml(generatedAt.toISOString())}</p>
<table>
<thead><tr><th>scenario</th><th>started</th><th>executor</th><th>verdict</th><th>failover / bound</th><th>report</th><th>detail</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}
