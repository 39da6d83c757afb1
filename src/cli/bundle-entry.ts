/**
 * Entry of dist/cli.cjs, the CLI as one CommonJS file that bin/failover-lab.mjs runs through
 * V8's code cache for a named command (scripts/build.mjs buildCliBundle). `commandNames` tells
 * the launcher which first arguments are commands, so a typo leaves no cache file behind.
 */
import { commandLoaders } from './registry.ts';

export { main } from './main.ts';
export const commandNames: readonly string[] = Object.keys(commandLoaders);
