/**
 * Where the authoritatives disagreed: each PowerDNS authoritative runs its own LUA health
 * checks, so one can answer region a for the service name while the other answers b. The DNS
 * observer records every authoritative's answer separately (`dns-answer`, observer
 * 'dns-observer', resolver auth-<r>); this turns them into step functions and returns the
 * spans during which two of them named different regions at once. An answer that names no
 * region (timeout, a random pick over every address) is no evidence either way.
 */

import type { RegionId } from '../contracts/history.ts';
import { eventsOfKind, type Facts } from './facts.ts';
import { merge, type Span } from './intervals.ts';

export interface Disagreement extends Span {
  /** e.g. { 'auth-a': 'b', 'auth-b': 'a' } at the span's start */
  answers: Record<string, RegionId>;
  seqs: number[];
}

interface Step extends Span {
  region: RegionId | null;
  seq: number;
}

function stepsByAuthoritative(f: Facts): Map<string, Step[]> {
  const out = new Map<string, Step[]>();
  for (const ev of eventsOfKind(f, 'dns-answer')) {
    if (ev.observer !== 'dns-observer') continue;
    const list = out.get(ev.resolver) ?? [];
    const last = list[list.length - 1];
    if (last) last.to = ev.t;
    list.push({ from: ev.t, to: f.endT, region: ev.region ?? null, seq: ev.seq });
    out.set(ev.resolver, list);
  }
  return out;
}

/** Spans (in time order, not merged) during which two authoritatives named different regions. */
export function authoritativeDisagreements(f: Facts): Disagreement[] {
  const byAuth = [...stepsByAuthoritative(f)].sort(([a], [b]) => a.localeCompare(b));
  const out: Disagreement[] = [];
  for (let i = 0; i < byAuth.length; i++) {
    for (let j = i + 1; j < byAuth.length; j++) {
      const [idA, stepsA] = byAuth[i]!;
      const [idB, stepsB] = byAuth[j]!;
      for (const a of stepsA) {
        if (a.region === null) continue;
        for (const b of stepsB) {
          if (b.region === null || b.region === a.region) continue;
          const from = Math.max(a.from, b.from);
          const to = Math.min(a.to, b.to);
          if (to > from)
            out.push({ from, to, answers: { [idA]: a.region, [idB]: b.region }, seqs: [a.seq, b.seq] });
        }
      }
    }
  }
  return out.sort((x, y) => x.from - y.from);
}

/** Total time (ms) during which some authoritatives disagreed. */
export function disagreementMs(spans: Span[]): number {
  return merge(spans).reduce((sum, s) => sum + (s.to - s.from), 0);
}
