/**
 * `failover-lab export --to litmus|chaos-mesh FILE [--out DIR] [--strict]`: turn a scenario
 * or a game-day plan into Kubernetes chaos manifests (src/gameday/export). Warnings about
 * what the target cannot express go to stderr (and into the manifests as comments);
 * --strict makes any warning exit 2.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BadInputError, EXIT_OK } from '../../errors.ts';
import { exportFile } from '../../gameday/export/index.ts';
import type { ExitSetter } from '../command-module.ts';
import { addK8sJobOptions, type K8sJobFlags, k8sJobYaml, parseK8sJobFlags } from './sim-k8s-job.ts';

interface ExportFlags extends K8sJobFlags {
  to: string;
  out?: string;
  strict?: boolean;
}

export function register(program: Command, setExit: ExitSetter): void {
  const cmd = program
    .command('export')
    .description(
      'export a scenario or game-day plan as LitmusChaos or Chaos Mesh manifests, or a sim search as a Kubernetes Indexed Job',
    )
    .argument('[file]', 'scenario or game-day plan (YAML); none with --to k8s-job')
    .requiredOption('--to <format>', 'litmus | chaos-mesh | k8s-job')
    .option('--out <dir>', 'write files into this directory (default: print to stdout)')
    .option('--strict', 'exit 2 if anything could not be expressed exactly');
  addK8sJobOptions(cmd).action(async (file: string | undefined, flags: ExportFlags) => {
    if (flags.to === 'k8s-job') {
      // issue #18: a sim search sharded over the pods of an Indexed Job (sim-k8s-job.ts)
      if (file !== undefined) throw new BadInputError('takes no file: the Job runs a sim search', 'k8s-job');
      const text = k8sJobYaml(parseK8sJobFlags(flags));
      if (flags.out) {
        mkdirSync(flags.out, { recursive: true });
        writeFileSync(join(flags.out, 'job.yaml'), text);
        process.stderr.write(`wrote ${join(flags.out, 'job.yaml')} (1 manifest)\n`);
      } else process.stdout.write(text);
      setExit(EXIT_OK);
      return;
    }
    if (file === undefined) throw new BadInputError('give a scenario or game-day plan file', 'export');
    if (flags.to !== 'litmus' && flags.to !== 'chaos-mesh')
      throw new BadInputError(`--to must be litmus, chaos-mesh or k8s-job, got "${flags.to}"`, 'flag --to');
    const r = await exportFile(file, flags.to);
    for (const n of r.notExported) process.stderr.write(`warning: not exported: ${n}\n`);
    for (const x of r.warnings) if (!x.includes('not exported:')) process.stderr.write(`warning: ${x}\n`);
    if (flags.out) {
      mkdirSync(flags.out, { recursive: true });
      for (const f of r.files) {
        writeFileSync(join(flags.out, f.name), f.text);
        process.stderr.write(`wrote ${join(flags.out, f.name)} (${f.docs.length} manifest(s))\n`);
      }
    } else {
      // Only the first file: applying a Workflow together with the standalone resources
      // of the same steps would start every fault at once.
      process.stdout.write(r.files[0]!.text);
      for (const f of r.files.slice(1))
        process.stderr.write(`note: ${f.name} (${f.docs.length} manifest(s)) is written only with --out\n`);
    }
    if (flags.strict && (r.warnings.length > 0 || r.notExported.length > 0))
      throw new BadInputError(`${r.warnings.length + r.notExported.length} warning(s) with --strict`, file);
    setExit(EXIT_OK);
  });
}
