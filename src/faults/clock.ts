/**
 * Clock faults on controller processes through libfaketime (Debian package libfaketime):
 * the controller runs with LD_PRELOAD=libfaketime.so.1, FAKETIME_TIMESTAMP_FILE=<file> and
 * FAKETIME_NO_CACHE=1, so rewriting the file changes its clock at once.
 *
 * Verified on this machine (docs/topology.md, "Clock faults"): libfaketime 0.9.10 fakes
 * Node's wall clock (Date.now) and, unless FAKETIME_DONT_FAKE_MONOTONIC=1, its monotonic
 * clock too (process.hrtime, performance.now and libuv timers): with "+0 x2" a 1000 ms
 * setTimeout fires after ~500 ms real time.
 *
 * The file holds "<±offset seconds> x<rate>". libfaketime computes
 *   fake = real + offset + (real − processStart)·(rate − 1)
 * so changing the rate at runtime would jump the clock by elapsed·Δrate; we compensate in
 * the offset, so drift starts (and stops) without a jump.
 * - clock-offset: offset += Δ (wall clock only when the controller was started with
 *   FAKETIME_DONT_FAKE_MONOTONIC=1 — a monotonic clock never steps; see local.ts).
 * - clock-drift: rate = 1 + r from now on; reverted to 1 (the accumulated drift stays).
 * - clock-jump: offset += Δ (monotonic too): permanent, a monotonic clock cannot go back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Topology } from '../topology/local.ts';
import { sleep } from '../topology/supervisor.ts';
import type { Verification } from './links.ts';

export interface ClockState {
  offsetMs: number;
  rate: number;
}

export function faketimeSpec(s: ClockState): string {
  const sec = s.offsetMs / 1000;
  return `${sec >= 0 ? '+' : '-'}${Math.abs(sec).toFixed(6)} x${s.rate.toFixed(9)}`;
}

export class FakeClock {
  private state: ClockState = { offsetMs: 0, rate: 1 };
  constructor(
    readonly timestampFile: string,
    /** harness performance.now() when the process was spawned (libfaketime's reference) */
    private readonly spawnedAtMs: () => number,
  ) {}

  get current(): ClockState {
    return { ...this.state };
  }

  private write(): void {
    writeFileSync(this.timestampFile, `${faketimeSpec(this.state)}\n`);
  }

  /** Process-elapsed ms, the base libfaketime multiplies by the rate. */
  private elapsedMs(): number {
    return performance.now() - this.spawnedAtMs();
  }

  shift(deltaMs: number): void {
    this.state.offsetMs += deltaMs;
    this.write();
  }

  setRate(rate: number): void {
    // continuity: offset' = offset + elapsed·(oldRate − newRate)
    this.state.offsetMs += this.elapsedMs() * (this.state.rate - rate);
    this.state.rate = rate;
    this.write();
  }

  /** A restarted process starts a new libfaketime epoch: keep the offset, re-base the rate. */
  rebase(): void {
    this.write();
  }

  /**
   * How far the faked wall clock is ahead of the real one now: libfaketime gives
   * real + offset + elapsed·(rate − 1), so after a rate change the offset alone (which holds
   * the continuity term) is not the skew.
   */
  wallSkewMs(): number {
    return this.state.offsetMs + this.elapsedMs() * (this.state.rate - 1);
  }

  fileContent(): string {
    try {
      return readFileSync(this.timestampFile, 'utf8').trim();
    } catch {
      return '(missing)';
    }
  }
}

/** Is libfaketime mapped into the process (it loaded and interposes the clock calls)? */
export function faketimeLoaded(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libfaketime');
  } catch {
    return false;
  }
}

/** One reading of a controller's own monotonic clock (agent /status localMs), bracketed by our clock. */
async function readControllerClock(
  topo: Topology,
  region: string,
): Promise<{ beforeMs: number; afterMs: number; localMs: number; wallSkewMs: number | null } | null> {
  const c = topo.controllers[region];
  if (!c) return null;
  try {
    const beforeMs = performance.now();
    const res = await fetch(`http://${c.admin.host}:${c.admin.port}/status`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { localMs?: number };
    const afterMs = performance.now();
    const date = res.headers.get('date');
    if (typeof body.localMs !== 'number') return null;
    return {
      beforeMs,
      afterMs,
      localMs: body.localMs,
      wallSkewMs: date ? Date.parse(date) - Date.now() : null,
    };
  } catch {
    return null;
  }
}

/**
 * Bounds on the controller's monotonic clock rate from two readings ~500 ms apart: the
 * controller read its clock somewhere inside each request, so
 *   Δlocal / (after₂ − before₁) ≤ rate ≤ Δlocal / (before₂ − after₁).
 * Slow replies (a busy machine) widen the interval instead of faking a wrong rate.
 */
export async function measureClockRate(
  topo: Topology,
  region: string,
): Promise<{ low: number; high: number; estimate: number } | null> {
  const a = await readControllerClock(topo, region);
  await sleep(500);
  const b = await readControllerClock(topo, region);
  if (!a || !b || b.beforeMs <= a.afterMs) return null;
  const dLocal = b.localMs - a.localMs;
  const low = dLocal / (b.afterMs - a.beforeMs);
  const high = dLocal / (b.beforeMs - a.afterMs);
  const estimate = dLocal / ((b.beforeMs + b.afterMs) / 2 - (a.beforeMs + a.afterMs) / 2);
  return { low, high, estimate };
}

/**
 * Verifies a clock fault: libfaketime is mapped into the controller, its control file holds
 * the intended setting, and the controller's own clocks read as intended: the monotonic
 * clock's rate bounded by two /status `localMs` readings 500 ms apart (a few % wide, so a
 * 0.05% drift is only confirmed as "rate ≈ 1"), the wall clock from the HTTP Date header (1 s resolution,
 * checked for offsets ≥ 2 s).
 */
export async function verifyClock(
  topo: Topology,
  name: string,
  pid: number,
  clock: FakeClock,
): Promise<Verification> {
  const region = name.slice(4);
  const loaded = faketimeLoaded(pid);
  const content = clock.fileContent();
  const { rate } = clock.current;
  const expectedSkewMs = clock.wallSkewMs();
  const fakeMonotonic = topo.controllers[region]?.faketime?.fakeMonotonic ?? false;
  const notes: string[] = [];
  let ok: boolean | null = loaded;
  const measured = await measureClockRate(topo, region);
  const expectedRate = fakeMonotonic ? rate : 1;
  if (measured !== null) {
    const tolerance = 0.005;
    const good = expectedRate >= measured.low - tolerance && expectedRate <= measured.high + tolerance;
    notes.push(
      `monotonic rate ${measured.estimate.toFixed(4)} (bounds ${measured.low.toFixed(4)}..${measured.high.toFixed(4)}, expected ${expectedRate.toFixed(4)})`,
    );
    if (!good) ok = false;
  } else notes.push('monotonic clock not readable');
  if (Math.abs(expectedSkewMs) >= 2000) {
    // Node caches its Date header for up to a second: poll until a fresh one shows the offset.
    let skew: number | null = null;
    const deadline = performance.now() + 1600;
    do {
      const r = await readControllerClock(topo, region);
      if (r?.wallSkewMs !== null && r?.wallSkewMs !== undefined) skew = r.wallSkewMs;
      if (skew !== null && Math.abs(skew - expectedSkewMs) <= 1500) break;
      await sleep(200);
    } while (performance.now() < deadline);
    if (skew !== null) {
      notes.push(
        `wall clock skew ${(skew / 1000).toFixed(1)} s (expected ${(expectedSkewMs / 1000).toFixed(1)} s)`,
      );
      if (Math.abs(skew - expectedSkewMs) > 1500) ok = false;
    }
  }
  return {
    verified: ok,
    detail: `${name} pid ${pid}: libfaketime ${loaded ? 'loaded' : 'NOT loaded'}, file "${content}", ${notes.join(', ')}`,
  };
}
