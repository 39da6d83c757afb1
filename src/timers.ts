/**
 * Timers that honour any delay. Node's setTimeout takes at most 2^31-1 ms (~24.8 days); a
 * longer delay fires after 1 ms (with a TimeoutOverflowWarning), which once turned a scenario
 * of `duration: 99999999h` into a 7-second PASS. Inputs are validated against documented
 * maxima long before they get here; this is the second line: a delay beyond the range re-arms
 * in chunks until it has really elapsed, and a non-finite one never fires.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface ClampedTimer {
  clear(): void;
  /** does not keep the process alive (like Timeout.unref) */
  unref(): ClampedTimer;
}

/** setTimeout for any delay: a NaN or negative delay fires at once, Infinity never. */
export function setClampedTimeout(fn: () => void, delayMs: number): ClampedTimer {
  let remainingMs = Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs);
  let timer: NodeJS.Timeout | null = null;
  let unrefd = false;
  const arm = () => {
    const chunkMs = Math.min(remainingMs, MAX_TIMER_DELAY_MS);
    remainingMs -= chunkMs;
    timer = setTimeout(() => {
      if (remainingMs > 0) arm();
      else {
        timer = null;
        fn();
      }
    }, chunkMs);
    if (unrefd) timer.unref();
  };
  arm();
  const handle: ClampedTimer = {
    clear() {
      if (timer) clearTimeout(timer);
      timer = null;
      remainingMs = 0;
    },
    unref() {
      unrefd = true;
      timer?.unref();
      return handle;
    },
  };
  return handle;
}

/** Waits `ms` (any size); rejects with the signal's reason if it aborts first. */
export function clampedSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.clear();
      reject(signal?.reason);
    };
    const timer = setClampedTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
