#!/usr/bin/env node
// Entry point for `npx failover-lab`: runs the compiled CLI in dist/ (scripts/build.mjs).
//
// Installed package: dist/ is all there is (no TypeScript at run time, no tsx).
// Checkout (scripts/build.mjs is present): dist/ is used when it is newer than every source
// file (bin/freshness.mjs). When it is stale or missing, the sources run through tsx (a dev
// dependency) instead of rebuilding here: tests and the topology start many CLI processes at
// once, and none of them should race another on writing dist/. `npm run build` or
// `npm run setup` (which `npm test` and `npm run demo` run first) brings dist/ up to date.
// first: esbuild reads its binary path when it is imported (src/cli/esbuild-session.mjs says why)
import '../src/cli/esbuild-session.mjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/cli.js', import.meta.url);

async function loadMain() {
  const inCheckout = existsSync(new URL('../scripts/build.mjs', import.meta.url));
  if (!inCheckout) {
    if (!existsSync(compiled)) {
      process.stderr.write(
        `failover-lab: ${fileURLToPath(compiled)} is missing: this package was not built\n`,
      );
      process.exit(3);
    }
    return import(compiled.href);
  }
  const { isBuildFresh } = await import('./freshness.mjs');
  if (process.env.FAILOVER_LAB_FROM_SOURCE !== '1' && isBuildFresh(root)) return import(compiled.href);
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    process.stderr.write(
      'failover-lab: dist/ is stale or missing and tsx is not installed: run `npm run build`\n',
    );
    process.exit(3);
  }
  return import('../src/cli/main.ts');
}

// Stack traces through the source maps (into src/*.ts) only on request: turning them on makes
// Node parse every loaded chunk's map at start-up (tens of ms), and the CLI prints an internal
// error's stack only with FAILOVER_LAB_DEBUG set anyway.
if (process.env.FAILOVER_LAB_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await loadMain();
process.exitCode = await main(process.argv);
