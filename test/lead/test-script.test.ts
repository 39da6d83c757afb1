/**
 * npm test's runner (scripts/test.mjs): the type check and the lint run beside vitest, and a
 * failure of either fails npm test even when every test passed.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { combinedExit } from '../../scripts/test.mjs';

describe('scripts/test.mjs exit code', () => {
  it("is vitest's when vitest failed, 1 when only a check failed, 0 when all passed", () => {
    expect(combinedExit(0, [0, 0])).toBe(0);
    expect(combinedExit(1, [0, 0])).toBe(1);
    expect(combinedExit(0, [2, 0])).toBe(1);
    expect(combinedExit(0, [0, 1])).toBe(1);
    expect(combinedExit(130, [0, 2])).toBe(130);
  });
});
