/**
 * Boot phase, on request (`up --check`, the boot benchmark): when did each component first
 * answer, measured from the boot's start while the boot runs — not by polling after the boot
 * returned, which would stamp every component with the slowest one's time (issue #18).
 * Probes go straight to each component's address, every PROBE_GAP_MS, with a short timeout,
 * until it answers once or the boot has been given up.
 */

import type { Endpoint } from '../configs.ts';
import { queryDns } from '../dns.ts';
import { httpGet } from '../http.ts';
import type { RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

const PROBE_GAP_MS = 10;
const PROBE_TIMEOUT_MS = 250;

type Probe = () => Promise<boolean>;

const dnsAnswers =
  (at: Endpoint, name: string, type?: 'SOA'): Probe =>
  () =>
    queryDns(at, name, { timeoutMs: PROBE_TIMEOUT_MS, ...(type ? { type } : {}) }).then(
      () => true,
      () => false,
    );

const httpAnswers =
  (url: string): Probe =>
  () =>
    httpGet(url, { timeoutMs: PROBE_TIMEOUT_MS }).then(
      (r) => r.status > 0,
      () => false,
    );

/** The probes of the components whose readiness the boot itself does not mark. */
function probesOf(run: BootRun, a: RunAddresses): Map<string, Probe> {
  const { spec } = run;
  const probes = new Map<string, Probe>();
  for (const r of spec.regions) {
    probes.set(`auth-${r}`, dnsAnswers(a.authDns[r]!, spec.zone, 'SOA'));
    probes.set(`app-${r}`, httpAnswers(`http://${a.apps[r]!.host}:${a.apps[r]!.port}/health`));
    if (run.opts.startControllers !== false)
      probes.set(`ctl-${r}`, httpAnswers(`http://${a.ctlAdmin[r]!.host}:${a.ctlAdmin[r]!.port}/healthz`));
  }
  for (const w of spec.witnesses)
    probes.set(w, dnsAnswers(a.witnesses[w]!, spec.regionName(run.initialPrimary)));
  return probes;
}

/**
 * Starts probing every component; each one's first answer is recorded with run.markUp. Stops
 * by itself once all answered or `stopped()` says the boot is over (failed, or the caller is
 * done waiting).
 */
export function watchReadiness(run: BootRun, a: RunAddresses, stopped: () => boolean): void {
  for (const [name, probe] of probesOf(run, a)) {
    void (async () => {
      while (!stopped() && !run.bootSeconds.has(name)) {
        if (await probe()) {
          run.markUp(name);
          return;
        }
        await new Promise((r) => setTimeout(r, PROBE_GAP_MS));
      }
    })();
  }
}
