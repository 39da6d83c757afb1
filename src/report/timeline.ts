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
import type { Violation } from '../check/verdict.ts';
import type { HistoryEvent } from '../contracts/history.ts';
import { binWrites, type ObservationRun } from './facts.ts';
import { compactJson, escapeHtml, formatMs, formatT } from './format.ts';
import { type ReportModel, verificationOf } from './model.ts';
import { actedOn, timelinePage } from './timeline-page.ts';
import {
  AUTHORITY_LANE_PX,
  AXIS_HEIGHT_PX,
  attr,
  BASE_WIDTH_PX,
  bar,
  barLabel,
  CHAR_PX,
  type Ctx,
  EPOCH_LANE_PX,
  EPOCH_PALETTE,
  FAULT_ROW_PX,
  GROUP_HEADER_PX,
  LABEL_WIDTH_PX,
  LANE_GAP_PX,
  type LaneSvg,
  LEASE_LANE_PX,
  labelText,
  laneGroup,
  MAX_DNS_NAMES_PER_RESOLVER,
  MAX_RUNS_PER_ROW,
  MAX_UNSAFE_ACT_MARKS,
  MAX_VIOLATION_MARKERS,
  noData,
  point,
  REGION_PALETTE,
  ROLE_COLOURS,
  ROLE_LANE_PX,
  ROLE_TEXT_ON,
  SUBROW_PX,
  serverAxis,
  VERDICT_COLOURS,
  VIOLATION_BAND_PX,
  WRITE_BINS,
  WRITES_LANE_PX,
  x,
} from './timeline-svg.ts';

export { niceStep } from './timeline-svg.ts';

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

/** model → lanes → overlays → page. */
export function renderTimeline(model: ReportModel): string {
  const ctx = timelineCtx(model);
  const { t0, t1 } = ctx;
  const lanes: LaneSvg = { chart: [], labels: [] };
  const bands = faultAndViolationBands(ctx, lanes);
  const { faultBandY, faultBandH, violationBandY, lanesTopY } = bands;
  let y = lanesTopY;
  const writes: WriteLanes = { lanes: {}, data: {} };
  for (const region of model.facts.regions) y = regionLanes(ctx, lanes, region, y, writes);
  collectWrites(model, writes.data);
  y = sharedLanes(ctx, lanes, y);
  const lanesBottomY = y;
  const height = y + 6;
  const faultParts = faultOverlay(ctx, bands, lanesBottomY);
  const { violations, violatingSeqs, markerParts } = violationMarkers(ctx, violationBandY, lanesBottomY);
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
    writes: writes.data,
    writeLanes: writes.lanes,
    violatingSeqs,
  };
  const eventRows = model.history.map((e) => {
    const [who, what] = describeEvent(e);
    return [e.seq, e.t, e.kind, who, what, JSON.stringify(e)];
  });

  return timelinePage(model, {
    chartSvg,
    labelSvg,
    clientData,
    eventRows,
    violationsCount: violations.length,
  });
}

/** Time → x scale over the run (with a little room after the last event) and region colours. */
function timelineCtx(model: ReportModel): Ctx {
  const facts = model.facts;
  const t0 = facts.startT;
  const spanMs = Math.max(1, facts.endT - facts.startT);
  // A little room after the last event so its marks are not glued to the edge.
  const t1 = facts.endT + Math.max(1, spanMs * 0.01);
  const regionIndex = new Map(facts.regions.map((r, i) => [r, i]));
  return {
    model,
    t0,
    t1,
    k: BASE_WIDTH_PX / (t1 - t0),
    regionColour: (r) =>
      r === null || r === undefined
        ? '#e2e8f0'
        : (REGION_PALETTE[(regionIndex.get(r) ?? facts.regions.length) % REGION_PALETTE.length] ?? '#888'),
  };
}

/** Where the fault band and the violation band sit, and each fault's label row. */
interface Bands {
  faultRows: number[];
  faultBandY: number;
  faultBandH: number;
  violationBandY: number;
  lanesTopY: number;
}

/** Per region: where its writes lane is, and its writes as [t, accepted] for the client. */
interface WriteLanes {
  lanes: Record<string, { y: number; h: number }>;
  data: Record<string, Array<[number, number]>>;
}

/** Greedy rows for the fault labels, so overlapping faults get their own row; lays out the two bands. */
function faultAndViolationBands(ctx: Ctx, lanes: LaneSvg): Bands {
  const facts = ctx.model.facts;
  let y = AXIS_HEIGHT_PX;
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
  return { faultRows, faultBandY, faultBandH, violationBandY, lanesTopY };
}

/** One region's lanes: role, acting epoch, app write authority, app writes. Returns the next y. */
function regionLanes(ctx: Ctx, lanes: LaneSvg, region: string, y: number, writes: WriteLanes): number {
  lanes.chart.push(`<text class="group-title" x="4" y="${y + 14}">region ${escapeHtml(region)}</text>`);
  lanes.labels.push(
    `<rect x="0" y="${y + 3}" width="10" height="12" fill="${ctx.regionColour(region)}"/>` +
      labelText(y + 14, `region ${region}`, 'group-label', 14),
  );
  y += GROUP_HEADER_PX;
  y = roleLane(ctx, lanes, region, y);
  y = epochLane(ctx, lanes, region, y);
  y = authorityLane(ctx, lanes, region, y);
  return writesLane(ctx, lanes, region, y, writes);
}

/** Lane: role spans, labelled with their epoch. Returns the next y. */
function roleLane(ctx: Ctx, lanes: LaneSvg, region: string, y: number): number {
  const facts = ctx.model.facts;
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
  return y;
}

/** Lane: the epochs a region acted under, acts outside the safe window in red. Returns the next y. */
function epochLane(ctx: Ctx, lanes: LaneSvg, region: string, y: number): number {
  const facts = ctx.model.facts;
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
  const unsafe = (facts.acts[region] ?? []).filter((a) => a.outsideSafeWindow).slice(0, MAX_UNSAFE_ACT_MARKS);
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
  return y;
}

/** Lane: the app's write authority windows and its refusals. Returns the next y. */
function authorityLane(ctx: Ctx, lanes: LaneSvg, region: string, y: number): number {
  const facts = ctx.model.facts;
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
  return y;
}

/** Lane: the app's writes as a histogram of accepted and rejected (the client re-bins). Returns the next y. */
function writesLane(ctx: Ctx, lanes: LaneSvg, region: string, y: number, writes: WriteLanes): number {
  const { model, t0, t1 } = ctx;
  const facts = model.facts;
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
  lanes.labels.push(`<text class="sublabel" id="writes-scale-${attr(region)}" x="14" y="${y + 37}"></text>`);
  writes.lanes[region] = { y, h: WRITES_LANE_PX };
  writes.data[region] = [];
  y += WRITES_LANE_PX + LANE_GAP_PX + 4;
  return y;
}

/** Every app write as [t, accepted], per region, for the client's re-binning. */
function collectWrites(model: ReportModel, data: WriteLanes['data']): void {
  for (const e of model.history) {
    if (e.kind !== 'app-write') continue;
    const list = data[e.region] ?? [];
    list.push([e.t, e.accepted ? 1 : 0]);
    data[e.region] = list;
  }
}

/** The shared lanes: lease holder per store location, witness votes, DNS answers. Returns the next y. */
function sharedLanes(ctx: Ctx, lanes: LaneSvg, y: number): number {
  lanes.chart.push(`<text class="group-title" x="4" y="${y + 14}">shared</text>`);
  lanes.labels.push(labelText(y + 14, 'shared', 'group-label'));
  y += GROUP_HEADER_PX;
  y = leaseLanes(ctx, lanes, y);
  y = witnessLanes(ctx, lanes, y);
  return dnsLanes(ctx, lanes, y);
}

/** Lanes: the lease holder, one lane per store location. Returns the next y. */
function leaseLanes(ctx: Ctx, lanes: LaneSvg, y: number): number {
  const facts = ctx.model.facts;
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
  return y;
}

/** Lanes: each witness's votes, one row per region it judges. Returns the next y. */
function witnessLanes(ctx: Ctx, lanes: LaneSvg, y: number): number {
  const facts = ctx.model.facts;
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
  return y;
}

/** Lanes: the answers each resolver gave, one row per name. Returns the next y. */
function dnsLanes(ctx: Ctx, lanes: LaneSvg, y: number): number {
  const facts = ctx.model.facts;
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
  return y;
}

/** Fault windows shaded across every lane, with a labelled tab in the fault band. */
function faultOverlay(ctx: Ctx, bands: Bands, lanesBottomY: number): string[] {
  const facts = ctx.model.facts;
  const faultParts: string[] = [];
  facts.faults.forEach((f, i) => {
    const rowY = bands.faultBandY + (bands.faultRows[i] ?? 0) * FAULT_ROW_PX;
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
  return faultParts;
}

/**
 * Violation markers (linking to their events) and one label per cluster of nearby markers.
 * Expected violations are marked too.
 */
function violationMarkers(
  ctx: Ctx,
  violationBandY: number,
  lanesBottomY: number,
): { violations: Violation[]; violatingSeqs: number[]; markerParts: string[] } {
  const model = ctx.model;
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
  return { violations, violatingSeqs, markerParts };
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
