/**
 * The TypeScript sources under src/ and simulator/, read once for the architecture tests
 * (import layering, function length). Paths are repo-relative with forward slashes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface SourceFile {
  /** e.g. "src/report/store.ts" */
  path: string;
  text: string;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
}

export function sourceFiles(roots: readonly string[] = ['src', 'simulator']): SourceFile[] {
  const full: string[] = [];
  for (const r of roots) walk(join(REPO_ROOT, r), full);
  return full.sort().map((f) => ({
    path: relative(REPO_ROOT, f).split(sep).join('/'),
    text: readFileSync(f, 'utf8'),
  }));
}
