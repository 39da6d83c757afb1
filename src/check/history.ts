/**
 * Moved to src/contracts/history.ts (issue #19: the history event vocabulary is a shared
 * contract at the bottom of the import graph, written by the controller and every executor,
 * read by the checker and the reports). Kept only for files still being written elsewhere.
 */
export * from '../contracts/history.ts';
