// Is the compiled build (dist/) current with the sources it was built from? Shared by the
// launcher (bin/failover-lab.mjs, in a checkout) and scripts/build.mjs (--if-stale).
// mtime-based: a build stamp newer than every source file and folder (a deleted or renamed
// file bumps its folder's mtime). Walking ~300 entries costs a few ms, well inside the
// launcher's start-up budget, where hashing every file's content would not be.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the build reads; a change to any of these makes dist/ stale. */
export const BUILD_INPUT_DIRS = ['src', 'simulator'];
export const BUILD_INPUT_FILES = ['package.json', 'scripts/build.mjs', 'tsconfig.json'];
export const STAMP_FILE = 'dist/.build-stamp';

function newestMtimeMs(root) {
  let newest = 0;
  const note = (path) => {
    try {
      newest = Math.max(newest, statSync(path).mtimeMs);
    } catch {
      // a file that vanished while walking: its folder's mtime already counts the change
    }
  };
  for (const file of BUILD_INPUT_FILES) note(join(root, file));
  for (const dir of BUILD_INPUT_DIRS) {
    note(join(root, dir));
    for (const entry of readdirSync(join(root, dir), { recursive: true })) note(join(root, dir, entry));
  }
  return newest;
}

/** true when dist/ exists and no build input changed after its stamp was written */
export function isBuildFresh(root) {
  let stampMs;
  try {
    stampMs = statSync(join(root, STAMP_FILE)).mtimeMs;
  } catch {
    return false;
  }
  return newestMtimeMs(root) <= stampMs;
}
