/**
 * The names of the checker's invariants, in the checker's priority order (safety first).
 * They are scenario vocabulary too: `violation-detected: <name>` expects one of them, so the
 * list sits with the scenario model, below the checker (src/check/checker.ts implements
 * each name and re-exports the list); the validator needs no import from the checker.
 */
export const SAFETY_INVARIANTS = [
  'single-primary',
  'lease-history',
  'act-within-safe-window',
  'epoch-monotonic',
  'lease-store-log',
  'store-storage-bounded',
  'no-stale-write',
  'demotion-final',
  'demote-fencing',
  'release-after-revoke',
  'promotion-evidence',
  'operator-approval',
  'operator-demote',
  'no-internal-error',
] as const;
export const LIVENESS_INVARIANTS = [
  'failover-liveness',
  'no-spurious-failover',
  'failover-patience',
  'bounded-flapping',
  'dns-follows-lease',
  'write-availability',
  'stop-releases-lease',
  'stop-exits',
  'app-loss-failover',
  'candidacy-hold-down',
  'lease-request-cadence',
  'unused-lease-released',
] as const;
/**
 * Findings about the configuration rather than the schedule (safety-category outcomes): every
 * schedule shows them alike, so a search reports them but does not shrink on them.
 */
export const CONFIG_INVARIANTS = ['config-meets-spec'] as const;
export const INVARIANTS = [...SAFETY_INVARIANTS, ...LIVENESS_INVARIANTS, ...CONFIG_INVARIANTS] as const;
export type InvariantName = (typeof INVARIANTS)[number];
