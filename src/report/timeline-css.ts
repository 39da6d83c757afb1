/** The style sheet of timeline.html, inlined into the page (its CSP allows inline styles only). */
export const TIMELINE_CSS = `
*{box-sizing:border-box}
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;padding:12px 16px 40px;color:#111;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:15px;margin:18px 0 6px}
h3{font-size:12px;margin:0 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#555}
code,.json{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
.meta{margin:2px 0;color:#444}
.status{display:inline-block;padding:2px 8px;border-radius:4px;font-size:14px;vertical-align:2px;color:#fff}
.status-passed{background:#15803d}.status-failed{background:#b91c1c}.status-unknown{background:#6b7280}
.why{margin:10px 0;padding:8px 12px;border-radius:6px;border:1px solid #ddd;background:#fff}
.why-failed{border-color:#fca5a5;background:#fef2f2}.why-ok{border-color:#86efac;background:#f0fdf4}
.why h2{margin:0 0 4px;color:#991b1b}.why ul{margin:4px 0 0;padding-left:18px}.why .kind{color:#666;font-size:11px}
.lead{margin:0}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0}
.card{flex:1 1 220px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.card p{margin:2px 0}.big{font-size:20px;font-weight:600}.small{font-size:11.5px;color:#444;font-weight:400}.bad{color:#b91c1c}
.gauge{position:relative;height:12px;background:#f1f5f9;border-radius:3px;margin:6px 0 16px}
.gauge-bar{height:100%;border-radius:3px}.gauge-bar.ok{background:#15803d}.gauge-bar.over{background:#dc2626}
.gauge-bound{position:absolute;top:-3px;bottom:-3px;border-left:2px solid #111}
.gauge-bound span{position:absolute;top:15px;left:-16px;font-size:10.5px;color:#333}
#chart-section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px}
.toolbar{margin:0 0 6px;display:flex;align-items:center;gap:4px}
.toolbar button{min-width:30px;padding:2px 8px;font-size:13px;cursor:pointer}
.hint{color:#666;font-size:11.5px;margin-left:8px}
.chart-wrap{display:flex;align-items:flex-start}
.lane-labels{flex:0 0 auto;border-right:1px solid #ddd;background:#fff}
.chart-scroll{flex:1 1 auto;overflow-x:auto;overflow-y:hidden}
#chart{display:block}
#chart text,.lane-labels text{font-size:11px}
.lane-label{fill:#222}.group-label{fill:#111;font-weight:600}.band-label{fill:#666;font-style:italic}.sublabel{fill:#666;font-size:10px!important}
.group-title{fill:#888;font-size:10px!important;text-transform:uppercase;letter-spacing:.05em}
.band-bg{fill:#f5f5f4}.violation-band{fill:#fff1f2}
.tick{fill:#555}.grid{stroke:#e5e7eb;stroke-width:1}
.lanes-top{stroke:#d4d4d4}
.bar-label{pointer-events:none;font-size:10.5px!important}
.no-data{fill:#999;font-style:italic}
.inferred{opacity:.55}
.baseline{stroke:#d4d4d4}
.write-accepted{fill:#16a34a}.write-rejected{fill:#dc2626}
.lease-free{stroke:#cbd5e1}
.fault-shade{fill:url(#fault-hatch);pointer-events:none;stroke:#d97706;stroke-width:1;stroke-dasharray:4 3}
.fault-unverified{stroke:#b91c1c}
.fault-tab{fill:rgba(245,158,11,.35);stroke:#d97706;stroke-width:.8}
.fault-label{fill:#7c2d12;font-weight:600;pointer-events:none}
.violation-line{stroke:#d0021b;stroke-width:1.5;stroke-dasharray:5 3}
.violation-diamond{fill:#d0021b;stroke:#fff;stroke-width:1}
.violation-marker{cursor:pointer}
.violation-marker.expected .violation-diamond{fill:#7c3aed}.violation-marker.expected .violation-line{stroke:#7c3aed}
/* The dashed line is thin and gappy: a wide invisible stroke makes the whole marker clickable. */
.violation-hit{stroke:transparent;stroke-width:10;pointer-events:stroke}
.violation-label{fill:#b91c1c;font-weight:600;pointer-events:none}
.violation-marker:hover .violation-diamond{fill:#7f1d1d}
.unsafe-act{cursor:pointer}
#cursor line{stroke:#1d4ed8;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 2px 0;color:#333;font-size:11.5px}
.sw{display:inline-flex;align-items:center;gap:4px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #e5e5e5;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
.checks .outcome-fail td.outcome{color:#b91c1c;font-weight:700}
.checks .outcome-pass td.outcome{color:#15803d}
.checks .outcome-not-exercised td.outcome{color:#b45309;font-weight:700}
.event-controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:0 0 6px}
.events td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.events td.t-link{cursor:pointer;color:#1d4ed8;text-decoration:underline dotted}
.events{table-layout:fixed}
.events td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.events td.json{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;color:#333;cursor:zoom-in}
.events tr.open td{white-space:normal;word-break:break-word}
.events tr.open td.json{cursor:zoom-out}
.events col.c-seq{width:60px}.events col.c-t{width:70px}.events col.c-kind{width:120px}.events col.c-who{width:80px}.events col.c-what{width:38%}
.events tr.violating{background:#fee2e2}
.events tr.target{outline:2px solid #d0021b;background:#fecaca}
.kind-fault{color:#b45309;font-weight:600}.kind-role{color:#15803d;font-weight:600}
.warnings{color:#92400e}
pre{white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:8px;max-height:400px;overflow:auto}
`;
