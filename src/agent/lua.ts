/**
 * Lua-record source builders for the service and region names (PowerDNS 4.7 LUA records,
 * recipe §3–4). Pure string builders with no imports, shared by the agent's publisher
 * (adapters.ts) and the topology's zone files (src/topology/configs.ts), so the record the
 * harness loads at boot and the record the agent publishes are built by the same code.
 */

/** One ifurlextup unit: the address answered, and the URL whose health decides it. */
export interface ExtupUnit {
  answer: string;
  checkUrl: string;
}

/**
 * Ordered ifurlextup: the first unit whose URL is up wins; answers are the given addresses,
 * checks go to the given URLs (use IP-literal URLs: ifurlextup resolves host names through
 * the system resolver, not through the zone).
 */
export function orderedExtupLua(units: ExtupUnit[]): string {
  const body = units.map((u) => `{['${u.answer}']='${u.checkUrl}'}`).join(',');
  return `ifurlextup({${body}}, {stringmatch='OK', timeout='1'})`;
}

/** Ordered ifurlup: one URL checked at each address (port from the URL), first healthy unit wins. */
export function orderedUrlupLua(healthUrl: string, addresses: string[]): string {
  return `ifurlup('${healthUrl}', {${addresses.map((a) => `{'${a}'}`).join(',')}}, {stringmatch='OK', timeout='1'})`;
}
