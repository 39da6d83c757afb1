/**
 * A scenario's boot latencies (Scenario.boot) on the real topology: applied once the link
 * proxies exist and before any controller starts (startTopology's beforeControllers), so
 * they are in force for every controller request, as the simulator's are from t = 0. They
 * stay until the topology stops. This is what makes a boot race replay: e.g. a latency on
 * the initial primary's link to the Worker lets the standby's first status poll reach the
 * Worker before the primary's first write, on every run (docs/scenarios.md "Boot latency").
 */
import { BadInputError } from '../errors.ts';
import { LinkFaults } from '../faults/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import { describeTopology, selectLinks } from '../scenario/topology-description.ts';
import { bootSteps, stepParams } from '../scenario/validate.ts';
import type { LinkProxy } from '../topology/proxies.ts';
import type { Recorder } from './recorder.ts';

export type BeforeControllers = (toxiproxy: {
  url: string;
  proxies: Map<string, LinkProxy>;
}) => Promise<void>;

/** The startTopology hook for the scenario's boot latencies, or undefined when it has none. */
export function bootLatencyHook(
  scenario: Scenario,
  timeScale: number,
  rec: Recorder,
  driver: 'local' | 'docker' | undefined,
  progress: (line: string) => void,
): BeforeControllers | undefined {
  const steps = bootSteps(scenario);
  if (steps.length === 0) return undefined;
  if (driver === 'docker') {
    throw new BadInputError(
      'boot latencies need the local driver (they are applied before the controllers start)',
      'boot',
    );
  }
  const spec = describeTopology();
  return async ({ url, proxies }) => {
    const lf = new LinkFaults(url, proxies);
    for (const [i, step] of steps.entries()) {
      const id = `boot${i + 1}`;
      const p = stepParams(step);
      const targets = Array.isArray(step.target) ? step.target : [step.target];
      const links = [...new Set(targets.flatMap((t) => selectLinks(spec, t).map((l) => l.id)))].sort();
      const latencyMs = Math.round(p.latencyMs * timeScale);
      const jitterMs = Math.round(p.jitterMs * timeScale);
      const toxic = `${id}-latency`;
      await Promise.all(
        links.map((l) => lf.addToxic(l, toxic, 'latency', { latency: latencyMs, jitter: jitterMs })),
      );
      // The upstreams may not listen yet (the Worker boots alongside), so the proxy's own
      // toxic list is the verification, not a round trip.
      const states = await Promise.all(links.map((l) => lf.state(l)));
      const verified = states.every((s) => s.toxics.includes(toxic));
      const target = targets.join(',');
      rec.recordNow({
        kind: 'fault',
        phase: 'start',
        id,
        fault: 'latency',
        target,
        verified,
        detail: `boot latency ${latencyMs} ms ± ${jitterMs} ms (scaled) on ${links.join(', ')}, before the controllers start, until the end`,
        links,
      });
      progress(
        `${scenario.name}: boot latency ${latencyMs} ms on ${links.join(', ')} (verified: ${verified})`,
      );
    }
  };
}
