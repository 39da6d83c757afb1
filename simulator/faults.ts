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
import { type CutMode, cutLabel, stepParams } from '../src/scenario/validate.ts';
import { bump, coverageCell } from './coverage.ts';
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
  const lossActive = new Map<LinkState, number[]>();
  const driftStack = new Map<string, number[]>();
  const baseRate = new Map<string, number>();

  steps.forEach((step, i) => {
    const id = `f${i}`;
    const p = stepParams(step);
    const target = targetsOf(step).join(',');
    const isLinkFault = ['isolate', 'partition', 'latency', 'loss', 'flap'].includes(step.fault);
    let links: LinkState[] = [];
    let comps: string[] = [];
    let flapGen = 0;
    let endDetail: string | undefined;
    let flapCut = false;

    const cut = (l: LinkState, by: number) => cutLink(world, l, by, p.mode, p.oneway);

    const record = (phase: 'start' | 'end', detail?: string) => {
      world.rec.emit({
        kind: 'fault',
        t: world.engine.now,
        phase,
        id,
        fault: step.fault,
        target,
        verified: true,
        ...(detail ? { detail } : {}),
        ...(links.length > 0 ? { links: links.map((l) => l.id) } : {}),
        ...(comps.length > 0 ? { components: comps } : {}),
      });
    };

    const clockChanged = (c: string) => {
      const comp = world.component(c) as Component;
      comp.onClockChange?.();
    };

    const processOp = (c: string, op: 'pause' | 'resume' | 'crash' | 'restart') => {
      world.rec.emit({ kind: 'process', t: world.engine.now, component: c, op });
    };

    const flapToggle = (gen: unknown) => {
      if (gen !== flapGen) return;
      flapCut = !flapCut;
      for (const l of links) cut(l, flapCut ? 1 : -1);
      world.engine.after(p.periodMs, flapToggle, gen);
    };

    const apply = () => {
      bump(world.coverage.faultKinds, step.fault);
      bump(world.coverage.cells, coverageCell(step, world.spec, world.rec.phase()));
      if (isLinkFault) links = linksOf(world, step);
      else comps = componentsOf(world, step);
      record('start', describe(step, isCut(step) ? cutLabel(p) : null));
      switch (step.fault) {
        case 'isolate':
        case 'partition':
          for (const l of links) cut(l, 1);
          break;
        case 'latency':
          for (const l of links) {
            l.addLatencyMs += p.latencyMs;
            l.addJitterMs += p.jitterMs;
          }
          break;
        case 'loss':
          for (const l of links) {
            const list = lossActive.get(l) ?? [];
            list.push(p.probability);
            lossActive.set(l, list);
            recomputeLoss(l, lossActive);
          }
          break;
        case 'flap':
          flapGen++;
          flapCut = true;
          for (const l of links) cut(l, 1);
          world.engine.after(p.periodMs, flapToggle, flapGen);
          break;
        case 'pause':
          for (const c of comps) if (world.proc(c).pause()) processOp(c, 'pause');
          break;
        case 'crash':
        case 'witness-down':
          for (const c of comps) {
            if (world.proc(c).crash()) {
              processOp(c, 'crash');
              world.component(c).onCrash?.();
            }
          }
          break;
        case 'clock-offset':
        case 'clock-jump': {
          const delta = step.fault === 'clock-jump' ? p.jumpMs : p.offsetMs;
          for (const c of comps) {
            // An offset steps the wall clock. Controllers and apps reason with monotonic
            // clocks, so only the Worker (whose lease expiry uses Date.now) feels it.
            if (step.fault === 'clock-jump' || c === 'worker') {
              world.clocks.get(c)!.jump(world.engine.now, delta);
            }
            world.rec.emit({
              kind: 'clock',
              t: world.engine.now,
              node: c,
              op: step.fault === 'clock-jump' ? 'jump' : 'offset',
              value: delta,
            });
            clockChanged(c);
          }
          break;
        }
        case 'clock-drift':
          for (const c of comps) {
            const clock = world.clocks.get(c)!;
            if (!baseRate.has(c)) baseRate.set(c, clock.rate);
            const stack = driftStack.get(c) ?? [];
            stack.push(p.rate);
            driftStack.set(c, stack);
            clock.setRate(world.engine.now, p.rate);
            world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'drift', value: p.rate });
            clockChanged(c);
          }
          break;
        case 'witness-stale':
          for (const c of comps)
            (world.component(c) as unknown as { addStale(ms: number): void }).addStale(p.staleMs);
          break;
        case 'kv-staleness':
          world.store.addStaleness(p.staleMs);
          break;
        case 'stale-instance':
          world.store.startStaleInstance(p.region ?? '');
          break;
      }
    };

    const revert = () => {
      switch (step.fault) {
        case 'isolate':
        case 'partition':
          for (const l of links) cut(l, -1);
          break;
        case 'latency':
          for (const l of links) {
            l.addLatencyMs -= p.latencyMs;
            l.addJitterMs -= p.jitterMs;
          }
          break;
        case 'loss':
          for (const l of links) {
            const list = lossActive.get(l) ?? [];
            list.splice(list.indexOf(p.probability), 1);
            recomputeLoss(l, lossActive);
          }
          break;
        case 'flap':
          flapGen++;
          if (flapCut) for (const l of links) cut(l, -1);
          flapCut = false;
          break;
        case 'pause':
          for (const c of comps) if (world.proc(c).resume()) processOp(c, 'resume');
          break;
        case 'crash':
        case 'witness-down':
          for (const c of comps) {
            if (world.proc(c).restart()) {
              processOp(c, 'restart');
              world.component(c).onRestart?.();
            }
          }
          break;
        case 'clock-offset':
          for (const c of comps) {
            if (c === 'worker') world.clocks.get(c)!.jump(world.engine.now, -p.offsetMs);
            world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'offset', value: -p.offsetMs });
            clockChanged(c);
          }
          break;
        case 'clock-jump':
          break; // a jump is instantaneous: nothing to undo
        case 'clock-drift':
          for (const c of comps) {
            const stack = driftStack.get(c)!;
            stack.splice(stack.lastIndexOf(p.rate), 1);
            const rate = stack.length > 0 ? stack[stack.length - 1]! : baseRate.get(c)!;
            world.clocks.get(c)!.setRate(world.engine.now, rate);
            world.rec.emit({ kind: 'clock', t: world.engine.now, node: c, op: 'drift', value: rate });
            clockChanged(c);
          }
          break;
        case 'witness-stale':
          for (const c of comps) {
            (world.component(c) as unknown as { removeStale(ms: number): void }).removeStale(p.staleMs);
          }
          break;
        case 'kv-staleness':
          world.store.removeStaleness(p.staleMs);
          break;
        case 'stale-instance': {
          const r = world.store.stopStaleInstance();
          endDetail = `old instance served ${r.served}, ${r.broken ? 'broken by a storage write' : 'never broken'}; suppressed: ${r.suppressed.map((x) => `${x.op} of ${x.region}`).join(', ') || 'none'}`;
          break;
        }
      }
      record('end', endDetail);
    };

    const start = () => {
      apply();
      if (step.for !== undefined) world.engine.after(step.for, revert);
    };
    if (step.anchor === undefined) world.engine.at(step.at, start);
    else world.engine.at(step.at, () => armAnchor(world, step, start));
  });
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
