/** Small async helpers shared by the game-day runner; none of them ever rejects on abort. */
import { performance } from 'node:perf_hooks';
import { setClampedTimeout } from '../timers.ts';

/** Waits `ms` or until `signal` aborts; resolves true if it was aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setClampedTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      timer.clear();
      resolve(true);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Monotonic ms; game days measure everything on this clock, never on wall time. */
export function monotonicMs(): number {
  return performance.now();
}

/** An AbortController that also aborts when any of `parents` does. `dispose` detaches it. */
export function childAbort(...parents: AbortSignal[]): { ctl: AbortController; dispose: () => void } {
  const ctl = new AbortController();
  const listeners: Array<[AbortSignal, () => void]> = [];
  for (const p of parents) {
    if (p.aborted) {
      ctl.abort(p.reason);
      continue;
    }
    const fn = () => ctl.abort(p.reason);
    p.addEventListener('abort', fn, { once: true });
    listeners.push([p, fn]);
  }
  return {
    ctl,
    dispose: () => {
      for (const [p, fn] of listeners) p.removeEventListener('abort', fn);
    },
  };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = (err as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? ` (${cause.message})` : '';
    return code && !err.message.includes(code)
      ? `${code}: ${err.message}${causeText}`
      : err.message + causeText;
  }
  return String(err);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
