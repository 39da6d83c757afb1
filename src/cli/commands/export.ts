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

interface ExportFlags {
  to: string;
  out?: string;
  strict?: boolean;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('export')
    .description('export a scenario or game-day plan as LitmusChaos or Chaos Mesh manifests')
    .argument('<file>', 'scenario or game-day plan (YAML)')
    .requiredOption('--to <format>', 'litmus | chaos-mesh')
    .option('--out <dir>', 'write files into this directory (default: print to stdout)')
    .option('--strict', 'exit 2 if anything could not be expressed exactly')
    .action(async (file: string, flags: ExportFlags) => {
      if (flags.to !== 'litmus' && flags.to !== 'chaos-mesh')
        throw new BadInputError(`--to must be litmus or chaos-mesh, got "${flags.to}"`, 'flag --to');
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
