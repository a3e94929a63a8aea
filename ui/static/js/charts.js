// charts.js: small charts drawn as inline SVG, each with its data as a
// table for screen readers and for reading exact figures.
//
//   lineChart({title, labels, series: [{name, values, dashed, color}], format, integer})
//   barChart({title, labels, values | series, format, integer})   vertical bars; several series stack
//   hbarChart({title, rows: [{label, value, href, sub}], format})
//
// Values may be null (no data: a gap). Series colours come from the CSS
// classes s0..s5. A chart is drawn at the width it gets on the page, and
// drawn again when that width changes, so text keeps its size.

import { h, s, fmtNumber } from './dom.js';

const H = 220;
const M = { top: 12, right: 14, bottom: 30, left: 50 };
const FALLBACK_WIDTH = 640;

let uid = 0;

// The charts on the page redraw when their width changes.
const observer = typeof ResizeObserver === 'function' ? new ResizeObserver((entries) => {
  for (const e of entries) {
    const fig = e.target;
    const w = Math.round(e.contentRect.width);
    if (fig.redraw && w > 0 && Math.abs(w - (fig.drawnWidth || 0)) > 4) fig.redraw(w);
  }
}) : null;

// scale returns the top of the axis and its ticks: 0 to a round number
// above max in about 4 steps (whole steps for counts).
export function scale(max, integer) {
  if (!(max > 0)) return { top: integer ? 4 : 1, ticks: integer ? [0, 1, 2, 3, 4] : [0, 0.25, 0.5, 0.75, 1] };
  const raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((st) => st >= raw) || 10 * p;
  if (integer) step = Math.max(1, Math.ceil(step));
  const n = Math.max(1, Math.ceil(max / step - 1e-9));
  const ticks = [];
  for (let i = 0; i <= n; i++) ticks.push(+(i * step).toFixed(10));
  return { top: n * step, ticks };
}

// thin keeps about n evenly spaced label indexes.
function thin(count, n) {
  if (count <= n) return [...Array(count).keys()];
  const step = Math.ceil(count / n);
  const out = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}

function frame(title, kind, draw, table, legend) {
  const id = `chart-${++uid}`;
  const caption = h('figcaption', { id: `${id}-t` }, title);
  const fig = h('figure', { class: `chart chart-${kind}`, dataset: { chart: title } }, caption, legend || null);
  const holder = h('div', { class: 'chart-svg' });
  fig.append(holder, h('details', { class: 'chart-data' }, h('summary', null, 'Data'), table));
  fig.redraw = (w) => {
    fig.drawnWidth = w;
    const svg = draw(Math.max(240, w));
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-labelledby', `${id}-t`);
    holder.replaceChildren(svg);
  };
  fig.redraw(FALLBACK_WIDTH);
  if (observer) observer.observe(fig);
  return fig;
}

function legendOf(series) {
  if (series.length < 2) return null;
  return h('ul', { class: 'legend' }, series.map((se, i) =>
    h('li', null, h('span', { class: `swatch s${se.color ?? i}${se.dashed ? ' dashed' : ''}`, 'aria-hidden': 'true' }), se.name)));
}

function dataTable(labels, series, format, fullLabels) {
  return h('table', { class: 'grid small' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''), series.map((se) => h('th', { scope: 'col' }, se.name)))),
    h('tbody', null, labels.map((l, i) => h('tr', null, h('th', { scope: 'row' }, fullLabels ? fullLabels[i] : l),
      series.map((se) => h('td', { class: 'num' }, se.values[i] === null || se.values[i] === undefined ? '—' : format(se.values[i])))))));
}

function axes(svg, W, labels, sc, format, x) {
  const innerH = H - M.top - M.bottom;
  for (const t of sc.ticks) {
    const y = M.top + innerH - (t / sc.top) * innerH;
    svg.append(s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y, y2: y }));
    svg.append(s('text', { class: 'tick', x: M.left - 6, y: y + 4, 'text-anchor': 'end' }, format(t)));
  }
  const maxLabels = Math.max(2, Math.floor((W - M.left - M.right) / 78));
  for (const i of thin(labels.length, maxLabels)) {
    svg.append(s('text', { class: 'tick', x: x(i), y: H - M.bottom + 17, 'text-anchor': 'middle' }, labels[i]));
  }
}

const finite = (v) => v !== null && v !== undefined && !Number.isNaN(Number(v));

export function lineChart({ title, labels, fullLabels, series, format = (v) => fmtNumber(v, 1), integer = false, empty = 'No data for this period.' }) {
  const all = series.flatMap((se) => se.values).filter(finite).map(Number);
  if (labels.length === 0 || all.length === 0) return emptyChart(title, empty);
  const sc = scale(Math.max(...all), integer);
  const draw = (W) => {
    const innerW = W - M.left - M.right;
    const innerH = H - M.top - M.bottom;
    const x = (i) => M.left + (labels.length === 1 ? innerW / 2 : (i * innerW) / (labels.length - 1));
    const y = (v) => M.top + innerH - (Math.max(0, v) / sc.top) * innerH;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'svg-chart' });
    axes(svg, W, labels, sc, format, x);
    series.forEach((se, si) => {
      const cls = `s${se.color ?? si}`;
      let d = '';
      let pen = false;
      se.values.forEach((v, i) => {
        if (!finite(v)) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(Number(v)).toFixed(1)}`;
        pen = true;
      });
      if (d) svg.append(s('path', { class: `line ${cls}${se.dashed ? ' dashed' : ''}`, d }));
      se.values.forEach((v, i) => {
        if (!finite(v)) return;
        svg.append(s('circle', { class: `dot ${cls}`, cx: x(i), cy: y(Number(v)), r: labels.length > 60 ? 1.5 : 3 },
          s('title', null, `${se.name}, ${fullLabels ? fullLabels[i] : labels[i]}: ${format(Number(v))}`)));
      });
    });
    return svg;
  };
  return frame(title, 'line', draw, dataTable(labels, series, format, fullLabels), legendOf(series));
}

// barChart draws vertical bars; with several series they are stacked.
export function barChart({ title, labels, fullLabels, values, series, format = (v) => fmtNumber(v), integer = true, empty = 'No data for this period.' }) {
  const ss = series || [{ name: title, values }];
  const totals = labels.map((_, i) => ss.reduce((sum, se) => sum + (Number(se.values[i]) || 0), 0));
  if (labels.length === 0 || totals.every((t) => t === 0)) return emptyChart(title, empty);
  const sc = scale(Math.max(...totals), integer);
  const draw = (W) => {
    const innerW = W - M.left - M.right;
    const innerH = H - M.top - M.bottom;
    const band = innerW / labels.length;
    const bw = Math.max(1.5, Math.min(40, band * 0.72));
    const x = (i) => M.left + band * i + band / 2;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'svg-chart' });
    axes(svg, W, labels, sc, format, x);
    labels.forEach((l, i) => {
      let base = 0;
      ss.forEach((se, si) => {
        const v = Number(se.values[i]) || 0;
        if (v <= 0) return;
        const y0 = M.top + innerH - ((base + v) / sc.top) * innerH;
        const hgt = (v / sc.top) * innerH;
        svg.append(s('rect', { class: `bar s${se.color ?? si}${se.dashed ? ' projected' : ''}`, x: x(i) - bw / 2, y: y0, width: bw, height: Math.max(1, hgt) },
          s('title', null, `${ss.length > 1 ? `${se.name}, ` : ''}${fullLabels ? fullLabels[i] : l}: ${format(v)}`)));
        base += v;
      });
    });
    return svg;
  };
  return frame(title, 'bar', draw, dataTable(labels, ss, format, fullLabels), legendOf(ss));
}

// hbarChart draws one horizontal bar per row, in the order given.
export function hbarChart({ title, rows, format = (v) => fmtNumber(v), empty = 'Nothing to show.' }) {
  if (!rows.length) return emptyChart(title, empty);
  const max = Math.max(...rows.map((r) => Number(r.value) || 0)) || 1;
  const list = h('ol', { class: 'hbars' }, rows.map((r) => {
    const pct = ((Number(r.value) || 0) / max) * 100;
    const bar = s('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'hbar', 'aria-hidden': 'true' },
      s('rect', { class: `bar s${r.color ?? 0}`, x: 0, y: 0, width: Math.max(0.5, pct), height: 10 }));
    const label = r.href ? h('a', { href: r.href, 'data-link': true }, r.label) : r.label;
    return h('li', { class: 'hbar-row' },
      h('span', { class: 'hbar-label', title: r.title || r.label }, label),
      bar,
      h('span', { class: 'hbar-value' }, format(r.value)),
      r.sub ? h('span', { class: 'hbar-sub' }, r.sub) : null);
  }));
  return h('figure', { class: 'chart chart-hbar', dataset: { chart: title } }, h('figcaption', null, title), list);
}

function emptyChart(title, text) {
  return h('figure', { class: 'chart empty-chart', dataset: { chart: title } }, h('figcaption', null, title), h('p', { class: 'muted' }, text));
}

// stat is one headline figure.
export function stat(label, value, sub, cls) {
  return h('div', { class: `stat ${cls || ''}`.trim() },
    h('div', { class: 'stat-value' }, value),
    h('div', { class: 'stat-label' }, label),
    sub ? h('div', { class: 'stat-sub' }, sub) : null);
}
