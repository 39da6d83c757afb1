// Merges the junit.xml of every run under a reports directory into one file, so CI has a
// single test report: node merge-junit.mjs <reports-dir> <out.xml>. Each run's junit.xml
// is one <testsuites> with <testsuite> children (src/report/junit.ts); `latest` links are
// skipped so no run counts twice. Zero runs still writes a valid, empty <testsuites>.
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [reportsDir, outFile] = process.argv.slice(2);
if (!reportsDir || !outFile) {
  process.stderr.write('usage: merge-junit.mjs <reports-dir> <out.xml>\n');
  process.exit(2);
}

function junitFiles(dir, out = []) {
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out; // no reports at all (nothing ran): an empty report, not an error
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    const info = lstatSync(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) junitFiles(path, out);
    else if (name === 'junit.xml' && resolve(path) !== resolve(outFile)) out.push(path);
  }
  return out;
}

const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
const suites = [];
for (const file of junitFiles(reportsDir)) {
  const xml = readFileSync(file, 'utf8');
  for (const suite of xml.match(/<testsuite\b[\s\S]*?<\/testsuite>/g) ?? []) {
    const head = suite.slice(0, suite.indexOf('>'));
    for (const key of Object.keys(totals))
      totals[key] += Number(head.match(new RegExp(`\\b${key}="([\\d.]+)"`))?.[1] ?? 0);
    suites.push(suite);
  }
}
const attrs = Object.entries(totals)
  .map(([k, v]) => `${k}="${k === 'time' ? v.toFixed(3) : v}"`)
  .join(' ');
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="failover-lab" ${attrs}>\n${suites.map((s) => `  ${s}`).join('\n')}\n</testsuites>\n`,
);
process.stdout.write(
  `junit: ${suites.length} suite(s), ${totals.tests} tests, ${totals.failures} failures -> ${outFile}\n`,
);
