/**
 * Boot phase, on request (`up --check`, the boot benchmark): when did each component first
 * answer, measured from the boot's start while the boot runs — not by polling after the boot
 * returned, which would stamp every component with the slowest one's time (issue #18).
 * Probes go straight to each component's address, every PROBE_GAP_MS, with a short timeout,
 * until it answers once or the boot has been given up.
 */

import { appHealth, authHealth, controllerHealth, type HealthResult, witnessHealth } from '../health.ts';
import type { RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

const PROBE_GAP_MS = 10;
const PROBE_TIMEOUT_MS = 250;

type Probe = () => Promise<boolean>;

/** The same judgement as `up --check` (health.ts), so a component is never "ready" earlier here. */
const answers =
  (check: () => Promise<HealthResult>): Probe =>
  () =>
    check().then(
      (r) => r.ok,
      () => false,
    );

/** The probes of the components whose readiness the boot itself does not mark. */
function probesOf(run: BootRun, a: RunAddresses): Map<string, Probe> {
  const { spec } = run;
  const t = PROBE_TIMEOUT_MS;
  const probes = new Map<string, Probe>();
  for (const r of spec.regions) {
    const auth = { dns: a.authDns[r]!, api: a.authApi[r]! };
    probes.set(
      `auth-${r}`,
      answers(() => authHealth(auth, spec.zone, run.pdnsApiKey, t)),
    );
    probes.set(
      `app-${r}`,
      answers(() => appHealth(a.apps[r]!, t)),
    );
    if (run.opts.startControllers !== false)
      probes.set(
        `ctl-${r}`,
        answers(() => controllerHealth(a.ctlAdmin[r]!, t)),
      );
  }
  const name = spec.regionName(run.initialPrimary);
  for (const w of spec.witnesses)
    probes.set(
      w,
      answers(() => witnessHealth(a.witnesses[w]!, name, t)),
    );
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
