/**
 * Moved to src/scenario/topology-description.ts (issue #19: the topology description is
 * data the scenario layer needs). Kept only until src/gameday/faults.ts, under another
 * change right now, imports the new place.
 */
export * from '../scenario/topology-description.ts';
