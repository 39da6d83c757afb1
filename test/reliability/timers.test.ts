/** The clamped timer: delays beyond setTimeout's 2^31 ms range wait their full length. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampedSleep, MAX_TIMER_DELAY_MS, setClampedTimeout } from '../../src/timers.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('setClampedTimeout', () => {
  it('fires a delay past 2^31 ms only once all of it has elapsed (re-arming in chunks)', () => {
    const fired = vi.fn();
    setClampedTimeout(fired, MAX_TIMER_DELAY_MS * 2 + 5);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS * 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('never fires for Infinity, and at once for NaN or a negative delay', () => {
    const never = vi.fn();
    const soon = vi.fn();
    setClampedTimeout(never, Number.POSITIVE_INFINITY);
    setClampedTimeout(soon, Number.NaN);
    setClampedTimeout(soon, -5);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS * 3);
    expect(never).not.toHaveBeenCalled();
    expect(soon).toHaveBeenCalledTimes(2);
  });

  it('clear() stops it, also between two chunks', () => {
    const fired = vi.fn();
    const t = setClampedTimeout(fired, MAX_TIMER_DELAY_MS + 10);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    t.clear();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });

  it('clampedSleep rejects with the abort reason and resolves after the whole delay', async () => {
    const ac = new AbortController();
    const aborted = clampedSleep(MAX_TIMER_DELAY_MS * 4, ac.signal);
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    let done = false;
    const long = clampedSleep(MAX_TIMER_DELAY_MS + 1).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await long;
    expect(done).toBe(true);
  });
});
