/**
 * Prometheus metrics for one agent, in its own registry (never prom-client's global one, so
 * several agents in one process — tests, the real-topology harness — do not collide).
 */
/// <reference path="./prom-client-lib.d.ts" />
// The four classes straight from their modules, not through prom-client's index: the index
// also loads the Pushgateway (http, https, zlib), the cluster aggregator and the default
// metrics, none of which an agent uses, and they cost each controller process ~4 MB of RSS
// (issue #18, measured on the bundled controller). Same classes, same behaviour.
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import type { ControllerView, Role } from '../controller/types.ts';

const ROLES: Role[] = ['standby', 'candidate', 'primary', 'fenced'];
/** The operator's pager counter: the real runner scrapes it (src/runner/approval-observer.ts). */
export const APPROVAL_REQUESTS_METRIC = 'failover_approval_requests_total';
const VERDICT_VALUE = { reachable: 1, unreachable: 0, unknown: -1 } as const;

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly leaseStatus: Gauge;
  private readonly witnessReachable: Gauge;
  private readonly lastFailoverTime: Gauge;
  private readonly role: Gauge;
  private readonly epoch: Gauge;
  private readonly heldEpoch: Gauge;
  private readonly awaitingApproval: Gauge;
  private readonly approvalRequests: Counter;
  private readonly safeWindowRemaining: Gauge;
  readonly renewalLatency: Histogram;
  private readonly demotions: Counter;
  private demotionsSeen = 0;
  private readonly leaseTtlRefusals: Counter;
  private leaseTtlRefusalsSeen = 0;
  private readonly storeLeaseTtl: Gauge;

  constructor(private readonly region: string) {
    const registers = [this.registry];
    this.leaseStatus = new Gauge({
      name: 'failover_lease_status',
      help: '1 if this region holds the lease (primary), else 0',
      labelNames: ['region'],
      registers,
    });
    this.witnessReachable = new Gauge({
      name: 'failover_witness_reachable',
      help: 'Last verdict of each DNS witness about the peer: 1 reachable, 0 unreachable, -1 unknown',
      labelNames: ['region', 'witness'],
      registers,
    });
    this.lastFailoverTime = new Gauge({
      name: 'failover_last_failover_time',
      help: 'Unix time (seconds) this region last became primary',
      labelNames: ['region'],
      registers,
    });
    this.role = new Gauge({
      name: 'failover_role',
      help: '1 for the current controller role, 0 for the others',
      labelNames: ['region', 'role'],
      registers,
    });
    this.epoch = new Gauge({
      name: 'failover_epoch',
      help: 'Highest lease epoch (fencing token) this controller has seen',
      labelNames: ['region'],
      registers,
    });
    this.heldEpoch = new Gauge({
      name: 'failover_held_epoch',
      help: 'Epoch this controller acts under, 0 when not primary',
      labelNames: ['region'],
      registers,
    });
    this.awaitingApproval = new Gauge({
      name: 'failover_awaiting_approval',
      help: '1 while a semi-automatic promotion waits for POST /approve',
      labelNames: ['region'],
      registers,
    });
    // a counter, not only the gauge above: a request answered (or asked again) between two
    // scrapes still shows, so an alert on its increase pages the operator for every one
    this.approvalRequests = new Counter({
      name: APPROVAL_REQUESTS_METRIC,
      help: 'Times this controller asked the operator for approval (semi-automatic mode)',
      labelNames: ['region'],
      registers,
    });
    this.safeWindowRemaining = new Gauge({
      name: 'failover_safe_window_remaining_seconds',
      help: 'Seconds left in the safe window L while primary, else 0',
      labelNames: ['region'],
      registers,
    });
    this.renewalLatency = new Histogram({
      name: 'failover_renewal_latency_seconds',
      help: 'Round trip of lease renewals (send to reply)',
      labelNames: ['region'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.demotions = new Counter({
      name: 'failover_demotions_total',
      help: 'Times this controller demoted itself (lost lease, window elapsed, operator, shutdown)',
      labelNames: ['region'],
      registers,
    });
    this.leaseTtlRefusals = new Counter({
      name: 'failover_lease_ttl_refusals_total',
      help: 'Lease grants/renewals not acted on because the store TTL was shorter than LEASE_TTL_MS',
      labelNames: ['region'],
      registers,
    });
    this.storeLeaseTtl = new Gauge({
      name: 'failover_lease_store_ttl_seconds',
      help: 'Lease TTL the Worker last reported (0 before any reply); must be >= LEASE_TTL_MS',
      labelNames: ['region'],
      registers,
    });
    this.demotions.inc({ region }, 0);
    this.approvalRequests.inc({ region }, 0);
    this.leaseTtlRefusals.inc({ region }, 0);
    this.storeLeaseTtl.set({ region }, 0);
    this.lastFailoverTime.set({ region }, 0);
  }

  /** The controller asked the operator for approval (the driver's awaitApproval port). */
  approvalRequested(): void {
    this.approvalRequests.inc({ region: this.region });
  }

  /** Refreshes every gauge from the core's view after a step. */
  update(v: ControllerView, nowMs: number): void {
    const region = this.region;
    this.leaseStatus.set({ region }, v.role === 'primary' ? 1 : 0);
    for (const r of ROLES) this.role.set({ region, role: r }, v.role === r ? 1 : 0);
    this.epoch.set({ region }, v.highestEpochSeen);
    this.heldEpoch.set({ region }, v.heldEpoch ?? 0);
    this.awaitingApproval.set({ region }, v.awaitingApproval ? 1 : 0);
    this.safeWindowRemaining.set(
      { region },
      v.safeUntilMs === null ? 0 : Math.max(0, (v.safeUntilMs - nowMs) / 1000),
    );
    for (const [witness, verdict] of Object.entries(v.witnessVerdicts)) {
      this.witnessReachable.set({ region, witness }, VERDICT_VALUE[verdict]);
    }
    if (v.demotionsTotal > this.demotionsSeen) {
      this.demotions.inc({ region }, v.demotionsTotal - this.demotionsSeen);
      this.demotionsSeen = v.demotionsTotal;
    }
    const refusals = v.leaseTtlRefusalsTotal ?? 0;
    if (refusals > this.leaseTtlRefusalsSeen) {
      this.leaseTtlRefusals.inc({ region }, refusals - this.leaseTtlRefusalsSeen);
      this.leaseTtlRefusalsSeen = refusals;
    }
    this.storeLeaseTtl.set({ region }, (v.storeLeaseTtlMs ?? 0) / 1000);
  }

  promoted(wallMs: number): void {
    this.lastFailoverTime.set({ region: this.region }, wallMs / 1000);
  }
}
