/**
 * The root of the failover-lab package: the directory holding its package.json, scenarios/,
 * the Worker and child-program sources. Found by walking up from this module's own file,
 * because the same code runs from three places at different depths: the TypeScript sources
 * (src/package-root.ts), the compiled build (dist/chunks/*.js) and an installed package
 * (node_modules/failover-lab/dist/...). Imports nothing of the project, so any layer may use it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'failover-lab';

function isPackageRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

export function findPackageRoot(fromFile: string): string {
  let dir = dirname(fromFile);
  for (;;) {
    if (isPackageRoot(dir)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`failover-lab: no ${PACKAGE_NAME} package.json above ${fromFile}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot(fileURLToPath(import.meta.url));
