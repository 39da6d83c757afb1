/**
 * What every boot phase (src/topology/boot/) shares: the run decided before anything starts
 * (address octet, directories, spec, timings, secrets) and the boot-time stopwatch.
 */
import { randomBytes } from 'node:crypto';
import type { TopologySpec } from '../../scenario/topology-description.ts';
import { COMPONENT_OCTET } from '../addresses.ts';
import type { Supervisor } from '../supervisor.ts';
import { type ScaledTiming, scaledTiming } from '../timing.ts';
import type { FaketimeSetup, LeaseBackend, TopologyOptions } from '../types.ts';

export interface BootRun {
  opts: TopologyOptions;
  spec: TopologySpec;
  octet: number;
  runDir: string;
  logsDir: string;
  supervisor: Supervisor;
  leaseBackend: LeaseBackend;
  initialPrimary: string;
  /** the initial primary first, then the other regions (its controller starts first) */
  orderedRegions: string[];
  faketimeFor: Record<string, FaketimeSetup>;
  /** TOXIPROXY_URL of an external server; undefined: the built-in one */
  externalToxiproxy: string | undefined;
  timing: ScaledTiming;
  /** per region, the HMAC secret its controller signs lease requests with */
  secrets: Record<string, string>;
  pdnsApiKey: string;
  /** the durable Worker's fault seams (stale-instance) are on in the lab topology only */
  workerFaultToken: string;
  /** records when a component came up (seconds since the boot started), first time only */
  markUp(name: string): void;
  /** the boot seconds recorded by markUp, by component */
  bootSeconds: ReadonlyMap<string, number>;
}

/** The fields of a run the caller decided before the boot began. */
export type RunBasics = Omit<
  BootRun,
  'orderedRegions' | 'timing' | 'secrets' | 'pdnsApiKey' | 'workerFaultToken' | 'markUp' | 'bootSeconds'
>;

/**
 * Plan: timings, secrets and keys of this run. Throws (bad controller overrides) inside the
 * boot, so the caller's cleanup still runs.
 */
export function planRun(basics: RunBasics, bootStartedAtMs: number): BootRun {
  const { spec, initialPrimary, opts } = basics;
  const timing = scaledTiming({
    timeScale: opts.timeScale ?? 0.1,
    regions: spec.regions,
    witnesses: spec.witnesses,
    ...(opts.controllerOverrides ? { overrides: opts.controllerOverrides } : {}),
  });
  const secrets: Record<string, string> = {};
  for (const r of spec.regions) secrets[r] = randomBytes(16).toString('hex');
  const bootSeconds = new Map<string, number>();
  return {
    ...basics,
    orderedRegions: [initialPrimary, ...spec.regions.filter((r) => r !== initialPrimary)],
    timing,
    secrets,
    pdnsApiKey: randomBytes(12).toString('hex'),
    workerFaultToken: randomBytes(16).toString('hex'),
    markUp: (name) => {
      if (!bootSeconds.has(name)) bootSeconds.set(name, (performance.now() - bootStartedAtMs) / 1000);
    },
    bootSeconds,
  };
}

/** A loopback address of this run: 127.<run octet>.<third>.<fourth>. */
export const ip = (octet: number, third: number, fourth: number): string => `127.${octet}.${third}.${fourth}`;

/** The third octet of a region's addresses. */
export function regionOctet(spec: TopologySpec, region: string): number {
  return COMPONENT_OCTET.regionBase + spec.regions.indexOf(region);
}
