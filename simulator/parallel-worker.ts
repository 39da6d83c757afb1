/**
 * Body of a search worker thread (simulator/parallel.ts): answers each range request with
 * its tally. Started through the CLI launcher (bin/failover-lab.mjs), which loads this module
 * from dist/ or, in a checkout with a stale build, from source, exactly as the main thread did.
 */
import { parentPort } from 'node:worker_threads';
import { tallyRange } from './explore.ts';
import type { RangeRequest } from './parallel.ts';

export function serveSearchRanges(): void {
  const port = parentPort;
  if (!port) throw new Error('serveSearchRanges runs in a worker thread');
  port.on('message', (req: RangeRequest) => port.postMessage(tallyRange(req.spec, req.from, req.to)));
}
