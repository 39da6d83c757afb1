/** Half-open interval arithmetic on global ms, for the DNS and availability checks. */

export interface Span {
  from: number;
  to: number;
}

/** Sorted, merged, non-empty spans. */
export function merge(spans: Span[]): Span[] {
  const sorted = spans.filter((s) => s.to > s.from).sort((a, b) => a.from - b.from);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

/** `spans` minus `holes` (both any order). */
export function subtract(spans: Span[], holes: Span[]): Span[] {
  const hs = merge(holes);
  const out: Span[] = [];
  for (const s of merge(spans)) {
    let from = s.from;
    for (const h of hs) {
      if (h.to <= from || h.from >= s.to) continue;
      if (h.from > from) out.push({ from, to: h.from });
      from = Math.max(from, h.to);
      if (from >= s.to) break;
    }
    if (from < s.to) out.push({ from, to: s.to });
  }
  return out;
}

/** The parts of [from, to) not covered by `covered`. */
export function gaps(from: number, to: number, covered: Span[]): Span[] {
  return subtract([{ from, to }], covered);
}

export function intersect(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  for (const x of merge(a)) {
    for (const y of merge(b)) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from < to) out.push({ from, to });
    }
  }
  return merge(out);
}
