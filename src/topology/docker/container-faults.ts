/**
 * Process faults on the Docker driver, done by the engine: a pause is `docker pause` (the
 * cgroup freezer stops every process of the container at once, like SIGSTOP of the local
 * driver's process), a crash is SIGKILL of the container, a restart starts the same container
 * again (same address, same run-dir files). Each returns a Verification like the local
 * driver's appliers in src/faults/index.ts, which call these when `topo.containers` is set.
 */
import type Dockerode from 'dockerode';
import type { Verification } from '../../faults/links.ts';
import { tcpConnect } from '../../faults/probe.ts';
import { waitHealthy } from '../health.ts';
import type { ContainerFaultPort, Topology } from '../local.ts';
import { sleep } from '../supervisor.ts';

/** How long a restarted container may take to answer its health probe again. */
const RESTART_HEALTHY_WITHIN_MS = 30_000;

export interface ContainerFaults extends ContainerFaultPort {
  pause(name: string): Promise<Verification>;
  resume(name: string): Promise<Verification>;
  crash(name: string): Promise<Verification>;
  stop(name: string, graceMs: number): Promise<Verification>;
  restart(name: string, signal?: AbortSignal): Promise<Verification>;
  /** engine state of a component's container (running, paused, exited...), null when unknown */
  state(name: string): Promise<string | null>;
}

export function containerFaults(
  docker: Dockerode,
  ids: Map<string, string>,
  topo: () => Topology,
): ContainerFaults {
  const container = (name: string) => {
    const id = ids.get(name);
    if (!id) throw new Error(`no container for component ${name}`);
    return docker.getContainer(id);
  };
  const state = async (name: string): Promise<string | null> => {
    try {
      return (await container(name).inspect()).State.Status;
    } catch {
      return null;
    }
  };
  const waitStatus = async (name: string, want: (s: string | null) => boolean, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    let st = await state(name);
    while (!want(st) && performance.now() < deadline) {
      await sleep(20);
      st = await state(name);
    }
    return st;
  };
  const listenOf = (name: string): { host: string; port: number } | null => {
    const t = topo();
    if (name === 'worker') return { host: t.worker.host, port: t.worker.port };
    if (name.startsWith('auth-')) return t.auths[name.slice(5)]?.dns ?? null;
    if (name.startsWith('app-')) return t.apps[name.slice(4)] ?? null;
    if (name.startsWith('ctl-')) return t.controllers[name.slice(4)]?.admin ?? null;
    return t.witnesses[name] ?? null;
  };
  return {
    state,
    async pause(name) {
      await container(name).pause();
      const st = await waitStatus(name, (s) => s === 'paused', 2000);
      return { verified: st === 'paused', detail: `${name}: container paused (engine state ${st})` };
    },
    async resume(name) {
      await container(name).unpause();
      const st = await waitStatus(name, (s) => s === 'running', 2000);
      return { verified: st === 'running', detail: `${name}: container unpaused (engine state ${st})` };
    },
    async crash(name) {
      await container(name).kill({ signal: 'SIGKILL' });
      const st = await waitStatus(name, (s) => s !== 'running', 5000);
      const ep = listenOf(name);
      const conn = ep ? await tcpConnect(ep.host, ep.port, 300) : 'n/a';
      return {
        verified: st !== 'running' && conn !== 'connected',
        detail: `${name}: container SIGKILLed (engine state ${st}), connect ${conn}`,
      };
    },
    async stop(name, graceMs) {
      // SIGTERM only: the process stops itself (a graceful stop), however long it takes
      // within graceMs; `docker stop` would SIGKILL after its own timeout
      await container(name).kill({ signal: 'SIGTERM' });
      const st = await waitStatus(name, (s) => s !== 'running', graceMs);
      return {
        verified: st !== 'running',
        detail: `${name}: container SIGTERMed, exited on its own (engine state ${st})`,
      };
    },
    async restart(name, signal) {
      await container(name).start();
      // A restarted container (PowerDNS re-reading its zone, Node starting) took over 10 s on
      // podman with the machine loaded, leaving a verified crash with an unverified revert.
      const h = await waitHealthy(topo(), name, performance.now() + RESTART_HEALTHY_WITHIN_MS, signal);
      return { verified: h.ok, detail: `${name}: container started again: ${h.detail}` };
    },
  };
}
