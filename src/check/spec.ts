/**
 * Moved to src/contracts/spec.ts (issue #19: the design spec is part of the history's meta
 * event, a shared contract). Kept only for files still being written elsewhere.
 */
export * from '../contracts/spec.ts';
