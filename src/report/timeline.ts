/**
 * timeline.html: one self-contained page (inline CSS, JS and SVG; a Content-Security-Policy
 * that forbids every fetch) showing what happened in a run and why it failed:
 *
 *   per region: role (labelled with epoch), acting epoch (acts outside the safe window in red),
 *               app write authority windows, app write outcomes (binned histogram);
 *   shared:     lease holder (store view), each witness's votes per target region, the DNS
 *               answer each resolver gave per name;
 *   overlays:   fault windows shaded across every lane with labels, violation markers that
 *               link to their events in the event table below (paged; the DOM stays bounded).
 *
 * The SVG is rendered here (readable without JS); timeline-client.ts only zooms, re-bins
 * writes and pages the table. Stable hooks for tests and tooling: data-testid="lane-<kind>-<id>",
 * class/data-testid "fault-window", "violation-marker", "event-row".
 */
import type { HistoryEvent, WitnessVerdict } from '../contracts/history.ts';
import { binWrites, type ObservationRun } from './facts.ts';
import { compactJson, escapeHtml, formatMs, formatT, jsonForScript, startedText } from './format.ts';
import { firstViolation, type ReportModel, verificationOf } from './model.ts';
import { TIMELINE_CLIENT_JS } from './timeline-client.ts';

/** Fit width the server lays the SVG out at; the client re-fits to the window. */
const BASE_WIDTH_PX = 1200;
const LABEL_WIDTH_PX = 200;
const AXIS_HEIGHT_PX = 26;
const FAULT_ROW_PX = 16;
const VIOLATION_BAND_PX = 18;
const GROUP_HEADER_PX = 20;
const ROLE_LANE_PX = 22;
const EPOCH_LANE_PX = 14;
const AUTHORITY_LANE_PX = 14;
const WRITES_LANE_PX = 40;
const LEASE_LANE_PX = 20;
const SUBROW_PX = 11;
const LANE_GAP_PX = 5;
/** Server-side write bins (no-JS fallback; the client re-bins what is visible). */
const WRITE_BINS = 300;
/** Past this many runs in one row, runs are coalesced into bins so the DOM stays bounded. */
const MAX_RUNS_PER_ROW = 600;
const MAX_VIOLATION_MARKERS = 200;
const MAX_UNSAFE_ACT_MARKS = 300;
const MAX_DNS_NAMES_PER_RESOLVER = 3;
/** Rough glyph width at the 11 px label font, to decide whether a label fits its bar. */
const CHAR_PX = 6.3;

const ROLE_COLOURS: Record<string, string> = {
  primary: '#15803d',
  candidate: '#f59e0b',
  standby: '#94a3b8',
  fenced: '#7e22ce',
};
const ROLE_TEXT_ON: Record<string, string> = {
  primary: '#fff',
  candidate: '#111',
  standby: '#111',
  fenced: '#fff',
};
const REGION_PALETTE = ['#2563eb', '#ea580c', '#0d9488', '#be185d', '#65a30d', '#7c3aed'];
const VERDICT_COLOURS: Record<WitnessVerdict | 'mixed', string> = {
  reachable: '#16a34a',
  unreachable: '#dc2626',
  unknown: '#a3a3a3',
  mixed: '#a16207',
};
const EPOCH_PALETTE = ['#cbd5e1', '#bfdbfe', '#fde68a', '#c7d2fe', '#fbcfe8', '#bbf7d0', '#fed7aa'];

interface Ctx {
  model: ReportModel;
  t0: number;
  t1: number;
  k: number;
  regionColour: (r: string | null | undefined) => string;
}

function x(ctx: Ctx, t: number): number {
  return (t - ctx.t0) * ctx.k;
}

function attr(s: string): string {
  return escapeHtml(s);
}

/** A bar over [t0, t1) that the client can reposition on zoom. */
function bar(
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
function barLabel(ctx: Ctx, t0: number, t1: number, y: number, text: string, colour = '#111'): string {
  const lw = Math.ceil(text.length * CHAR_PX);
  const fits = (t1 - t0) * ctx.k >= lw + 6;
  return `<text class="bar-label" data-t0="${t0}" data-t1="${t1}" data-lw="${lw}" x="${(x(ctx, t0) + 3).toFixed(1)}" y="${y}" fill="${colour}"${fits ? '' : ' display="none"'}>${escapeHtml(text)}</text>`;
}

/** Something at one instant (drawn at x=0 inside), moved by the client via transform. */
function point(
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

interface LaneSvg {
  chart: string[];
  labels: string[];
}

/** Coalesces an overlong list of runs into equal time bins valued by their most frequent value. */
export function boundRuns<V extends string | number>(
  runs: ObservationRun<V>[],
  maxRuns: number,
): Array<ObservationRun<V> & { mixed: boolean }> {
  if (runs.length <= maxRuns) return runs.map((r) => ({ ...r, mixed: false }));
  const startT = runs[0]!.startT;
  const endT = runs[runs.length - 1]!.endT;
  const binMs = Math.max(1, (endT - startT) / maxRuns);
  const out: Array<ObservationRun<V> & { mixed: boolean }> = [];
  let i = 0;
  for (let b = 0; b < maxRuns && i < runs.length; b++) {
    const binEnd = startT + (b + 1) * binMs;
    const counts = new Map<V, number>();
    const first = runs[i]!;
    let last = first;
    let total = 0;
    while (i < runs.length && (runs[i]!.startT < binEnd || b === maxRuns - 1)) {
      const r = runs[i]!;
      counts.set(r.value, (counts.get(r.value) ?? 0) + r.count);
      total += r.count;
      last = r;
      i++;
    }
    if (total === 0) continue;
    let best = first.value;
    let bestCount = -1;
    for (const [v, c] of counts) {
      if (c > bestCount) {
        best = v;
        bestCount = c;
      }
    }
    out.push({
      value: best,
      startT: first.startT,
      endT: last.endT,
      startSeq: first.startSeq,
      endSeq: last.endSeq,
      lastT: last.lastT,
      open: false,
      count: total,
      mixed: counts.size > 1,
    });
  }
  return out;
}

export function renderTimeline(model: ReportModel): string {
  const facts = model.facts;
  const t0 = facts.startT;
  const spanMs = Math.max(1, facts.endT - facts.startT);
  // A little room after the last event so its marks are not glued to the edge.
  const t1 = facts.endT + Math.max(1, spanMs * 0.01);
  const regionIndex = new Map(facts.regions.map((r, i) => [r, i]));
  const ctx: Ctx = {
    model,
    t0,
    t1,
    k: BASE_WIDTH_PX / (t1 - t0),
    regionColour: (r) =>
      r === null || r === undefined
        ? '#e2e8f0'
        : (REGION_PALETTE[(regionIndex.get(r) ?? facts.regions.length) % REGION_PALETTE.length] ?? '#888'),
  };

  const lanes: LaneSvg = { chart: [], labels: [] };
  let y = AXIS_HEIGHT_PX;

  // Fault label rows: greedy placement so overlapping faults get their own row.
  const faultRows: number[] = [];
  const faultRowEnds: number[] = [];
  for (const f of facts.faults) {
    const labelEndPx = x(ctx, f.startT) + faultLabel(f).length * CHAR_PX + 10;
    const endPx = Math.max(x(ctx, f.endT), labelEndPx);
    let row = faultRowEnds.findIndex((end) => end <= x(ctx, f.startT));
    if (row < 0) {
      row = faultRowEnds.length;
      faultRowEnds.push(endPx);
    } else faultRowEnds[row] = endPx;
    faultRows.push(row);
  }
  const faultBandY = y;
  const faultBandH = Math.max(1, faultRowEnds.length) * FAULT_ROW_PX;
  y += faultBandH;
  const violationBandY = y;
  y += VIOLATION_BAND_PX;
  lanes.labels.push(labelText(faultBandY + 12, 'faults', 'band-label'));
  lanes.labels.push(labelText(violationBandY + 13, 'violations', 'band-label'));
  const lanesTopY = y;

  const writeLanes: Record<string, { y: number; h: number }> = {};
  const writesData: Record<string, Array<[number, number]>> = {};

  // ---- per region ----
  for (const region of facts.regions) {
    lanes.chart.push(`<text class="group-title" x="4" y="${y + 14}">region ${escapeHtml(region)}</text>`);
    lanes.labels.push(
      `<rect x="0" y="${y + 3}" width="10" height="12" fill="${ctx.regionColour(region)}"/>` +
        labelText(y + 14, `region ${region}`, 'group-label', 14),
    );
    y += GROUP_HEADER_PX;

    // role lane
    const roleSpans = facts.roles[region] ?? [];
    const roleParts: string[] = [];
    for (const s of roleSpans) {
      const title = `${region}: ${s.role}${s.epoch !== null ? ` (epoch ${s.epoch})` : ''}, ${formatT(s.startT)} – ${formatT(s.endT)}${s.open ? ' (to the end)' : ''}${s.reason ? ` · ${s.reason}` : ''}${s.inferred ? ' · inferred from the first role event' : ''}${s.startSeq !== null ? ` · seq ${s.startSeq}` : ''}`;
      roleParts.push(
        bar(ctx, s.startT, s.endT, y, ROLE_LANE_PX, {
          cls: `role role-${s.role}${s.inferred ? ' inferred' : ''}`,
          fill: ROLE_COLOURS[s.role] ?? '#ccc',
          title,
        }),
      );
      roleParts.push(
        barLabel(
          ctx,
          s.startT,
          s.endT,
          y + 15,
          `${s.role}${s.epoch !== null ? ` e${s.epoch}` : ''}`,
          ROLE_TEXT_ON[s.role] ?? '#111',
        ),
      );
    }
    if (roleSpans.length === 0) roleParts.push(noData(y + 15, 'no role events'));
    lanes.chart.push(laneGroup(`lane-role-${region}`, 'lane-role', roleParts));
    lanes.labels.push(labelText(y + 15, 'role · epoch'));
    y += ROLE_LANE_PX + LANE_GAP_PX;

    // acting epoch lane
    const epochParts: string[] = [];
    for (const r of facts.actEpochs[region] ?? []) {
      epochParts.push(
        bar(ctx, r.startT, r.endT, y, EPOCH_LANE_PX, {
          cls: 'act-epoch',
          fill: EPOCH_PALETTE[r.value % EPOCH_PALETTE.length],
          title: `${region} acted under epoch ${r.value}: ${r.count} acts, ${formatT(r.startT)} – ${formatT(r.endT)}`,
          minW: 2,
        }),
      );
      epochParts.push(barLabel(ctx, r.startT, r.endT, y + 11, `e${r.value}`));
    }
    const unsafe = (facts.acts[region] ?? [])
      .filter((a) => a.outsideSafeWindow)
      .slice(0, MAX_UNSAFE_ACT_MARKS);
    for (const a of unsafe) {
      epochParts.push(
        point(
          ctx,
          a.t,
          `<rect x="-1.5" y="${y - 2}" width="3" height="${EPOCH_LANE_PX + 4}" fill="#dc2626"/>`,
          {
            cls: 'unsafe-act',
            title: `${a.action} under epoch ${a.epoch} OUTSIDE the safe window (seq ${a.seq}, ${formatT(a.t)})`,
            href: `#ev-${a.seq}`,
          },
        ),
      );
    }
    lanes.chart.push(laneGroup(`lane-epoch-${region}`, 'lane-epoch', epochParts));
    lanes.labels.push(labelText(y + 11, 'acting epoch'));
    y += EPOCH_LANE_PX + LANE_GAP_PX;

    // app authority lane
    const authParts: string[] = [];
    for (const s of facts.authority[region] ?? []) {
      authParts.push(
        bar(ctx, s.startT, s.endT, y, AUTHORITY_LANE_PX, {
          cls: 'authority',
          fill: '#0f766e',
          title: `app-${region} may accept writes under epoch ${s.epoch}: ${formatT(s.startT)} – ${formatT(s.endT)} (${s.grants} grants${s.revoked ? ', revoked' : ''})`,
          minW: 2,
        }),
      );
      authParts.push(barLabel(ctx, s.startT, s.endT, y + 11, `e${s.epoch}`, '#fff'));
    }
    for (const r of (facts.authorityRejects[region] ?? []).slice(0, MAX_UNSAFE_ACT_MARKS)) {
      authParts.push(
        point(ctx, r.t, `<rect x="-1.5" y="${y}" width="3" height="${AUTHORITY_LANE_PX}" fill="#dc2626"/>`, {
          cls: 'authority-reject',
          title: `app-${region} ${r.label} (seq ${r.seq})`,
        }),
      );
    }
    lanes.chart.push(laneGroup(`lane-authority-${region}`, 'lane-authority', authParts));
    lanes.labels.push(labelText(y + 11, 'app write authority'));
    y += AUTHORITY_LANE_PX + LANE_GAP_PX;

    // app writes lane (histogram)
    const bins = binWrites(model.history, region, t0, t1, WRITE_BINS);
    const maxBin = Math.max(1, ...bins.map((b) => b.accepted + b.rejected));
    const binW = BASE_WIDTH_PX / WRITE_BINS;
    const binParts: string[] = [];
    for (const [i, b] of bins.entries()) {
      if (b.accepted + b.rejected === 0) continue;
      const hAcc = (b.accepted / maxBin) * WRITES_LANE_PX;
      const hRej = (b.rejected / maxBin) * WRITES_LANE_PX;
      const tip = `${formatT(b.startT)} – ${formatT(b.endT)}: ${b.accepted} accepted, ${b.rejected} rejected`;
      if (b.accepted > 0)
        binParts.push(
          `<rect class="write-accepted" x="${(i * binW).toFixed(1)}" y="${(y + WRITES_LANE_PX - hAcc).toFixed(1)}" width="${(binW - 0.5).toFixed(1)}" height="${hAcc.toFixed(1)}"><title>${tip}</title></rect>`,
        );
      if (b.rejected > 0)
        binParts.push(
          `<rect class="write-rejected" x="${(i * binW).toFixed(1)}" y="${(y + WRITES_LANE_PX - hAcc - hRej).toFixed(1)}" width="${(binW - 0.5).toFixed(1)}" height="${hRej.toFixed(1)}"><title>${tip}</title></rect>`,
        );
    }
    const stats = facts.writes.byRegion[region] ?? { accepted: 0, rejected: 0 };
    lanes.chart.push(
      `<g class="lane lane-writes" data-testid="lane-writes-${attr(region)}"><line class="baseline" x1="0" x2="100%" y1="${y + WRITES_LANE_PX + 0.5}" y2="${y + WRITES_LANE_PX + 0.5}"/><g id="writes-${attr(region)}">${binParts.join('')}</g>${stats.accepted + stats.rejected === 0 ? noData(y + 20, 'no app writes') : ''}</g>`,
    );
    lanes.labels.push(labelText(y + 12, 'app writes'));
    lanes.labels.push(
      `<text class="sublabel" x="14" y="${y + 25}">${stats.accepted} ok · <tspan fill="#dc2626">${stats.rejected} rejected</tspan></text>`,
    );
    lanes.labels.push(
      `<text class="sublabel" id="writes-scale-${attr(region)}" x="14" y="${y + 37}"></text>`,
    );
    writeLanes[region] = { y, h: WRITES_LANE_PX };
    writesData[region] = [];
    y += WRITES_LANE_PX + LANE_GAP_PX + 4;
  }
  for (const e of model.history) {
    if (e.kind !== 'app-write') continue;
    const list = writesData[e.region] ?? [];
    list.push([e.t, e.accepted ? 1 : 0]);
    writesData[e.region] = list;
  }

  // ---- shared ----
  lanes.chart.push(`<text class="group-title" x="4" y="${y + 14}">shared</text>`);
  lanes.labels.push(labelText(y + 14, 'shared', 'group-label'));
  y += GROUP_HEADER_PX;

  const locations = Object.keys(facts.leaseByLocation);
  if (locations.length === 0) locations.push('');
  for (const loc of locations) {
    const spans = facts.leaseByLocation[loc] ?? [];
    const parts: string[] = [];
    for (const s of spans) {
      const who = s.holder ? `${s.holder} e${s.epoch ?? '?'}` : 'free';
      parts.push(
        bar(ctx, s.startT, s.endT, y, LEASE_LANE_PX, {
          cls: `lease${s.holder ? '' : ' lease-free'}`,
          fill: ctx.regionColour(s.holder),
          title: `lease ${s.holder ? `held by ${s.holder}, epoch ${s.epoch}` : 'free'}: ${formatT(s.startT)} – ${formatT(s.endT)} (${s.updates} store updates${s.expiresAt !== null ? `, last expiresAt ${s.expiresAt}` : ''}) · seq ${s.startSeq}`,
        }),
      );
      parts.push(barLabel(ctx, s.startT, s.endT, y + 14, `held by ${who}`, s.holder ? '#fff' : '#111'));
    }
    if (spans.length === 0) parts.push(noData(y + 14, 'no lease events'));
    const testid = locations.length > 1 ? `lane-lease-${loc || 'default'}` : 'lane-lease';
    lanes.chart.push(laneGroup(testid, 'lane-lease', parts));
    const source = facts.leaseSource === 'controller-view' ? ' (controller view)' : '';
    lanes.labels.push(labelText(y + 14, `lease holder${loc ? ` @${loc}` : ''}${source}`));
    y += LEASE_LANE_PX + LANE_GAP_PX;
  }

  const witnessIds = [...new Set([...facts.witnesses, ...Object.keys(facts.witnessVotes)])];
  for (const w of witnessIds) {
    const byTarget = facts.witnessVotes[w] ?? {};
    const targets = [...new Set([...facts.regions, ...Object.keys(byTarget)])].filter((t) => byTarget[t]);
    const parts: string[] = [];
    const labelParts: string[] = [];
    targets.forEach((target, row) => {
      const ry = y + row * SUBROW_PX;
      for (const r of boundRuns(byTarget[target] ?? [], MAX_RUNS_PER_ROW)) {
        parts.push(
          bar(ctx, r.startT, r.endT, ry, SUBROW_PX - 2, {
            cls: `vote vote-${r.value}`,
            fill: VERDICT_COLOURS[r.mixed ? 'mixed' : r.value],
            title: `${w} says region ${target} is ${r.value}${r.mixed ? ' (mostly; mixed bin)' : ''}: ${r.count} votes, ${formatT(r.startT)} – ${formatT(r.endT)}`,
            minW: 3,
          }),
        );
      }
      labelParts.push(
        `<text class="sublabel" x="${LABEL_WIDTH_PX - 8}" y="${ry + 8}" text-anchor="end">about ${escapeHtml(target)}</text>`,
      );
    });
    if (targets.length === 0) parts.push(noData(y + 9, 'no votes'));
    const rows = Math.max(1, targets.length);
    lanes.chart.push(laneGroup(`lane-witness-${w}`, 'lane-witness', parts));
    lanes.labels.push(labelText(y + 9, `${w} votes`), ...labelParts);
    y += rows * SUBROW_PX + LANE_GAP_PX;
  }

  const resolvers = [
    ...new Set([...facts.witnesses.filter((w) => facts.dnsAnswers[w]), ...Object.keys(facts.dnsAnswers)]),
  ];
  for (const resolver of resolvers) {
    const byName = facts.dnsAnswers[resolver] ?? {};
    const names = Object.keys(byName)
      .sort((a, b) => dnsNameRank(a) - dnsNameRank(b) || a.localeCompare(b))
      .slice(0, MAX_DNS_NAMES_PER_RESOLVER);
    const parts: string[] = [];
    const labelParts: string[] = [];
    names.forEach((name, row) => {
      const ry = y + row * SUBROW_PX;
      for (const r of boundRuns(byName[name] ?? [], MAX_RUNS_PER_ROW)) {
        const isRegion = facts.regions.includes(r.value);
        parts.push(
          bar(ctx, r.startT, r.endT, ry, SUBROW_PX - 2, {
            cls: `dns${isRegion ? '' : ' dns-other'}`,
            fill: isRegion ? ctx.regionColour(r.value) : /^[A-Z]+$/.test(r.value) ? '#dc2626' : '#94a3b8',
            title: `${resolver} answered ${name} → ${r.value}${isRegion ? ` (region ${r.value})` : ''}: ${r.count} answers, ${formatT(r.startT)} – ${formatT(r.endT)}`,
            minW: 3,
          }),
        );
        parts.push(barLabel(ctx, r.startT, r.endT, ry + 8, r.value, isRegion ? '#fff' : '#111'));
      }
      labelParts.push(
        `<text class="sublabel" x="${LABEL_WIDTH_PX - 8}" y="${ry + 8}" text-anchor="end">${escapeHtml(shortDnsName(name))}</text>`,
      );
    });
    lanes.chart.push(laneGroup(`lane-dns-${resolver}`, 'lane-dns', parts));
    lanes.labels.push(labelText(y + 9, `${resolver} DNS`), ...labelParts);
    y += Math.max(1, names.length) * SUBROW_PX + LANE_GAP_PX;
  }
  const lanesBottomY = y;
  const height = y + 6;

  // ---- overlays ----
  const faultParts: string[] = [];
  facts.faults.forEach((f, i) => {
    const rowY = faultBandY + (faultRows[i] ?? 0) * FAULT_ROW_PX;
    const applied = verificationOf(f.verifiedStart);
    const title = `fault ${f.id}: ${f.fault} ${f.target}, ${formatT(f.startT)} – ${f.ended ? formatT(f.endT) : 'never ended'} · applied: ${applied}${f.ended ? ` · reverted: ${verificationOf(f.verifiedEnd)}` : ''}${f.detail ? ` · ${f.detail}` : ''}${actedOn(f) ? ` · acted on ${actedOn(f)}` : ''}`;
    faultParts.push(
      `<g class="fault-window" data-testid="fault-window" data-fault-id="${attr(f.id)}">` +
        bar(ctx, f.startT, f.endT, rowY + 1, lanesBottomY - rowY - 1, {
          cls: `fault-shade${applied === 'not-verified' ? ' fault-unverified' : ''}`,
          title,
          minW: 2,
        }) +
        bar(ctx, f.startT, f.endT, rowY + 1, FAULT_ROW_PX - 3, { cls: 'fault-tab', title, minW: 2 }) +
        `<text class="fault-label" data-t0="${f.startT}" data-t1="${f.endT}" x="${(x(ctx, f.startT) + 3).toFixed(1)}" y="${rowY + 12}">${escapeHtml(faultLabel(f))}</text>` +
        '</g>',
    );
  });

  const violations = model.checks.filter((c) => c.outcome === 'fail').flatMap((c) => c.violations);
  // A violation the scenario expects (violation-detected, e.g. the legacy KV Worker's split
  // brain) is the point of that run: mark it too, in its own style, so it is not invisible.
  const expected = new Set(
    model.checks.filter((c) => c.outcome === 'expected-violation').flatMap((c) => c.violations),
  );
  const violatingSeqs = [...new Set([...violations, ...expected].flatMap((v) => v.events))];
  const markerParts: string[] = [];
  const cy = violationBandY + VIOLATION_BAND_PX / 2;
  const shown = [...violations, ...expected].sort((p, q) => p.at - q.at).slice(0, MAX_VIOLATION_MARKERS);
  for (const v of shown) {
    const target = v.events[0];
    const isExpected = expected.has(v);
    markerParts.push(
      point(
        ctx,
        v.at,
        `<line class="violation-hit" x1="0" x2="0" y1="${cy}" y2="${lanesBottomY}"/><line class="violation-line" x1="0" x2="0" y1="${cy}" y2="${lanesBottomY}"/><path class="violation-diamond" d="M0 ${cy - 7} L7 ${cy} L0 ${cy + 7} L-7 ${cy} Z"/>`,
        {
          cls: isExpected ? 'violation-marker expected' : 'violation-marker',
          testid: isExpected ? 'expected-violation-marker' : 'violation-marker',
          title: `${v.invariant} violated${isExpected ? ' (as the scenario expects)' : ''} at ${formatT(v.at)}: ${v.detail} (events ${v.events.join(', ')}) — click to see the events`,
          ...(target !== undefined ? { href: `#ev-${target}` } : {}),
        },
      ),
    );
  }
  // One label per cluster of nearby markers (at the fit width), right of its last marker,
  // naming the invariants, when there is room before the next cluster.
  const clusters: Array<typeof shown> = [];
  for (const v of shown) {
    const last = clusters[clusters.length - 1];
    const lastV = last?.[last.length - 1];
    if (last && lastV && x(ctx, v.at) - x(ctx, lastV.at) < 40) last.push(v);
    else clusters.push([v]);
  }
  clusters.forEach((cluster, i) => {
    const names = [
      ...new Set(cluster.map((v) => (expected.has(v) ? `${v.invariant} (expected)` : v.invariant))),
    ];
    const text = names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', ');
    const lastAt = cluster[cluster.length - 1]!.at;
    const next = clusters[i + 1]?.[0];
    const roomPx = (next ? x(ctx, next.at) : BASE_WIDTH_PX) - x(ctx, lastAt);
    if (roomPx < text.length * CHAR_PX + 20) return;
    markerParts.push(
      point(ctx, lastAt, `<text class="violation-label" x="10" y="${cy + 4}">${escapeHtml(text)}</text>`, {
        cls: 'violation-label-group',
      }),
    );
  });

  const chartSvg = [
    `<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${BASE_WIDTH_PX}" height="${height}" role="img" aria-label="timeline of ${attr(model.scenario)}">`,
    '<defs><pattern id="fault-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="rgba(251,191,36,0.13)"/><line x1="0" y1="0" x2="0" y2="8" stroke="rgba(217,119,6,0.30)" stroke-width="3"/></pattern></defs>',
    `<rect class="band-bg" x="0" y="${faultBandY}" width="100%" height="${faultBandH}"/>`,
    `<rect class="band-bg violation-band" x="0" y="${violationBandY}" width="100%" height="${VIOLATION_BAND_PX}"/>`,
    `<g id="axis">${serverAxis(ctx, height)}</g>`,
    `<line class="lanes-top" x1="0" x2="100%" y1="${lanesTopY}" y2="${lanesTopY}"/>`,
    ...lanes.chart,
    `<g class="faults">${faultParts.join('')}</g>`,
    `<g class="violations">${markerParts.join('')}</g>`,
    `<g id="cursor" display="none" transform="translate(0,0)"><line x1="0" x2="0" y1="${AXIS_HEIGHT_PX}" y2="${lanesBottomY}"/></g>`,
    '</svg>',
  ].join('\n');
  const labelSvg = `<svg class="lane-labels" xmlns="http://www.w3.org/2000/svg" width="${LABEL_WIDTH_PX}" height="${height}">${lanes.labels.join('')}</svg>`;

  const clientData = {
    t0,
    t1,
    baseWidth: BASE_WIDTH_PX,
    axisHeight: AXIS_HEIGHT_PX,
    height: lanesBottomY,
    writes: writesData,
    writeLanes,
    violatingSeqs,
  };
  const eventRows = model.history.map((e) => {
    const [who, what] = describeEvent(e);
    return [e.seq, e.t, e.kind, who, what, JSON.stringify(e)];
  });

  return page(model, { chartSvg, labelSvg, clientData, eventRows, violationsCount: violations.length });
}

function laneGroup(testid: string, cls: string, parts: string[]): string {
  return `<g class="lane ${cls}" data-testid="${attr(testid)}">${parts.join('')}</g>`;
}

function labelText(y: number, text: string, cls = 'lane-label', xPx = 8): string {
  return `<text class="${cls}" x="${xPx}" y="${y}">${escapeHtml(text)}</text>`;
}

function noData(y: number, text: string): string {
  return `<text class="no-data" x="8" y="${y}">${escapeHtml(text)}</text>`;
}

/** What a fault acted on, as the executor resolved it (components, or links, shortened). */
function actedOn(f: { links: string[] | null; components: string[] | null }): string {
  const list = [...(f.components ?? []), ...(f.links ?? [])];
  if (list.length === 0) return '';
  return list.length > 6 ? `${list.slice(0, 6).join(', ')} … (${list.length} in all)` : list.join(', ');
}

function faultLabel(f: {
  fault: string;
  target: string;
  verifiedStart: boolean | null;
  ended: boolean;
}): string {
  const mark = f.verifiedStart === true ? ' ✓' : f.verifiedStart === false ? ' ✗ not applied?' : '';
  return `${f.fault} ${f.target}${mark}${f.ended ? '' : ' (never ended)'}`;
}

/** Service name first, then region names, then anything else. */
function dnsNameRank(name: string): number {
  if (name.startsWith('svc.')) return 0;
  if (name.includes('.regions.')) return 1;
  return 2;
}

function shortDnsName(name: string): string {
  return name.replace(/\.app\.example\.?$/, '');
}

function serverAxis(ctx: Ctx, height: number): string {
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

function tickLabel(t: number, step: number): string {
  if (step >= 1000) {
    const decimals = step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : 2;
    return `${(t / 1000).toFixed(decimals)} s`;
  }
  return `${Math.round(t)} ms`;
}

/** [who, what] for the event table: the actor and a one-line reading of the event. */
export function describeEvent(e: HistoryEvent): [string, string] {
  switch (e.kind) {
    case 'meta':
      return [
        e.executor,
        `run ${e.runId} of ${e.scenario}: regions ${e.regions.join(', ')}, witnesses ${e.witnesses.join(', ')}${e.seed !== undefined ? `, seed ${e.seed}` : ''}, lease TTL ${formatMs(e.timing.leaseTtlMs)}, failover bound ${formatMs(e.timing.failoverBoundMs)}`,
      ];
    case 'role':
      return [e.region, `${e.from} → ${e.to}${e.epoch !== null ? ` (epoch ${e.epoch})` : ''}: ${e.reason}`];
    case 'lease':
      return [
        e.region,
        `${e.op} ${e.phase}${e.phase === 'result' ? (e.ok ? ' ok' : ' FAILED') : ''}${e.epoch !== undefined && e.epoch !== null ? ` epoch ${e.epoch}` : ''}${e.holder !== undefined ? ` holder ${e.holder ?? 'none'}` : ''}${e.error ? ` · ${e.error}` : ''}`,
      ];
    case 'lease-store':
      return [
        e.location ?? 'store',
        `holder ${e.holder ?? 'none'}, epoch ${e.epoch}, expiresAt ${e.expiresAt ?? 'n/a'}`,
      ];
    case 'act': {
      const outside =
        e.action !== 'demote' && (e.safeUntilLocalMs === null || e.localMs >= e.safeUntilLocalMs);
      return [
        e.region,
        `${e.action} epoch ${e.epoch}${e.validityMs !== undefined ? ` validity ${formatMs(e.validityMs)}` : ''}${e.activeRegion ? ` active ${e.activeRegion}` : ''}${outside ? ' · OUTSIDE the safe window' : ''}`,
      ];
    }
    case 'promotion-evidence':
      return [
        e.region,
        `promote to epoch ${e.epoch}: ${e.unreachableVotes}/${e.quorum} unreachable votes, ${e.peerFailures} peer failures, lease ${e.leaseGranted ? 'granted' : 'NOT granted'}${e.approvedBy ? `, ${e.approvedBy}` : ''}${e.basis ? `, basis ${e.basis}` : ''}`,
      ];
    case 'witness':
      return [e.region, `${e.witness} says ${e.target} is ${e.verdict}${e.detail ? ` (${e.detail})` : ''}`];
    case 'dns-answer':
      return [
        e.resolver,
        `${e.name} → ${e.rcode} ${e.answers.join(' ')}${e.region ? ` (region ${e.region})` : ''}`,
      ];
    case 'peer-probe':
      return [
        e.region,
        `peer probe ${e.ok ? 'ok' : 'FAILED'} (${e.consecutiveFailures} consecutive failures)`,
      ];
    case 'app-authority':
      return [
        `app-${e.region}`,
        `${e.op} epoch ${e.epoch}${e.untilT !== undefined ? ` until ${formatT(e.untilT)}` : ''}${e.reason ? ` · ${e.reason}` : ''}`,
      ];
    case 'app-write':
      return [
        `app-${e.region}`,
        `${e.accepted ? 'accepted' : 'REJECTED'} write from ${e.client}${e.epoch !== null ? ` (epoch ${e.epoch})` : ''}${e.reason ? ` · ${e.reason}` : ''}`,
      ];
    case 'fault':
      return [
        e.target,
        `${e.phase} ${e.fault} ${e.target} (${e.id}), ${e.phase === 'start' ? 'applied' : 'reverted'}: ${verificationOf(e.verified)}${e.detail ? ` · ${e.detail}` : ''}${e.links ? ` · ${e.links.length} links` : ''}${e.components ? ` · ${e.components.join(', ')}` : ''}`,
      ];
    case 'process':
      return [
        e.component,
        `${e.op}${e.pid !== undefined ? ` pid ${e.pid}` : ''}${e.detail ? ` · ${e.detail}` : ''}`,
      ];
    case 'clock':
      return [e.node, `clock ${e.op} ${e.value}`];
    case 'note':
      return [e.source, e.message];
    default:
      return ['', compactJson(e, 200)];
  }
}

interface PageParts {
  chartSvg: string;
  labelSvg: string;
  clientData: unknown;
  eventRows: unknown[];
  violationsCount: number;
}

function page(model: ReportModel, parts: PageParts): string {
  const statusText = model.status === 'passed' ? 'PASSED' : model.status === 'failed' ? 'FAILED' : 'UNKNOWN';
  const facts = model.facts;
  const kinds = Object.keys(facts.countsByKind).sort();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.scenario)} · ${statusText} · failover-lab timeline</title>
<style>${CSS}</style>
</head>
<body data-status="${model.status}">
<header>
<h1><span class="status status-${model.status}" data-testid="status">${statusText}</span> ${escapeHtml(model.scenario)}</h1>
<p class="meta">${escapeHtml(headerLine(model))}</p>
${model.replay ? `<p class="meta">replay: <code>${escapeHtml(model.replay)}</code></p>` : ''}
</header>
${whySection(model)}
<section class="cards">
${failoverCard(model)}
${writesCard(model)}
${faultsCard(model)}
</section>
<section id="chart-section">
<div class="toolbar"><button id="zoom-out" data-testid="zoom-out" title="zoom out">−</button><button id="zoom-fit" data-testid="zoom-fit">fit</button><button id="zoom-in" data-testid="zoom-in" title="zoom in">+</button> <span id="zoom-level">1.0x</span> <span class="hint">Ctrl/Cmd + wheel zooms · scroll sideways to pan · hover a bar for details · click a red marker to see its events</span></div>
<div class="chart-wrap">${parts.labelSvg}<div id="chart-scroll" class="chart-scroll">${parts.chartSvg}</div></div>
${legend()}
</section>
${checksSection(model)}
${faultsTable(model)}
${warningsSection(model)}
<section id="events">
<h2>Events</h2>
<div class="event-controls">
<label>kind <select id="filter-kind"><option value="">all (${facts.eventCount})</option>${kinds.map((k) => `<option value="${attr(k)}">${escapeHtml(k)} (${facts.countsByKind[k]})</option>`).join('')}</select></label>
<label>text <input id="filter-text" type="search" placeholder="region, reason, JSON…"></label>
<label><input id="filter-flagged" type="checkbox"> violating events only${parts.violationsCount ? '' : ' (none)'}</label>
<button id="page-prev">‹ prev</button><button id="page-next">next ›</button> <span id="page-info"></span>
</div>
<noscript><p>The event table needs JavaScript; every event is in history.jsonl next to this file.</p></noscript>
<table class="events"><colgroup><col class="c-seq"><col class="c-t"><col class="c-kind"><col class="c-who"><col class="c-what"><col class="c-json"></colgroup><thead><tr><th>seq</th><th>t (s)</th><th>kind</th><th>who</th><th>what</th><th>event JSON (click a row to expand)</th></tr></thead><tbody id="events-body"></tbody></table>
</section>
${extraSection(model)}
<script type="application/json" id="timeline-data">${jsonForScript(parts.clientData)}</script>
<script type="application/json" id="events-data">${jsonForScript(parts.eventRows)}</script>
<script>${TIMELINE_CLIENT_JS}</script>
</body>
</html>
`;
}

function headerLine(model: ReportModel): string {
  const f = model.facts;
  const parts = [`executor ${model.executor}`];
  if (f.meta?.runId) parts.push(`run ${f.meta.runId}`);
  if (model.seed !== null) parts.push(`seed ${model.seed}`);
  if (f.meta?.leaseBackend) parts.push(`lease backend ${f.meta.leaseBackend}`);
  parts.push(startedText(model.startedAt));
  if (model.wallSeconds !== null) parts.push(`wall ${model.wallSeconds.toFixed(1)} s`);
  parts.push(`${f.eventCount} events over ${formatMs(f.endT - f.startT)}`);
  if (f.meta?.timeScale !== undefined) parts.push(`time scale ${f.meta.timeScale}`);
  const within = model.verdict?.withinAssumptions ?? f.meta?.withinAssumptions;
  if (within !== undefined) parts.push(within ? 'within assumptions' : 'OUTSIDE the documented assumptions');
  return parts.join(' · ');
}

function eventLinks(seqs: number[], max = 12): string {
  const links = seqs.slice(0, max).map((s) => `<a class="ev-link" href="#ev-${s}">#${s}</a>`);
  if (seqs.length > max) links.push(`… ${seqs.length - max} more`);
  return links.join(' ');
}

function whySection(model: ReportModel): string {
  return whyChecks(model) + componentErrors(model);
}

function componentErrors(model: ReportModel): string {
  const errors = model.facts.processErrors;
  if (errors.length === 0) return '';
  const items = errors
    .slice(0, 10)
    .map((e) => `<li>${escapeHtml(e.label)} — ${escapeHtml(formatT(e.t))}, event ${eventLinks([e.seq])}</li>`)
    .join('');
  return `<section class="why why-failed" data-testid="component-errors"><h2>Component errors (bugs, not injected faults)</h2><ul>${items}${errors.length > 10 ? `<li>… ${errors.length - 10} more</li>` : ''}</ul></section>`;
}

function whyChecks(model: ReportModel): string {
  if (model.status === 'unknown') {
    return '<section class="why why-unknown"><p>No verdict was recorded for this run (result.json was missing when the report was rendered), so no check outcomes are shown.</p></section>';
  }
  // Earliest violation first, so the list reads in the order things went wrong.
  const firstAt = (c: (typeof model.checks)[number]) => Math.min(...c.violations.map((v) => v.at), Infinity);
  const failing = model.checks.filter((c) => c.outcome === 'fail').sort((p, q) => firstAt(p) - firstAt(q));
  if (failing.length === 0) {
    const expected = model.checks.filter((c) => c.outcome === 'expected-violation');
    if (expected.length === 0) {
      return `<section class="why why-ok"><p>All ${model.checks.length} checks passed.</p></section>`;
    }
    const items = expected
      .map((c) => {
        const v = [...c.violations].sort((p, q) => p.at - q.at)[0];
        const where = v
          ? ` first at ${escapeHtml(formatT(v.at))}: ${escapeHtml(v.detail)} — events ${eventLinks(v.events)}`
          : '';
        return `<li><strong>${escapeHtml(c.name)}</strong>${where}</li>`;
      })
      .join('');
    return `<section class="why why-ok why-expected" data-testid="why-expected"><p>All ${model.checks.length} checks passed. The scenario expects ${expected.length === 1 ? 'this violation' : 'these violations'}, and ${expected.length === 1 ? 'it was' : 'they were'} detected:</p><ul>${items}</ul></section>`;
  }
  const first = firstViolation(model);
  const items = failing
    .map((c) => {
      const v = c.violations[0];
      const where = v
        ? ` first at ${escapeHtml(formatT(v.at))}: ${escapeHtml(v.detail)} — events ${eventLinks(v.events)}`
        : `: ${escapeHtml(c.detail)}`;
      const more = c.violations.length > 1 ? ` (${c.violations.length} violations)` : '';
      return `<li><strong>${escapeHtml(c.name)}</strong> <span class="kind">${c.kind}</span>${more}${where}</li>`;
    })
    .join('');
  return `<section class="why why-failed" data-testid="why"><h2>Why it failed</h2>${first ? `<p class="lead">First violation: <strong>${escapeHtml(first.invariant)}</strong> at ${escapeHtml(formatT(first.at))}.</p>` : ''}<ul>${items}</ul></section>`;
}

function failoverCard(model: ReportModel): string {
  const f = model.failover;
  const first = model.facts.failovers[0];
  let gauge = '';
  if (f.measuredMs !== null && f.boundMs !== null && f.boundMs > 0) {
    // Measured time as a bar on a scale that always shows the bound, which is a labelled tick.
    const scaleMs = Math.max(f.measuredMs, f.boundMs) * 1.15;
    const measuredPct = ((f.measuredMs / scaleMs) * 100).toFixed(1);
    const boundPct = ((f.boundMs / scaleMs) * 100).toFixed(1);
    gauge = `<div class="gauge" data-testid="failover-gauge"><div class="gauge-bar ${f.withinBound ? 'ok' : 'over'}" style="width:${measuredPct}%"></div><div class="gauge-bound" style="left:${boundPct}%"><span>bound</span></div></div>`;
  }
  const value = f.measuredMs !== null ? formatMs(f.measuredMs) : first ? 'unknown' : 'none';
  const bound = f.boundMs !== null ? `bound ${formatMs(f.boundMs)}` : 'no bound recorded';
  const verdict =
    f.withinBound === null
      ? ''
      : f.withinBound
        ? ' · within bound'
        : ' · <strong class="bad">over bound</strong>';
  const route = first
    ? `${escapeHtml(first.fromRegion ?? '?')} → ${escapeHtml(first.toRegion)} at ${escapeHtml(formatT(first.promotedAtT))}${first.lostCause ? `, lost when ${escapeHtml(first.lostCause)}` : ''}`
    : 'no change of primary';
  const source =
    f.source === 'history'
      ? ' (derived from the history)'
      : f.source === 'verdict'
        ? ' (measured by the checker)'
        : '';
  return `<div class="card" data-testid="failover-card"><h3>Failover</h3><p class="big">${value}</p><p>${bound}${verdict}${source}</p>${gauge}<p class="small">${route}</p></div>`;
}

function writesCard(model: ReportModel): string {
  const w = model.facts.writes;
  const reasons = Object.entries(w.rejectReasons)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([r, n]) => `${escapeHtml(r)} ×${n}`)
    .join(', ');
  const per = Object.entries(w.byRegion)
    .map(([r, s]) => `${escapeHtml(r)}: ${s.accepted} ok / ${s.rejected} rejected`)
    .join(' · ');
  return `<div class="card"><h3>App writes</h3><p class="big">${w.accepted} <span class="small">accepted</span> · ${w.rejected} <span class="small">rejected</span></p><p class="small">${per}</p>${reasons ? `<p class="small">rejections: ${reasons}</p>` : ''}</div>`;
}

function faultsCard(model: ReportModel): string {
  const faults = model.facts.faults;
  const applied = faults.filter((f) => f.verifiedStart === true).length;
  const reverted = faults.filter((f) => f.ended && f.verifiedEnd === true).length;
  const list = faults
    .slice(0, 4)
    .map(
      (f) =>
        `${escapeHtml(f.fault)} ${escapeHtml(f.target)} ${escapeHtml(formatT(f.startT))}–${f.ended ? escapeHtml(formatT(f.endT)) : '…'}`,
    )
    .join('<br>');
  return `<div class="card"><h3>Faults</h3><p class="big">${faults.length} <span class="small">injected</span></p><p class="small">${applied} verified applied · ${reverted} verified reverted</p><p class="small">${list}${faults.length > 4 ? '<br>…' : ''}</p></div>`;
}

function legend(): string {
  const sw = (fill: string, text: string) =>
    `<span class="sw"><svg width="14" height="10"><rect width="14" height="10" fill="${fill}"/></svg>${escapeHtml(text)}</span>`;
  const roles = Object.entries(ROLE_COLOURS).map(([r, c]) => sw(c, r));
  return `<div class="legend">${roles.join('')}${sw('#0f766e', 'write authority')}${sw('#16a34a', 'accepted write / reachable')}${sw('#dc2626', 'rejected write / unreachable / act outside safe window')}${sw('#a3a3a3', 'unknown vote')}${sw('rgba(251,191,36,0.45)', 'fault window')}<span class="sw"><svg width="14" height="14"><path d="M7 0 L14 7 L7 14 L0 7 Z" fill="#d0021b"/></svg>violation (click)</span><span class="sw"><svg width="14" height="14"><path d="M7 0 L14 7 L7 14 L0 7 Z" fill="#7c3aed"/></svg>expected violation</span></div>`;
}

function checksSection(model: ReportModel): string {
  if (model.checks.length === 0) return '';
  const rows = model.checks
    .map(
      (c) =>
        `<tr class="outcome-${c.outcome}"><td>${escapeHtml(c.name)}</td><td>${c.kind}${c.category && c.category !== c.kind ? ` · ${c.category}` : ''}</td><td class="outcome">${c.outcome}</td><td>${escapeHtml(c.detail)}</td><td>${c.violations.length ? eventLinks(c.violations.flatMap((v) => v.events).slice(0, 6), 6) : ''}</td></tr>`,
    )
    .join('');
  return `<section><h2>Checks</h2><table class="checks"><thead><tr><th>check</th><th>kind</th><th>result</th><th>detail</th><th>events</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function faultsTable(model: ReportModel): string {
  const faults = model.facts.faults;
  if (faults.length === 0) return '';
  const rows = faults
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.fault)}</td><td>${escapeHtml(f.target)}</td><td><a class="ev-link" href="#ev-${f.startSeq}">${escapeHtml(formatT(f.startT))}</a></td><td>${f.ended && f.endSeq !== null ? `<a class="ev-link" href="#ev-${f.endSeq}">${escapeHtml(formatT(f.endT))}</a>` : 'never ended'}</td><td>${f.ended ? formatMs(f.endT - f.startT) : ''}</td><td>${verificationOf(f.verifiedStart)}</td><td>${f.ended ? verificationOf(f.verifiedEnd) : ''}</td><td>${escapeHtml([f.detail ?? '', actedOn(f)].filter(Boolean).join(' · '))}</td></tr>`,
    )
    .join('');
  return `<section><h2>Faults</h2><table class="faults"><thead><tr><th>id</th><th>fault</th><th>target</th><th>start</th><th>end</th><th>duration</th><th>applied</th><th>reverted</th><th>detail · acted on</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function warningsSection(model: ReportModel): string {
  if (model.warnings.length === 0) return '';
  return `<section class="warnings"><h2>Warnings about this history</h2><ul>${model.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></section>`;
}

function extraSection(model: ReportModel): string {
  const keys = Object.keys(model.extra);
  if (keys.length === 0) return '';
  let json = JSON.stringify(model.extra, null, 2) ?? '';
  if (json.length > 20_000) json = `${json.slice(0, 20_000)}\n… (truncated; full text in result.json)`;
  return `<section><details><summary>Extra run data (${keys.map(escapeHtml).join(', ')})</summary><pre>${escapeHtml(json)}</pre></details></section>`;
}

const CSS = `
*{box-sizing:border-box}
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;padding:12px 16px 40px;color:#111;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:15px;margin:18px 0 6px}
h3{font-size:12px;margin:0 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#555}
code,.json{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
.meta{margin:2px 0;color:#444}
.status{display:inline-block;padding:2px 8px;border-radius:4px;font-size:14px;vertical-align:2px;color:#fff}
.status-passed{background:#15803d}.status-failed{background:#b91c1c}.status-unknown{background:#6b7280}
.why{margin:10px 0;padding:8px 12px;border-radius:6px;border:1px solid #ddd;background:#fff}
.why-failed{border-color:#fca5a5;background:#fef2f2}.why-ok{border-color:#86efac;background:#f0fdf4}
.why h2{margin:0 0 4px;color:#991b1b}.why ul{margin:4px 0 0;padding-left:18px}.why .kind{color:#666;font-size:11px}
.lead{margin:0}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0}
.card{flex:1 1 220px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.card p{margin:2px 0}.big{font-size:20px;font-weight:600}.small{font-size:11.5px;color:#444;font-weight:400}.bad{color:#b91c1c}
.gauge{position:relative;height:12px;background:#f1f5f9;border-radius:3px;margin:6px 0 16px}
.gauge-bar{height:100%;border-radius:3px}.gauge-bar.ok{background:#15803d}.gauge-bar.over{background:#dc2626}
.gauge-bound{position:absolute;top:-3px;bottom:-3px;border-left:2px solid #111}
.gauge-bound span{position:absolute;top:15px;left:-16px;font-size:10.5px;color:#333}
#chart-section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px}
.toolbar{margin:0 0 6px;display:flex;align-items:center;gap:4px}
.toolbar button{min-width:30px;padding:2px 8px;font-size:13px;cursor:pointer}
.hint{color:#666;font-size:11.5px;margin-left:8px}
.chart-wrap{display:flex;align-items:flex-start}
.lane-labels{flex:0 0 auto;border-right:1px solid #ddd;background:#fff}
.chart-scroll{flex:1 1 auto;overflow-x:auto;overflow-y:hidden}
#chart{display:block}
#chart text,.lane-labels text{font-size:11px}
.lane-label{fill:#222}.group-label{fill:#111;font-weight:600}.band-label{fill:#666;font-style:italic}.sublabel{fill:#666;font-size:10px!important}
.group-title{fill:#888;font-size:10px!important;text-transform:uppercase;letter-spacing:.05em}
.band-bg{fill:#f5f5f4}.violation-band{fill:#fff1f2}
.tick{fill:#555}.grid{stroke:#e5e7eb;stroke-width:1}
.lanes-top{stroke:#d4d4d4}
.bar-label{pointer-events:none;font-size:10.5px!important}
.no-data{fill:#999;font-style:italic}
.inferred{opacity:.55}
.baseline{stroke:#d4d4d4}
.write-accepted{fill:#16a34a}.write-rejected{fill:#dc2626}
.lease-free{stroke:#cbd5e1}
.fault-shade{fill:url(#fault-hatch);pointer-events:none;stroke:#d97706;stroke-width:1;stroke-dasharray:4 3}
.fault-unverified{stroke:#b91c1c}
.fault-tab{fill:rgba(245,158,11,.35);stroke:#d97706;stroke-width:.8}
.fault-label{fill:#7c2d12;font-weight:600;pointer-events:none}
.violation-line{stroke:#d0021b;stroke-width:1.5;stroke-dasharray:5 3}
.violation-diamond{fill:#d0021b;stroke:#fff;stroke-width:1}
.violation-marker{cursor:pointer}
.violation-marker.expected .violation-diamond{fill:#7c3aed}.violation-marker.expected .violation-line{stroke:#7c3aed}
/* The dashed line is thin and gappy: a wide invisible stroke makes the whole marker clickable. */
.violation-hit{stroke:transparent;stroke-width:10;pointer-events:stroke}
.violation-label{fill:#b91c1c;font-weight:600;pointer-events:none}
.violation-marker:hover .violation-diamond{fill:#7f1d1d}
.unsafe-act{cursor:pointer}
#cursor line{stroke:#1d4ed8;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 2px 0;color:#333;font-size:11.5px}
.sw{display:inline-flex;align-items:center;gap:4px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #e5e5e5;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
.checks .outcome-fail td.outcome{color:#b91c1c;font-weight:700}
.checks .outcome-pass td.outcome{color:#15803d}
.checks .outcome-not-exercised td.outcome{color:#b45309;font-weight:700}
.event-controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:0 0 6px}
.events td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.events td.t-link{cursor:pointer;color:#1d4ed8;text-decoration:underline dotted}
.events{table-layout:fixed}
.events td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.events td.json{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;color:#333;cursor:zoom-in}
.events tr.open td{white-space:normal;word-break:break-word}
.events tr.open td.json{cursor:zoom-out}
.events col.c-seq{width:60px}.events col.c-t{width:70px}.events col.c-kind{width:120px}.events col.c-who{width:80px}.events col.c-what{width:38%}
.events tr.violating{background:#fee2e2}
.events tr.target{outline:2px solid #d0021b;background:#fecaca}
.kind-fault{color:#b45309;font-weight:600}.kind-role{color:#15803d;font-weight:600}
.warnings{color:#92400e}
pre{white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:8px;max-height:400px;overflow:auto}
`;
