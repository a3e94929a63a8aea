// dashboard.js: the executive dashboard, drawn from the trend API
// (GET /api/v1/trends/{name}, see docs/trends.md): monthly volume with its
// projection, MTTA and MTTR, SLA compliance, noise reduction, top problems,
// and breakdowns by service, support level and analyst.

import { fmtDuration, fmtNumber, h, humanize, replace } from './dom.js';
import { ApiError, get, getToken, qs } from './api.js';
import { barChart, hbarChart, lineChart, stat } from './charts.js';
import { reportError, toast } from './shell.js';

const RANGES = [
  { key: '1m', label: 'Last 30 days', months: 1, step: 'day' },
  { key: '3m', label: 'Last 3 months', months: 3, step: 'week' },
  { key: '6m', label: 'Last 6 months', months: 6, step: 'week' },
  { key: '12m', label: 'Last 12 months', months: 12, step: 'month' },
];
const DIMENSIONS = ['service', 'priority', 'severity', 'level', 'group', 'analyst', 'ci', 'category', 'method'];

const utcDay = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', timeZone: 'UTC' });
const utcMonth = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
const utcFull = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', year: 'numeric', timeZone: 'UTC' });

function bucketLabel(t, step) {
  const d = new Date(t);
  return step === 'month' ? utcMonth.format(d) : utcDay.format(d);
}

function bucketFull(t, step) {
  const d = new Date(t);
  if (step === 'month') return utcMonth.format(d);
  return `${step === 'week' ? 'Week of ' : ''}${utcFull.format(d)}`;
}

// The figures of a trend reply.
function seriesOf(res, measure, group = '') {
  return (res.series || []).find((s) => s.measure === measure && (s.group || '') === group) || null;
}

function values(s) {
  return s ? s.points.map((p) => (p.value === null || p.value === undefined ? null : Number(p.value))) : [];
}

function sum(vs) {
  return vs.reduce((a, v) => a + (v === null ? 0 : v), 0);
}

function lastValue(vs) {
  for (let i = vs.length - 1; i >= 0; i--) if (vs[i] !== null) return vs[i];
  return null;
}

// weighted mean of means by their counts.
function weightedMean(means, counts) {
  let n = 0;
  let total = 0;
  means.forEach((m, i) => {
    const c = counts[i] || 0;
    if (m !== null && c > 0) { total += m * c; n += c; }
  });
  return n > 0 ? total / n : null;
}

const fmtSeconds = (v) => (v === null || v === undefined ? '—' : fmtDuration(v * 1000));
const fmtPct = (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(v >= 99.95 || v === 0 ? 0 : 1)}%`);

function startOf(months) {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (months === 1) d.setUTCDate(d.getUTCDate() - 30);
  else d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString().slice(0, 10);
}

export function renderDashboard(main) {
  const url = new URL(location.href);
  const state = {
    range: RANGES.find((r) => r.key === url.searchParams.get('range')) || RANGES[2],
    by: DIMENSIONS.includes(url.searchParams.get('by')) ? url.searchParams.get('by') : 'service',
  };
  const rangeSel = h('select', { id: 'd-range' }, RANGES.map((r) => h('option', { value: r.key }, r.label)));
  rangeSel.value = state.range.key;
  const bySel = h('select', { id: 'd-by' }, DIMENSIONS.map((d) => h('option', { value: d }, humanize(d))));
  bySel.value = state.by;
  const stats = h('div', { class: 'stats', 'aria-live': 'polite' });
  const grid = h('div', { class: 'dash-grid' });
  const note = h('p', { class: 'muted small-note' });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Executive dashboard'), note),
    h('form', { class: 'toolbar', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field inline' }, h('label', { for: 'd-range' }, 'Period'), rangeSel),
      h('div', { class: 'field inline' }, h('label', { for: 'd-by' }, 'Breakdown by'), bySel)),
    stats,
    grid);

  // One card per chart; each loads on its own, so one failure leaves the rest.
  function card(id, title, wide) {
    const body = h('div', { class: 'card-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
    const el = h('section', { class: `card dash-card${wide ? ' wide' : ''}`, id: `dash-${id}`, 'aria-labelledby': `dash-${id}-t` },
      h('h2', { id: `dash-${id}-t` }, title), body);
    grid.append(el);
    return { el, body };
  }

  function trendPath(name, params, csv) {
    return `/api/v1/trends/${name}${qs({ ...params, format: csv ? 'csv' : undefined })}`;
  }

  // csvButton downloads a table as CSV: fetched with the token (a plain link
  // would carry none), then saved from a blob URL.
  function csvButton(name, params) {
    return h('button', {
      type: 'button', class: 'btn small ghost csv', title: `Download the ${name} figures as CSV`,
      onclick: async () => {
        try {
          const resp = await fetch(trendPath(name, params, true), { headers: { Authorization: `Bearer ${getToken()}` }, credentials: 'omit' });
          if (!resp.ok) throw new Error(`CSV: HTTP ${resp.status}`);
          const blob = await resp.blob();
          const a = h('a', { href: URL.createObjectURL(blob), download: `vigia-${name}.csv` });
          document.body.append(a);
          a.click();
          setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        } catch (err) {
          toast(err.message, { kind: 'error' });
        }
      },
    }, 'CSV');
  }

  function fill(c, name, params, ...content) {
    c.body.setAttribute('aria-busy', 'false');
    replace(c.body, ...content);
    c.el.querySelector('h2').append(csvButton(name, params));
  }

  function failed(c, err) {
    c.body.setAttribute('aria-busy', 'false');
    replace(c.body, h('p', { class: 'form-error' }, err instanceof ApiError ? `${err.status ? `${err.status}: ` : ''}${err.message}` : String(err)));
  }

  function method(res) {
    return res && res.method ? h('details', { class: 'method-note' }, h('summary', null, 'How this is computed'), h('p', null, res.method)) : null;
  }

  let generation = 0;
  async function load() {
    const gen = ++generation;
    replace(grid);
    replace(stats);
    note.textContent = '';
    const r = state.range;
    const base = { from: startOf(r.months), step: r.step };
    const labelsOf = (res) => (res.series && res.series[0] ? res.series[0].points.map((p) => bucketLabel(p.t, res.step || r.step)) : []);
    const fullOf = (res) => (res.series && res.series[0] ? res.series[0].points.map((p) => bucketFull(p.t, res.step || r.step)) : []);

    const cards = {
      projection: card('projection', 'Monthly volume and projection', true),
      incidents: card('incidents', 'Incidents'),
      backlog: card('backlog', 'Open, pending and awaiting validation'),
      times: card('times', 'MTTA and MTTR'),
      sla: card('sla', 'SLA compliance'),
      noise: card('noise', 'Noise reduction'),
      problems: card('problems', 'Top recurring problems'),
      by: card('by', `Incidents by ${humanize(state.by).toLowerCase()}`),
      levels: card('levels', 'Resolution by support level'),
      analysts: card('analysts', 'Cases per analyst'),
    };
    const fetchTrend = (name, params) => get(trendPath(name, params));
    const jobs = {
      projection: fetchTrend('projection', { from: startOf(12), step: 'month', horizon: 3 }),
      incidents: fetchTrend('incidents', base),
      mtta: fetchTrend('mtta', base),
      mttr: fetchTrend('mttr', base),
      sla: fetchTrend('sla', base),
      noise: fetchTrend('noise', base),
      problems: fetchTrend('problems', { ...base, limit: 8 }),
      by: fetchTrend('incidents', { ...base, by: state.by, limit: 10 }),
      levels: fetchTrend('levels', base),
      analysts: fetchTrend('analysts', { ...base, limit: 10 }),
    };
    const settled = {};
    await Promise.all(Object.entries(jobs).map(([k, p]) => p.then((v) => { settled[k] = { ok: v }; }, (e) => { settled[k] = { err: e }; })));
    if (gen !== generation) return;

    const absent = Object.values(settled).every((x) => x.err instanceof ApiError && x.err.status === 404);
    if (absent) {
      replace(grid, h('p', { class: 'empty' }, 'The trend API is not available on this server, so there is nothing to chart yet.'));
      return;
    }
    const draw = (key, c, fn) => {
      const x = settled[key];
      if (x.err) { failed(c, x.err); return; }
      try { fn(x.ok); } catch (err) { failed(c, err); reportError(err); }
    };

    // --- headline figures
    const figs = [];
    if (settled.incidents.ok) {
      const res = settled.incidents.ok;
      figs.push(stat('Incidents opened', fmtNumber(sum(values(seriesOf(res, 'opened')))), r.label));
      figs.push(stat('Open now', fmtNumber(lastValue(values(seriesOf(res, 'open')))), `${fmtNumber(lastValue(values(seriesOf(res, 'awaiting'))))} awaiting validation`));
      figs.push(stat('Resolved', fmtNumber(sum(values(seriesOf(res, 'resolved')))), `${fmtNumber(sum(values(seriesOf(res, 'rejected'))))} rejected`));
    }
    if (settled.mtta.ok) {
      const m = weightedMean(values(seriesOf(settled.mtta.ok, 'mean_seconds')), values(seriesOf(settled.mtta.ok, 'count')));
      figs.push(stat('MTTA', fmtSeconds(m), 'mean time to acknowledge'));
    }
    if (settled.mttr.ok) {
      const m = weightedMean(values(seriesOf(settled.mttr.ok, 'mean_seconds')), values(seriesOf(settled.mttr.ok, 'count')));
      figs.push(stat('MTTR', fmtSeconds(m), 'mean time to resolve'));
    }
    if (settled.sla.ok) {
      const res = settled.sla.ok;
      const met = sum(values(seriesOf(res, 'resolve_met')));
      const br = sum(values(seriesOf(res, 'resolve_breached')));
      figs.push(stat('Resolve SLA met', met + br > 0 ? fmtPct((100 * met) / (met + br)) : '—', `${fmtNumber(br)} breached`, br > 0 ? 'warn' : ''));
    }
    if (settled.noise.ok) {
      const res = settled.noise.ok;
      const alerts = sum(values(seriesOf(res, 'alerts')));
      const inc = sum(values(seriesOf(res, 'incidents')));
      figs.push(stat('Noise reduction', alerts > 0 ? fmtPct(100 * (1 - inc / alerts)) : '—', `${fmtNumber(alerts)} alerts → ${fmtNumber(inc)} incidents`));
    }
    replace(stats, figs);

    // --- charts
    draw('projection', cards.projection, (res) => {
      const actual = seriesOf(res, 'actual');
      const trend = seriesOf(res, 'trend');
      const seasonal = seriesOf(res, 'seasonal_naive');
      const pts = (actual || trend).points;
      const labels = pts.map((p) => bucketLabel(p.t, 'month'));
      const full = pts.map((p) => bucketFull(p.t, 'month'));
      const model = (res.models || [])[0];
      const series = [{ name: 'Incidents opened', values: values(actual), color: 0 }, { name: 'Trend and projection', values: values(trend), dashed: true, color: 1 }];
      if (seasonal && values(seasonal).some((v) => v !== null)) series.push({ name: 'Same month a year earlier', values: values(seasonal), color: 5 });
      const next = trend ? trend.points.find((p, i) => values(actual)[i] === null && p.value !== null) : null;
      fill(cards.projection, 'projection', { from: startOf(12), step: 'month', horizon: 3 },
        lineChart({ title: 'Incidents per month', labels, fullLabels: full, series, format: (v) => fmtNumber(v, 1) }),
        model ? h('p', { class: 'method-note' },
          `Trend: ${model.slope_per_month >= 0 ? '+' : ''}${fmtNumber(model.slope_per_month, 1)} incidents per month over ${model.months} complete months` +
          `${model.r2 !== null && model.r2 !== undefined ? ` (R² ${fmtNumber(model.r2, 2)})` : ''}` +
          `${next ? `; ${bucketFull(next.t, 'month')} projected at ${fmtNumber(next.value, 0)}` : ''}.`) : null,
        method(res));
    });
    draw('incidents', cards.incidents, (res) => {
      fill(cards.incidents, 'incidents', base,
        lineChart({
          title: 'Opened, confirmed, rejected, resolved', labels: labelsOf(res), fullLabels: fullOf(res), integer: true, format: (v) => fmtNumber(v),
          series: ['opened', 'confirmed', 'rejected', 'resolved'].map((m, i) => ({ name: humanize(m), values: values(seriesOf(res, m)), color: i })),
        }), method(res));
    });
    draw('incidents', cards.backlog, (res) => {
      replace(cards.backlog.body,
        lineChart({
          title: 'Open at the end of each period', labels: labelsOf(res), fullLabels: fullOf(res), integer: true, format: (v) => fmtNumber(v),
          series: [['open', 0], ['pending', 4], ['awaiting', 3]].map(([m, c]) => ({ name: m === 'awaiting' ? 'Awaiting validation' : humanize(m), values: values(seriesOf(res, m)), color: c })),
        }),
        h('p', { class: 'method-note' }, `Reopen rate over the period: ${fmtPct(weightedMean(values(seriesOf(res, 'reopen_rate_pct')), values(seriesOf(res, 'resolved'))))}.`));
      cards.backlog.body.setAttribute('aria-busy', 'false');
    });
    if (settled.mtta.ok && settled.mttr.ok) {
      const a = settled.mtta.ok;
      const b = settled.mttr.ok;
      const raw = [values(seriesOf(a, 'mean_seconds')), values(seriesOf(b, 'mean_seconds')), values(seriesOf(b, 'p90_seconds'))];
      // Plot in hours, or in minutes when everything is under two hours,
      // so that the axis has round ticks.
      const top = Math.max(0, ...raw.flat().filter((v) => v !== null));
      const [unit, div] = top >= 7200 ? ['h', 3600] : ['min', 60];
      const conv = (vs) => vs.map((v) => (v === null ? null : v / div));
      fill(cards.times, 'mttr', base,
        lineChart({
          title: `Mean time to acknowledge and to resolve (${unit === 'h' ? 'hours' : 'minutes'})`, labels: labelsOf(b), fullLabels: fullOf(b),
          format: (v) => `${fmtNumber(v, 1)} ${unit}`,
          series: [{ name: 'MTTA', values: conv(raw[0]), color: 0 }, { name: 'MTTR', values: conv(raw[1]), color: 1 },
            { name: 'MTTR, 90th percentile', values: conv(raw[2]), color: 5, dashed: true }],
          empty: 'No incident was acknowledged or resolved in this period.',
        }), method(b));
    } else {
      failed(cards.times, (settled.mtta.err || settled.mttr.err));
    }
    draw('sla', cards.sla, (res) => {
      fill(cards.sla, 'sla', base,
        lineChart({
          title: 'Targets met (%)', labels: labelsOf(res), fullLabels: fullOf(res), format: fmtPct,
          series: [{ name: 'Respond', values: values(seriesOf(res, 'respond_compliance_pct')), color: 0 }, { name: 'Resolve', values: values(seriesOf(res, 'resolve_compliance_pct')), color: 2 }],
          empty: 'No SLA target ended in this period.',
        }), method(res));
    });
    draw('noise', cards.noise, (res) => {
      const total = (m) => sum(values(seriesOf(res, m)));
      let stages = [['Deliveries', 'deliveries'], ['Alerts', 'alerts'], ['Episodes', 'episodes'], ['Incidents', 'incidents'], ['Confirmed', 'confirmed']];
      const alerts = total('alerts');
      // Vigia counts deliveries and alerts from the day it started keeping
      // them per day: before, only the incidents are known.
      const counted = alerts > 0 || total('deliveries') > 0;
      if (!counted) stages = stages.slice(3);
      fill(cards.noise, 'noise', base,
        hbarChart({
          title: 'From alerts to incidents',
          rows: stages.map(([label, m]) => ({
            label, value: total(m), color: m === 'confirmed' ? 2 : 0,
            sub: alerts > 0 && ['episodes', 'incidents', 'confirmed'].includes(m) ? `${fmtPct((100 * total(m)) / alerts)} of the alerts` : null,
          })),
        }),
        counted ? null : h('p', { class: 'method-note' }, 'No delivery or alert counts for this period: the stages before incidents are not known.'),
        lineChart({
          title: 'Reduction (1 − incidents / alerts, %)', labels: labelsOf(res), fullLabels: fullOf(res), format: fmtPct,
          series: [{ name: 'Reduction', values: values(seriesOf(res, 'reduction_pct')), color: 2 }, { name: 'Confirmed share of incidents', values: values(seriesOf(res, 'confirmed_pct')), color: 0 }],
        }),
        method(res));
    });
    draw('problems', cards.problems, (res) => {
      const cols = (res.table && res.table.columns) || [];
      const col = (row, name) => row[cols.indexOf(name)];
      fill(cards.problems, 'problems', { ...base, limit: 8 },
        hbarChart({
          title: 'Member incidents in the period',
          rows: ((res.table && res.table.rows) || []).map((row) => ({
            label: `${col(row, 'problem_id')} · ${humanize(col(row, 'status'))}`,
            href: `/ui/problems/${encodeURIComponent(col(row, 'problem_id'))}`,
            value: Number(col(row, 'incidents')) || 0,
            sub: `${col(row, 'signature')}${col(row, 'known_error') && col(row, 'status') !== 'known_error' ? ' · known error' : ''}`,
            color: 1,
          })),
          empty: 'No recurring problem in this period.',
        }), method(res));
    });
    draw('by', cards.by, (res) => {
      const groups = [...new Set((res.series || []).map((s) => s.group || ''))];
      fill(cards.by, 'incidents', { ...base, by: state.by, limit: 10 },
        hbarChart({
          title: `Opened in the period, by ${humanize(state.by).toLowerCase()}`,
          rows: groups.map((g) => ({ label: g || '(none)', value: sum(values(seriesOf(res, 'opened', g))), sub: `${fmtNumber(sum(values(seriesOf(res, 'resolved', g))))} resolved, ${fmtNumber(lastValue(values(seriesOf(res, 'open', g))) || 0)} open` }))
            .filter((x) => x.value > 0).sort((a, b) => b.value - a.value),
          empty: 'No incident opened in this period.',
        }));
    });
    draw('levels', cards.levels, (res) => {
      const groups = [...new Set((res.series || []).map((s) => s.group || ''))].sort();
      fill(cards.levels, 'levels', base,
        barChart({
          title: 'Resolved at each level', labels: labelsOf(res), fullLabels: fullOf(res),
          series: groups.map((g, i) => ({ name: g || '(none)', values: values(seriesOf(res, 'resolved', g)), color: i % 6 })),
          empty: 'No incident was resolved in this period.',
        }),
        h('p', { class: 'method-note' }, groups.map((g) => `${g}: ${fmtNumber(sum(values(seriesOf(res, 'escalations', g))))} escalations, ${fmtNumber(sum(values(seriesOf(res, 'bounces', g))))} bounces`).join(' · ')),
        method(res));
    });
    draw('analysts', cards.analysts, (res) => {
      const groups = [...new Set((res.series || []).map((s) => s.group || ''))];
      fill(cards.analysts, 'analysts', { ...base, limit: 10 },
        hbarChart({
          title: 'Confirmed, rejected or resolved in the period',
          rows: groups.map((g) => {
            const n = (m) => sum(values(seriesOf(res, m, g)));
            return {
              label: g || '(none)', value: n('confirmed') + n('rejected') + n('resolved'),
              sub: `${fmtNumber(n('confirmed'))} confirmed, ${fmtNumber(n('rejected'))} rejected, ${fmtNumber(n('resolved'))} resolved, ${fmtNumber(n('acknowledged'))} acknowledged`,
            };
          }).filter((x) => x.value > 0).sort((a, b) => b.value - a.value),
          empty: 'Nobody handled an incident in this period.',
        }), method(res));
    });
    note.textContent = `UTC buckets of a ${r.step}; figures from GET /api/v1/trends.`;
  }

  const apply = () => {
    state.range = RANGES.find((r) => r.key === rangeSel.value) || RANGES[2];
    state.by = bySel.value;
    const u = new URL(location.href);
    u.search = qs({ range: state.range.key, by: state.by });
    history.replaceState(null, '', u.pathname + u.search);
    load().catch(reportError);
  };
  rangeSel.addEventListener('change', apply);
  bySel.addEventListener('change', apply);
  load().catch(reportError);
}
