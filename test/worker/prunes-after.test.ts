/**
 * The lease object's one rule for when nonce pruning runs (src/worker/lease-object.ts
 * prunesAfter), asked by both durable.ts and the simulator's store model: after a command
 * that wrote, never after a replay or a stale request.
 */
import { describe, expect, it } from 'vitest';
import { executeObjectCommand, type ObjectCommand, prunesAfter } from '../../src/worker/lease-object.ts';

const NOW_MS = 1_800_000_000_000;
const TTL_MS = 30_000;
const acquire = (nonce: string, timestampMs = NOW_MS): ObjectCommand => ({
  op: 'acquire',
  region: 'a',
  claim: { nonce, timestampMs },
});

describe('prunesAfter', () => {
  it('prunes after a command that wrote (an acquire consumes its nonce)', () => {
    const out = executeObjectCommand(new Map(), acquire('n1'), NOW_MS, TTL_MS);
    expect(out.writes).not.toBeNull();
    expect(prunesAfter(out)).toBe(true);
  });

  it('leaves the schedule alone after a replay and after a stale request', () => {
    const first = executeObjectCommand(new Map(), acquire('n1'), NOW_MS, TTL_MS);
    const replay = executeObjectCommand(new Map(first.writes!), acquire('n1'), NOW_MS + 10, TTL_MS);
    expect(replay.result.kind).not.toBe('ok');
    expect(prunesAfter(replay)).toBe(false);
    const stale = executeObjectCommand(new Map(), acquire('n2', NOW_MS - 10 * 60_000), NOW_MS, TTL_MS);
    expect(stale.result.kind).not.toBe('ok');
    expect(prunesAfter(stale)).toBe(false);
  });
});
