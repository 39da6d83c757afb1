/**
 * The test-file order of npm test (test/lanes-sequencer.ts): one real topology at a time,
 * both workers busy to the end, and estimates that still name existing files.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { estimatedFiles, laneOrder } from '../lanes-sequencer.ts';

interface E {
  file: string;
  estimateS: number;
  real: boolean;
}

/** Plays the order out on `workers` workers that take the next file when free: [start, end, entry]. */
function playOut(order: readonly string[], byName: Map<string, E>, workers = 2) {
  const freeAtS = Array.from({ length: workers }, () => 0);
  return order.map((file) => {
    const w = freeAtS.indexOf(Math.min(...freeAtS));
    const start = freeAtS[w]!;
    const e = byName.get(file)!;
    freeAtS[w] = start + e.estimateS;
    return { start, end: freeAtS[w]!, e };
  });
}

const entries: E[] = [
  ...[38, 36, 28, 17, 14, 13, 9, 8].map((s, i) => ({ file: `real${i}`, estimateS: s, real: true })),
  ...[25, 11, 11, 10, 9, 8, 6, 5, 4, 3, 3].map((s, i) => ({ file: `other${i}`, estimateS: s, real: false })),
  ...Array.from({ length: 60 }, (_, i) => ({ file: `small${i}`, estimateS: 0.4, real: false })),
];
const byName = new Map(entries.map((e) => [e.file, e]));

/** Real files that overlap an earlier real file, played out. */
function overlapping(order: readonly string[], byName: Map<string, E>) {
  const played = playOut(order, byName);
  const real = played.filter((r) => r.e.real);
  return real.filter((r, i) => real.slice(0, i).some((q) => q.end > r.start));
}

describe('lanes sequencer', () => {
  it('orders every file once; with work enough for the other worker no two real files overlap', () => {
    // the other lane longer than the real one (in npm test the two are close: ~185 s and ~210 s)
    const more = [
      ...entries,
      ...[20, 20, 15].map((s, i) => ({ file: `more${i}`, estimateS: s, real: false })),
    ];
    const moreByName = new Map(more.map((e) => [e.file, e]));
    const order = laneOrder(more);
    expect([...order].sort()).toEqual(more.map((e) => e.file).sort());
    expect(overlapping(order, moreByName).map((r) => r.e.file)).toEqual([]);
    const totalS = more.reduce((s, e) => s + e.estimateS, 0);
    expect(Math.max(...playOut(order, moreByName).map((r) => r.end))).toBeLessThanOrEqual(totalS / 2 + 38);
  });

  it('overlaps real files only once every other file has started, shortest real files last', () => {
    const order = laneOrder(entries);
    const played = playOut(order, byName);
    const lastOtherStartS = Math.max(...played.filter((r) => !r.e.real).map((r) => r.start));
    const over = overlapping(order, byName);
    expect(over.length).toBeGreaterThan(0); // this mix has more real work than other work
    for (const r of over) expect(r.start).toBeGreaterThanOrEqual(lastOtherStartS);
    const realSizes = played.filter((r) => r.e.real).map((r) => r.e.estimateS);
    expect(realSizes).toEqual([...realSizes].sort((a, b) => b - a));
  });

  it('names only test files that exist', () => {
    expect(estimatedFiles().filter((f) => !existsSync(f))).toEqual([]);
  });
});
