/**
 * Golden test for pure moves (issue #19): a fixed simulator seed gives a byte-identical
 * history, verdict and report. A refactor that only moves code must keep this green; a
 * change that means to alter behaviour regenerates the files with
 *   UPDATE_GOLDEN=1 npx vitest run test/golden/sim-golden.test.ts
 * and says why in its commit. The scenarios are written here, not read from scenarios/,
 * so catalog edits do not move the golden files.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import { FILES, serializeHistory, writeRunReport } from '../../src/report/index.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const GOLDEN_DIR = join(import.meta.dirname, 'files');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const STARTED_AT = new Date('2026-01-02T03:04:05.678Z');
const FINISHED_AT = new Date('2026-01-02T03:04:07.000Z');

interface GoldenCase {
  name: string;
  seed: number;
  yaml: string;
}

const CASES: GoldenCase[] = [
  {
    // a failover: faults, role changes, lease hand-over, DNS flip, every check evaluated
    name: 'primary-region-isolated',
    seed: 7,
    yaml: `name: primary-region-isolated
duration: 120s
steps:
  - at: 20s
    for: 70s
    fault: isolate
    target: a
expect:
  - failover-within: 60s
  - demoted-within: { region: a, within: 35s }
  - primary-at-end: b
`,
  },
  {
    // a violation: the KV lease grants twice, so the report renders a counterexample
    name: 'kv-split-brain',
    seed: 3,
    yaml: `name: kv-split-brain
duration: 200s
topology:
  leaseBackend: kv
steps:
  - at: 20s
    for: 70s
    fault: partition
    target: [ctl-b->peer, w1->auth-a, w2->auth-a, w3->auth-a, auth-b->app-a]
    params: { oneway: true, mode: drop }
  - at: 90s
    for: 80s
    fault: partition
    target: [ctl-a->worker, ctl-b->worker]
expect:
  - violation-detected: single-primary
`,
  },
];

/** The report files compared byte for byte, with history.jsonl and the verdict. */
const REPORT_FILES = [FILES.result, FILES.summary, FILES.junit, FILES.timeline] as const;

const tmpRoots: string[] = [];
afterAll(async () => {
  for (const d of tmpRoots) await rm(d, { recursive: true, force: true });
});

async function produce(c: GoldenCase): Promise<Map<string, string>> {
  const scenario = parseScenario(c.yaml, `${c.name}.yaml`);
  const r = simulateScenario(scenario, { seed: c.seed });
  const root = await mkdtemp(join(tmpdir(), 'fl-golden-'));
  tmpRoots.push(root);
  const { dir } = await writeRunReport(
    {
      scenario: scenario.name,
      executor: 'sim',
      history: r.history,
      verdict: r.verdict,
      startedAt: STARTED_AT,
      finishedAt: FINISHED_AT,
      wallSeconds: 1.322,
      extra: { seed: c.seed, replay: `npx failover-lab sim --scenario ${c.name}.yaml --seed ${c.seed}` },
    },
    { reportsRoot: root },
  );
  const out = new Map<string, string>();
  out.set('history.jsonl', serializeHistory(r.history));
  out.set('verdict.json', `${JSON.stringify(r.verdict, null, 2)}\n`);
  out.set(
    'stats.json',
    `${JSON.stringify({ ...r.stats, withinAssumptions: r.withinAssumptions }, null, 2)}\n`,
  );
  for (const f of REPORT_FILES) out.set(f, await readFile(join(dir, f), 'utf8'));
  return out;
}

describe('golden sim runs (pure moves change nothing)', () => {
  for (const c of CASES) {
    it(`${c.name} seed ${c.seed}: history, verdict and report are byte-identical`, async () => {
      const actual = await produce(c);
      const mismatched: string[] = [];
      for (const [file, text] of actual) {
        const path = join(GOLDEN_DIR, c.name, file);
        if (UPDATE) {
          await writeFile(path, text);
          continue;
        }
        const golden = await readFile(path, 'utf8');
        if (golden !== text) mismatched.push(file);
      }
      expect(mismatched, `files differing from ${join(GOLDEN_DIR, c.name)}`).toEqual([]);
    });
  }
});
