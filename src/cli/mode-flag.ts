/**
 * `--mode automatic|semi-automatic|manual` for `sim` and `export --to k8s-job`: the operating
 * mode the search runs its controllers in (operator steps are drawn outside automatic).
 */

import type { Mode } from '../controller/types.ts';
import { BadInputError } from '../errors.ts';

/** The flag's value, automatic when absent; anything else is one BadInputError naming `--mode`. */
export function parseModeFlag(value: string | undefined): Mode {
  const mode = value ?? 'automatic';
  if (mode !== 'automatic' && mode !== 'semi-automatic' && mode !== 'manual')
    throw new BadInputError(`expected automatic, semi-automatic or manual, got "${mode}"`, '--mode');
  return mode;
}
