/** The scenario catalog: scenarios/*.yaml in the repository, in name order. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
// from package-root, not topology/local: listing scenarios must not load the topology
import { PACKAGE_ROOT } from '../package-root.ts';

export const CATALOG_DIR = join(PACKAGE_ROOT, 'scenarios');

/** Incidents from public post-mortems, translated to our topology (scenarios/incidents). */
export const INCIDENTS_DIR = join(CATALOG_DIR, 'incidents');

/** What `demo` runs: the base catalog, then (unless excluded) the incident catalog. */
export function demoCatalogFiles(withIncidents = true): string[] {
  return withIncidents ? [...catalogFiles(), ...catalogFiles(INCIDENTS_DIR)] : catalogFiles();
}

export function catalogFiles(dir = CATALOG_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}
