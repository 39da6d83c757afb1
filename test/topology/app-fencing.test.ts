/**
 * The app/database stand-in enforces what the whole design relies on: a stale epoch is
 * rejected, and write authority lapses by itself when the controller goes quiet. Runs the
 * real program (esbuild bundle, as the topology does) on a locked run address.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunOctet, freePort, type RunLease } from '../../src/topology/addresses.ts';
import { bundleEntry } from '../../src/topology/bundle.ts';
import { REPO_ROOT } from '../../src/topology/local.ts';

let lease: RunLease;
let dir: string;
let bundle: string;
let child: ChildProcess | null = null;
let base = '';
const host = () => `127.${lease.octet}.1.10`;

async function startApp(): Promise<void> {
  const port = await freePort(host());
  child = spawn(process.execPath, [bundle], {
    env: {
      APP_REGION: 'a',
      APP_HOST: host(),
      APP_PORT: String(port),
      APP_EVENTS_FILE: join(dir, 'events.jsonl'),
      APP_STATE_FILE: join(dir, 'state.json'),
    },
    stdio: 'ignore',
  });
  base = `http://${host()}:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('app did not start');
}

async function stopApp(): Promise<void> {
  const c = child;
  child = null;
  if (!c || c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
}

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const write = () => post('/write', { client: 'test' });

beforeAll(async () => {
  lease = acquireRunOctet();
  dir = mkdtempSync(join(tmpdir(), 'fl-app-test-'));
  bundle = await bundleEntry(join(REPO_ROOT, 'src/topology/app/server.ts'), join(dir, 'app.mjs'));
  await startApp();
});

afterAll(async () => {
  await stopApp();
  rmSync(dir, { recursive: true, force: true });
  lease.release();
});

describe('app stand-in', () => {
  it('answers health with OK and its region', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('OK a\n');
  });

  it('accepts no writes before any promotion', async () => {
    const w = await write();
    expect(w.status).toBe(503);
    expect(w.body.reason).toBe('no authority');
  });

  it('accepts writes under a granted epoch and rejects a stale epoch', async () => {
    expect((await post('/promote', { epoch: 5, validityMs: 5000 })).status).toBe(200);
    expect((await write()).body).toMatchObject({ accepted: true, epoch: 5 });
    const stale = await post('/promote', { epoch: 4, validityMs: 5000 });
    expect(stale.status).toBe(409);
    expect(stale.body.highestEpochSeen).toBe(5);
    // the webhook form used by the production agent is fenced the same way
    expect(
      (await post('/authority', { action: 'extend', epoch: 3, validityMs: 5000, region: 'a' })).status,
    ).toBe(409);
    expect((await write()).body.epoch).toBe(5);
  });

  it('lets authority lapse by itself when it is not extended', async () => {
    expect(
      (await post('/authority', { action: 'extend', epoch: 5, validityMs: 300, region: 'a' })).status,
    ).toBe(200);
    expect((await write()).body.accepted).toBe(true);
    await new Promise((r) => setTimeout(r, 450));
    const w = await write();
    expect(w.status).toBe(503);
    expect(w.body.reason).toBe('authority lapsed');
  });

  it('ignores a demote for an older epoch and honours a current one', async () => {
    expect((await post('/promote', { epoch: 7, validityMs: 5000 })).status).toBe(200);
    expect((await post('/demote', { epoch: 6 })).status).toBe(409);
    expect((await write()).body.accepted).toBe(true);
    expect(
      (await post('/authority', { action: 'demote', epoch: 7, validityMs: 0, region: 'a' })).status,
    ).toBe(200);
    expect((await write()).body.accepted).toBe(false);
  });

  it('keeps its fencing epoch across a restart, but not its authority', async () => {
    await stopApp();
    await startApp();
    expect((await write()).body.reason).toBe('no authority');
    expect((await post('/promote', { epoch: 6, validityMs: 5000 })).status).toBe(409);
    expect((await post('/promote', { epoch: 8, validityMs: 5000 })).status).toBe(200);
  });

  it('logs every decision with CLOCK_MONOTONIC stamps and the window end', () => {
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const grants = lines.filter((l) => l.kind === 'app-authority' && l.op === 'grant');
    expect(grants.length).toBeGreaterThanOrEqual(3);
    for (const g of grants)
      expect((g.untilHrMs as number) - (g.hrMs as number)).toBeCloseTo(g.validityMs as number, 0);
    expect(lines.some((l) => l.kind === 'app-authority' && l.op === 'reject')).toBe(true);
    expect(
      lines.some((l) => l.kind === 'app-write' && l.accepted === false && l.reason === 'authority lapsed'),
    ).toBe(true);
  });
});
