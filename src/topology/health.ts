/**
 * "Does this component answer?" — one probe per component kind, used by `up --check`, by
 * the boot wait and by fault verification (crash → gone; restart → answers again).
 * Probes go directly to the component, never through the link proxies.
 */
import { queryDns } from './dns.ts';
import { httpGet } from './http.ts';
import type { Topology } from './local.ts';

// re-exported: tests and callers probe through health.ts
export { httpGet };

export interface HealthResult {
  ok: boolean;
  detail: string;
}

export async function componentHealth(topo: Topology, name: string, timeoutMs = 800): Promise<HealthResult> {
  try {
    if (name.startsWith('auth-')) {
      const r = name.slice(5);
      const a = topo.auths[r]!;
      const dns = await queryDns(a.dns, topo.spec.zone, { type: 'SOA', timeoutMs });
      const api = await httpGet(`http://${a.api.host}:${a.api.port}/api/v1/servers/localhost`, {
        timeoutMs,
        headers: { 'X-API-Key': topo.pdnsApiKey },
      });
      return {
        ok: dns.rcode === 'NOERROR' && api.status === 200,
        detail: `DNS ${dns.rcode}, API HTTP ${api.status}`,
      };
    }
    if (name.startsWith('app-')) {
      const e = topo.apps[name.slice(4)]!;
      const res = await httpGet(`http://${e.host}:${e.port}/health`, { timeoutMs });
      return {
        ok: res.status === 200 && res.body.startsWith('OK'),
        detail: `HTTP ${res.status} ${res.body.trim()}`,
      };
    }
    if (name.startsWith('ctl-')) {
      const c = topo.controllers[name.slice(4)]!;
      const res = await httpGet(`http://${c.admin.host}:${c.admin.port}/healthz`, { timeoutMs });
      return { ok: res.status > 0, detail: `HTTP ${res.status}` };
    }
    if (topo.witnesses[name]) {
      const r = await queryDns(topo.witnesses[name]!, topo.spec.regionName(topo.initialPrimary), {
        timeoutMs,
      });
      return { ok: true, detail: `DNS ${r.rcode} ${r.answers.join(' ')}`.trim() };
    }
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
