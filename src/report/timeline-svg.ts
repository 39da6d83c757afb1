/**
 * SVG primitives and layout numbers of timeline.html: the time → x scale, bars, labels and
 * points that the client (timeline-client.ts) repositions on zoom, lane groups and the axis.
 */
import type { WitnessVerdict } from '../contracts/history.ts';
import { escapeHtml } from './format.ts';
import type { ReportModel } from './model.ts';

/** Fit width the server lays the SVG out at; the client re-fits to the window. */
export const BASE_WIDTH_PX = 1200;
export const LABEL_WIDTH_PX = 200;
export const AXIS_HEIGHT_PX = 26;
export const FAULT_ROW_PX = 16;
export const VIOLATION_BAND_PX = 18;
export const GROUP_HEADER_PX = 20;
export const ROLE_LANE_PX = 22;
export const EPOCH_LANE_PX = 14;
export const AUTHORITY_LANE_PX = 14;
export const WRITES_LANE_PX = 40;
export const LEASE_LANE_PX = 20;
export const SUBROW_PX = 11;
export const LANE_GAP_PX = 5;
/** Server-side write bins (no-JS fallback; the client re-bins what is visible). */
export const WRITE_BINS = 300;
/** Past this many runs in one row, runs are coalesced into bins so the DOM stays bounded. */
export const MAX_RUNS_PER_ROW = 600;
export const MAX_VIOLATION_MARKERS = 200;
export const MAX_UNSAFE_ACT_MARKS = 300;
export const MAX_DNS_NAMES_PER_RESOLVER = 3;
/** Rough glyph width at the 11 px label font, to decide whether a label fits its bar. */
export const CHAR_PX = 6.3;

export const ROLE_COLOURS: Record<string, string> = {
  primary: '#15803d',
  candidate: '#f59e0b',
  standby: '#94a3b8',
  fenced: '#7e22ce',
};
export const ROLE_TEXT_ON: Record<string, string> = {
  primary: '#fff',
  candidate: '#111',
  standby: '#111',
  fenced: '#fff',
};
export const REGION_PALETTE = ['#2563eb', '#ea580c', '#0d9488', '#be185d', '#65a30d', '#7c3aed'];
export const VERDICT_COLOURS: Record<WitnessVerdict | 'mixed', string> = {
  reachable: '#16a34a',
  unreachable: '#dc2626',
  unknown: '#a3a3a3',
  mixed: '#a16207',
};
export const EPOCH_PALETTE = ['#cbd5e1', '#bfdbfe', '#fde68a', '#c7d2fe', '#fbcfe8', '#bbf7d0', '#fed7aa'];

export interface Ctx {
  model: ReportModel;
  t0: number;
  t1: number;
  k: number;
  regionColour: (r: string | null | undefined) => string;
}

export function x(ctx: Ctx, t: number): number {
  return (t - ctx.t0) * ctx.k;
}

export function attr(s: string): string {
  return escapeHtml(s);
}

/** A bar over [t0, t1) that the client can reposition on zoom. */
export function bar(
  ctx: Ctx,
  t0: number,
  t1: number,
  y: number,
  h: number,
  o: { cls: string; fill?: string; title: string; minW?: number; extra?: string },
): string {
  const w = Math.max(o.minW ?? 1, (t1 - t0) * ctx.k);
  const fill = o.fill ? ` fill="${o.fill}"` : '';
  const minw = o.minW && o.minW !== 1 ? ` data-minw="${o.minW}"` : '';
  return `<rect class="${o.cls}" data-t0="${t0}" data-t1="${t1}"${minw} x="${x(ctx, t0).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}"${fill}${o.extra ?? ''}><title>${escapeHtml(o.title)}</title></rect>`;
}

/** A label inside a bar, shown only while the bar is wide enough for it. */
export function barLabel(ctx: Ctx, t0: number, t1: number, y: number, text: string, colour = '#111'): string {
  const lw = Math.ceil(text.length * CHAR_PX);
  const fits = (t1 - t0) * ctx.k >= lw + 6;
  return `<text class="bar-label" data-t0="${t0}" data-t1="${t1}" data-lw="${lw}" x="${(x(ctx, t0) + 3).toFixed(1)}" y="${y}" fill="${colour}"${fits ? '' : ' display="none"'}>${escapeHtml(text)}</text>`;
}

/** Something at one instant (drawn at x=0 inside), moved by the client via transform. */
export function point(
  ctx: Ctx,
  t: number,
  inner: string,
  o: { cls: string; testid?: string; title?: string; href?: string },
): string {
  const tid = o.testid ? ` data-testid="${o.testid}"` : '';
  const title = o.title ? `<title>${escapeHtml(o.title)}</title>` : '';
  const tag = o.href ? 'a' : 'g';
  const href = o.href ? ` href="${attr(o.href)}"` : '';
  return `<${tag} class="${o.cls}"${tid}${href} data-t="${t}" transform="translate(${x(ctx, t).toFixed(1)},0)">${title}${inner}</${tag}>`;
}

export interface LaneSvg {
  chart: string[];
  labels: string[];
}

export function laneGroup(testid: string, cls: string, parts: string[]): string {
  return `<g class="lane ${cls}" data-testid="${attr(testid)}">${parts.join('')}</g>`;
}

export function labelText(y: number, text: string, cls = 'lane-label', xPx = 8): string {
  return `<text class="${cls}" x="${xPx}" y="${y}">${escapeHtml(text)}</text>`;
}

export function noData(y: number, text: string): string {
  return `<text class="no-data" x="8" y="${y}">${escapeHtml(text)}</text>`;
}

export function serverAxis(ctx: Ctx, height: number): string {
  const width = BASE_WIDTH_PX;
  const span = ctx.t1 - ctx.t0;
  const step = niceStep(span / Math.max(1, width / 110));
  const out: string[] = [];
  for (let t = Math.ceil(ctx.t0 / step) * step; t <= ctx.t1; t += step) {
    const px = x(ctx, t).toFixed(1);
    out.push(`<line class="grid" x1="${px}" x2="${px}" y1="${AXIS_HEIGHT_PX - 6}" y2="${height}"/>`);
    // A label that would be cut by the right edge is left out; its grid line stays.
    if (Number(px) + 40 <= width) {
      out.push(
        `<text class="tick" x="${Number(px) + 3}" y="${AXIS_HEIGHT_PX - 9}">${tickLabel(t, step)}</text>`,
      );
    }
  }
  return out.join('');
}

export function niceStep(rough: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= rough) return m * p;
  return 10 * p;
}

export function tickLabel(t: number, step: number): string {
  if (step >= 1000) {
    const decimals = step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : 2;
    return `${(t / 1000).toFixed(decimals)} s`;
  }
  return `${Math.round(t)} ms`;
}
