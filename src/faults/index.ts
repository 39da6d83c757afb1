/**
 * Applies one scenario step to the real topology and reverts it, verifying both: every
 * fault event in the history says whether the executor confirmed the effect (verified
 * true/false, null when it cannot be checked). See src/faults/README.md for the semantics.
 */
import { BadInputError } from '../errors.ts';
import type { FaultStep, Scenario } from '../scenario/schema.ts';
import { isolationLinks, selectLinks, type TopologySpec } from '../scenario/topology-description.ts';
import { cutLabel, stepParams } from '../scenario/validate.ts';
import { processState } from '../topology/addresses.ts';
import { waitHealthy } from '../topology/health.ts';
import type { FaketimeSetup, Topology } from '../topology/local.ts';
import { sleep } from '../topology/supervisor.ts';
import { FakeClock, measureClockRate, verifyClock } from './clock.ts';
import { type CutHow, LinkFaults, type Verification } from './links.ts';
import { tcpConnect } from './probe.ts';
import { staleInstance } from './stale-instance.ts';

export type { Verification };
export { FakeClock, LinkFaults, measureClockRate };

export interface FaultHooks {
  /** the in-harness client workload (target "client") */
  pauseClient(paused: boolean): void;
  /** history notes (flap toggles, restarts) */
  note(message: string, data?: Record<string, unknown>): void;
  /** history process events */
  processEvent(
    component: string,
    op: 'pause' | 'resume' | 'crash' | 'restart' | 'stop' | 'exit',
    pid?: number,
    detail?: string,
  ): void;
  /** history clock events */
  clockEvent(node: string, op: 'offset' | 'drift' | 'jump', value: number): void;
  /** a component was killed (or exited): its in-memory state (role, authority) is gone */
  crashed(component: string, reason?: string): void;
}

export interface FaultContext {
  topo: Topology;
  links: LinkFaults;
  clocks: Map<string, FakeClock>;
  hooks: FaultHooks;
  signal: AbortSignal;
}

export interface AppliedFault {
  id: string;
  fault: FaultStep['fault'];
  target: string;
  links: string[];
  components: string[];
  start: Verification;
  /** idempotent */
  revert(): Promise<Verification>;
}

const targetsOf = (step: FaultStep): string[] => (Array.isArray(step.target) ? step.target : [step.target]);

/** Components crashed by a region crash, in the order they are restarted. */
function regionComponents(region: string): string[] {
  return [`auth-${region}`, `app-${region}`, `ctl-${region}`];
}

/** Exactly the links a link-fault step names (selectors expanded; no reverse link is added). */
function linksOf(spec: TopologySpec, step: FaultStep): string[] {
  const ids = new Set<string>();
  if (step.fault === 'isolate') {
    for (const r of targetsOf(step)) for (const l of isolationLinks(spec, r)) ids.add(l.id);
  } else {
    for (const sel of targetsOf(step)) for (const l of selectLinks(spec, sel)) ids.add(l.id);
  }
  return [...ids].sort();
}

/**
 * Checks a scenario against what the real executor can do, before anything starts, and
 * decides which controllers run under libfaketime. Throws BadInputError naming the step.
 */
export function planRealRun(
  s: Scenario,
  whereOf: (stepIndex: number, key: 'fault' | 'target') => string,
): { faketime: Record<string, FaketimeSetup> } {
  const faketime: Record<string, FaketimeSetup> = {};
  s.steps.forEach((step, i) => {
    const where = whereOf(i, 'fault');
    const whereTarget = whereOf(i, 'target');
    if (step.fault === 'witness-stale') {
      throw new BadInputError(
        'witness-stale is a sim-only fault (unbound has no "serve stale answers" switch); run it with `failover-lab sim`',
        where,
      );
    }
    if (step.fault === 'kv-staleness') {
      throw new BadInputError(
        "kv-staleness is sim-only: the legacy-kv Worker's cache staleness is fixed at start (its cacheTtl, 60 s scaled); use leaseBackend: kv to get it",
        where,
      );
    }
    for (const t of targetsOf(step)) {
      if (step.fault === 'crash' && t === 'toxiproxy') {
        throw new BadInputError(
          'crash of "toxiproxy" is not supported in real runs (the harness injects every fault through it); use pause',
          whereTarget,
        );
      }
      if (step.fault.startsWith('clock-')) {
        const m = /^ctl-(.+)$/.exec(t);
        if (!m)
          throw new BadInputError(
            `real runs fake controller clocks only (libfaketime); "${t}" is sim-only`,
            whereTarget,
          );
        const region = m[1]!;
        const prev = faketime[region] ?? { fakeMonotonic: false };
        // Drift and jumps act on the clock the controller reasons with (monotonic); an offset
        // alone is a wall-clock step, which never moves a real monotonic clock.
        faketime[region] = { fakeMonotonic: prev.fakeMonotonic || step.fault !== 'clock-offset' };
      }
    }
  });
  return { faketime };
}

async function waitState(
  pid: number,
  want: (st: string | null) => boolean,
  timeoutMs: number,
): Promise<string | null> {
  const deadline = performance.now() + timeoutMs;
  let st = processState(pid);
  while (!want(st) && performance.now() < deadline) {
    await sleep(10);
    st = processState(pid);
  }
  return st;
}

function pidOfComponent(topo: Topology, name: string): number | null {
  if (topo.supervisor.has(name)) return topo.supervisor.get(name).pid; // workerd too, once adopted
  return name === 'worker' ? topo.worker.workerdPid : null;
}

async function pause(ctx: FaultContext, name: string): Promise<Verification> {
  if (name === 'client') {
    ctx.hooks.pauseClient(true);
    return { verified: true, detail: 'client workload paused (in-harness)' };
  }
  if (ctx.topo.containers) {
    const v = await ctx.topo.containers.pause(name); // docker pause: the cgroup freezer
    ctx.hooks.processEvent(name, 'pause', undefined, v.detail);
    return v;
  }
  const pid = pidOfComponent(ctx.topo, name);
  if (pid === null) return { verified: false, detail: `${name}: no PID to pause` };
  process.kill(pid, 'SIGSTOP');
  const st = await waitState(pid, (s) => s === 'T' || s === 't', 1000);
  ctx.hooks.processEvent(name, 'pause', pid, `state ${st}`);
  return { verified: st === 'T' || st === 't', detail: `${name} pid ${pid}: SIGSTOP, /proc state ${st}` };
}

async function resume(ctx: FaultContext, name: string): Promise<Verification> {
  if (name === 'client') {
    ctx.hooks.pauseClient(false);
    return { verified: true, detail: 'client workload resumed' };
  }
  if (ctx.topo.containers) {
    const v = await ctx.topo.containers.resume(name);
    ctx.hooks.processEvent(name, 'resume', undefined, v.detail);
    return v;
  }
  const pid = pidOfComponent(ctx.topo, name);
  if (pid === null) return { verified: false, detail: `${name}: no PID to resume` };
  process.kill(pid, 'SIGCONT');
  const st = await waitState(pid, (s) => s !== 'T' && s !== 't', 1000);
  ctx.hooks.processEvent(name, 'resume', pid, `state ${st}`);
  return {
    verified: st !== null && st !== 'T' && st !== 't',
    detail: `${name} pid ${pid}: SIGCONT, /proc state ${st}`,
  };
}

function listenOf(topo: Topology, name: string): { host: string; port: number } | null {
  if (name === 'worker') return { host: topo.worker.host, port: topo.worker.port };
  if (name.startsWith('auth-')) return topo.auths[name.slice(5)]?.dns ?? null;
  if (name.startsWith('app-')) return topo.apps[name.slice(4)] ?? null;
  if (name.startsWith('ctl-')) return topo.controllers[name.slice(4)]?.admin ?? null;
  return topo.witnesses[name] ?? null;
}

async function crash(ctx: FaultContext, name: string): Promise<Verification> {
  if (name === 'client') {
    ctx.hooks.pauseClient(true);
    return { verified: true, detail: 'client workload stopped' };
  }
  if (ctx.topo.containers) {
    ctx.hooks.processEvent(name, 'crash', undefined, 'SIGKILL (container)');
    const v = await ctx.topo.containers.crash(name);
    ctx.hooks.crashed(name);
    return v;
  }
  const sup = ctx.topo.supervisor;
  const m = sup.get(name);
  const pid = m.pid;
  ctx.hooks.processEvent(name, 'crash', pid, 'SIGKILL');
  await sup.stop(name, { signal: 'SIGKILL' });
  ctx.hooks.crashed(name);
  const gone = await processGone(ctx, name, pid);
  return { verified: gone.verified, detail: `${name} pid ${pid}: SIGKILL, ${gone.detail}` };
}

/**
 * How long a killed process may take to be gone. A SIGKILLed multi-threaded process (workerd)
 * shows its leader as a zombie while its other threads still tear down, and their shared file
 * table keeps the listening socket open, so the kernel still completes connects for a moment:
 * a one-shot check read "connected" once in CI under load.
 */
const GONE_WITHIN_MS = 5_000;
const GONE_POLL_MS = 50;

/** A stopped process is gone: no /proc entry (or a zombie) and its port refuses connections. */
async function processGone(ctx: FaultContext, name: string, pid: number): Promise<Verification> {
  const ep = listenOf(ctx.topo, name);
  const startedMs = performance.now();
  for (;;) {
    const st = processState(pid);
    const conn = ep ? await tcpConnect(ep.host, ep.port, 300) : 'n/a';
    const gone = (st === null || st === 'Z') && conn !== 'connected';
    const waitedMs = Math.round(performance.now() - startedMs);
    if (gone || waitedMs >= GONE_WITHIN_MS) {
      const after = waitedMs >= GONE_POLL_MS ? ` after ${waitedMs} ms` : '';
      return { verified: gone, detail: `/proc ${st ?? 'gone'}, connect ${conn}${after}` };
    }
    await sleep(GONE_POLL_MS);
  }
}

/**
 * How long a graceful stop may take before the harness counts the stop unverified: the
 * controller's own cap (driver.ts gracefulStopCapMs: it exits by then) with room to spare.
 */
const STOP_GRACE_MS = 20_000;

/**
 * SIGTERM to a controller (the `stop` fault): it demotes its app, releases the lease once the
 * app confirmed, and exits on its own (src/agent/runtime.ts `stop`); the supervisor records the
 * exit. Verified when the process is gone and its admin port refuses connections.
 */
async function stopGracefully(ctx: FaultContext, name: string): Promise<Verification> {
  if (ctx.topo.containers) {
    ctx.hooks.processEvent(name, 'stop', undefined, 'SIGTERM (container)');
    const v = await ctx.topo.containers.stop(name, STOP_GRACE_MS);
    ctx.hooks.processEvent(name, 'exit', undefined, 'graceful stop (container)');
    ctx.hooks.crashed(name, 'process exited (graceful stop)');
    return v;
  }
  const sup = ctx.topo.supervisor;
  const pid = sup.get(name).pid;
  ctx.hooks.processEvent(name, 'stop', pid, 'SIGTERM');
  const exit = await sup.stop(name, { signal: 'SIGTERM', graceMs: STOP_GRACE_MS });
  ctx.hooks.crashed(name, 'process exited (graceful stop)');
  const gone = await processGone(ctx, name, pid);
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  return {
    // killed after the grace period: the stop was not graceful
    verified: gone.verified === true && exit.signal !== 'SIGKILL',
    detail: `${name} pid ${pid}: SIGTERM, exited with ${how}, ${gone.detail}`,
  };
}

async function restart(ctx: FaultContext, name: string): Promise<Verification> {
  if (name === 'client') {
    ctx.hooks.pauseClient(false);
    return { verified: true, detail: 'client workload restarted' };
  }
  if (ctx.topo.containers) {
    ctx.hooks.processEvent(name, 'restart');
    return ctx.topo.containers.restart(name, ctx.signal);
  }
  const topo = ctx.topo;
  let pid: number;
  if (name.startsWith('ctl-')) {
    const clock = ctx.clocks.get(name.slice(4));
    pid = topo.startController(name.slice(4)).pid;
    clock?.rebase();
  } else if (name === 'worker') {
    pid = (await topo.restartWorker()).pid;
  } else {
    pid = topo.supervisor.respawn(name).pid;
  }
  ctx.hooks.processEvent(name, 'restart', pid);
  const h = await waitHealthy(topo, name, performance.now() + 5000, ctx.signal);
  return { verified: h.ok, detail: `${name} restarted as pid ${pid}: ${h.detail}` };
}

const merge = (vs: Verification[]): Verification => ({
  verified: vs.some((v) => v.verified === false) ? false : vs.every((v) => v.verified === null) ? null : true,
  detail: vs.map((v) => v.detail).join('; '),
});

/** Cut and heal the named links alternately every period (scaled), each cut as the step says. */
async function flap(
  ctx: FaultContext,
  step: FaultStep,
  id: string,
  base: { id: string; fault: FaultStep['fault']; target: string },
  endAtMs: () => number,
): Promise<AppliedFault> {
  const lf = ctx.links;
  const p = stepParams(step);
  const how: CutHow = { mode: p.mode, oneway: p.oneway };
  const ids = linksOf(ctx.topo.spec, step);
  const periodMs = Math.max(50, Math.round(p.periodMs * ctx.topo.timing.timeScale));
  await Promise.all(ids.map((l) => lf.cut(l, id, how)));
  const start = merge(await Promise.all(ids.map((l) => lf.verifyCutAs(l, how))));
  let cut = true;
  let stopped = false;
  let toggles = 0;
  const loop = (async () => {
    while (!stopped) {
      const wait = Math.min(periodMs, endAtMs() - performance.now());
      if (wait <= 0) break;
      await sleep(wait).catch(() => undefined);
      if (stopped || ctx.signal.aborted) break;
      cut = !cut;
      toggles++;
      await Promise.all(ids.map((l) => (cut ? lf.cut(l, id, how) : lf.heal(l, id, how)))).catch(
        () => undefined,
      );
      ctx.hooks.note(`flap ${id}: links ${cut ? 'cut' : 'healed'}`, { links: ids });
    }
  })();
  return {
    ...base,
    links: ids,
    components: [],
    start: { ...start, detail: `${cutLabel(how)}: ${start.detail}; period ${periodMs} ms` },
    revert: async () => {
      if (!stopped) {
        stopped = true;
        await loop;
        if (cut) await Promise.all(ids.map((l) => lf.heal(l, id, how)));
        cut = false;
      }
      const v = merge(await Promise.all(ids.map((l) => lf.verifyHealed(l))));
      return { ...v, detail: `${toggles} toggles; ${v.detail}` };
    },
  };
}

export async function applyFault(
  ctx: FaultContext,
  step: FaultStep,
  id: string,
  endAtMs: () => number,
): Promise<AppliedFault> {
  const { topo, links: lf } = ctx;
  const spec = topo.spec;
  const p = stepParams(step);
  const scale = topo.timing.timeScale;
  const targets = targetsOf(step);
  const target = targets.join(',');
  const base = { id, fault: step.fault, target };
  let reverted: Promise<Verification> | null = null;
  const once = (fn: () => Promise<Verification>) => () => {
    reverted ??= fn();
    return reverted;
  };
  /** A link fault that is one named toxic on each link: reverting removes it and checks the links heal. */
  const toxicFault = (ids: string[], toxic: string, start: Verification): AppliedFault => ({
    ...base,
    links: ids,
    components: [],
    start,
    revert: once(async () => {
      await Promise.all(ids.map((l) => lf.removeToxic(l, toxic)));
      return merge(await Promise.all(ids.map((l) => lf.verifyHealed(l))));
    }),
  });

  switch (step.fault) {
    case 'isolate':
    case 'partition': {
      const ids = linksOf(spec, step);
      const how: CutHow = { mode: p.mode, oneway: p.oneway };
      await Promise.all(ids.map((l) => lf.cut(l, id, how)));
      const start = merge(await Promise.all(ids.map((l) => lf.verifyCutAs(l, how))));
      return {
        ...base,
        links: ids,
        components: [],
        start: { ...start, detail: `${cutLabel(how)}: ${start.detail}` },
        revert: once(async () => {
          await Promise.all(ids.map((l) => lf.heal(l, id, how)));
          return merge(await Promise.all(ids.map((l) => lf.verifyHealed(l))));
        }),
      };
    }
    case 'latency': {
      const ids = linksOf(spec, step);
      const latencyMs = Math.round(p.latencyMs * scale);
      const jitterMs = Math.round(p.jitterMs * scale);
      const toxic = `${id}-latency`;
      await Promise.all(
        ids.map((l) => lf.addToxic(l, toxic, 'latency', { latency: latencyMs, jitter: jitterMs })),
      );
      return toxicFault(
        ids,
        toxic,
        merge(await Promise.all(ids.map((l) => lf.verifyLatency(l, latencyMs, jitterMs)))),
      );
    }
    case 'loss': {
      const ids = linksOf(spec, step);
      const toxic = `${id}-loss`;
      await Promise.all(ids.map((l) => lf.addToxic(l, toxic, 'timeout', { timeout: 0 }, p.probability)));
      const states = await Promise.all(ids.map((l) => lf.state(l)));
      const present = states.every((s) => s.toxics.includes(toxic));
      return toxicFault(ids, toxic, {
        verified: present,
        detail: `timeout toxic with toxicity ${p.probability} on ${ids.length} links (Toxiproxy rolls per connection)${present ? '' : ': toxic missing'}`,
      });
    }
    case 'flap':
      return flap(ctx, step, id, base, endAtMs);
    case 'pause': {
      const start = merge(await Promise.all(targets.map((t) => pause(ctx, t))));
      return {
        ...base,
        links: [],
        components: targets,
        start,
        revert: once(async () => merge(await Promise.all(targets.map((t) => resume(ctx, t))))),
      };
    }
    case 'stop': {
      const start = merge(await Promise.all(targets.map((t) => stopGracefully(ctx, t))));
      return {
        ...base,
        links: [],
        components: targets,
        start,
        revert: once(async () => merge(await Promise.all(targets.map((t) => restart(ctx, t))))),
      };
    }
    case 'crash':
    case 'witness-down': {
      const comps = targets.flatMap((t) => (spec.regions.includes(t) ? regionComponents(t) : [t]));
      const start = merge(await Promise.all(comps.map((c) => crash(ctx, c))));
      return {
        ...base,
        links: [],
        components: comps,
        start,
        revert: once(async () => {
          // in order: a region's authoritative and app before its controller
          const out: Verification[] = [];
          for (const c of comps) out.push(await restart(ctx, c));
          return merge(out);
        }),
      };
    }
    case 'clock-offset':
    case 'clock-drift':
    case 'clock-jump':
      return applyClockFault(ctx, step, base, once);
    case 'stale-instance':
      return staleInstance(ctx, p.region ?? '', base);
    default:
      throw new BadInputError(`fault ${step.fault} is not supported by the real executor`, `steps (${id})`);
  }
}

/** Clock faults on controllers under libfaketime: shift, drift or jump, each verified (a jump is not reverted). */
async function applyClockFault(
  ctx: FaultContext,
  step: FaultStep,
  base: { id: string; fault: FaultStep['fault']; target: string },
  once: (fn: () => Promise<Verification>) => () => Promise<Verification>,
): Promise<AppliedFault> {
  const { topo } = ctx;
  const p = stepParams(step);
  const scale = topo.timing.timeScale;
  const targets = targetsOf(step);
  const vs: Verification[] = [];
  const undo: Array<() => void> = [];
  for (const t of targets) {
    const region = t.slice(4);
    const clock = ctx.clocks.get(region);
    const pid = pidOfComponent(topo, t);
    if (!clock || pid === null) {
      vs.push({ verified: false, detail: `${t} does not run under libfaketime` });
      continue;
    }
    if (step.fault === 'clock-offset') {
      const d = Math.round(p.offsetMs * scale);
      clock.shift(d);
      undo.push(() => clock.shift(-d));
      ctx.hooks.clockEvent(t, 'offset', d);
    } else if (step.fault === 'clock-drift') {
      clock.setRate(1 + p.rate);
      undo.push(() => clock.setRate(1));
      ctx.hooks.clockEvent(t, 'drift', p.rate);
    } else {
      const d = Math.round(p.jumpMs * scale);
      clock.shift(d);
      ctx.hooks.clockEvent(t, 'jump', d);
    }
    vs.push(await verifyClock(topo, t, pid, clock));
  }
  return {
    ...base,
    links: [],
    components: targets,
    start: merge(vs),
    revert: once(async () => {
      for (const u of undo) u();
      if (step.fault === 'clock-jump') {
        return {
          verified: true,
          detail: 'a clock jump is permanent (a monotonic clock cannot step back); nothing to revert',
        };
      }
      const out: Verification[] = [];
      for (const t of targets) {
        const clock = ctx.clocks.get(t.slice(4));
        const pid = pidOfComponent(topo, t);
        if (clock && pid !== null) out.push(await verifyClock(topo, t, pid, clock));
      }
      return merge(out);
    }),
  };
}
