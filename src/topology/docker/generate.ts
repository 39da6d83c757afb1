/**
 * Writes (or, with --check, verifies) the checked-in docker-compose.yml and docker/** from
 * the topology description, with the default options:
 *
 *   npx tsx src/topology/docker/generate.ts           # regenerate
 *   npx tsx src/topology/docker/generate.ts --check   # exit 1 and list drifted files
 *
 * docker/README.md is hand-written; every other file under docker/ is generated, so a file
 * there that the generator no longer produces is stale (removed on write, reported on --check).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { renderDockerBundle } from './compose.ts';

export const PROJECT_ROOT = PACKAGE_ROOT;
const HAND_WRITTEN = new Set(['docker/README.md']);
/** build-time CA certificates (docker/ca/README.md): not part of the generated bundle */
const NOT_GENERATED_DIR = 'docker/ca/';

export interface DriftReport {
  /** generated, but missing or different on disk */
  changed: string[];
  /** on disk under docker/, not generated */
  stale: string[];
}

function listFiles(dir: string, root: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, root) : [relative(root, p)];
  });
}

export function checkCheckedInBundle(root = PROJECT_ROOT): DriftReport {
  const { files } = renderDockerBundle();
  const changed = Object.entries(files)
    .filter(([path, content]) => {
      const full = join(root, path);
      return !existsSync(full) || readFileSync(full, 'utf8') !== content;
    })
    .map(([path]) => path);
  const stale = listFiles(join(root, 'docker'), root).filter(
    (p) => !(p in files) && !HAND_WRITTEN.has(p) && !p.startsWith(NOT_GENERATED_DIR),
  );
  return { changed, stale };
}

export function writeCheckedInBundle(root = PROJECT_ROOT): DriftReport {
  const report = checkCheckedInBundle(root);
  const { files } = renderDockerBundle();
  for (const path of report.changed) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files[path]!);
  }
  for (const path of report.stale) {
    rmSync(join(root, path));
    // a folder the generator no longer writes into goes too
    const dir = dirname(join(root, path));
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  }
  return report;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const report = check ? checkCheckedInBundle() : writeCheckedInBundle();
  const lines = [
    ...report.changed.map((p) => `${check ? 'drifted' : 'wrote'}: ${p}`),
    ...report.stale.map((p) => `${check ? 'stale' : 'removed'}: ${p}`),
  ];
  for (const l of lines) process.stdout.write(`${l}\n`);
  if (lines.length === 0) process.stdout.write('docker bundle up to date\n');
  if (check && lines.length > 0) {
    process.stderr.write(
      'generate: docker-compose.yml / docker/** drifted; run: npx tsx src/topology/docker/generate.ts\n',
    );
    process.exitCode = 1;
  }
}
