/**
 * `config-meets-spec`: the controller was configured at least as strictly as the design it is
 * judged against (quorum, TTL, heartbeat, ρ, p, d, safe window). A weaker configuration is a
 * finding of its own, even when this run happened not to exploit it. A scenario that tests a
 * weaker configuration on purpose says so with `violation-detected: config-meets-spec`.
 */

import { weakerThanSpec } from '../../contracts/spec.ts';
import { type Facts, outcome } from '../facts.ts';
import type { CheckOutcome } from '../verdict.ts';

export function checkConfigMeetsSpec(f: Facts): CheckOutcome {
  const name = 'config-meets-spec';
  const configured = f.meta?.configured;
  if (!f.spec || !configured)
    return outcome(name, 'safety', [], 'the controller configuration was not recorded', false);
  const weaker = weakerThanSpec(f.spec, configured);
  return outcome(
    name,
    'safety',
    weaker.map((detail) => ({
      invariant: name,
      at: 0,
      detail: `controller configured weaker than the spec: ${detail}`,
      events: f.meta ? [f.meta.seq] : [],
    })),
    `quorum ${configured.witnessQuorum}/${configured.witnessCount}, T ${configured.leaseTtlMs} ms, L ${configured.safeWindowMs} ms: meets the spec (quorum ${f.spec.witnessQuorum}, L ≤ ${f.spec.bounds.safeWindowMs} ms)`,
  );
}
