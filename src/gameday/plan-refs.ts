/**
 * The strings inside a plan's probes, checked before anything starts: every `${kind.name}`
 * reference names something the target provides, and (unless the operator allowed remote
 * targets) every literal URL and resolver is on loopback. Each error points at the field's
 * file:line:col. The same references are checked once more against the running target
 * (target.ts), which stays the authority for what a target really provides.
 */
import { BadInputError } from '../errors.ts';
import { describeTopology } from '../scenario/topology-description.ts';
import type { GameDayPlan, PlanInput, Probe } from './plan-schema.ts';
import { isLoopbackHost } from './util.ts';

type Path = Array<string | number>;
type RefKind = 'endpoints' | 'metrics' | 'resolvers' | 'hosts';
const REF_KINDS: RefKind[] = ['endpoints', 'metrics', 'resolvers', 'hosts'];
const ANY_REF_RE = /\$\{([^}]*)\}?/g;

/** The names `${kind.name}` may use on the local topology (mirrors target.ts's probe context). */
function localNames(controllers: boolean): Record<RefKind, Set<string>> {
  const spec = describeTopology();
  const names: Record<RefKind, Set<string>> = {
    endpoints: new Set(['worker', ...spec.links.map((l) => l.id)]),
    metrics: new Set(),
    resolvers: new Set(spec.witnesses),
    hosts: new Set(['tombstone', 'worker', ...spec.witnesses]),
  };
  for (const r of spec.regions) {
    for (const n of [`app-${r}`, `auth-${r}`]) {
      names.endpoints.add(n);
      names.hosts.add(n);
    }
    names.resolvers.add(`auth-${r}`);
    if (controllers) {
      names.endpoints.add(`ctl-${r}`);
      names.metrics.add(`ctl-${r}`);
    }
  }
  return names;
}

function namesOf(target: GameDayPlan['target']): Record<RefKind, Set<string>> {
  if (target.kind === 'local') return localNames(target.controllers);
  return {
    endpoints: new Set(Object.keys(target.endpoints)),
    metrics: new Set(Object.keys(target.metrics)),
    resolvers: new Set(Object.keys(target.resolvers)),
    hosts: new Set(Object.keys(target.hosts)),
  };
}

interface ProbeString {
  path: Path;
  value: string;
  /** how the string is used when it has no `${...}` */
  use: 'url' | 'resolver' | 'metrics-name' | 'text';
}

function probeStrings(p: Probe): ProbeString[] {
  const list = (base: Path, values: string[] | undefined): ProbeString[] =>
    (values ?? []).map((value, k) => ({ path: [...base, k], value, use: 'text' as const }));
  switch (p.type) {
    case 'http':
      return [{ path: ['http', 'url'], value: p.http.url, use: 'url' }];
    case 'dns':
      return [
        { path: ['dns', 'resolver'], value: p.dns.resolver, use: 'resolver' },
        ...list(['dns', 'expect', 'answers'], p.dns.expect.answers),
        ...list(['dns', 'expect', 'contains'], p.dns.expect.contains),
        ...list(['dns', 'expect', 'notContains'], p.dns.expect.notContains),
      ];
    case 'prom':
      return [
        ...(p.prom.url !== undefined
          ? [{ path: ['prom', 'url'], value: p.prom.url, use: 'url' as const }]
          : []),
        ...(p.prom.target !== undefined
          ? [{ path: ['prom', 'target'], value: p.prom.target, use: 'metrics-name' as const }]
          : []),
      ];
    case 'cmd':
      return list(['cmd', 'args'], p.cmd.args);
  }
}

/** Every probe written in the plan, with its path (shared, steady-state inline, experiment inline). */
function probesWithPaths(raw: PlanInput): Array<{ probe: Probe; path: Path }> {
  const out: Array<{ probe: Probe; path: Path }> = raw.probes.map((probe, i) => ({
    probe,
    path: ['probes', i],
  }));
  raw.steadyState?.probes.forEach((ref, j) => {
    if (typeof ref !== 'string') out.push({ probe: ref, path: ['steadyState', 'probes', j] });
  });
  raw.experiments.forEach((e, i) => {
    e.probes?.forEach((ref, j) => {
      if (typeof ref !== 'string') out.push({ probe: ref, path: ['experiments', i, 'probes', j] });
    });
  });
  return out;
}

function hostOfUrl(u: string): string | null {
  try {
    return new URL(u).hostname;
  } catch {
    return null;
  }
}

function checkOne(
  s: ProbeString,
  probeName: string,
  names: Record<RefKind, Set<string>>,
  targetKind: string,
  where: string,
  loopbackOnly: boolean,
): void {
  const fail = (message: string): never => {
    throw new BadInputError(`probe ${probeName}: ${message}`, where);
  };
  for (const m of s.value.matchAll(ANY_REF_RE)) {
    const body = m[1] ?? '';
    const dot = body.indexOf('.');
    const kind = body.slice(0, dot) as RefKind;
    const name = body.slice(dot + 1);
    if (!m[0].endsWith('}') || dot < 1 || !REF_KINDS.includes(kind) || name === '')
      fail(`"${m[0]}" is not a reference (write \${endpoints|metrics|resolvers|hosts.<name>})`);
    if (!names[kind].has(name))
      fail(
        `unknown reference \${${kind}.${name}} on the ${targetKind} target (known: ${[...names[kind]].join(', ') || 'none'})`,
      );
  }
  if (s.value.includes('${')) return; // its value comes from the target
  if (s.use === 'metrics-name' && !names.metrics.has(s.value))
    fail(`unknown metrics target "${s.value}" (known: ${[...names.metrics].join(', ') || 'none'})`);
  if (s.use === 'resolver' && !s.value.includes(':') && !names.resolvers.has(s.value))
    fail(`unknown resolver "${s.value}" (known: ${[...names.resolvers].join(', ') || 'none'}, or host:port)`);
  if (!loopbackOnly) return;
  const host =
    s.use === 'url'
      ? hostOfUrl(s.value)
      : s.use === 'resolver' && s.value.includes(':')
        ? s.value.replace(/:\d+$/, '')
        : null;
  if (host !== null && !isLoopbackHost(host))
    fail(`"${s.value}" is not on loopback (127.0.0.0/8); pass --allow-remote for a remote game day`);
}

/** Literal addresses of an external target (APIs, metrics, resolvers, endpoints): loopback only. */
function checkExternalTargetLoopback(raw: PlanInput, at: (path: Path) => string): void {
  if (!('external' in raw.target)) return;
  const ext = raw.target.external;
  const base: Path = ['target', 'external'];
  const refuse = (path: Path, value: string) => {
    throw new BadInputError(
      `"${value}" is not on loopback (127.0.0.0/8); pass --allow-remote for a remote game day`,
      at(path),
    );
  };
  const servers = typeof ext.toxiproxy === 'string' ? { '': ext.toxiproxy } : ext.toxiproxy;
  for (const [name, url] of Object.entries(servers)) {
    const host = hostOfUrl(url);
    if (host !== null && !isLoopbackHost(host))
      refuse(name ? [...base, 'toxiproxy', name] : [...base, 'toxiproxy'], url);
  }
  for (const [name, url] of Object.entries(ext.metrics)) {
    const host = hostOfUrl(url);
    if (host !== null && !isLoopbackHost(host)) refuse([...base, 'metrics', name], url);
  }
  for (const field of ['resolvers', 'endpoints'] as const) {
    for (const [name, hp] of Object.entries(ext[field])) {
      const host = hp.includes('://') ? hostOfUrl(hp) : hp.replace(/:\d+$/, '');
      if (host !== null && !isLoopbackHost(host)) refuse([...base, field, name], hp);
    }
  }
}

export function checkProbeStrings(
  raw: PlanInput,
  target: GameDayPlan['target'],
  at: (path: Path) => string,
  opts: { loopbackOnly?: boolean },
): void {
  const names = namesOf(target);
  const loopbackOnly = opts.loopbackOnly === true;
  for (const { probe, path } of probesWithPaths(raw)) {
    for (const s of probeStrings(probe))
      checkOne(s, probe.name, names, target.kind, at([...path, ...s.path]), loopbackOnly);
  }
  if (loopbackOnly) checkExternalTargetLoopback(raw, at);
}
