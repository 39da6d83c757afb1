/**
 * libfaketime really moves the clocks of Node processes — including the monotonic clock
 * (process.hrtime, performance.now, libuv timers) the controller core reasons with — and
 * the clock faults move the running production controller's clock as intended.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyFault,
  FakeClock,
  type FaultContext,
  LinkFaults,
  measureClockRate,
} from '../../src/faults/index.ts';
import type { FaultStep } from '../../src/scenario/schema.ts';
import { BINARIES } from '../../src/topology/binaries.ts';
import { startTopology, type Topology } from '../../src/topology/local.ts';

/**
 * Real ms from the child arming a `timerMs` timer (it says so on stdout) to its exit: node's
 * start-up, which a loaded machine stretches by hundreds of ms, stays out of the measurement.
 */
function realMsOfTimer(env: Record<string, string>, timerMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let armedAt: number | null = null;
    const p = spawn(
      process.execPath,
      ['-e', `process.stdout.write('armed\\n'); setTimeout(() => {}, ${timerMs})`],
      {
        env: { ...env, PATH: process.env.PATH ?? '' },
      },
    );
    p.stdout.on('data', () => {
      armedAt ??= performance.now();
    });
    p.on('error', reject);
    p.on('exit', () =>
      armedAt === null
        ? reject(new Error('the child never armed its timer'))
        : resolve(performance.now() - armedAt),
    );
  });
}

describe('libfaketime and Node', () => {
  it('speeds up the monotonic clock: a 2000 ms timer fires after ~1000 ms at x2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-ft-'));
    try {
      const file = join(dir, 'ft');
      writeFileSync(file, '+0 x2\n');
      const env = {
        LD_PRELOAD: BINARIES.libfaketime.path,
        FAKETIME_TIMESTAMP_FILE: file,
        FAKETIME_NO_CACHE: '1',
      };
      const fast = await realMsOfTimer(env, 2000);
      const normal = await realMsOfTimer({}, 2000);
      expect(normal).toBeGreaterThan(1950);
      // x2 halves the timer (ratio 0.5); a loaded machine may delay the fast child's exit
      // by a few hundred ms, while an unfaked clock gives a ratio of 1
      expect(fast / normal).toBeLessThan(0.75);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let topo: Topology;
let ctx: FaultContext;
beforeAll(async () => {
  topo = await startTopology({
    installSignalHandlers: false,
    faketime: { a: { fakeMonotonic: true }, b: { fakeMonotonic: false } },
  });
  const clocks = new Map<string, FakeClock>();
  for (const [r, c] of Object.entries(topo.controllers)) {
    const ft = c.faketime!;
    clocks.set(r, new FakeClock(ft.timestampFile, () => ft.spawnedAtMs));
  }
  ctx = {
    topo,
    links: new LinkFaults(topo.toxiproxyUrl, topo.proxies),
    clocks,
    signal: topo.supervisor.signal,
    hooks: {
      pauseClient: () => {},
      note: () => {},
      processEvent: () => {},
      clockEvent: () => {},
      crashed: () => {},
    },
  };
  // wait for the admin servers
  for (const r of ['a', 'b']) {
    for (let i = 0; i < 200 && (await measureClockRate(topo, r)) === null; i++)
      await new Promise((s) => setTimeout(s, 25));
  }
}, 60_000);

afterAll(async () => {
  await topo?.stop();
});

const step = (s: Pick<FaultStep, 'fault' | 'target' | 'params'>): FaultStep => ({ at: 0, ...s }) as FaultStep;
const never = () => performance.now() + 60_000;
const localMsOf = async (r: string) => {
  const c = topo.controllers[r]!;
  return (
    (await (await fetch(`http://${c.admin.host}:${c.admin.port}/status`)).json()) as { localMs: number }
  ).localMs;
};

describe('clock faults on running controllers', () => {
  it('drift changes the controller monotonic clock rate, without a jump on start or revert', async () => {
    const startedRealMs = performance.now();
    const before = await localMsOf('a');
    const f = await applyFault(
      ctx,
      step({ fault: 'clock-drift', target: 'ctl-a', params: { rate: 0.4 } }),
      'c1',
      never,
    );
    expect(f.start.verified, f.start.detail).toBe(true);
    const rate = (await measureClockRate(topo, 'a'))!;
    // [low, high] brackets the true rate whatever the request latencies; the midpoint
    // estimate is what a loaded machine blurs least
    expect(rate.high).toBeGreaterThan(1.35);
    expect(rate.low).toBeLessThan(1.45);
    expect(rate.estimate).toBeGreaterThan(1.2); // clearly not 1
    const mid = await localMsOf('a');
    const elapsedRealMs = performance.now() - startedRealMs;
    expect(mid).toBeGreaterThan(before);
    // no jump of (process age)·Δrate at the switch: at most rate 1.4 over the real time taken
    expect(mid - before).toBeLessThan(elapsedRealMs * 1.45 + 500);
    const back = await f.revert();
    expect(back.verified, back.detail).toBe(true);
    const after = await localMsOf('a');
    expect(after).toBeGreaterThanOrEqual(mid); // monotonic: never back
    const backRate = (await measureClockRate(topo, 'a'))!;
    expect(backRate.low).toBeLessThanOrEqual(1.005);
    expect(backRate.high).toBeGreaterThanOrEqual(0.995);
  });

  it('a jump moves the monotonic clock forward by the scaled amount', async () => {
    const t0 = performance.now();
    const before = await localMsOf('a');
    await applyFault(
      ctx,
      step({ fault: 'clock-jump', target: 'ctl-a', params: { jump: '20s' } }),
      'c2',
      never,
    );
    const after = await localMsOf('a');
    const realElapsed = performance.now() - t0;
    expect(after - before).toBeGreaterThanOrEqual(2000); // 20 s at scale 0.1
    expect(after - before).toBeLessThan(2000 + realElapsed + 100);
  });

  it('an offset moves only the wall clock of a controller started without a faked monotonic clock', async () => {
    const before = await localMsOf('b');
    const f = await applyFault(
      ctx,
      step({ fault: 'clock-offset', target: 'ctl-b', params: { offset: '50s' } }),
      'c3',
      never,
    );
    expect(f.start.verified, f.start.detail).toBe(true);
    expect(f.start.detail).toMatch(/wall clock skew [45]\.\d s/);
    const after = await localMsOf('b');
    expect(after - before).toBeLessThan(1500);
    await f.revert();
  });
});
