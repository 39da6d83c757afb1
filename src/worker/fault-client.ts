/**
 * Calls the Worker's fault seam (src/worker/fault-seam.ts) for tests and the real executor.
 * Runtime-neutral (global fetch).
 */
import type { StaleInstanceReport } from './stale-instance.ts';

export interface FaultSeamTarget {
  url: string;
  token: string;
}

export async function staleInstanceFault(
  target: FaultSeamTarget,
  body: { lease: string; action: 'start' | 'stop' | 'report'; region?: string },
): Promise<{ status: number; report: StaleInstanceReport | null; text: string }> {
  const res = await fetch(`${target.url}/_fault/stale-instance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let report: StaleInstanceReport | null = null;
  if (res.status === 200) report = JSON.parse(text) as StaleInstanceReport;
  return { status: res.status, report, text };
}
