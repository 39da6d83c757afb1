/**
 * The browser-side script of timeline.html, as plain JavaScript text (the page is
 * self-contained, so it cannot load a bundle). It only *rearranges* what the server rendered:
 *   - zoom (buttons, Ctrl/Cmd + wheel): repositions every element carrying data-t0/data-t1/data-t
 *     and redraws the time axis, so text never stretches;
 *   - write lanes: re-bins app writes for the visible part only, so the DOM stays bounded at
 *     any zoom (the server's fit-width bins are the no-JS fallback);
 *   - the event table: pages of PAGE_SIZE rows built on demand from the embedded events, with
 *     filters, and #ev-<seq> navigation (violation markers and event links jump to their row).
 * Written without backticks or "${" so it can live in a TypeScript template string.
 */
export const TIMELINE_CLIENT_JS = String.raw`
(function () {
  'use strict';
  var PAGE_SIZE = 100;
  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var events = JSON.parse(document.getElementById('events-data').textContent);
  var chart = document.getElementById('chart');
  var scroll = document.getElementById('chart-scroll');
  var zoomLabel = document.getElementById('zoom-level');
  var t0 = data.t0, t1 = data.t1, span = Math.max(1, t1 - t0);
  var fitWidth = data.baseWidth;
  var zoom = 1;
  var maxZoom = Math.max(1, Math.min(512, span * 2 / fitWidth));
  var positioned = Array.prototype.slice.call(chart.querySelectorAll('[data-t0],[data-t]'));

  function k() { return (fitWidth * zoom) / span; }
  function x(t) { return (t - t0) * k(); }

  function niceStep(rough) {
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(rough, 1e-9))));
    var m = [1, 2, 5, 10];
    for (var i = 0; i < m.length; i++) if (m[i] * p >= rough) return m[i] * p;
    return 10 * p;
  }
  function tickLabel(t, step) {
    if (step >= 1000) {
      var decimals = step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : 2;
      return (t / 1000).toFixed(decimals) + ' s';
    }
    return Math.round(t) + ' ms';
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function drawAxis() {
    var axis = document.getElementById('axis');
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    var width = fitWidth * zoom;
    var step = niceStep(span / Math.max(1, width / 110));
    var first = Math.ceil(t0 / step) * step;
    for (var t = first; t <= t1; t += step) {
      var px = x(t);
      axis.appendChild(el('line', { x1: px, x2: px, y1: data.axisHeight - 6, y2: data.height, class: 'grid' }));
      if (px + 40 <= width) axis.appendChild(el('text', { x: px + 3, y: data.axisHeight - 9, class: 'tick' }, tickLabel(t, step)));
    }
  }

  function layout() {
    var kk = k();
    chart.setAttribute('width', String(Math.ceil(fitWidth * zoom)));
    for (var i = 0; i < positioned.length; i++) {
      var e = positioned[i];
      if (e.hasAttribute('data-t')) {
        var y = e.getAttribute('data-y') || '0';
        e.setAttribute('transform', 'translate(' + x(Number(e.getAttribute('data-t'))).toFixed(1) + ',' + y + ')');
        continue;
      }
      var a = Number(e.getAttribute('data-t0')), b = Number(e.getAttribute('data-t1'));
      var w = (b - a) * kk;
      if (e.tagName === 'text') {
        e.setAttribute('x', (x(a) + 3).toFixed(1));
        var lw = Number(e.getAttribute('data-lw') || '0');
        if (lw > 0) e.setAttribute('display', w >= lw + 6 ? 'inline' : 'none');
      } else {
        var minW = Number(e.getAttribute('data-minw') || '1');
        e.setAttribute('x', x(a).toFixed(1));
        e.setAttribute('width', Math.max(minW, w).toFixed(1));
      }
    }
    drawAxis();
    drawWrites();
    zoomLabel.textContent = zoom < 10 ? zoom.toFixed(1) + 'x' : Math.round(zoom) + 'x';
  }

  // Writes: re-bin the visible window (plus one screen either side) at ~4 px per bin.
  function drawWrites() {
    var width = fitWidth * zoom;
    var binPx = 4;
    var viewLeft = Math.max(0, scroll.scrollLeft - scroll.clientWidth);
    var viewRight = Math.min(width, scroll.scrollLeft + 2 * scroll.clientWidth);
    var binMs = binPx / k();
    var firstBin = Math.floor(viewLeft / binPx), lastBin = Math.ceil(viewRight / binPx);
    var perRegion = {};
    var max = 1;
    for (var r in data.writes) {
      var bins = {};
      var list = data.writes[r];
      for (var i = 0; i < list.length; i++) {
        var bi = Math.floor((list[i][0] - t0) / binMs);
        if (bi < firstBin || bi > lastBin) continue;
        var b = bins[bi] || (bins[bi] = [0, 0]);
        b[list[i][1] ? 0 : 1]++;
      }
      for (var key in bins) max = Math.max(max, bins[key][0] + bins[key][1]);
      perRegion[r] = bins;
    }
    for (var region in perRegion) {
      var g = document.getElementById('writes-' + region);
      if (!g) continue;
      var geom = data.writeLanes[region];
      while (g.firstChild) g.removeChild(g.firstChild);
      var binsOf = perRegion[region];
      for (var idx in binsOf) {
        var acc = binsOf[idx][0], rej = binsOf[idx][1];
        var bx = Number(idx) * binPx;
        var hAcc = (acc / max) * geom.h, hRej = (rej / max) * geom.h;
        var from = (t0 + Number(idx) * binMs) / 1000, to = (t0 + (Number(idx) + 1) * binMs) / 1000;
        var tip = from.toFixed(2) + ' s to ' + to.toFixed(2) + ' s: ' + acc + ' accepted, ' + rej + ' rejected';
        if (acc > 0) {
          var ra = el('rect', { x: bx, y: geom.y + geom.h - hAcc, width: binPx - 0.5, height: hAcc, class: 'write-accepted' });
          ra.appendChild(el('title', {}, tip));
          g.appendChild(ra);
        }
        if (rej > 0) {
          var rr = el('rect', { x: bx, y: geom.y + geom.h - hAcc - hRej, width: binPx - 0.5, height: hRej, class: 'write-rejected' });
          rr.appendChild(el('title', {}, tip));
          g.appendChild(rr);
        }
      }
      var scaleText = document.getElementById('writes-scale-' + region);
      if (scaleText) scaleText.textContent = 'bar = ' + max + ' writes / ' + (binMs >= 1000 ? (binMs / 1000).toFixed(2) + ' s' : binMs.toFixed(binMs < 10 ? 1 : 0) + ' ms');
    }
  }

  function setZoom(z, anchorPx) {
    var nz = Math.min(maxZoom, Math.max(1, z));
    var anchor = anchorPx === undefined ? scroll.clientWidth / 2 : anchorPx;
    var tAt = t0 + (scroll.scrollLeft + anchor) / k();
    zoom = nz;
    layout();
    scroll.scrollLeft = Math.max(0, x(tAt) - anchor);
    drawWrites();
  }

  function fit() {
    fitWidth = Math.max(300, scroll.clientWidth - 4);
    setZoom(1, 0);
  }

  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 2); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 2); });
  document.getElementById('zoom-fit').addEventListener('click', fit);
  scroll.addEventListener('wheel', function (ev) {
    if (!ev.ctrlKey && !ev.metaKey) return;
    ev.preventDefault();
    var rect = scroll.getBoundingClientRect();
    setZoom(zoom * (ev.deltaY < 0 ? 1.25 : 0.8), ev.clientX - rect.left);
  }, { passive: false });
  var scrollPending = false;
  scroll.addEventListener('scroll', function () {
    if (scrollPending) return;
    scrollPending = true;
    requestAnimationFrame(function () { scrollPending = false; drawWrites(); });
  });

  // A cursor line for "show this event in the timeline".
  function showCursor(t) {
    var c = document.getElementById('cursor');
    c.setAttribute('data-t', String(t));
    c.setAttribute('display', 'inline');
    c.setAttribute('transform', 'translate(' + x(t).toFixed(1) + ',0)');
    if (positioned.indexOf(c) < 0) positioned.push(c);
    scroll.scrollLeft = Math.max(0, x(t) - scroll.clientWidth / 2);
    document.getElementById('chart-section').scrollIntoView({ block: 'start' });
  }

  // ---- event table ----
  var tbody = document.getElementById('events-body');
  var kindFilter = document.getElementById('filter-kind');
  var textFilter = document.getElementById('filter-text');
  var flaggedOnly = document.getElementById('filter-flagged');
  var pageInfo = document.getElementById('page-info');
  var flagged = {};
  for (var fi = 0; fi < data.violatingSeqs.length; fi++) flagged[data.violatingSeqs[fi]] = 'violating';
  var filtered = events;
  var page = 0;

  function applyFilters() {
    var kind = kindFilter.value, text = textFilter.value.trim().toLowerCase(), only = flaggedOnly.checked;
    filtered = events.filter(function (ev) {
      if (kind && ev[2] !== kind) return false;
      if (only && !flagged[ev[0]]) return false;
      if (text && (ev[3] + ' ' + ev[4] + ' ' + ev[5]).toLowerCase().indexOf(text) < 0) return false;
      return true;
    });
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderPage() {
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    page = Math.min(Math.max(0, page), pages - 1);
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    var rows = filtered.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    for (var i = 0; i < rows.length; i++) {
      var ev = rows[i];
      var tr = document.createElement('tr');
      tr.id = 'ev-' + ev[0];
      tr.setAttribute('data-testid', 'event-row');
      // Violating rows start expanded; any row toggles on click (the JSON is one line otherwise).
      if (flagged[ev[0]]) tr.className = flagged[ev[0]] + ' open';
      tr.addEventListener('click', function () { this.classList.toggle('open'); });
      cell(tr, String(ev[0]), 'num');
      var tcell = cell(tr, (ev[1] / 1000).toFixed(3), 'num t-link');
      tcell.title = 'show in the timeline';
      tcell.addEventListener('click', function (t, e) { e.stopPropagation(); showCursor(t); }.bind(null, ev[1]));
      cell(tr, ev[2], 'kind kind-' + ev[2]);
      cell(tr, ev[3]);
      cell(tr, ev[4]);
      cell(tr, ev[5], 'json');
      tbody.appendChild(tr);
    }
    pageInfo.textContent = 'page ' + (page + 1) + ' of ' + pages + ' (' + filtered.length + ' of ' + events.length + ' events)';
  }

  function goToSeq(seq) {
    var idx = -1;
    for (var i = 0; i < filtered.length; i++) if (filtered[i][0] === seq) { idx = i; break; }
    if (idx < 0) {
      kindFilter.value = ''; textFilter.value = ''; flaggedOnly.checked = false;
      applyFilters();
      for (var j = 0; j < filtered.length; j++) if (filtered[j][0] === seq) { idx = j; break; }
    }
    if (idx < 0) return;
    page = Math.floor(idx / PAGE_SIZE);
    renderPage();
    var row = document.getElementById('ev-' + seq);
    var old = document.querySelectorAll('tr.target');
    for (var k2 = 0; k2 < old.length; k2++) old[k2].classList.remove('target');
    row.classList.add('target');
    row.classList.add('open');
    row.scrollIntoView({ block: 'center' });
  }

  function fromHash() {
    var m = /^#ev-(\d+)$/.exec(location.hash);
    if (m) goToSeq(Number(m[1]));
  }

  kindFilter.addEventListener('change', function () { applyFilters(); page = 0; renderPage(); });
  textFilter.addEventListener('input', function () { applyFilters(); page = 0; renderPage(); });
  flaggedOnly.addEventListener('change', function () { applyFilters(); page = 0; renderPage(); });
  document.getElementById('page-prev').addEventListener('click', function () { page--; renderPage(); });
  document.getElementById('page-next').addEventListener('click', function () { page++; renderPage(); });
  window.addEventListener('hashchange', fromHash);
  // Same-hash clicks fire no hashchange: handle every event link directly as well.
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest ? ev.target.closest('a') : null;
    if (!a) return;
    var href = a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '';
    var m = /^#ev-(\d+)$/.exec(href);
    if (m) goToSeq(Number(m[1]));
  });

  fitWidth = Math.max(300, scroll.clientWidth - 4);
  layout();
  applyFilters();
  renderPage();
  fromHash();
  document.body.setAttribute('data-ready', 'true');
})();
`;
