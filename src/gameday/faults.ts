/**
 * Fault units: the smallest things a game day injects and reverts, each with its own
 * verification. An experiment's fault (e.g. "isolate a") expands into units (one per proxy
 * or toxic or process). A unit is registered with the rollback ledger *before* it is applied,
 * so a unit whose apply call timed out but took effect is still reverted.
 */

import { BadInputError } from '../errors.ts';
import { type ConnectOutcome, reachProxy } from '../faults/probe.ts';
import { describeTopology, isolationLinks } from '../scenario/topology-description.ts';
import type { ToxicState, ToxiproxyClient } from '../toxiproxy/client.ts';
import { type Experiment, type LinkBinding, matchLinkIds } from './plan.ts';
import { isLoopbackHost, monotonicMs, sleep } from './util.ts';

export interface Check {
  ok: boolean;
  detail: string;
}

export interface FaultUnit {
  /** e.g. "partition ctl-a->worker (proxy ctl-a_worker)" */
  label: string;
  apply(): Promise<void>;
  verifyApplied(): Promise<Check>;
  revert(): Promise<void>;
  verifyReverted(): Promise<Check>;
  /** broader revert tried when revert() keeps failing (e.g. POST /reset on the proxy's server) */
  lastResort?: { label: string; run(): Promise<void> };
}

/** What the local topology offers for process faults (adapter over src/topology's handle). */
export interface ProcessControl {
  pause(component: string): Promise<void>;
  resume(component: string): Promise<void>;
  crash(component: string): Promise<void>;
  restart(component: string): Promise<void>;
  state(component: string): Promise<'running' | 'paused' | 'stopped'>;
}

export interface FaultTarget {
  links: Record<string, LinkBinding>;
  api(url: string): ToxiproxyClient;
  processes?: ProcessControl;
}

/** Toxic names carry this prefix so leftovers from a game day are recognisable on any server. */
export const TOXIC_PREFIX = 'gameday-';

export interface ResolvedFault {
  units: FaultUnit[];
  /** link ids or components the fault touches */
  touched: string[];
  /** parts of the request this target cannot realise (e.g. unmapped isolation links) */
  notes: string[];
}

export function resolveFault(exp: Experiment, target: FaultTarget): ResolvedFault {
  const targets = Array.isArray(exp.target) ? exp.target : [exp.target];
  const ids = Object.keys(target.links);
  const notes: string[] = [];
  const linkUnits = (linkIds: string[], make: (b: LinkBinding) => FaultUnit[]): ResolvedFault => {
    const unique = [...new Set(linkIds)].sort();
    return { units: unique.flatMap((id) => make(target.links[id]!)), touched: unique, notes };
  };
  const params = exp.params as Record<string, string | number | boolean>;

  switch (exp.fault) {
    case 'partition': {
      let links = targets.flatMap((t) => matchLinkIds(ids, t));
      if (params.oneway !== true) {
        // Both directions: also cut the reverse link where the target has one (most links are one-way).
        const reverse = links
          .map((id) => id.split('->').reverse().join('->'))
          .filter((id) => ids.includes(id));
        links = [...links, ...reverse];
      }
      return linkUnits(links, (b) => [disableProxyUnit(b, target.api(b.toxiproxyUrl))]);
    }
    case 'isolate': {
      const spec = describeTopology();
      const wanted = targets.flatMap((r) => isolationLinks(spec, r).map((l) => l.id));
      const mapped = wanted.filter((id) => ids.includes(id));
      const missing = wanted.filter((id) => !ids.includes(id));
      if (mapped.length === 0)
        throw new BadInputError(
          `isolate ${targets.join(',')}: none of its inter-region links has a proxy in this target`,
        );
      if (missing.length > 0)
        notes.push(`no proxy for ${missing.length} isolation link(s): ${missing.join(', ')}`);
      return linkUnits(mapped, (b) => [disableProxyUnit(b, target.api(b.toxiproxyUrl))]);
    }
    case 'latency': {
      const streams =
        params.stream === 'both' ? ['downstream', 'upstream'] : [String(params.stream ?? 'downstream')];
      const links = targets.flatMap((t) => matchLinkIds(ids, t));
      return linkUnits(links, (b) =>
        streams.map((stream) =>
          toxicUnit(b, target.api(b.toxiproxyUrl), {
            name: `${TOXIC_PREFIX}${exp.name}-latency-${stream}`,
            type: 'latency',
            stream,
            toxicity: 1,
            attributes: { latency: Number(params.latency), jitter: Number(params.jitter ?? 0) },
          }),
        ),
      );
    }
    case 'loss':
    case 'blackhole': {
      // Toxiproxy's timeout toxic with timeout 0 swallows all data of the connections it
      // applies to and never closes them; toxicity picks the share of *connections* (not packets).
      const toxicity = exp.fault === 'loss' ? Number(params.probability) : 1;
      const links = targets.flatMap((t) => matchLinkIds(ids, t));
      return linkUnits(links, (b) => [
        toxicUnit(b, target.api(b.toxiproxyUrl), {
          name: `${TOXIC_PREFIX}${exp.name}-${exp.fault}`,
          type: 'timeout',
          stream: 'upstream',
          toxicity,
          attributes: { timeout: 0 },
        }),
      ]);
    }
    case 'pause':
    case 'crash': {
      const proc = target.processes;
      if (!proc) throw new BadInputError(`${exp.fault} needs the local target (process control)`);
      return {
        units: targets.map((c) => (exp.fault === 'pause' ? pauseUnit(proc, c) : crashUnit(proc, c))),
        touched: targets,
        notes,
      };
    }
  }
}

/**
 * How long reaching a proxy may take: a remote proxy accepts a connect within a few RTTs; one
 * DNS question through a UDP proxy (the witness path) is answered in milliseconds.
 */
export const REACH_TIMEOUT_MS = { tcp: 2000, udp: 600 } as const;

/**
 * Where to TCP-connect to test a proxy: its listen address, except that a wildcard bind, or
 * a loopback bind on a remote Toxiproxy host, is reached through the API's host.
 */
export function connectAddress(listen: string, apiUrl: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) return null;
  const listenHost = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  const apiHost = new URL(apiUrl).hostname.replace(/^\[|\]$/g, '');
  const wildcard = listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::';
  if (wildcard) return { host: apiHost, port };
  if (isLoopbackHost(listenHost) && !isLoopbackHost(apiHost)) return { host: apiHost, port };
  return { host: listenHost, port };
}

async function connectCheck(
  b: LinkBinding,
  listen: string,
  protocol: 'tcp' | 'udp' = 'tcp',
): Promise<{ where: string; outcome: ConnectOutcome } | null> {
  if (!b.connectCheck) return null;
  const addr = b.connect
    ? (() => {
        const i = b.connect.lastIndexOf(':');
        return { host: b.connect.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(b.connect.slice(i + 1)) };
      })()
    : connectAddress(listen, b.toxiproxyUrl);
  if (!addr) return { where: listen, outcome: 'error:unparsable listen address' };
  const outcome = await reachProxy(addr, protocol, REACH_TIMEOUT_MS[protocol]);
  return { where: `${protocol} ${addr.host}:${addr.port}`, outcome };
}

/** The revert state every link unit checks: proxy enabled, none of our toxics, and the proxy is reachable in its protocol. */
async function verifyLinkClean(b: LinkBinding, api: ToxiproxyClient): Promise<Check> {
  const p = await api.proxy(b.proxy);
  const ours = p.toxics.filter((t) => t.name.startsWith(TOXIC_PREFIX)).map((t) => t.name);
  const others = p.toxics.filter((t) => !t.name.startsWith(TOXIC_PREFIX)).map((t) => t.name);
  const conn = await connectCheck(b, p.listen, p.protocol);
  const connOk = conn === null || conn.outcome === 'connected';
  const parts = [
    `enabled=${p.enabled}`,
    `toxics=[${p.toxics.map((t) => t.name).join(',')}]`,
    conn ? `connect ${conn.where} ${conn.outcome}` : 'connect check skipped (connectCheck: false)',
  ];
  if (others.length > 0) parts.push(`(toxics not created by a game day: ${others.join(',')})`);
  return { ok: p.enabled && ours.length === 0 && connOk, detail: parts.join(' ') };
}

function disableProxyUnit(b: LinkBinding, api: ToxiproxyClient): FaultUnit {
  return {
    label: `partition ${b.link} (proxy ${b.proxy})`,
    apply: async () => {
      await api.setEnabled(b.proxy, false);
    },
    verifyApplied: async () => {
      const p = await api.proxy(b.proxy);
      const conn = await connectCheck(b, p.listen, p.protocol);
      // A disabled Toxiproxy proxy closes its listener, so connects must be refused.
      const connOk = conn === null || conn.outcome === 'refused';
      return {
        ok: !p.enabled && connOk,
        detail: `enabled=${p.enabled} ${conn ? `connect ${conn.where} ${conn.outcome}` : 'connect check skipped'}`,
      };
    },
    revert: async () => {
      await api.setEnabled(b.proxy, true);
    },
    verifyReverted: () => verifyLinkClean(b, api),
    lastResort: { label: `POST ${api.url}/reset`, run: () => api.reset() },
  };
}

function toxicUnit(b: LinkBinding, api: ToxiproxyClient, toxic: ToxicState): FaultUnit {
  return {
    label: `${toxic.type} toxic ${toxic.name} (${toxic.stream}, toxicity ${toxic.toxicity}) on ${b.link} (proxy ${b.proxy})`,
    apply: () => api.addToxic(b.proxy, toxic),
    verifyApplied: async () => {
      const p = await api.proxy(b.proxy);
      const t = p.toxics.find((x) => x.name === toxic.name);
      const ok =
        p.enabled &&
        t !== undefined &&
        t.type === toxic.type &&
        Object.entries(toxic.attributes).every(([k, v]) => t.attributes[k] === v);
      return {
        ok,
        detail: t
          ? `toxic ${t.name} present: ${JSON.stringify(t.attributes)}`
          : `toxic ${toxic.name} missing`,
      };
    },
    revert: () => api.removeToxic(b.proxy, toxic.name, { ifPresent: true }),
    verifyReverted: () => verifyLinkClean(b, api),
    lastResort: { label: `POST ${api.url}/reset`, run: () => api.reset() },
  };
}

/** Process state changes follow a signal asynchronously (more so on a loaded machine): poll, bounded. */
const PROCESS_STATE_WAIT_MS = 3000;
const PROCESS_STATE_POLL_MS = 20;

async function waitForState(
  proc: ProcessControl,
  component: string,
  want: 'running' | 'paused' | 'stopped',
): Promise<Check> {
  const deadline = monotonicMs() + PROCESS_STATE_WAIT_MS;
  for (;;) {
    const s = await proc.state(component);
    if (s === want || monotonicMs() >= deadline) return { ok: s === want, detail: `${component} ${s}` };
    await sleep(PROCESS_STATE_POLL_MS);
  }
}

function pauseUnit(proc: ProcessControl, component: string): FaultUnit {
  return {
    label: `pause ${component} (SIGSTOP)`,
    apply: () => proc.pause(component),
    verifyApplied: () => waitForState(proc, component, 'paused'),
    revert: () => proc.resume(component),
    verifyReverted: () => waitForState(proc, component, 'running'),
  };
}

function crashUnit(proc: ProcessControl, component: string): FaultUnit {
  return {
    label: `crash ${component} (SIGKILL, restart at the end)`,
    apply: () => proc.crash(component),
    verifyApplied: () => waitForState(proc, component, 'stopped'),
    revert: async () => {
      // Restart only if still down: a supervisor may already have brought it back.
      if ((await proc.state(component)) !== 'running') await proc.restart(component);
    },
    verifyReverted: () => waitForState(proc, component, 'running'),
  };
}
