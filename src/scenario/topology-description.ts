/**
 * The topology as data: regions, components and the directed links a fault can cut.
 * Drivers turn it into running things (src/topology/local for processes, the Docker driver
 * for containers) and the simulator turns it into models; neither may invent links of its own.
 *
 * Naming (stable; scenario files and reports use these ids):
 *   components  ctl-a, ctl-b (controllers), app-a, app-b (app/database stand-ins),
 *               auth-a, auth-b (PowerDNS authoritatives), w1..w3 (unbound witnesses),
 *               worker (lease Worker), client (workload)
 *   links       "<from>-><to>", one direction of traffic initiated by <from>, e.g.
 *               ctl-a->worker, ctl-a->w1, w1->auth-a, auth-a->app-b, ctl-a->peer, client->app-a
 *   "ctl-a->peer" is controller a's health probe of region b (b's controller /healthz).
 */

export type ComponentKind = 'controller' | 'app' | 'authoritative' | 'witness' | 'worker' | 'client';

export interface ComponentSpec {
  id: string;
  kind: ComponentKind;
  /** owning region, or null for shared components (witnesses, worker, client) */
  region: string | null;
}

/** How a link's traffic travels, and so which kind of fault proxy carries it. */
export type LinkProtocol = 'tcp' | 'udp';

export interface LinkSpec {
  id: string;
  from: string;
  to: string;
  /** what travels on it; documentation and report labels */
  purpose: string;
  /** true if both ends are in the same region (never cut by region isolation) */
  intraRegion: boolean;
  /**
   * The witness path (ctl->wN, wN->auth-X) is DNS and follows `dnsTransport`: UDP as in
   * production (resolvers asked over UDP, resolvers asking authoritatives over UDP), or TCP
   * where only a TCP fault proxy exists (a real Toxiproxy). Everything else is TCP.
   */
  protocol: LinkProtocol;
}

export interface TopologySpec {
  regions: string[];
  witnesses: string[];
  components: ComponentSpec[];
  links: LinkSpec[];
  /** DNS zone and names */
  zone: string;
  serviceName: string;
  regionName: (region: string) => string;
}

export interface TopologyOptions {
  regions?: string[];
  witnessCount?: number;
  /** Transport of the witness path (see LinkSpec.protocol). Default udp. */
  dnsTransport?: LinkProtocol;
}

export function describeTopology(opts: TopologyOptions = {}): TopologySpec {
  const regions = opts.regions ?? ['a', 'b'];
  const witnesses = Array.from({ length: opts.witnessCount ?? 3 }, (_, i) => `w${i + 1}`);
  const components: ComponentSpec[] = [];
  for (const r of regions) {
    components.push({ id: `ctl-${r}`, kind: 'controller', region: r });
    components.push({ id: `app-${r}`, kind: 'app', region: r });
    components.push({ id: `auth-${r}`, kind: 'authoritative', region: r });
  }
  for (const w of witnesses) components.push({ id: w, kind: 'witness', region: null });
  components.push({ id: 'worker', kind: 'worker', region: null });
  components.push({ id: 'client', kind: 'client', region: null });

  const dnsTransport = opts.dnsTransport ?? 'udp';
  const links: LinkSpec[] = [];
  const add = (
    from: string,
    to: string,
    purpose: string,
    intraRegion = false,
    protocol: LinkProtocol = 'tcp',
  ) => links.push({ id: `${from}->${to}`, from, to, purpose, intraRegion, protocol });
  const dnsLabel = dnsTransport.toUpperCase();
  for (const r of regions) {
    add(`ctl-${r}`, 'worker', 'lease acquire/renew/release/status (HTTPS to the Worker)');
    for (const w of witnesses)
      add(`ctl-${r}`, w, `witness DNS queries about the peer region (over ${dnsLabel})`, false, dnsTransport);
    add(`ctl-${r}`, 'peer', 'peer region health probe');
    for (const r2 of regions) add(`ctl-${r}`, `auth-${r2}`, 'PowerDNS API publish', r === r2);
    add(`ctl-${r}`, `app-${r}`, 'promote/extend/demote of the local database', true);
  }
  for (const w of witnesses)
    for (const r of regions)
      add(w, `auth-${r}`, `witness → authoritative (DNS over ${dnsLabel})`, false, dnsTransport);
  for (const a of regions)
    for (const r of regions) add(`auth-${a}`, `app-${r}`, 'ifurlup health checks', a === r);
  for (const r of regions) add('client', `app-${r}`, 'client writes');
  return {
    regions,
    witnesses,
    components,
    links,
    zone: 'app.example.',
    serviceName: 'svc.app.example.',
    regionName: (region) => `${region}.regions.app.example.`,
  };
}

/** Links cut when a region is isolated from everything: every link touching it that leaves the region. */
export function isolationLinks(spec: TopologySpec, region: string): LinkSpec[] {
  const inRegion = (id: string) =>
    spec.components.some((c) => c.id === id && c.region === region) || id === 'peer';
  return spec.links.filter((l) => {
    if (l.intraRegion) return false;
    const fromIn = inRegion(l.from);
    const toIn = l.to === 'peer' ? l.from !== `ctl-${region}` : inRegion(l.to);
    return fromIn || toIn;
  });
}

/** Resolves a link selector: an exact id, or a glob with '*' (e.g. "ctl-a->w*"). */
export function selectLinks(spec: TopologySpec, selector: string): LinkSpec[] {
  if (!selector.includes('*')) return spec.links.filter((l) => l.id === selector);
  const re = new RegExp(`^${selector.split('*').map(escapeRegExp).join('.*')}$`);
  return spec.links.filter((l) => re.test(l.id));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
}
