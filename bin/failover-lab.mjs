#!/usr/bin/env node
// Entry point for `npx failover-lab`. The project runs its TypeScript sources
// directly through tsx (Node 20 has no type stripping), so a checkout needs no build step.
import '../src/cli/esbuild-session.mjs'; // first: esbuild reads its binary path at import
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
