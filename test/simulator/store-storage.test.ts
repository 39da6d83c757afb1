/**
 * The simulated Durable Object storage reports what it holds (`store-storage` readings), for
 * `store-storage-bounded`: counted from what its set/delete actually added and removed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeClock } from '../../simulator/clock.ts';
import { Proc } from '../../simulator/net.ts';
import { World } from '../../simulator/world.ts';
import type { StoreStorageEvent } from '../../src/contracts/history.ts';
import { Scenario } from '../../src/scenario/schema.ts';
import { PruneSchedule } from '../../src/worker/nonces.ts';

/** A world with no controllers' traffic of interest: a tester sends `n` status requests 1 s apart. */
function statusEverySecond(n: number): World {
  const w = new World(
    Scenario.parse({ name: 'storage', duration: '1h', workload: { clients: 0 } }),
    1,
    'durable',
  );
  const from = new Proc('tester', new NodeClock());
  for (let i = 0; i < n; i++) {
    w.engine.at(i * 1000, () =>
      w.net.call(
        w.link('ctl-a->worker'),
        from,
        w.server('worker'),
        { op: 'status', region: 'a' },
        5000,
        () => {},
      ),
    );
  }
  w.engine.run(n * 1000 + 5000);
  w.store.recordStorageAtEnd();
  return w;
}

const readings = (w: World) =>
  w.rec.events.filter((e): e is StoreStorageEvent => e.kind === 'store-storage' && e.object === 'svc');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('simulated lease store storage readings', () => {
  it('a pruning store holds the nonces of its retention span: high-water readings and one at the end', () => {
    const r = readings(statusEverySecond(100));
    // kept timestamp + 31 s, pruned at most 5 s late: 31-37 nonces at 1 request/s
    const end = r.at(-1)!;
    expect(end.reason).toBe('end');
    // readings at each new high, ×1.5 apart: 16, 24, 36 reached, 54 never
    expect(r.slice(0, -1).map((x) => `${x.reason} ${x.nonceKeys}`)).toEqual([
      'high-water 16',
      'high-water 24',
      'high-water 36',
    ]);
    expect(end.nonceKeys).toBeGreaterThanOrEqual(31);
    expect(end.nonceKeys).toBeLessThanOrEqual(37);
    expect(end.nonceIndexKeys).toBe(end.nonceKeys);
    // the last request arrived one link delay after the last send, at 99 s
    expect(end.afterRequestT).toBeGreaterThanOrEqual(99_000);
    expect(end.afterRequestT).toBeLessThan(100_000);
    // status requests write their nonce alone: no lease state, no observation
    expect(end.keys).toBe(2 * end.nonceKeys);
  });

  it('a store that never prunes shows every nonce it took', () => {
    vi.spyOn(PruneSchedule.prototype, 'due').mockReturnValue(false);
    const r = readings(statusEverySecond(100));
    expect(r.at(-1)!.nonceKeys).toBe(100);
    expect(r.filter((x) => x.reason === 'high-water').map((x) => x.nonceKeys)).toEqual([16, 24, 36, 54, 81]);
  });
});
