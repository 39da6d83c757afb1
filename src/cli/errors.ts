/**
 * Moved to src/errors.ts (issue #19: shared contracts at the bottom). Kept only until
 * src/gameday/faults.ts, under another change right now, imports the new place.
 */
export * from '../errors.ts';
