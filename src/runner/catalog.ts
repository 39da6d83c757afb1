/** The scenario catalog: scenarios/*.yaml in the repository, in name order. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
// from package-root, not topology/local: listing scenarios must not load the topology
import { PACKAGE_ROOT } from '../package-root.ts';

export const CATALOG_DIR = join(PACKAGE_ROOT, 'scenarios');

/** Incidents from public post-mortems, translated to our topology (scenarios/incidents). */
export const INCIDENTS_DIR = join(CATALOG_DIR, 'incidents');

/** PowerDNS and Durable Object behaviours, each shown by a scenario (scenarios/quirks). */
export const QUIRKS_DIR = join(CATALOG_DIR, 'quirks');

/** The base catalog, then the incident catalog (unless excluded), then the quirks (when asked). */
export function demoCatalogFiles(withIncidents = true, withQuirks = false): string[] {
  return [
    ...catalogFiles(),
    ...(withIncidents ? catalogFiles(INCIDENTS_DIR) : []),
    ...(withQuirks ? catalogFiles(QUIRKS_DIR) : []),
  ];
}

export function catalogFiles(dir = CATALOG_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}
