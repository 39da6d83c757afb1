/**
 * Loads a game-day plan (schemas and types in plan-schema.ts, re-exported here): resolves
 * probe references and link bindings, and checks everything that can be checked without
 * touching the network, so a bad plan exits 2 before anything starts.
 */
import { BadInputError } from '../errors.ts';
import { describeTopology, selectLinks } from '../scenario/topology-description.ts';
import { checkProbeStrings } from './plan-refs.ts';
import {
  type Experiment,
  type GameDayPlan,
  type LinkBinding,
  Plan,
  PROBE_MODES,
  PROCESS_FAULTS,
  type Probe,
} from './plan-schema.ts';
import { type LoadedYaml, loadYamlFile, parseWithSchema } from './yaml.ts';

export * from './plan-schema.ts';

export interface PlanCheckOptions {
  /** refuse probe URLs and resolvers outside 127.0.0.0/8 (the gameday command without --allow-remote) */
  loopbackOnly?: boolean;
}

export function loadPlanFile(file: string, opts: PlanCheckOptions = {}): GameDayPlan {
  const loaded = loadYamlFile(file);
  return planFromYaml(loaded, opts);
}

export function planFromYaml(loaded: LoadedYaml, opts: PlanCheckOptions = {}): GameDayPlan {
  const raw = parseWithSchema(loaded, Plan);
  const at = (path: Array<string | number>) => loaded.where(path);

  const shared = new Map<string, Probe>();
  raw.probes.forEach((p, i) => {
    if (shared.has(p.name))
      throw new BadInputError(`duplicate probe name "${p.name}"`, at(['probes', i, 'name']));
    shared.set(p.name, p);
  });
  const resolveRef = (ref: string | Probe, path: Array<string | number>): Probe => {
    if (typeof ref !== 'string') return ref;
    const p = shared.get(ref);
    if (!p) throw new BadInputError(`unknown probe "${ref}" (define it under probes:)`, at(path));
    return p;
  };

  const names = new Set<string>();
  const experiments = raw.experiments.map((e, i) => {
    if (names.has(e.name))
      throw new BadInputError(`duplicate experiment name "${e.name}"`, at(['experiments', i, 'name']));
    names.add(e.name);
    const refs = e.probes ?? raw.probes;
    const seen = new Set<string>();
    const resolvedProbes = refs.map((ref, j) => {
      const path = e.probes ? ['experiments', i, 'probes', j] : ['probes', j];
      const probe = resolveRef(ref, path);
      if (seen.has(probe.name))
        throw new BadInputError(`probe "${probe.name}" listed twice in ${e.name}`, at(path));
      seen.add(probe.name);
      if (!probe.mode)
        throw new BadInputError(
          `probe "${probe.name}" needs a mode (${PROBE_MODES.join(', ')}) to run in an experiment`,
          at(path),
        );
      return { probe, mode: probe.mode };
    });
    return { ...e, resolvedProbes };
  });

  const steadyState = raw.steadyState && {
    title: raw.steadyState.title,
    strategy: raw.steadyState.strategy,
    frequencyMs: raw.steadyState.frequency,
    probes: raw.steadyState.probes.map((ref, j) => resolveRef(ref, ['steadyState', 'probes', j])),
  };

  let target: GameDayPlan['target'];
  if ('external' in raw.target) {
    const ext = raw.target.external;
    const servers: Record<string, string> =
      typeof ext.toxiproxy === 'string' ? { default: ext.toxiproxy } : ext.toxiproxy;
    const serverNames = Object.keys(servers);
    const links: Record<string, LinkBinding> = {};
    const known = new Set(describeTopology().links.map((l) => l.id));
    for (const [link, spec] of Object.entries(ext.links)) {
      const path = ['target', 'external', 'links', link];
      if (!known.has(link))
        throw new BadInputError(
          `unknown link "${link}" (ids as in src/scenario/topology-description.ts)`,
          at(path),
        );
      let server: string | undefined;
      let proxy: string;
      let connect: string | undefined;
      let connectCheck = true;
      if (typeof spec === 'string') {
        const slash = spec.indexOf('/');
        server = slash >= 0 ? spec.slice(0, slash) : undefined;
        proxy = slash >= 0 ? spec.slice(slash + 1) : spec;
      } else {
        server = spec.toxiproxy;
        proxy = spec.proxy;
        connect = spec.connect;
        connectCheck = spec.connectCheck;
      }
      if (server === undefined) {
        if (serverNames.length !== 1)
          throw new BadInputError(
            `name the toxiproxy server of this link (one of ${serverNames.join(', ')})`,
            at(path),
          );
        server = serverNames[0]!;
      }
      const url = servers[server];
      if (!url) throw new BadInputError(`unknown toxiproxy server "${server}"`, at(path));
      links[link] = { link, toxiproxyUrl: url.replace(/\/+$/, ''), proxy, connect, connectCheck };
    }
    target = {
      kind: 'external',
      links,
      metrics: ext.metrics,
      resolvers: ext.resolvers,
      endpoints: ext.endpoints,
      hosts: ext.hosts,
    };
  } else {
    target = { kind: 'local', ...raw.target.local };
  }

  for (const [i, e] of experiments.entries())
    checkExperimentTarget(e, target, (p) => at(['experiments', i, ...p]));
  checkProbeStrings(raw, target, at, opts);

  return {
    file: loaded.file,
    name: raw.name,
    description: raw.description,
    raw,
    target,
    steadyState,
    experiments,
  };
}

function checkExperimentTarget(
  e: Experiment,
  target: GameDayPlan['target'],
  at: (path: Array<string | number>) => string,
): void {
  const spec = describeTopology();
  const targets = Array.isArray(e.target) ? e.target : [e.target];
  if (PROCESS_FAULTS.includes(e.fault)) {
    if (target.kind !== 'local')
      throw new BadInputError(
        `${e.fault} needs the local target: an external deployment is reached only through its Toxiproxy APIs`,
        at(['fault']),
      );
    for (const t of targets) {
      if (!spec.components.some((c) => c.id === t))
        throw new BadInputError(`unknown component "${t}"`, at(['target']));
      // client is the harness's own workload, not a process
      if (t === 'client')
        throw new BadInputError(`${e.fault} cannot target "${t}" on the local topology`, at(['target']));
    }
    return;
  }
  if (e.fault === 'isolate') {
    for (const t of targets)
      if (!spec.regions.includes(t))
        throw new BadInputError(
          `isolate targets a region (${spec.regions.join(', ')}), got "${t}"`,
          at(['target']),
        );
    return;
  }
  const ids = target.kind === 'external' ? Object.keys(target.links) : spec.links.map((l) => l.id);
  for (const t of targets) {
    if (matchLinkIds(ids, t).length === 0) {
      const known = selectLinks(spec, t).length > 0;
      throw new BadInputError(
        known
          ? `link "${t}" has no proxy in target.external.links`
          : `no link matches "${t}" (ids like ctl-a->worker, globs like ctl-a->w*)`,
        at(['target']),
      );
    }
  }
}

/** Link ids among `ids` matched by an exact id or a '*' glob. */
export function matchLinkIds(ids: string[], selector: string): string[] {
  if (!selector.includes('*')) return ids.filter((id) => id === selector);
  const re = new RegExp(`^${selector.split('*').map(escapeRe).join('.*')}$`);
  return ids.filter((id) => re.test(id));
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
}
