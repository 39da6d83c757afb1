/**
 * Public API of the report renderer. Executors (simulator, real runner, game days) call
 * writeRunReport once per run; the CLI calls rerenderReport and writeReportIndex.
 * Import from here, not from the individual files.
 */
export type { FailoverFact, FaultWindow, ReportFacts, RoleSpan } from './facts.ts';
export { binWrites, deriveFacts, failoverTiming } from './facts.ts';
export { parseHistory, serializeHistory } from './history-io.ts';
export type { CheckRow, ReportInput, ResultJson, RunStatus } from './model.ts';
export { FILES, rerenderReport, runTimestamp, writeReportIndex, writeRunReport } from './store.ts';
