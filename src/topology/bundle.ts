/**
 * Child programs (app stand-in, controller agent) run as single-file esbuild bundles: a
 * bundled `node app.mjs` is answering in ~60 ms, while going through tsx costs 300+ ms of
 * transpiling per process on a 2-core machine.
 *
 * The bundles are built once, at setup (scripts/build.mjs → dist/programs/, with the options of
 * src/build-options.mjs), and a boot only
 * picks them up (issue #18: bundling at every boot cost 0.9–1.6 s and left an idle esbuild
 * service of ~53 MB running). In a checkout whose sources changed after that build, the boot
 * bundles the changed program into its run directory instead — never a stale program. (Its
 * esbuild service is not stopped: in the same process tsx or vite may be transpiling through
 * that service, and stopping it under them hung a boot.)
 */
import { PROGRAM_BUILD_OPTIONS, type PROGRAM_ENTRIES, programFile } from '../build-options.mjs';
import { InfraError } from '../errors.ts';
import { usablePrebuilt } from '../prebuilt.ts';

export type ProgramName = keyof typeof PROGRAM_ENTRIES;

/** The program's bundle: the prebuilt one when usable (src/prebuilt.ts), else one bundled now into outFile. */
export async function programBundle(name: ProgramName, entryFile: string, outFile: string): Promise<string> {
  return (await usablePrebuilt(programFile(name))) ?? bundleEntry(entryFile, outFile);
}

export async function bundleEntry(entryFile: string, outFile: string): Promise<string> {
  // imported here: a boot that finds the prebuilt programs never loads esbuild
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      ...PROGRAM_BUILD_OPTIONS,
      logLevel: 'silent',
      entryPoints: [entryFile],
      outfile: outFile,
    });
  } catch (err) {
    throw new InfraError(`could not bundle ${entryFile}: ${(err as Error).message}`, 'topology');
  }
  return outFile;
}
