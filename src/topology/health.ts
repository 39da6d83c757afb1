/**
 * "Does this component answer?" — one probe per component kind, used by `up --check`, by
 * the boot wait and by fault verification (crash → gone; restart → answers again).
 * Probes go directly to the component, never through the link proxies.
 */

import type { Endpoint } from './configs.ts';
import { queryDns } from './dns.ts';
import { httpGet } from './http.ts';
import type { Topology } from './types.ts';

// re-exported: tests and callers probe through health.ts
export { httpGet };

export interface HealthResult {
  ok: boolean;
  detail: string;
}

/** An authoritative answers: its DNS serves the zone's SOA and its API answers with the key. */
export async function authHealth(
  at: { dns: Endpoint; api: Endpoint },
  zone: string,
  apiKey: string,
  timeoutMs: number,
): Promise<HealthResult> {
  const dns = await queryDns(at.dns, zone, { type: 'SOA', timeoutMs });
  const api = await httpGet(`http://${at.api.host}:${at.api.port}/api/v1/servers/localhost`, {
    timeoutMs,
    headers: { 'X-API-Key': apiKey },
  });
  return {
    ok: dns.rcode === 'NOERROR' && api.status === 200,
    detail: `DNS ${dns.rcode}, API HTTP ${api.status}`,
  };
}

/** An app answers its health check with OK. */
export async function appHealth(at: Endpoint, timeoutMs: number): Promise<HealthResult> {
  const res = await httpGet(`http://${at.host}:${at.port}/health`, { timeoutMs });
  return {
    ok: res.status === 200 && res.body.startsWith('OK'),
    detail: `HTTP ${res.status} ${res.body.trim()}`,
  };
}

/** A controller's admin API answers at all. */
export async function controllerHealth(admin: Endpoint, timeoutMs: number): Promise<HealthResult> {
  const res = await httpGet(`http://${admin.host}:${admin.port}/healthz`, { timeoutMs });
  return { ok: res.status > 0, detail: `HTTP ${res.status}` };
}

/** A witness resolver answers a query for the region name, whatever it answers. */
export async function witnessHealth(at: Endpoint, name: string, timeoutMs: number): Promise<HealthResult> {
  const r = await queryDns(at, name, { timeoutMs });
  return { ok: true, detail: `DNS ${r.rcode} ${r.answers.join(' ')}`.trim() };
}

/** Does the named component answer? A probe that throws (refused, timeout) is not ok. */
export async function componentHealth(topo: Topology, name: string, timeoutMs = 800): Promise<HealthResult> {
  try {
    if (name.startsWith('auth-'))
      return await authHealth(topo.auths[name.slice(5)]!, topo.spec.zone, topo.pdnsApiKey, timeoutMs);
    if (name.startsWith('app-')) return await appHealth(topo.apps[name.slice(4)]!, timeoutMs);
    if (name.startsWith('ctl-'))
      return await controllerHealth(topo.controllers[name.slice(4)]!.admin, timeoutMs);
    if (topo.witnesses[name])
      return await witnessHealth(topo.witnesses[name]!, topo.spec.regionName(topo.initialPrimary), timeoutMs);
    if (name === 'worker') {
      const res = await httpGet(`${topo.worker.url}/`, { timeoutMs });
      return { ok: res.status > 0, detail: `HTTP ${res.status}` };
    }
    if (name === 'toxiproxy') {
      const res = await httpGet(`${topo.toxiproxyUrl}/version`, { timeoutMs });
      return { ok: res.status === 200, detail: `HTTP ${res.status} version ${res.body.trim()}` };
    }
    if (name === 'tombstone') {
      const res = await httpGet(`http://${topo.tombstone.host}:${topo.tombstone.port}/health`, { timeoutMs });
      return { ok: res.status === 200, detail: `HTTP ${res.status}` };
    }
    return { ok: false, detail: `unknown component ${name}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

/** Polls until the component answers or the deadline passes. */
export async function waitHealthy(
  topo: Topology,
  name: string,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<HealthResult & { atMs: number }> {
  let last: HealthResult = { ok: false, detail: 'not tried' };
  while (performance.now() < deadlineMs) {
    if (signal?.aborted) throw signal.reason;
    last = await componentHealth(topo, name, 500);
    if (last.ok) return { ...last, atMs: performance.now() };
    await new Promise((r) => setTimeout(r, 15));
  }
  return { ...last, atMs: performance.now() };
}
