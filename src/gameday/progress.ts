/** Live progress lines on stderr, stamped with seconds since the game day started. */
import { monotonicMs } from './util.ts';

export interface Progress {
  line(text: string): void;
}

export function stderrProgress(startMs = monotonicMs()): Progress {
  return {
    line(text) {
      const s = ((monotonicMs() - startMs) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[${s}s] ${text}\n`);
    },
  };
}

export const silentProgress: Progress = { line() {} };

/** Collects lines (tests). */
export function memoryProgress(): Progress & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (t) => lines.push(t) };
}
