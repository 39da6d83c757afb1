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
