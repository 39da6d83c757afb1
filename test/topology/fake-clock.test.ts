/**
 * FakeClock (src/faults/clock.ts) keeps the faked wall clock continuous when the rate changes
 * by folding elapsed·(old − new rate) into the offset; so the skew a verifier must expect is
 * offset + elapsed·(rate − 1), not the offset. (A drift applied to a controller older than
 * ~5 s was reported unverified: "wall clock skew 0.4 s (expected -2.2 s)".)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/faults/clock.ts';

const dir = mkdtempSync(join(tmpdir(), 'fl-fakeclock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FakeClock', () => {
  it('a rate change of a 10 s old process moves the offset, not the wall clock', () => {
    const spawnedAtMs = performance.now() - 10_000;
    const clock = new FakeClock(join(dir, 'rate'), () => spawnedAtMs);
    clock.setRate(1.4);
    expect(clock.current.offsetMs).toBeLessThan(-3_990); // 10 s · (1 − 1.4)
    expect(Math.abs(clock.wallSkewMs())).toBeLessThan(50); // continuous at the switch
    expect(readFileSync(join(dir, 'rate'), 'utf8')).toMatch(/^-4\.\d+ x1\.4/);
  });

  it('a shift is all skew', () => {
    const spawnedAtMs = performance.now() - 10_000;
    const clock = new FakeClock(join(dir, 'shift'), () => spawnedAtMs);
    clock.shift(3_000);
    expect(clock.wallSkewMs()).toBeCloseTo(3_000, 0);
  });
});
