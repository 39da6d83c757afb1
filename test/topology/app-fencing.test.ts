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
import * as fence from '../../src/topology/app/fence.ts';
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

async function stopApp(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const c = child;
  child = null;
  if (!c || c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
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

describe('the fence (pure, shared with the simulator)', () => {
  it('grants from receipt, refuses older epochs, lapses by itself', () => {
    const g = fence.grant(fence.INITIAL_FENCE, 'promote', 3, 1000, 50);
    expect(g).toMatchObject({ decision: { op: 'grant', epoch: 3, untilMs: 1050 }, persist: true });
    expect(fence.write(g.state, 1049)).toEqual({ accepted: true, epoch: 3 });
    expect(fence.write(g.state, 1050)).toEqual({ accepted: false, epoch: 3, reason: 'authority lapsed' });
    const stale = fence.grant(g.state, 'extend', 2, 1000, 60);
    expect(stale).toMatchObject({
      state: g.state,
      decision: { op: 'reject', highestEpochSeen: 3 },
      persist: false,
    });
    expect(fence.grant(g.state, 'extend', 3, 1000, 60).persist).toBe(false); // same epoch: nothing new to persist
  });

  it('a stale demote cannot revoke a newer term; a demote raises the durable epoch', () => {
    const held = fence.grant(fence.INITIAL_FENCE, 'promote', 5, 1000, 0).state;
    expect(fence.demote(held, 4, 'late').decision).toMatchObject({
      op: 'reject',
      reason: 'demote: stale epoch 4 < 5',
    });
    const demoted = fence.demote(held, 6, 'peer');
    expect(demoted).toMatchObject({ decision: { op: 'revoke', epoch: 6 }, persist: true });
    expect(demoted.state).toEqual({ highestEpochSeen: 6, authorityEpoch: null, validUntilMs: 0 });
  });

  it('after a restart only the durable epoch survives', () => {
    const s = fence.restart(7);
    expect(fence.write(s, 0)).toMatchObject({ accepted: false, reason: 'no authority' });
    expect(fence.grant(s, 'promote', 6, 1000, 0).decision.op).toBe('reject');
  });
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
      (
        await post('/authority', {
          action: 'demote',
          epoch: 7,
          validityMs: 0,
          region: 'a',
          reason: 'shutdown',
        })
      ).status,
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

  it('keeps its fencing epoch across a crash (SIGKILL right after the reply)', async () => {
    expect((await post('/promote', { epoch: 9, validityMs: 5000 })).status).toBe(200);
    await stopApp('SIGKILL');
    await startApp();
    expect((await write()).body.reason).toBe('no authority');
    expect((await post('/extend', { epoch: 8, validityMs: 5000 })).status).toBe(409);
    expect((await post('/extend', { epoch: 9, validityMs: 5000 })).status).toBe(200);
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
    // a webhook demote's reason is logged with the revoke (the checker tells a shutdown apart)
    expect(
      lines.some((l) => l.kind === 'app-authority' && l.op === 'revoke' && l.reason === 'demote: shutdown'),
    ).toBe(true);
    expect(
      lines.some((l) => l.kind === 'app-write' && l.accepted === false && l.reason === 'authority lapsed'),
    ).toBe(true);
  });
});
