/**
 * How the topology launches a production controller (src/agent): the entry file to bundle
 * and the environment it is configured by. The agent owns the env var names; this file is
 * the one place that maps our addresses onto them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_ENTRIES } from '../build-options.mjs';
import type { ControllerConfig } from '../controller/types.ts';
import { InfraError } from '../errors.ts';
import { BINARIES } from './binaries.ts';
import type { Endpoint } from './configs.ts';
import { httpGet } from './http.ts';

export function controllerEntry(repoRoot: string): string {
  if (!existsSync(join(repoRoot, 'src/agent/runtime.ts'))) {
    throw new InfraError(
      'the production controller (src/agent) is not available in this checkout',
      'controller',
    );
  }
  return join(repoRoot, PROGRAM_ENTRIES.controller);
}

/**
 * Resolves true once the controller's admin API reports it primary (GET /status), false after
 * `timeoutMs` (never throws: a controller that does not get there is the boot wait's to report).
 */
export async function waitControllerPrimary(admin: Endpoint, timeoutMs: number): Promise<boolean> {
  const deadlineMs = performance.now() + timeoutMs;
  while (performance.now() < deadlineMs) {
    if ((await adminRole(admin)) === 'primary') return true;
    // short: the peer's start gate opens on this answer, and the boot waits for the peer
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** The role the controller's admin API reports (GET /status); null if it does not answer (yet). */
async function adminRole(admin: Endpoint): Promise<string | null> {
  try {
    const res = await httpGet(`http://${admin.host}:${admin.port}/status`, { timeoutMs: 500 });
    return (JSON.parse(res.body) as { view?: { role?: string } }).view?.role ?? null;
  } catch {
    return null;
  }
}

export interface ControllerEnvInput {
  region: string;
  peerRegion: string;
  initialPrimary: boolean;
  config: ControllerConfig;
  workerUrl: string;
  secret: string;
  leaseName: string;
  /** the witnesses as this controller reaches them (its ctl->wN proxies) */
  witnesses: Array<{ id: string; via: Endpoint }>;
  /** how the controller asks its witnesses (the ctl->wN proxies' protocol); default tcp */
  dnsTransport?: 'udp' | 'tcp';
  selfAppAddress: string;
  peerAppAddress: string;
  tombstoneAddress: string;
  peerHealthUrl: string;
  /** PowerDNS API base URLs as this controller reaches them (its ctl->auth-x proxies) */
  pdnsApiUrls: string[];
  pdnsApiKey: string;
  zone: string;
  serviceLabel: string;
  /** ifurlup form: one URL port for both apps (the agent checks each app address at it) */
  serviceHealthUrl?: string;
  /**
   * ifurlextup form (SVC_CHECK_URLS), replaces serviceHealthUrl: per PowerDNS API URL (as in
   * pdnsApiUrls), region → the URL that authoritative checks that region's app at (its own
   * auth->app proxy, IP-literal).
   */
  serviceCheckUrls?: Record<string, Record<string, string>>;
  /** the local app's authority webhook, through the ctl->app proxy */
  webhookUrl: string;
  admin: Endpoint;
  eventsFile: string;
  faketime: { timestampFile: string; fakeMonotonic: boolean } | null;
}

/** Environment of the production agent (src/agent/env.ts owns the names and defaults). */
export function controllerEnv(i: ControllerEnvInput): Record<string, string | undefined> {
  const c = i.config;
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    REGION: i.region,
    PEER_REGION: i.peerRegion,
    INITIAL_ROLE: i.initialPrimary ? 'primary' : 'standby',
    CLOUDFLARE_WORKER_URL: i.workerUrl,
    LEASE_SECRET: i.secret,
    LEASE_NAME: i.leaseName,
    DNS_WITNESSES: i.witnesses.map((w) => `${w.via.host}:${w.via.port}`).join(','),
    // the same transport as the ctl->wN proxies, so they carry the traffic
    DNS_TRANSPORT: i.dnsTransport ?? 'tcp',
    QUORUM: String(c.witnessQuorum),
    UNKNOWN_WITNESS_POLICY: c.unknownWitnessPolicy,
    MODE: c.mode,
    LEASE_TTL_MS: String(c.leaseTtlMs),
    HEARTBEAT_MS: String(c.heartbeatMs),
    MAX_CLOCK_DRIFT_RATE: String(c.maxClockDriftRate),
    MAX_PAUSE_MS: String(c.maxPauseMs),
    MAX_DELAY_MS: String(c.maxDelayMs),
    PEER_CHECK_INTERVAL_MS: String(c.peerCheckIntervalMs),
    PEER_FAILURE_THRESHOLD: String(c.peerFailureThreshold),
    PROMOTION_HOLD_DOWN_MS: String(c.promotionHoldDownMs),
    PEER_HEALTH_URL: i.peerHealthUrl,
    ZONE: i.zone.replace(/\.$/, ''),
    APP_ADDR: i.selfAppAddress,
    PEER_APP_ADDR: i.peerAppAddress,
    TOMBSTONE_ADDR: i.tombstoneAddress,
    PDNS_API_URLS: i.pdnsApiUrls.join(','),
    PDNS_API_KEY: i.pdnsApiKey,
    SVC_NAME: i.serviceLabel,
    SVC_HEALTH_URL: i.serviceCheckUrls ? undefined : i.serviceHealthUrl,
    SVC_CHECK_URLS: i.serviceCheckUrls ? JSON.stringify(i.serviceCheckUrls) : undefined,
    SVC_TTL_SECONDS: '1',
    PROMOTE_WEBHOOK_URL: i.webhookUrl,
    ADMIN_ADDR: `${i.admin.host}:${i.admin.port}`,
    EVENTS_FILE: i.eventsFile,
    LOG_LEVEL: 'info',
  };
  if (i.faketime) {
    env.LD_PRELOAD = BINARIES.libfaketime.path;
    env.FAKETIME_TIMESTAMP_FILE = i.faketime.timestampFile;
    // re-read the file on every clock call, so a fault takes effect at once (costs some CPU)
    env.FAKETIME_NO_CACHE = '1';
    if (!i.faketime.fakeMonotonic) env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
  }
  return env;
}
