#!/usr/bin/env node
// Lists the mutants Stryker's JSON report (reports/mutation/mutation.json by default) did not
// kill: file:line, mutator, status and the replacement, plus per-file counts and the score
// (killed + timeout over all tested + no coverage, as Stryker computes it). Usage:
//   node scripts/mutation-survivors.mjs [report.json] [--all]   (--all: killed ones too)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? 'reports/mutation/mutation.json';
const all = args.includes('--all');
const report = JSON.parse(readFileSync(file, 'utf8'));
const LIVE = new Set(['Survived', 'NoCoverage']);
const DETECTED = new Set(['Killed', 'Timeout']);
let totals = { detected: 0, undetected: 0 };
for (const [path, f] of Object.entries(report.files)) {
  const counts = {};
  for (const m of f.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = f.mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = f.mutants.filter((m) => LIVE.has(m.status)).length;
  totals = { detected: totals.detected + detected, undetected: totals.undetected + undetected };
  const score = detected + undetected > 0 ? ((100 * detected) / (detected + undetected)).toFixed(2) : '-';
  console.log(`${path}: ${f.mutants.length} mutants ${JSON.stringify(counts)} score ${score} %`);
  const lines = f.source.split('\n');
  for (const m of [...f.mutants].sort((a, b) => a.location.start.line - b.location.start.line)) {
    if (!all && !LIVE.has(m.status)) continue;
    const { start, end } = m.location;
    const orig =
      start.line === end.line
        ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
        : `${lines[start.line - 1].slice(start.column - 1)} …`;
    const show = (s) => (s.length > 70 ? `${s.slice(0, 67)}...` : s).replace(/\s+/g, ' ');
    console.log(
      `  ${path}:${start.line} ${m.status} ${m.mutatorName}: ${show(orig)} -> ${show(m.replacement ?? '')}`,
    );
  }
}
const n = totals.detected + totals.undetected;
console.log(
  `total: ${totals.detected} detected / ${n} scored = ${n ? ((100 * totals.detected) / n).toFixed(2) : '-'} %`,
);
