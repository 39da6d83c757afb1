/**
 * The operator's record of a controller asking for approval (semi-automatic mode): one note
 * shape for every executor, read by the checker's `operator-approval` (docs/invariants.md,
 * "Refused requests"). It is what the operator saw, never the controller's log of its own
 * decision:
 * - simulator: the operator's pager, at the instant the controller model asks (exact);
 * - real topology: the runner scraping each controller's operator-facing metrics page
 *   (`failover_approval_requests_total` on GET /metrics, src/runner/approval-observer.ts). A
 *   rise of the counter places a request between the last scrape that did not show it
 *   (`sinceT`, when that scrape was sent) and the scrape that did (`t`, when it answered).
 */
import type { HistoryEvent, NewEvent, NoteEvent, RegionId } from './history.ts';

/** `data` of the note: `request: 'approval'` marks it among the operator's notes. */
export interface ApprovalRequestData {
  region: RegionId;
  request: 'approval';
  /**
   * The earliest global t the request can have been made; absent when the executor saw it at
   * the instant it was made (then it is `t`).
   */
  sinceT?: number;
}

/** The note an executor records when the operator sees ctl-region ask for approval. */
export function approvalRequestNote(p: {
  t: number;
  region: RegionId;
  /** why it asks, when the operator's surface shows it */
  reason?: string;
  sinceT?: number;
}): NewEvent {
  const data: ApprovalRequestData = {
    region: p.region,
    request: 'approval',
    ...(p.sinceT !== undefined ? { sinceT: p.sinceT } : {}),
  };
  return {
    kind: 'note',
    t: p.t,
    source: 'operator',
    message: `ctl-${p.region} asks for approval${p.reason ? `: ${p.reason}` : ''}`,
    data: { ...data },
  } satisfies Omit<NoteEvent, 'seq'>;
}

/** An approval request the operator saw, placed in [sinceT, t] on global time. */
export interface ApprovalRequestSeen {
  region: RegionId;
  sinceT: number;
  t: number;
}

/** The approval request a history event records, or null for any other event. */
export function approvalRequestOf(ev: HistoryEvent | NewEvent): ApprovalRequestSeen | null {
  if (ev.kind !== 'note' || ev.source !== 'operator') return null;
  const d = ev.data;
  if (d?.['request'] !== 'approval' || typeof d['region'] !== 'string') return null;
  const since = typeof d['sinceT'] === 'number' ? Math.min(d['sinceT'], ev.t) : ev.t;
  return { region: d['region'], sinceT: since, t: ev.t };
}
