/**
 * `export --to k8s-job`: the Indexed Job validates offline against the Kubernetes API schemas
 * shipped in kubernetes-models (as deploy/kubernetes does, test/package/kubernetes.test.ts),
 * and what its pods run — the container's args, with the index Kubernetes sets in
 * JOB_COMPLETION_INDEX — produces shards that `sim --merge` turns into the sequential result.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-k8s-job-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: a manifest is navigated loosely in assertions
type Any = any;

function exportJob(args: string[]): Any {
  const r = cli(['export', '--to', 'k8s-job', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return parse(r.stdout);
}

describe('export --to k8s-job', () => {
  it('writes an Indexed Job that validates against the batch/v1 schema', () => {
    for (const extra of [
      [],
      ['--results-claim', 'sim-results', '--namespace', 'chaos', '--parallelism', '2'],
    ]) {
      const job = exportJob(['--runs', '1000', '--seed', '7', '--shards', '4', ...extra]);
      expect(() => new Job(job).validate()).not.toThrow();
      expect(job.spec.completionMode).toBe('Indexed');
      expect(job.spec.completions).toBe(4);
      const c = job.spec.template.spec.containers[0];
      expect(c.args).toEqual(
        expect.arrayContaining(['sim', '--shards', '4', '--seed', '7', '--runs', '1000']),
      );
      expect(c.args).not.toContain('--shard-index'); // each pod's index comes from Kubernetes
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      if (extra.length > 0) {
        expect(c.args).toEqual(expect.arrayContaining(['--results-dir', '/results']));
        expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('sim-results');
        expect(job.metadata.namespace).toBe('chaos');
      }
    }
  });

  it('the schema check can fail: a broken Job is refused', () => {
    const job = exportJob(['--runs', '10', '--seed', '1', '--shards', '2']);
    job.spec.completions = 'two';
    expect(() => new Job(job).validate()).toThrow();
  });

  it("its pods' args, run here with JOB_COMPLETION_INDEX, merge into the sequential result", () => {
    const job = exportJob(['--runs', '24', '--seed', '12', '--shards', '3', '--lease-backend', 'kv']);
    const args: string[] = job.spec.template.spec.containers[0].args;
    const dir = join(tmp, 'results');
    for (const i of [0, 1, 2]) {
      const r = cli([...args, '--results-dir', dir], { JOB_COMPLETION_INDEX: String(i) });
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = cli(['sim', '--merge', dir, '--json', '--no-report', '--out', join(tmp, 'm')]);
    const sequential = cli([
      ...args.filter((_, i) => i < args.indexOf('--shards')),
      '--json',
      '--no-report',
      '--out',
      join(tmp, 's'),
    ]);
    expect(sequential.code, sequential.stderr).toBe(1); // the known-unsafe kv lease splits
    expect(merged.code, merged.stderr).toBe(1);
    const outcome = (s: string) => {
      const j = JSON.parse(s);
      j.stats.wallSeconds = null;
      j.shrink.foundAfterWallSeconds = null;
      j.counterexampleFile = null;
      return j;
    };
    expect(outcome(merged.stdout)).toEqual(outcome(sequential.stdout));
  });

  it('refuses bad input with one line (exit 2)', () => {
    for (const args of [
      ['--shards', '0'],
      ['--runs', '3', '--shards', '4'],
      ['--name', 'Not_A_Label'],
      ['scenarios/asymmetric-partition.yaml'],
    ]) {
      const r = cli(['export', '--to', 'k8s-job', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
