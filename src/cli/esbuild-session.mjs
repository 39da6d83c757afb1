// Imported by bin/failover-lab.mjs before tsx (plain JS: nothing is transpiled yet).
// esbuild's service process (tsx's transpiler and the run's bundler) would otherwise share the
// harness's process group, so a terminal's Ctrl-C killed it while the harness still needed it
// for teardown (uncaught EPIPE, exit 1). It runs in its own session instead; it still ends with
// the harness, because it exits when its stdin pipe closes.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

if (process.platform === 'linux' && !process.env.ESBUILD_BINARY_PATH) {
  try {
    const require = createRequire(import.meta.url);
    const real = require.resolve(`@esbuild/linux-${process.arch}/bin/esbuild`);
    const wrapper = fileURLToPath(new URL('./esbuild-own-session.sh', import.meta.url));
    accessSync(wrapper, constants.X_OK);
    process.env.FL_ESBUILD_REAL = real;
    process.env.ESBUILD_BINARY_PATH = wrapper;
  } catch {
    /* no platform binary or no wrapper: esbuild finds its own binary as usual */
  }
}
