/**
 * The bad-input corpus (issue #20): scenario files, game-day plans, controller env, CLI flags
 * and Worker HTTP requests that must be refused — exit code 2 (or the HTTP status), exactly
 * one line, naming what is wrong and where (file:line:col for files) — with nothing started.
 *
 * In-process wherever the contract can be seen there (loaders, main() with stderr captured,
 * the Worker's request handler); a few cases spawn the real CLI, because only a process shows
 * its exit code and its whole stderr. Every spawned case fails validation before anything
 * boots, so the file stays cheap.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/env.ts';
import { main } from '../../src/cli/main.ts';
import { BadInputError, exitCodeOf } from '../../src/errors.ts';
import { loadPlanFile } from '../../src/gameday/plan.ts';
import { loadScenarioFile } from '../../src/scenario/loader.ts';
import { lockDir } from '../../src/topology/addresses.ts';
import { REPO_ROOT } from '../../src/topology/local.ts';
import { childPidsOf } from '../../src/topology/supervisor.ts';
import { type Backend, handleLeaseRequest } from '../../src/worker/http.ts';
import { MAX_BODY_BYTES } from '../../src/worker/protocol.ts';
import { signRequest } from '../../src/worker/signing.ts';
import { CLI_CASES, ENV_CASES, VALID_ENV } from './cases-env-cli.ts';
import { type FileCase, PLAN_CASES, SCENARIO_CASES } from './cases-files.ts';

let dir = '';
let n = 0;
const childrenBefore = new Set<number>();

/** Live children of this test process that are ours to worry about (not vitest's esbuild). */
function liveChildren(): number[] {
  return childPidsOf(process.pid).filter((pid) => {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      return comm !== 'esbuild' && state !== 'Z';
    } catch {
      return false;
    }
  });
}
/** Spawned CLIs get a TMPDIR of their own, so what they leave is theirs (other runs share /tmp). */
const childTmp = () => join(dir, 'tmp');
const runDirs = () => readdirSync(childTmp()).filter((d) => /^failover-lab-|^fl-run-logs-/.test(d));
const ourLocks = () => {
  try {
    return readdirSync(lockDir()).filter((f) => {
      try {
        return (JSON.parse(readFileSync(join(lockDir(), f), 'utf8')) as { pid?: number }).pid === process.pid;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fl-reliability-'));
  mkdirSync(childTmp());
  for (const p of liveChildren()) childrenBefore.add(p);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string, ext = 'yaml'): string {
  const f = join(dir, `case-${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}

async function badInputOf(fn: () => unknown): Promise<BadInputError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw new Error(`expected a BadInputError, got ${(err as Error)?.stack ?? String(err)}`);
  }
  throw new Error('expected a BadInputError, but the input was accepted');
}

function expectFileError(err: BadInputError, file: string, c: FileCase): void {
  expect(exitCodeOf(err)).toBe(2);
  expect(err.message).not.toContain('\n');
  const where = c.line === null ? `${file}:\\d+:\\d+` : `${file}:${c.line}:\\d+`;
  expect(err.message).toMatch(new RegExp(`^${where.replace(/[.-]/g, (m) => `\\${m}`)}: `));
  expect(err.message).toMatch(c.what);
}

describe('bad scenario files (run and sim load them the same way)', () => {
  it.each(SCENARIO_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const f = write(c.yaml);
    expectFileError(await badInputOf(() => loadScenarioFile(f)), f, c);
  });
});

describe('bad game-day plans (refused before any target starts)', () => {
  it.each(PLAN_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const f = write(c.yaml);
    expectFileError(await badInputOf(() => loadPlanFile(f, { loopbackOnly: true })), f, c);
  });

  it('a plan file over 1 MiB is refused by size, naming the file', async () => {
    const f = write(`name: big\n# ${'x'.repeat(1_100_000)}\n`);
    const err = await badInputOf(() => loadPlanFile(f));
    expect(err.message).toMatch(new RegExp(`^${f}: file is \\d+ bytes; the maximum is 1048576`));
  });

  it('--allow-remote lifts the loopback rule, and only it', async () => {
    const c = PLAN_CASES.find((x) => x.name === 'non-loopback http probe URL')!;
    const f = write(c.yaml);
    expect(loadPlanFile(f, { loopbackOnly: false }).name).toBe('gd');
  });
});

describe('bad controller environments', () => {
  it.each(ENV_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const env: Record<string, string | undefined> = { ...VALID_ENV, ...c.env };
    const err = await badInputOf(() => loadAgentConfig(env));
    expect(exitCodeOf(err)).toBe(2);
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith(`env ${c.variable}: `)).toBe(true);
    expect(err.message).toMatch(c.what);
  });

  it('the valid environment the cases start from is accepted', () => {
    expect(loadAgentConfig(VALID_ENV).controller.region).toBe('b');
  });
});

/** main() in this process, stderr captured: the exit code and the exact lines a user sees. */
async function runMain(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const writeErr = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  const cwd = process.cwd();
  try {
    process.chdir(REPO_ROOT);
    const code = await main(['node', 'failover-lab', ...argv]);
    return { code, stderr, stdout };
  } finally {
    process.chdir(cwd);
    process.stderr.write = writeErr;
    process.stdout.write = writeOut;
  }
}

describe('bad CLI flags (main() in-process)', () => {
  it.each(CLI_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await runMain(c.argv);
    expect(r.code).toBe(2);
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^failover-lab: /);
    expect(r.stderr).toMatch(c.what);
    expect(r.stdout).toBe('');
  });
});

const SECRETS = { a: 'secret-a-0123456789abcdef', b: 'secret-b-0123456789abcdef' };
const unreachable: Backend = {
  variant: 'durable',
  execute: () => {
    throw new Error('the backend was reached by a request that should have been refused');
  },
};

interface HttpCase {
  name: string;
  method: string;
  path: string;
  body?: string | ReadableStream<Uint8Array>;
  /** sign as region a (with these overrides) */
  sign?: { region?: string; secret?: string; timestampMs?: number; signedBody?: string };
  headers?: Record<string, string>;
  secrets?: unknown;
  status: number;
  what: RegExp;
}

const h = (c: HttpCase) => c;
const streamOf = (totalBytes: number, chunkBytes: number): ReadableStream<Uint8Array> => {
  let sent = 0;
  return new ReadableStream({
    pull(ctl) {
      if (sent >= totalBytes) return ctl.close();
      sent += chunkBytes;
      ctl.enqueue(new Uint8Array(chunkBytes).fill(0x61));
    },
  });
};

const HTTP_CASES: HttpCase[] = [
  h({ name: 'unknown path', method: 'GET', path: '/nope', status: 404, what: /unknown path \/nope/ }),
  h({ name: 'prototype path', method: 'GET', path: '/__proto__', status: 404, what: /unknown path/ }),
  h({ name: 'POST /status', method: 'POST', path: '/status', status: 405, what: /GET only/ }),
  h({ name: 'GET /acquire', method: 'GET', path: '/acquire', status: 405, what: /POST only/ }),
  h({ name: 'DELETE /renew', method: 'DELETE', path: '/renew', status: 405, what: /POST only/ }),
  h({ name: 'PUT /release', method: 'PUT', path: '/release', status: 405, what: /POST only/ }),
  h({
    name: 'no signature',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'declared body over the cap',
    method: 'POST',
    path: '/acquire',
    body: 'x'.repeat(MAX_BODY_BYTES + 1),
    status: 413,
    what: /body larger than 4096/,
  }),
  h({
    name: 'streamed body over the cap (no content-length)',
    method: 'POST',
    path: '/acquire',
    body: streamOf(64 * 1024, 1024),
    status: 413,
    what: /body larger than/,
  }),
  h({
    name: 'wrong secret',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    sign: { secret: 'not-the-secret-0123456789' },
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'unknown region',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    sign: { region: 'z' },
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'timestamp 10 minutes old',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    sign: { timestampMs: Date.now() - 600_000 },
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'timestamp 10 minutes ahead',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    sign: { timestampMs: Date.now() + 600_000 },
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'body changed after signing',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"other"}',
    sign: { signedBody: '{"lease":"primary"}' },
    status: 401,
    what: /unauthorized/,
  }),
  h({
    name: 'signed, not JSON',
    method: 'POST',
    path: '/acquire',
    body: '{lease:',
    sign: {},
    status: 400,
    what: /not valid JSON/,
  }),
  h({
    name: 'signed, a JSON array',
    method: 'POST',
    path: '/acquire',
    body: '[]',
    sign: {},
    status: 400,
    what: /JSON object/,
  }),
  h({
    name: 'signed, unknown field',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary","holder":"a"}',
    sign: {},
    status: 400,
    what: /unknown field "holder"/,
  }),
  h({
    name: 'signed, lease name with a space',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"pri mary"}',
    sign: {},
    status: 400,
    what: /"lease" must match/,
  }),
  h({
    name: 'signed, lease name of 200 characters',
    method: 'POST',
    path: '/acquire',
    body: JSON.stringify({ lease: 'p'.repeat(200) }),
    sign: {},
    status: 400,
    what: /"lease" must match/,
  }),
  h({
    name: 'signed renew without epoch',
    method: 'POST',
    path: '/renew',
    body: '{"lease":"primary"}',
    sign: {},
    status: 400,
    what: /missing field "epoch"/,
  }),
  h({
    name: 'signed renew, epoch -1',
    method: 'POST',
    path: '/renew',
    body: '{"lease":"primary","epoch":-1}',
    sign: {},
    status: 400,
    what: /non-negative integer/,
  }),
  h({
    name: 'signed renew, epoch 1.5',
    method: 'POST',
    path: '/renew',
    body: '{"lease":"primary","epoch":1.5}',
    sign: {},
    status: 400,
    what: /non-negative integer/,
  }),
  h({
    name: 'signed release, epoch 2^60',
    method: 'POST',
    path: '/release',
    body: '{"lease":"primary","epoch":1152921504606846976}',
    sign: {},
    status: 400,
    what: /non-negative integer/,
  }),
  h({
    name: 'misconfigured LEASE_SECRETS',
    method: 'POST',
    path: '/acquire',
    body: '{"lease":"primary"}',
    sign: {},
    secrets: '{not json',
    status: 500,
    what: /server misconfigured/,
  }),
];

describe('bad Worker HTTP requests (the Worker request handler in-process)', () => {
  it.each(HTTP_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const url = `http://127.0.0.1:8787${c.path}`;
    const headers: Record<string, string> = { ...(c.headers ?? {}) };
    if (c.sign) {
      const bodyText = c.sign.signedBody ?? (typeof c.body === 'string' ? c.body : '');
      Object.assign(
        headers,
        await signRequest({
          region: c.sign.region ?? 'a',
          secret: c.sign.secret ?? SECRETS.a,
          method: c.method,
          pathWithQuery: c.path,
          body: bodyText,
          timestampMs: c.sign.timestampMs ?? Date.now(),
        }),
      );
    }
    const init: RequestInit & { duplex?: 'half' } = { method: c.method, headers };
    if (c.body !== undefined) {
      init.body = c.body;
      if (typeof c.body !== 'string') init.duplex = 'half';
    }
    const res = await handleLeaseRequest(
      new Request(url, init),
      c.secrets ?? JSON.stringify(SECRETS),
      unreachable,
    );
    expect(res.status).toBe(c.status);
    const body = (await res.json()) as { error?: string };
    expect(body.error).toMatch(c.what);
    expect(body.error).not.toContain('\n');
  });
});

// concurrent: each case is one short-lived process that fails validation
describe.concurrent('the real CLI: exit code 2, one line, nothing started', () => {
  const spawned: Array<{
    name: string;
    argv: string[];
    env?: Record<string, string>;
    yaml?: string;
    what: RegExp;
  }> = [
    {
      name: 'run: duration 99999999h',
      argv: ['run', '{file}'],
      yaml: 'name: t\nduration: 99999999h\n',
      what: /:2:11: duration: must be at most 24h/,
    },
    {
      name: 'sim --scenario: duration 1e308',
      argv: ['sim', '--scenario', '{file}'],
      yaml: 'name: t\nduration: 1e308\n',
      what: /:2:11: duration/,
    },
    {
      name: 'gameday: an undefined alias',
      argv: ['gameday', '{file}'],
      yaml: 'name: gd\nexperiments:\n  - name: e\n    fault: crash\n    target: *x\n    duration: 5s\n',
      what: /:5:13: YAML: alias \*x/,
    },
    {
      name: 'export: an alias bomb',
      argv: ['export', '{file}', '--to', 'litmus'],
      yaml: 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: gd\n',
      what: /:2:8: YAML: aliases expand/,
    },
    {
      name: 'gameday: a non-loopback probe URL',
      argv: ['gameday', '{file}'],
      yaml: 'name: gd\nprobes:\n  - name: p\n    mode: Continuous\n    type: http\n    http:\n      url: http://10.0.0.1/\nexperiments:\n  - name: e\n    fault: partition\n    target: ctl-a->worker\n    duration: 5s\n',
      what: /:7:12: probe p: "http:\/\/10\.0\.0\.1\/" is not on loopback/,
    },
    {
      name: 'controller: PEER_APP_ADDR = TOMBSTONE_ADDR',
      argv: ['controller'],
      env: { ...VALID_ENV, PEER_APP_ADDR: '127.0.9.9' },
      what: /^failover-lab: env PEER_APP_ADDR: equals TOMBSTONE_ADDR/,
    },
    {
      name: 'controller: a witness listed twice',
      argv: ['controller'],
      env: { ...VALID_ENV, DNS_WITNESSES: '127.0.0.2:53,127.0.0.2:53' },
      what: /^failover-lab: env DNS_WITNESSES: .*listed twice/,
    },
    { name: 'an unknown option', argv: ['sim', '--bogus'], what: /^failover-lab: unknown option '--bogus'/ },
    {
      name: 'toxiproxy --host 0.0.0.0',
      argv: ['toxiproxy', '--host', '0.0.0.0'],
      what: /^failover-lab: --host: "0\.0\.0\.0" is not a loopback address/,
    },
  ];
  it.each(spawned.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const file = c.yaml !== undefined ? write(c.yaml) : '';
      const argv = c.argv.map((a) => (a === '{file}' ? file : a));
      const env = { ...(c.env ?? process.env), PATH: process.env.PATH ?? '', TMPDIR: childTmp() };
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/failover-lab.mjs'), ...argv], {
        cwd: REPO_ROOT,
        env,
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const code = await new Promise<number | null>((r) => child.on('close', (exitCode) => r(exitCode)));
      expect({ code, lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 2, lines: 1 });
      expect(stderr).toMatch(/^failover-lab: /);
      expect(stderr).toMatch(c.what);
      expect(stdout).toBe('');
      expect(stderr).not.toMatch(/topology 127\./);
    },
    30_000,
  );
});

describe('nothing was left running', () => {
  it('no child process, run dir (of the spawned CLIs) or run lock of this process remains', () => {
    expect(liveChildren().filter((p) => !childrenBefore.has(p))).toEqual([]);
    expect(runDirs()).toEqual([]);
    expect(ourLocks()).toEqual([]);
  });
});
