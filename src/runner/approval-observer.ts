/**
 * The real run's approval observer: the operator's pager. It scrapes each controller's
 * operator-facing metrics page (GET /metrics on its admin API, directly, as the operator
 * reaches it) throughout the run, and records every rise of `failover_approval_requests_total`
 * as the operator's note that ctl-<region> asked for approval — the same note the simulator's
 * pager records (src/contracts/approval-request.ts). The checker's `operator-approval` judges
 * refused requests on it (an approve answering a refused request is void; asking again inside
 * the promotion hold-down fails). Not the controller's own log of its decisions (EVENTS_FILE):
 * what its operator surface showed.
 *
 * Precision: a request is placed between the last scrape that did not show it (`sinceT`, when
 * that scrape was sent) and the one that did (`t`, when it answered): one interval plus the
 * scrape wide, wider while the controller is paused (the scrape waits in its socket). A
 * counter, not the `failover_awaiting_approval` gauge: a request answered, or asked again,
 * between two scrapes still shows. A new controller process counts from 0: at its start (the
 * executor's process event) the count restarts and no request of it comes before that start.
 */

import { APPROVAL_REQUESTS_METRIC } from '../agent/metrics.ts';
import { approvalRequestNote } from '../contracts/approval-request.ts';
import type { NewEvent, RegionId } from '../contracts/history.ts';
import type { Endpoint } from '../topology/configs.ts';
import { httpGet } from '../topology/http.ts';

export interface ApprovalObserverOptions {
  /** each controller's admin API */
  admins: ReadonlyArray<{ region: RegionId; admin: Endpoint }>;
  intervalMs: number;
  scrapeTimeoutMs: number;
  record: (ev: NewEvent) => void;
  now: () => number;
  /** GET a URL (tests replace it) */
  get?: (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;
}

/** What the observer knows of one controller process. */
interface Scraped {
  /** the counter's value at the last reading (0 at a process's start) */
  count: number;
  /** the earliest t a request not counted yet can have been made */
  sinceT: number;
  /** bumped at each start of the process: a scrape sent before it reads the old one */
  incarnation: number;
  inFlight: boolean;
}

/** The counter's value for `region` on a metrics page, or null when it is not there. */
export function approvalRequestsOf(metrics: string, region: RegionId): number | null {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${APPROVAL_REQUESTS_METRIC}{`)) continue;
    const m = /^[^{]+\{([^}]*)\}\s+(\S+)/.exec(line);
    if (m === null || !m[1]!.split(',').includes(`region="${region}"`)) continue;
    const v = Number(m[2]);
    return Number.isFinite(v) ? v : null;
  }
  return null;
}

export class ApprovalObserver {
  private timer: NodeJS.Timeout | null = null;
  private readonly scraped = new Map<RegionId, Scraped>();
  private readonly get: NonNullable<ApprovalObserverOptions['get']>;

  constructor(private readonly o: ApprovalObserverOptions) {
    // the controllers started after t = 0 (the recorder's origin): nothing of theirs before it
    for (const { region } of o.admins)
      this.scraped.set(region, { count: 0, sinceT: 0, incarnation: 0, inFlight: false });
    this.get = o.get ?? ((url, timeoutMs) => httpGet(url, { timeoutMs }));
  }

  /** Every recorded event: a controller's (re)start begins a new count at that start. */
  observe(ev: NewEvent): void {
    if (ev.kind !== 'process' || (ev.op !== 'start' && ev.op !== 'restart')) return;
    const s = this.scraped.get(ev.component.replace(/^ctl-/, ''));
    if (s === undefined || !ev.component.startsWith('ctl-')) return;
    s.count = 0;
    s.sinceT = ev.t;
    s.incarnation++;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One scrape of every controller (the scrape of one still waiting is not doubled). */
  tick(): Promise<void> {
    return Promise.all(
      this.o.admins.map(async ({ region, admin }) => {
        const s = this.scraped.get(region)!;
        if (s.inFlight) return;
        s.inFlight = true;
        try {
          await this.scrape(region, admin, s);
        } finally {
          s.inFlight = false;
        }
      }),
    ).then(() => undefined);
  }

  private async scrape(region: RegionId, admin: Endpoint, s: Scraped): Promise<void> {
    const sentT = this.o.now();
    const incarnation = s.incarnation;
    let count: number | null;
    try {
      const res = await this.get(`http://${admin.host}:${admin.port}/metrics`, this.o.scrapeTimeoutMs);
      count = res.status === 200 ? approvalRequestsOf(res.body, region) : null;
    } catch {
      return; // down, or paused past the timeout: asked again next tick
    }
    // stopped while the scrape was out (past the end of the history), or a reading of the
    // process before a restart
    if (!this.timer || count === null || s.incarnation !== incarnation) return;
    const t = this.o.now();
    // fewer than counted: a new process whose start was not seen; its requests came after
    // the last reading all the same
    const before = count < s.count ? 0 : s.count;
    for (let i = before; i < count; i++) {
      this.o.record(approvalRequestNote({ t, region, sinceT: s.sinceT }));
    }
    s.count = count;
    s.sinceT = sentT;
  }
}
