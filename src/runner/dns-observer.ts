/**
 * The real run's DNS observer: an outsider that queries both PowerDNS authoritatives directly
 * for the service name throughout the run and records each authoritative's answer whenever it
 * changes (`dns-answer`, observer 'dns-observer', resolver `auth-<region>`). The checker's
 * `dns-follows-lease` reads these; the controllers' own publish results are not used.
 *
 * Precision: one query per authoritative every `intervalMs`; a change is stamped with the
 * global time the answer arrived, so it is seen at most one interval (+ the query) late.
 */
import type { NewEvent, RegionId } from '../contracts/history.ts';
import { queryDns } from '../topology/dns.ts';

export interface DnsObserverTarget {
  /** e.g. auth-a */
  id: string;
  server: { host: string; port: number };
}

export interface DnsObserverOptions {
  targets: DnsObserverTarget[];
  name: string;
  /** address → region (the apps' addresses); anything else (the tombstone) maps to null */
  regionOf: (address: string) => RegionId | null;
  intervalMs: number;
  queryTimeoutMs: number;
  record: (ev: NewEvent) => void;
  now: () => number;
}

export class DnsObserver {
  private timer: NodeJS.Timeout | null = null;
  private readonly last = new Map<string, string>();
  private readonly inFlight = new Set<string>();

  constructor(private readonly o: DnsObserverOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    for (const t of this.o.targets) {
      if (this.inFlight.has(t.id)) continue; // a hanging authoritative is asked again once it answers
      this.inFlight.add(t.id);
      void this.observe(t).finally(() => this.inFlight.delete(t.id));
    }
  }

  private async observe(t: DnsObserverTarget): Promise<void> {
    let rcode: string;
    let answers: string[];
    try {
      const res = await queryDns(t.server, this.o.name, { timeoutMs: this.o.queryTimeoutMs });
      rcode = res.rcode;
      answers = [...res.answers].sort();
    } catch {
      rcode = 'TIMEOUT';
      answers = [];
    }
    if (!this.timer) return; // stopped while the query was out: past the end of the history
    const key = `${rcode} ${answers.join(',')}`;
    if (this.last.get(t.id) === key) return;
    this.last.set(t.id, key);
    const regions = answers.map((a) => this.o.regionOf(a));
    const region = regions.length === 1 ? regions[0]! : null;
    this.o.record({
      kind: 'dns-answer',
      t: this.o.now(),
      resolver: t.id,
      name: this.o.name,
      rcode,
      answers,
      region,
      observer: 'dns-observer',
    });
  }
}
