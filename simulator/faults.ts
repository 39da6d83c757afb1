/**
 * Applies scenario fault steps (src/scenario/schema.ts FAULT_KINDS) to the simulated world
 * at their `at`, reverts them at `at + for` (never, without `for`), and records a fault
 * event for each edge. Overlapping faults compose: cuts and pauses are counted, latencies
 * add, loss probabilities combine, drift rates stack (the newest wins until reverted).
 *
 * Cuts (partition, isolate, flap's cut phases) mean what docs/scenarios.md "Fault
 * vocabulary" says, on exactly the named links: `drop` silences the request direction
 * (and, both ways, the reply direction); `refuse` fails new requests at once and, both
 * ways, resets the calls still waiting for a reply on the link.
 */
import type { FaultStep } from '../src/scenario/schema.ts';
import { isolationLinks, selectLinks } from '../src/scenario/topology-description.ts';
import { type CutMode, cutLabel, type StepParams, stepParams } from '../src/scenario/validate.ts';
import { bump, coverageCell } from './coverage.ts';
import type { ControllerModel } from './models/controller.ts';
import type { LinkState } from './net.ts';
import type { Component, World } from './world.ts';

function targetsOf(step: FaultStep): string[] {
  return Array.isArray(step.target) ? step.target : [step.target];
}

/** Links a link-fault step acts on (unique, in topology order). */
function linksOf(world: World, step: FaultStep): LinkState[] {
  const ids = new Set<string>();
  if (step.fault === 'isolate') {
    for (const r of targetsOf(step)) for (const l of isolationLinks(world.spec, r)) ids.add(l.id);
  } else {
    for (const sel of targetsOf(step)) for (const l of selectLinks(world.spec, sel)) ids.add(l.id);
  }
  return world.spec.links.filter((l) => ids.has(l.id)).map((l) => world.link(l.id));
}

/** Components a process/clock/witness step acts on; a region means its controller, app and auth. */
function componentsOf(world: World, step: FaultStep): string[] {
  const out: string[] = [];
  for (const t of targetsOf(step)) {
    if (world.spec.regions.includes(t)) out.push(`ctl-${t}`, `app-${t}`, `auth-${t}`);
    else out.push(t);
  }
  return [...new Set(out)];
}

/** Adds (by = 1) or removes (by = -1) one cut of `link`. */
export function cutLink(world: World, l: LinkState, by: number, mode: CutMode, oneway: boolean): void {
  if (mode === 'drop') {
    l.cutRequest += by;
    if (!oneway) l.cutReply += by;
    return;
  }
  l.refuseRequest += by;
  if (oneway) return;
  l.refuseReply += by;
  if (by > 0 && l.refuseReply === 1) world.net.resetInflight(l);
}

function recomputeLoss(l: LinkState, active: Map<LinkState, number[]>): void {
  const ps = active.get(l) ?? [];
  let pass = 1;
  for (const p of ps) pass *= 1 - p;
  l.lossProbability = 1 - pass;
}

export function scheduleFaults(world: World, steps: FaultStep[]): void {
  const book: FaultBook = { lossActive: new Map(), driftStack: new Map(), baseRate: new Map() };
  steps.forEach((step, i) => {
    const f: StepFault = {
      world,
      step,
      book,
      id: `f${i}`,
      p: stepParams(step),
      target: targetsOf(step).join(','),
      isLinkFault: ['isolate', 'partition', 'latency', 'loss', 'flap'].includes(step.fault),
      links: [],
      comps: [],
      flapGen: 0,
      endDetail: undefined,
      flapCut: false,
    };
    const start = () => {
      if (step.fault === 'operator') return operatorCommand(f);
      applyStep(f);
      if (step.for !== undefined) world.engine.after(step.for, () => revertStep(f));
    };
    if (step.anchor === undefined) world.engine.at(step.at, start);
    else world.engine.at(step.at, () => armAnchor(world, step, start));
  });
}

/** What overlapping steps share: active loss probabilities per link, drift rates per clock. */
interface FaultBook {
  lossActive: Map<LinkState, number[]>;
  driftStack: Map<string, number[]>;
  baseRate: Map<string, number>;
}

/** One scheduled step and what it acted on. */
interface StepFault {
  world: World;
  step: FaultStep;
  book: FaultBook;
  id: string;
  p: StepParams;
  target: string;
  isLinkFault: boolean;
  links: LinkState[];
  comps: string[];
  /** bumped at each flap start and revert: a toggle of an older generation stops */
  flapGen: number;
  endDetail: string | undefined;
  flapCut: boolean;
}

/** Cuts (by 1) or heals (by -1) one link, in the step's cut mode. */
function cut(f: StepFault, l: LinkState, by: number): void {
  cutLink(f.world, l, by, f.p.mode, f.p.oneway);
}

/** The fault event of the step's start or end, with the links or components it acted on. */
function record(f: StepFault, phase: 'start' | 'end', detail?: string): void {
  const { world, step } = f;
  world.rec.emit({
    kind: 'fault',
    t: world.engine.now,
    phase,
    id: f.id,
    fault: step.fault,
    target: f.target,
    verified: true,
    ...(detail ? { detail } : {}),
    ...(f.links.length > 0 ? { links: f.links.map((l) => l.id) } : {}),
    ...(f.comps.length > 0 ? { components: f.comps } : {}),
  });
}

/** Tells a component its clock moved (timers re-armed on the new reading). */
function clockChanged(f: StepFault, c: string): void {
  const { world } = f;
  const comp = world.component(c) as Component;
  comp.onClockChange?.();
}

/** The process event of a pause, resume, crash or restart. */
function processOp(f: StepFault, c: string, op: 'pause' | 'resume' | 'crash' | 'restart'): void {
  const { world } = f;
  world.rec.emit({ kind: 'process', t: world.engine.now, component: c, op });
}

function controllerOf(world: World, c: string): ControllerModel | undefined {
  return world.controllers.find((m) => m.proc.id === c);
}

/** A wall-clock step of a controller or the Worker: what the request signatures carry. */
function stepWallClock(world: World, c: string, deltaMs: number): void {
  if (c === 'worker') world.store.stepWallClock(deltaMs);
  else controllerOf(world, c)?.stepWallClock(deltaMs);
}

/**
 * SIGTERM to a controller (the `stop` fault): the production shell's graceful stop runs; the
 * process is gone once it exits (an `exit` process event, as the real supervisor records).
 */
function stopController(f: StepFault, c: string): void {
  const { world } = f;
  const ctl = controllerOf(world, c);
  if (ctl === undefined) return;
  const sigterm = () =>
    world.rec.emit({ kind: 'process', t: world.engine.now, component: c, op: 'stop', detail: 'SIGTERM' });
  ctl.stopGracefully(sigterm, () => {
    if (!world.proc(c).crash()) return;
    world.rec.emit({
      kind: 'process',
      t: world.engine.now,
      component: c,
      op: 'exit',
      detail: 'graceful stop',
    });
    ctl.onStopped();
  });
}

/** One flap period: cut or heal every link, then come back after the period (stale generations stop). */
function flapToggle(f: StepFault, gen: unknown): void {
  const { world, p } = f;
  if (gen !== f.flapGen) return;
  f.flapCut = !f.flapCut;
  for (const l of f.links) cut(f, l, f.flapCut ? 1 : -1);
  world.engine.after(p.periodMs, (next) => flapToggle(f, next), gen);
}

/**
 * An operator step: the command typed into each target controller's admin API, as the real
 * runner POSTs it (src/faults/operator.ts). Not a fault: no fault events, nothing to revert;
 * the operator's own record of it is a `note` from source `operator` (what the checker judges
 * the command's consequences by), written whether or not the controller is up to take it.
 */
function operatorCommand(f: StepFault): void {
  const { world, step, p } = f;
  const command = p.command;
  if (command === undefined) return; // validated: never
  bump(world.coverage.faultKinds, step.fault);
  bump(world.coverage.cells, coverageCell(step, world.spec, world.rec.phase()));
  for (const c of targetsOf(step)) {
    const ctl = controllerOf(world, c);
    if (ctl === undefined) continue;
    world.rec.emit({
      kind: 'note',
      t: world.engine.now,
      source: 'operator',
      message: `${command} ${c} (step ${f.id})`,
      data: { region: ctl.region, command, step: f.id },
    });
    ctl.operator(command);
  }
}

/** Starts the step's fault: counts its coverage cell, records the start, acts on links, processes or clocks. */
function applyStep(f: StepFault): void {
  const { world, step, p } = f;
  bump(world.coverage.faultKinds, step.fault);
  bump(world.coverage.cells, coverageCell(step, world.spec, world.rec.phase()));
  if (f.isLinkFault) f.links = linksOf(world, step);
  else f.comps = componentsOf(world, step);
  record(f, 'start', describe(step, isCut(step) ? cutLabel(p) : null));
  switch (step.fault) {
    case 'isolate':
    case 'partition':
      for (const l of f.links) cut(f, l, 1);
      break;
    case 'latency':
      for (const l of f.links) {
        l.addLatencyMs += p.latencyMs;
        l.addJitterMs += p.jitterMs;
      }
      break;
    case 'loss':
      for (const l of f.links) {
        const list = f.book.lossActive.get(l) ?? [];
        list.push(p.probability);
        f.book.lossActive.set(l, list);
        recomputeLoss(l, f.book.lossActive);
      }
      break;
    case 'flap':
      f.flapGen++;
      f.flapCut = true;
      for (const l of f.links) cut(f, l, 1);
      world.engine.after(p.periodMs, (next) => flapToggle(f, next), f.flapGen);
      break;
    case 'pause':
      for (const c of f.comps) if (world.proc(c).pause()) processOp(f, c, 'pause');
      break;
    case 'crash':
    case 'witness-down':
      for (const c of f.comps) {
        if (world.proc(c).crash()) {
          processOp(f, c, 'crash');
          world.component(c).onCrash?.();
        }
      }
      break;
    case 'stop':
      for (const c of f.comps) stopController(f, c);
      break;
    case 'clock-offset':
    case 'clock-jump': {
      const delta = step.fault === 'clock-jump' ? p.jumpMs : p.offsetMs;
      for (const c of f.comps) {
        // An offset steps the wall clock. Controllers and apps reason with monotonic
        // clocks: the Worker (whose lease expiry uses Date.now) feels it, and a controller
        // only in its requests' signature timestamps (the Worker refuses a skew over 30 s).
        if (step.fault === 'clock-jump' || c === 'worker') {
          world.clocks.get(c)!.jump(world.engine.now, delta);
        }
        stepWallClock(world, c, delta);
        world.rec.emit({
          kind: 'clock',
          t: world.engine.now,
          node: c,
          op: step.fault === 'clock-jump' ? 'jump' : 'offset',
          value: delta,
        });
        clockChanged(f, c);
      }
      break;
    }
    case 'clock-drift':
      for (const c of f.comps) {
        const clock = world.clocks.get(c)!;
        if (!f.book.baseRate.has(c)) f.book.baseRate.set(c, clock.rate);
        const stack = f.book.driftStack.get(c) ?? [];
        stack.push(p.rate);
        f.book.driftStack.set(c, stack);
        clock.setRate(world.engine.now, p.rate);
        world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'drift', value: p.rate });
        clockChanged(f, c);
      }
      break;
    case 'witness-stale':
      for (const c of f.comps)
        (world.component(c) as unknown as { addStale(ms: number): void }).addStale(p.staleMs);
      break;
    case 'kv-staleness':
      world.store.addStaleness(p.staleMs);
      break;
    case 'stale-instance':
      world.store.startStaleInstance(p.region ?? '');
      break;
    case 'operator':
      break; // operatorCommand: never a fault
  }
}

/** Ends the step's fault (a clock jump has nothing to undo) and records the end. */
function revertStep(f: StepFault): void {
  const { world, step, p } = f;
  switch (step.fault) {
    case 'isolate':
    case 'partition':
      for (const l of f.links) cut(f, l, -1);
      break;
    case 'latency':
      for (const l of f.links) {
        l.addLatencyMs -= p.latencyMs;
        l.addJitterMs -= p.jitterMs;
      }
      break;
    case 'loss':
      for (const l of f.links) {
        const list = f.book.lossActive.get(l) ?? [];
        list.splice(list.indexOf(p.probability), 1);
        recomputeLoss(l, f.book.lossActive);
      }
      break;
    case 'flap':
      f.flapGen++;
      if (f.flapCut) for (const l of f.links) cut(f, l, -1);
      f.flapCut = false;
      break;
    case 'pause':
      for (const c of f.comps) {
        const proc = world.proc(c);
        const token = proc.resume();
        if (token === null) continue;
        // recorded at SIGCONT, as the real executor does; the process runs a wake latency later
        processOp(f, c, 'resume');
        world.engine.after(world.wakeLatencyMs(), () => proc.wake(token));
      }
      break;
    case 'crash':
    case 'witness-down':
      for (const c of f.comps) {
        if (world.proc(c).restart()) {
          processOp(f, c, 'restart');
          world.component(c).onRestart?.();
        }
      }
      break;
    case 'stop':
      for (const c of f.comps) {
        const restart = () => {
          if (!world.proc(c).restart()) return;
          processOp(f, c, 'restart');
          world.component(c).onRestart?.();
        };
        // a stop still under way when its step ends restarts once it has exited
        const ctl = controllerOf(world, c);
        if (ctl === undefined) restart();
        else ctl.afterStop(restart);
      }
      break;
    case 'clock-offset':
      for (const c of f.comps) {
        if (c === 'worker') world.clocks.get(c)!.jump(world.engine.now, -p.offsetMs);
        stepWallClock(world, c, -p.offsetMs);
        world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'offset', value: -p.offsetMs });
        clockChanged(f, c);
      }
      break;
    case 'clock-jump':
      break; // a jump is instantaneous: nothing to undo
    case 'clock-drift':
      for (const c of f.comps) {
        const stack = f.book.driftStack.get(c)!;
        stack.splice(stack.lastIndexOf(p.rate), 1);
        const rate = stack.length > 0 ? stack[stack.length - 1]! : f.book.baseRate.get(c)!;
        world.clocks.get(c)!.setRate(world.engine.now, rate);
        world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'drift', value: rate });
        clockChanged(f, c);
      }
      break;
    case 'witness-stale':
      for (const c of f.comps) {
        (world.component(c) as unknown as { removeStale(ms: number): void }).removeStale(p.staleMs);
      }
      break;
    case 'kv-staleness':
      world.store.removeStaleness(p.staleMs);
      break;
    case 'stale-instance': {
      const r = world.store.stopStaleInstance();
      f.endDetail = `old instance served ${r.served}, ${r.broken ? 'broken by a storage write' : 'never broken'}; suppressed: ${r.suppressed.map((x) => `${x.op} of ${x.region}`).join(', ') || 'none'}`;
      break;
    }
    case 'operator':
      break; // instantaneous: nothing to revert
  }
  record(f, 'end', f.endDetail);
}

/**
 * Arms an anchored step at its `at`: it starts `offset` ms after the first matching protocol
 * instant (simulator/anchors.ts). A lease expiry is predicted, and re-predicted by renewals:
 * only the newest prediction's start may fire.
 */
function armAnchor(world: World, step: FaultStep, start: () => void): void {
  const anchor = step.anchor!;
  let gen = 0;
  let fired = false;
  const watch = world.rec.watch(anchor.on, anchor.region, (instantMs) => {
    const mine = ++gen;
    world.engine.at(instantMs + anchor.offset, () => {
      if (mine !== gen || fired) return;
      fired = true;
      watch.done = true;
      start();
    });
  });
}

const isCut = (step: FaultStep): boolean =>
  step.fault === 'partition' || step.fault === 'isolate' || step.fault === 'flap';

function describe(step: FaultStep, cut: string | null): string {
  const params = Object.entries(step.params)
    .filter(([k]) => cut === null || (k !== 'mode' && k !== 'oneway'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const a = step.anchor;
  const anchored = a
    ? ` at ${a.on}${a.region ? `(${a.region})` : ''}${a.offset >= 0 ? '+' : ''}${a.offset} ms`
    : '';
  return `${step.fault} ${targetsOf(step).join(',')}${cut ? ` (${cut})` : ''}${params ? ` ${params}` : ''}${anchored}${step.for !== undefined ? ` for ${step.for} ms` : ''}`;
}
