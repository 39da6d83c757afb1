/**
 * The component list of a booted topology (what `up` prints): name, kind, address, PID and
 * how long after the boot began each came up.
 */
import type { WorkerHandle } from '../../worker/launch.ts';
import type { ComponentInfo } from '../types.ts';
import type { LinkProxies } from './network.ts';
import type { RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

export function listComponents(
  run: BootRun,
  a: RunAddresses,
  worker: WorkerHandle,
  { url: toxiproxyUrl, proxies }: LinkProxies,
): ComponentInfo[] {
  const { spec, supervisor } = run;
  const components: ComponentInfo[] = [];
  const pidOf = (n: string) => (supervisor.has(n) ? supervisor.get(n).pid : null);
  for (const r of spec.regions) {
    components.push({
      name: `auth-${r}`,
      kind: 'authoritative',
      address: `${a.authDns[r]!.host}:${a.authDns[r]!.port}`,
      detail: `API http://${a.authApi[r]!.host}:${a.authApi[r]!.port}`,
      pid: pidOf(`auth-${r}`),
    });
    components.push({
      name: `app-${r}`,
      kind: 'app',
      address: `${a.apps[r]!.host}:${a.apps[r]!.port}`,
      pid: pidOf(`app-${r}`),
    });
    if (run.opts.startControllers !== false)
      components.push({
        name: `ctl-${r}`,
        kind: 'controller',
        address: `${a.ctlAdmin[r]!.host}:${a.ctlAdmin[r]!.port}`,
        detail: 'admin /healthz /status /metrics',
        pid: pidOf(`ctl-${r}`),
      });
  }
  for (const w of spec.witnesses)
    components.push({
      name: w,
      kind: 'witness',
      address: `${a.witnesses[w]!.host}:${a.witnesses[w]!.port}`,
      pid: pidOf(w),
    });
  components.push({
    name: 'worker',
    kind: 'worker',
    address: `${a.worker.host}:${worker.port}`,
    detail: `${run.leaseBackend === 'kv' ? 'legacy-kv (UNSAFE)' : 'durable'} lease Worker`,
    pid: worker.workerdPid,
  });
  components.push({
    name: 'toxiproxy',
    kind: 'proxy',
    address: toxiproxyUrl.replace(/^http:\/\//, ''),
    detail: `${proxies.size} link proxies`,
  });
  components.push({
    name: 'tombstone',
    kind: 'tombstone',
    address: `${a.tombstone.host}:${a.tombstone.port}`,
  });
  for (const c of components) {
    const t = run.bootSeconds.get(c.name);
    if (t !== undefined) c.bootSeconds = t;
  }
  return components;
}
