/**
 * The `stale-instance` fault on the real topology (issue #15 item 5): the durable Worker's
 * fault seam (src/worker/fault-seam.ts) makes the lease object keep an old instance serving
 * one region's requests while a new one serves the rest; the same model the simulator runs
 * (src/worker/stale-instance.ts). Verified by the seam's own report: active for that region
 * at the start; at the end, what the old instance served and which answers its storage
 * write stopped.
 */
import type { FaultStep } from '../scenario/schema.ts';
import { LEASE_NAME, type Topology } from '../topology/local.ts';
import { staleInstanceFault } from '../worker/fault-client.ts';
import type { StaleInstanceReport } from '../worker/stale-instance.ts';
import type { Verification } from './links.ts';

interface Base {
  id: string;
  fault: FaultStep['fault'];
  target: string;
}

export function describeStaleReport(r: StaleInstanceReport): string {
  const suppressed = r.suppressed.map((s) => `${s.op} of ${s.region}`).join(', ') || 'none';
  return `old instance served ${r.served}, ${r.broken ? 'broken by a storage write' : 'never broken'}; suppressed: ${suppressed}`;
}

async function call(
  topo: Pick<Topology, 'worker' | 'workerFaultToken'>,
  body: Parameters<typeof staleInstanceFault>[1],
): Promise<{ report: StaleInstanceReport | null; detail: string }> {
  if (topo.workerFaultToken === undefined) {
    return { report: null, detail: 'the Worker runs without fault seams (legacy-kv or an external Worker)' };
  }
  try {
    const res = await staleInstanceFault({ url: topo.worker.url, token: topo.workerFaultToken }, body);
    return res.report
      ? { report: res.report, detail: '' }
      : { report: null, detail: `seam answered HTTP ${res.status}: ${res.text}` };
  } catch (err) {
    return { report: null, detail: `seam unreachable: ${(err as Error).message}` };
  }
}

export async function staleInstance(
  ctx: { topo: Topology },
  region: string,
  base: Base,
): Promise<{
  id: string;
  fault: FaultStep['fault'];
  target: string;
  links: string[];
  components: string[];
  start: Verification;
  revert(): Promise<Verification>;
}> {
  const started = await call(ctx.topo, { lease: LEASE_NAME, action: 'start', region });
  const ok = started.report?.active === true && started.report.region === region;
  let reverted: Promise<Verification> | null = null;
  return {
    ...base,
    links: [],
    components: ['worker'],
    start: {
      verified: ok,
      detail: ok
        ? `lease object ${LEASE_NAME}: an old instance now serves ${region}'s requests (fault seam)`
        : `stale instance not started: ${started.detail || JSON.stringify(started.report)}`,
    },
    revert: () => {
      reverted ??= call(ctx.topo, { lease: LEASE_NAME, action: 'stop' }).then(({ report, detail }) =>
        report
          ? { verified: true, detail: describeStaleReport(report) }
          : { verified: false, detail: `stale instance not stopped: ${detail}` },
      );
      return reverted;
    },
  };
}
