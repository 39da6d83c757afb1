/**
 * What scripts/build.mjs prebuilds into dist/programs/ at setup — the topology's child
 * programs and the Worker scripts — and whether those files may be used: in an installed
 * package always (dist/ is all there is), in a checkout only while dist/ is fresh (no source
 * changed after the build), so a stale program never runs. Imports nothing of the project but
 * the package root, so any layer may use it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from './package-root.ts';

/** dist/programs/<file> of this package. */
export function prebuiltPath(file: string, root = PACKAGE_ROOT): string {
  return join(root, 'dist', 'programs', file);
}

let distCurrent: Promise<boolean> | undefined;

/** dist/ matches the sources: an installed package (no build script), or a fresh checkout build. */
function isDistCurrent(): Promise<boolean> {
  distCurrent ??= (async () => {
    if (!existsSync(join(PACKAGE_ROOT, 'scripts/build.mjs'))) return true;
    if (process.env.FAILOVER_LAB_USE_DIST === '1') return true;
    const freshness = (await import(pathToFileURL(join(PACKAGE_ROOT, 'bin/freshness.mjs')).href)) as {
      isBuildFresh(root: string): boolean;
    };
    return freshness.isBuildFresh(PACKAGE_ROOT);
  })();
  return distCurrent;
}

/** The prebuilt file's path when it exists and may be used, else null (the caller builds it). */
export async function usablePrebuilt(file: string): Promise<string | null> {
  const path = prebuiltPath(file);
  return existsSync(path) && (await isDistCurrent()) ? path : null;
}
