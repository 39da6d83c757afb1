/**
 * The `stop` fault in the simulator: SIGTERM runs the production driver's graceful shutdown
 * (demote the app, release once it confirmed, exit), as src/agent/runtime.ts does for real.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulateScenario } from '../../simulator/index.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { gracefulStopCapMs } from '../../src/controller/driver.ts';
import { parseScenario } from '../../src/scenario/loader.ts';

const catalog = (name: string) => {
  const file = `scenarios/${name}.yaml`;
  return parseScenario(readFileSync(file, 'utf8'), file);
};
const processOf = (h: HistoryEvent[], component: string) =>
  h.flatMap((e) => (e.kind === 'process' && e.component === component ? [{ op: e.op, t: e.t }] : []));
const storeOps = (h: HistoryEvent[]) =>
  h.flatMap((e) => (e.kind === 'lease-store' && e.op !== undefined && e.op !== 'refuse' ? [e] : []));

describe('the stop fault (graceful SIGTERM) in the simulator', () => {
  it('a stopped primary demotes its app, then releases its lease, then exits; it restarts when the step ends', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulateScenario(catalog('controller-graceful-stop'), { seed });
      expect(r.verdict.violations).toEqual([]);
      const proc = processOf(r.history, 'ctl-a').filter((p) => p.t >= 25_000);
      expect(proc.map((p) => p.op)).toEqual(['stop', 'exit', 'restart']);
      const [stop] = proc;
      const revoke = r.history.find(
        (e) => e.kind === 'app-authority' && e.region === 'a' && e.op === 'revoke',
      );
      const release = storeOps(r.history).find((e) => e.op === 'release' && e.region === 'a');
      expect(revoke?.t).toBeGreaterThanOrEqual(stop!.t);
      expect(release?.t).toBeGreaterThan(revoke!.t);
      expect(release!.t - stop!.t).toBeLessThan(1000);
      expect(r.verdict.outcomes.find((o) => o.name === 'stop-releases-lease')).toMatchObject({
        ok: true,
        evaluated: true,
      });
    }
  });

  it('with its app unreachable the demotion is never confirmed: no release; the process exits once the demote timed out, within its cap', () => {
    const r = simulateScenario(catalog('graceful-stop-app-unreachable'), { seed: 1 });
    expect(r.verdict.violations).toEqual([]);
    const [stop, exit] = processOf(r.history, 'ctl-a').filter((p) => p.t >= 25_000);
    expect([stop?.op, exit?.op]).toEqual(['stop', 'exit']);
    // the shipped timings: H = 10 s, so the demote call and the release each time out at H/2
    const cap = gracefulStopCapMs(5_000, 5_000);
    // the demote waited behind the extend already in flight, then timed out itself (H/2 each)
    expect(exit!.t - stop!.t).toBeGreaterThan(5_000);
    expect(exit!.t - stop!.t).toBeLessThanOrEqual(cap);
    expect(storeOps(r.history).filter((e) => e.op === 'release')).toEqual([]);
    // the epoch ends at the store on its own: it expires
    expect(storeOps(r.history).some((e) => e.op === 'expire' && e.epoch === 1)).toBe(true);
  });

  it('a stop right after a pause: the frozen renewal times out first (Node runs expired timers before its sockets), the demote follows the one extend in flight, nothing after it', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = simulateScenario(catalog('stop-after-pause-queued-extends'), { seed });
      expect(r.verdict.violations).toEqual([]);
      const stopT = processOf(r.history, 'ctl-a').find((p) => p.op === 'stop')!.t;
      const acts = r.history.flatMap((e) => (e.kind === 'act' && e.region === 'a' ? [e] : []));
      const demote = acts.find((e) => e.action === 'demote')!;
      expect(demote.t).toBe(stopT);
      // as on the real topology: the renewal whose reply waited in the frozen process is
      // reported timed out on waking, and the reply is dropped; the next renewal's reply is the
      // one extend before the stop
      const frozenRenewal = r.history.find(
        (e) =>
          e.kind === 'lease' &&
          e.region === 'a' &&
          e.op === 'renew' &&
          e.phase === 'result' &&
          e.t < stopT &&
          !e.ok,
      );
      expect(frozenRenewal).toMatchObject({ error: 'timeout' });
      const extendsBefore = acts.filter((e) => e.action === 'extend' && e.t > stopT - 1000 && e.t < stopT);
      expect(extendsBefore).toHaveLength(1);
      const authority = r.history.flatMap((e) =>
        e.kind === 'app-authority' && e.region === 'a' && e.t >= stopT ? [`${e.op}:${e.reason}`] : [],
      );
      expect(authority.slice(0, 2)).toEqual(['grant:extend', 'revoke:demote: shutdown']);
    }
  });
});
