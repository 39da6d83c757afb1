/**
 * setTimeout that survives long delays. Node fires a timer of more than 2^31−1 ms after
 * 1 ms (with a warning), and toxic attributes are int64 ms, so a `latency` of a month must
 * be re-armed in steps rather than passed straight through.
 */
const MAX_TIMER_MS = 2_147_483_647;

export interface LongTimer {
  cancel(): void;
}

export function setLongTimeout(fn: () => void, delayMs: number): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  const deadlineMs = performance.now() + Math.max(0, delayMs);
  const arm = (): void => {
    const remainingMs = deadlineMs - performance.now();
    if (remainingMs > MAX_TIMER_MS) {
      handle = setTimeout(arm, MAX_TIMER_MS);
    } else {
      handle = setTimeout(fn, Math.max(0, remainingMs));
    }
  };
  arm();
  return {
    cancel() {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}
