// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plans reference endpoints as ${endpoints.x}, literally
/**
 * Exported manifests parse as YAML and carry the apiVersion, kind and spec fields the
 * upstream CRDs require. The checks here are written out field by field (not through the
 * exporter's own validateManifest), and validateManifest itself is shown to reject broken docs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportFile } from '../../src/gameday/export/index.ts';
import { validateManifest } from '../../src/gameday/export/validate.ts';

// Created in beforeAll, not at import: collecting tests (vitest list) must not leave dirs behind.
let dir = '';
let scenarioFile = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-export-test-'));
  scenarioFile = join(dir, 'scenario.yaml');
  writeFileSync(scenarioFile, SCENARIO);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Doc = any;

function parse(text: string): Doc[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}

const SCENARIO = `name: isolation-then-drift
description: export fixture
duration: 60s
steps:
  - { at: 5s, for: 20s, fault: isolate, target: a }
  - { at: 30s, for: 5s, fault: partition, target: ctl-a->worker, params: { oneway: true } }
  - { at: 36s, for: 3500ms, fault: latency, target: [ctl-b->w1, ctl-b->w2, ctl-b->w3], params: { latency: 150ms, jitter: 10ms } }
  - { at: 40s, for: 4s, fault: clock-offset, target: ctl-b, params: { offset: -5s } }
  - { at: 45s, for: 5s, fault: clock-drift, target: ctl-b, params: { rate: 0.01 } }
  - { at: 51s, for: 2s, fault: loss, target: client->app-a, params: { probability: 0.25 } }
expect:
  - failover-within: 30s
`;

function expectLitmusEngine(e: Doc) {
  expect(e.apiVersion).toBe('litmuschaos.io/v1alpha1');
  expect(e.kind).toBe('ChaosEngine');
  expect(typeof e.metadata.name).toBe('string');
  expect(['active', 'stop']).toContain(e.spec.engineState);
  expect(e.spec.appinfo.appns).toBe('failover-lab');
  expect(e.spec.appinfo.applabel).toMatch(/^[\w./-]+=[\w.-]+(,[\w./-]+=[\w.-]+)*$/);
  expect(e.spec.appinfo.appkind).toBe('deployment');
  expect(typeof e.spec.chaosServiceAccount).toBe('string');
  expect(e.spec.experiments.length).toBeGreaterThan(0);
  for (const x of e.spec.experiments) {
    expect(typeof x.name).toBe('string');
    for (const env of x.spec.components.env) {
      expect(typeof env.name).toBe('string');
      expect(typeof env.value).toBe('string'); // Kubernetes env values are strings
    }
  }
}

const envOf = (e: Doc) =>
  Object.fromEntries(e.spec.experiments[0].spec.components.env.map((x: Doc) => [x.name, x.value]));

describe('export --to litmus', () => {
  it('a scenario becomes ChaosExperiments + ordered ChaosEngines with env tunables; what Litmus cannot express is said', async () => {
    const r = await exportFile(scenarioFile, 'litmus');
    expect(r.files).toHaveLength(1);
    const docs = parse(r.files[0]!.text);
    const experiments = docs.filter((d) => d.kind === 'ChaosExperiment');
    const engines = docs.filter((d) => d.kind === 'ChaosEngine');
    for (const x of experiments) {
      expect(x.apiVersion).toBe('litmuschaos.io/v1alpha1');
      expect(typeof x.spec.definition.image).toBe('string');
      expect(x.spec.definition.args).toEqual(['-c', `./experiments -name ${x.metadata.name}`]);
      expect(Array.isArray(x.spec.definition.permissions)).toBe(true);
      expect(x.spec.definition.scope).toBe('Namespaced');
    }
    for (const e of engines) expectLitmusEngine(e);
    // Every experiment an engine runs is defined.
    const defined = new Set(experiments.map((x) => x.metadata.name));
    for (const e of engines) expect(defined.has(e.spec.experiments[0].name)).toBe(true);

    const byStep = (n: number) =>
      engines.filter((e) => e.metadata.annotations['failover-lab.io/step'].startsWith(`${n}:`));
    const [isolate] = byStep(1);
    expect(isolate!.spec.appinfo.applabel).toBe('failover-lab.io/region=a');
    expect(envOf(isolate!)).toMatchObject({ TOTAL_CHAOS_DURATION: '20', POLICY_TYPES: 'all' });
    const [cut] = byStep(2);
    expect(cut!.spec.appinfo.applabel).toBe('failover-lab.io/component=ctl-a');
    expect(envOf(cut!)).toMatchObject({
      POLICY_TYPES: 'egress',
      POD_SELECTOR: 'failover-lab.io/component=worker',
      TOTAL_CHAOS_DURATION: '5',
    });
    const latency = byStep(3);
    expect(latency).toHaveLength(3); // ctl-b->w1, w2, w3
    expect(envOf(latency[0]!)).toMatchObject({
      NETWORK_LATENCY: '150',
      JITTER: '10',
      DESTINATION_HOSTS: 'w1.failover-lab.svc.cluster.local',
      TOTAL_CHAOS_DURATION: '4', // 3.5 s rounded up, with a warning
    });
    const [loss] = byStep(6);
    expect(loss!.spec.experiments[0].name).toBe('pod-network-loss');
    expect(envOf(loss!)).toMatchObject({ NETWORK_PACKET_LOSS_PERCENTAGE: '25' });
    expect(engines.map((e) => Number(e.metadata.annotations['failover-lab.io/order']))).toEqual(
      engines.map((_e, i) => i + 1),
    );
    expect(isolate!.metadata.annotations['failover-lab.io/start-offset']).toBe('5s');

    // Not expressible: clock faults, expectations; approximations: one-way cut, isolation, loss.
    expect(r.notExported.some((n) => /step 4 \(clock-offset/.test(n))).toBe(true);
    expect(r.notExported.some((n) => /step 5 \(clock-drift/.test(n))).toBe(true);
    expect(r.notExported.some((n) => /failover-within/.test(n))).toBe(true);
    expect(r.files[0]!.text).toMatch(/^# NOT EXPORTED: step 5 \(clock-drift ctl-b at 45s for 5s\)/m);
    expect(r.warnings.some((w) => /one-way cut: Litmus/.test(w))).toBe(true);
    expect(r.warnings.some((w) => /per packet in Litmus/.test(w))).toBe(true);
    expect(r.warnings.some((w) => /3500 ms rounded up to 4 s/.test(w))).toBe(true);
    expect(cut!.metadata.annotations['failover-lab.io/warnings']).toMatch(/one-way cut/);
    expect(r.files[0]!.text).toMatch(/# WARNING: one-way cut: Litmus/);
  });

  it('game-day probes become Litmus probes with their modes and run properties', async () => {
    const r = await exportFile('gamedays/primary-isolation.yaml', 'litmus');
    const engines = parse(r.files[0]!.text).filter((d) => d.kind === 'ChaosEngine');
    for (const e of engines) expectLitmusEngine(e);
    const isolate = engines.find((e) => e.metadata.annotations['failover-lab.io/step'].startsWith('1:'))!;
    const probes = Object.fromEntries(isolate.spec.experiments[0].spec.probe.map((p: Doc) => [p.name, p]));
    for (const p of Object.values(probes) as Doc[]) {
      expect(['httpProbe', 'cmdProbe', 'promProbe', 'k8sProbe']).toContain(p.type);
      expect(['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos']).toContain(p.mode);
      expect(typeof p.runProperties.probeTimeout).toBe('string');
      expect(p[`${p.type}/inputs`]).toBeTypeOf('object');
    }
    expect(probes['app-a-health']).toMatchObject({
      type: 'httpProbe',
      mode: 'Edge',
      'httpProbe/inputs': {
        url: 'http://app-a.failover-lab.svc.cluster.local/health',
        method: { get: { criteria: '==', responseCode: '200' } },
      },
    });
    expect(probes['b-takes-the-lease']).toMatchObject({
      type: 'promProbe',
      mode: 'OnChaos',
      runProperties: { initialDelay: '8s', probePollingInterval: '1s', attempt: 1 },
      'promProbe/inputs': {
        query: 'sum(failover_lease_status{component="ctl-b"})',
        comparator: { criteria: '==', value: '1' },
      },
    });
    expect(probes['at-most-one-lease-holder'].type).toBe('cmdProbe');
    expect(probes['at-most-one-lease-holder']['cmdProbe/inputs'].command).toMatch(
      /grep -Eq '\^holders=\[01\]\$'; echo \$\?$/,
    );
    // The steady-state hypothesis rides along as Edge probes.
    expect(probes['steady-one-lease-holder']).toMatchObject({ mode: 'Edge', type: 'cmdProbe' });
    expect(probes['steady-service-answers']).toMatchObject({ mode: 'Edge', type: 'cmdProbe' }); // dns → dig
    expect(isolate.metadata.annotations['failover-lab.io/weight']).toBe('10');
  });
});

describe('export --to chaos-mesh', () => {
  it('a scenario becomes chaos resources and a Serial Workflow with Suspend gaps and deadline = for', async () => {
    const r = await exportFile(scenarioFile, 'chaos-mesh');
    const [wfFile, resFile] = r.files;
    const [wf] = parse(wfFile!.text);
    expect(wf.apiVersion).toBe('chaos-mesh.org/v1alpha1');
    expect(wf.kind).toBe('Workflow');
    const templates = new Map<string, Doc>(wf.spec.templates.map((t: Doc) => [t.name, t]));
    expect(templates.has(wf.spec.entry)).toBe(true);
    for (const t of templates.values()) expect(typeof t.templateType).toBe('string');
    const entry = templates.get(wf.spec.entry)!;
    expect(entry.templateType).toBe('Serial');
    const seq = entry.children.map((c: string) => templates.get(c)!);
    expect(seq.map((t: Doc) => [t.templateType, t.deadline])).toEqual([
      ['Suspend', '5s'],
      ['NetworkChaos', '20s'], // isolate a
      ['Suspend', '5s'],
      ['NetworkChaos', '5s'], // partition ctl-a->worker
      ['Suspend', '1s'],
      ['Parallel', '3500ms'], // latency on three witness links
      ['Suspend', '500ms'],
      ['TimeChaos', '4s'],
      ['Suspend', '1s'],
      ['Suspend', '5s'], // clock-drift: not exported, its time kept
      ['Suspend', '1s'],
      ['NetworkChaos', '2s'], // loss
    ]);
    const isolate = seq[1].networkChaos;
    expect(isolate).toMatchObject({
      action: 'partition',
      mode: 'all',
      direction: 'both',
      selector: { namespaces: ['failover-lab'], labelSelectors: { 'failover-lab.io/region': 'a' } },
      target: {
        selector: {
          expressionSelectors: [{ key: 'failover-lab.io/region', operator: 'NotIn', values: ['a'] }],
        },
      },
    });
    expect(seq[3].networkChaos).toMatchObject({
      action: 'partition',
      direction: 'to',
      target: { selector: { labelSelectors: { 'failover-lab.io/component': 'worker' } } },
    });
    expect(templates.get(seq[5].children[0])!.networkChaos).toMatchObject({
      action: 'delay',
      delay: { latency: '150ms', jitter: '10ms' },
    });
    expect(seq[7].timeChaos).toMatchObject({ timeOffset: '-5s', clockIds: ['CLOCK_REALTIME'], mode: 'all' });
    expect(seq[11].networkChaos).toMatchObject({ action: 'loss', loss: { loss: '25' } });

    // Standalone resources carry spec.action/mode/selector/direction/duration.
    const resources = parse(resFile!.text);
    const net = resources.filter((d) => d.kind === 'NetworkChaos');
    expect(net.length).toBe(6);
    for (const n of net) {
      expect(n.apiVersion).toBe('chaos-mesh.org/v1alpha1');
      expect(['partition', 'delay', 'loss']).toContain(n.spec.action);
      expect(n.spec.mode).toBe('all');
      expect(n.spec.selector.namespaces).toEqual(['failover-lab']);
      expect(['to', 'both']).toContain(n.spec.direction);
      expect(n.spec.duration).toMatch(/^\d+(ms|s|m)$/);
    }
    expect(resources.find((d) => d.kind === 'TimeChaos').spec.duration).toBe('4s');
    expect(r.notExported.some((n) => /clock-drift .* drift rate \(0.01\) cannot be expressed/.test(n))).toBe(
      true,
    );
    expect(r.warnings.some((w) => /per packet in Chaos Mesh/.test(w))).toBe(true);
    expect(wfFile!.text).toMatch(/^# NOT EXPORTED: step 5/m);
  });

  it('overlapping steps become Parallel branches, each waiting for its own start', async () => {
    const f = join(dir, 'overlap.yaml');
    writeFileSync(
      f,
      'name: overlap\nduration: 30s\nsteps:\n  - { at: 0s, for: 20s, fault: partition, target: ctl-a->worker }\n  - { at: 5s, for: 5s, fault: crash, target: ctl-b }\n  - { at: 8s, for: 3s, fault: pause, target: ctl-a }\n',
    );
    const r = await exportFile(f, 'chaos-mesh');
    const [wf] = parse(r.files[0]!.text);
    const t = new Map<string, Doc>(wf.spec.templates.map((x: Doc) => [x.name, x]));
    const entry = t.get(wf.spec.entry)!;
    expect(entry.templateType).toBe('Parallel');
    expect(entry.children).toHaveLength(2); // pause is not exported
    const crashBranch = t.get(entry.children[1])!;
    expect(crashBranch.templateType).toBe('Serial');
    expect(crashBranch.children.map((c: string) => [t.get(c)!.templateType, t.get(c)!.deadline])).toEqual([
      ['Suspend', '5s'],
      ['PodChaos', '5s'],
    ]);
    expect(t.get(crashBranch.children[1])!.podChaos).toMatchObject({ action: 'pod-failure', mode: 'all' });
    expect(r.notExported.some((n) => /pause ctl-a/.test(n) && /no process pause/.test(n))).toBe(true);
  });

  it('game-day http probes become StatusCheck nodes; other probe types are reported', async () => {
    const r = await exportFile('gamedays/staging-example.yaml', 'chaos-mesh');
    const [wf] = parse(r.files[0]!.text);
    expect(wf.metadata.namespace).toBe('failover-staging');
    const checks = wf.spec.templates.filter((x: Doc) => x.templateType === 'StatusCheck');
    expect(checks.length).toBe(2); // b-health before and after (Edge)
    for (const c of checks) {
      expect(c.statusCheck).toMatchObject({
        mode: 'Synchronous',
        type: 'HTTP',
        // In-cluster: the service of app-b, not the staging address the game day itself uses.
        http: {
          url: 'http://app-b.failover-staging.svc.cluster.local/health',
          method: 'GET',
          criteria: { statusCode: '200' },
        },
      });
      expect(c.deadline).toMatch(/^\d+(ms|s|m)$/);
    }
    expect(
      r.warnings.filter((w) => /StatusCheck is HTTP only; (prom|dns) probe not exported/.test(w)).length,
    ).toBeGreaterThan(2);
    expect(
      r.warnings.some((w) => w.includes('${endpoints.app-b} → app-b.failover-staging.svc.cluster.local')),
    ).toBe(true);
    const cooldown = wf.spec.templates.find((x: Doc) => x.name === 'a-loses-worker-cooldown');
    expect(cooldown).toMatchObject({ templateType: 'Suspend', deadline: '1m' });
  });
});

describe('the catalog', () => {
  it('every scenario and example game day exports to both formats with valid manifests', async () => {
    const files = [
      ...readdirSync('scenarios')
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join('scenarios', f)),
      ...readdirSync('gamedays')
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join('gamedays', f)),
    ];
    expect(files.length).toBeGreaterThan(2);
    for (const f of files)
      for (const to of ['litmus', 'chaos-mesh'] as const) {
        const r = await exportFile(f, to);
        const docs = r.files.flatMap((x) => parse(x.text));
        for (const d of docs) expect(validateManifest(d), `${f} → ${to}: ${d.kind}`).toEqual([]);
        // Each step of the source appears (exported) or is listed as not exported.
        for (const step of r.model.steps) {
          const mentioned =
            r.files.some((x) => x.text.includes(`${step.index + 1}: ${step.describe}`)) ||
            r.notExported.some((n) => n.startsWith(`step ${step.index + 1} `));
          expect(mentioned, `${f} → ${to}: step ${step.index + 1} (${step.describe})`).toBe(true);
        }
      }
  });
});

describe('manifest validation and the CLI', () => {
  it('validateManifest rejects documents missing required fields', () => {
    expect(
      validateManifest({
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'NetworkChaos',
        metadata: { name: 'x' },
        spec: { mode: 'all', selector: {} },
      }),
    ).toEqual(expect.arrayContaining(['spec.duration', 'spec.action', 'spec.direction']));
    expect(
      validateManifest({
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'Workflow',
        metadata: { name: 'w' },
        spec: { entry: 'missing', templates: [{ name: 's', templateType: 'Serial', children: ['nope'] }] },
      }),
    ).toEqual(
      expect.arrayContaining(['spec.entry naming a template', 'template s: children naming templates']),
    );
    expect(
      validateManifest({
        apiVersion: 'litmuschaos.io/v1alpha1',
        kind: 'ChaosEngine',
        metadata: { name: 'e' },
        spec: {
          engineState: 'on',
          experiments: [{ name: 'x', spec: { components: { env: [{ name: 'A', value: 1 }] } } }],
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        'spec.engineState active|stop',
        'spec.chaosServiceAccount',
        'spec.experiments[0].spec.components.env[] of {name, value: string}',
      ]),
    );
  });

  it('writes files with --out, prints warnings, and --strict turns warnings into exit 2', () => {
    const out = join(dir, 'out');
    const r = spawnSync(
      process.execPath,
      ['bin/failover-lab.mjs', 'export', '--to', 'chaos-mesh', scenarioFile, '--out', out, '--strict'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/warning: not exported: step 5 \(clock-drift/);
    expect(r.stderr).toMatch(/with --strict/);
    const wf = parse(readFileSync(join(out, 'isolation-then-drift.chaos-mesh.workflow.yaml'), 'utf8'));
    expect(wf[0].kind).toBe('Workflow');
  });
});
