// problems.js: the problem review (candidates and problems with their
// recurrence charts and member incidents) and the page of one problem.

import { badge, debounce, dl, fmtDuration, h, humanize, labelChips, link, parseDuration, priorityBadge, replace, timeEl } from './dom.js';
import { ApiError, can, get, post, qs } from './api.js';
import { PROBLEM_FORMS, PROBLEM_STATUSES, problemActions } from './workflow.js';
import { openActionForm } from './forms.js';
import { barChart } from './charts.js';
import { reportError, toast } from './shell.js';

const DAY = 86400000;
// Buckets start at 00:00 UTC: label them in UTC.
const shortDate = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', timeZone: 'UTC' });
const fullDate = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', year: 'numeric', timeZone: 'UTC' });

// fillSeries turns the non-empty buckets of a series into a gap-free one
// from the first bucket to the last (at most max buckets, the latest).
export function fillSeries(buckets, stepMs, max = 120) {
  if (!buckets || !buckets.length) return { labels: [], fullLabels: [], values: [] };
  const byStart = new Map(buckets.map((b) => [Date.parse(b.start), b.count]));
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  let first = starts[0];
  const last = starts[starts.length - 1];
  if ((last - first) / stepMs + 1 > max) first = last - (max - 1) * stepMs;
  const labels = [];
  const fullLabels = [];
  const values = [];
  for (let t = first; t <= last; t += stepMs) {
    const d = new Date(t);
    labels.push(shortDate.format(d));
    fullLabels.push(`${stepMs > DAY ? 'Week of ' : ''}${fullDate.format(d)}`);
    values.push(byStart.get(t) || 0);
  }
  return { labels, fullLabels, values };
}

function recurrence(p, step) {
  const week = step === 'week';
  const { labels, fullLabels, values } = fillSeries(week ? p.series.week : p.series.day, week ? 7 * DAY : DAY);
  return barChart({
    title: `Incidents per ${week ? 'week' : 'day'}`,
    labels, fullLabels, values, empty: 'No recurrence recorded.',
  });
}

function chartBox(p) {
  let step = 'day';
  const holder = h('div', { class: 'chart-holder' }, recurrence(p, step));
  const dayBtn = h('button', { type: 'button', class: 'btn small seg', 'aria-pressed': 'true' }, 'Day');
  const weekBtn = h('button', { type: 'button', class: 'btn small seg', 'aria-pressed': 'false' }, 'Week');
  const set = (st) => {
    step = st;
    dayBtn.setAttribute('aria-pressed', String(st === 'day'));
    weekBtn.setAttribute('aria-pressed', String(st === 'week'));
    replace(holder, recurrence(p, step));
  };
  dayBtn.addEventListener('click', () => set('day'));
  weekBtn.addEventListener('click', () => set('week'));
  return h('div', { class: 'recurrence' }, h('div', { class: 'seg-group', role: 'group', 'aria-label': 'Recurrence step' }, dayBtn, weekBtn), holder);
}

function members(p, limit) {
  const ids = p.incident_ids || [];
  const shown = limit ? ids.slice(-limit).reverse() : ids.slice().reverse();
  return h('div', { class: 'members' },
    h('h3', null, `Member incidents (${ids.length})`),
    h('ul', { class: 'inline-list' }, shown.map((id) => h('li', null, link(`/ui/incidents/${encodeURIComponent(id)}`, id)))),
    limit && ids.length > limit ? h('p', { class: 'muted' }, `and ${ids.length - limit} earlier; `, link(`/ui/problems/${encodeURIComponent(p.id)}`, 'see all')) : null);
}

function summaryFacts(p) {
  return dl([
    ['Signature', h('code', { class: 'signature' }, p.signature)],
    ['Kind', humanize(p.kind)],
    ['Incidents', String((p.incident_ids || []).length)],
    ['First / last seen', h('span', null, timeEl(p.first_seen), ' → ', timeEl(p.last_seen))],
    ['Total open time', p.open_time ? fmtDuration(parseDuration(p.open_time)) : null],
    ['Urgency / impact', p.urgency || p.impact ? `${humanize(p.urgency || '?')} / ${humanize(p.impact || '?')}` : null],
    ['CIs', p.cis && p.cis.length ? p.cis.join(', ') : null],
    ['Services', p.services && p.services.length ? p.services.join(', ') : null],
    ['Recurrences after resolution', p.recurrences ? String(p.recurrences) : null],
    ['Reject reason', p.reject_reason],
    ['Quiet until', p.quiet_until ? timeEl(p.quiet_until) : null],
    ['Closure code', p.closure_code ? humanize(p.closure_code) : null],
  ]);
}

function knownError(p) {
  if (!p.root_cause && !p.workaround) return null;
  return h('div', { class: 'known-error' },
    p.root_cause ? [h('h3', null, 'Root cause'), h('p', { class: 'prewrap' }, p.root_cause)] : null,
    p.workaround ? [h('h3', null, 'Workaround'), h('p', { class: 'prewrap' }, p.workaround)] : null);
}

function actionButtons(p, onChange) {
  if (!can('problem_manager')) return null;
  const acts = problemActions(p);
  if (!acts.length) return null;
  return h('div', { class: 'action-buttons' }, acts.map((a) => {
    const def = PROBLEM_FORMS[a];
    return h('button', {
      type: 'button', class: `btn ${def.primary ? 'primary' : def.danger ? 'danger' : ''}`.trim(), dataset: { action: a, problem: p.id },
      onclick: () => openProblemAction(p, a, onChange),
    }, def.label);
  }));
}

function openProblemAction(p, a, onChange) {
  let def = PROBLEM_FORMS[a];
  if (a === 'known_error' && p.status === 'known_error') {
    // Updating a known error: a field left empty keeps the recorded text.
    def = { ...def, help: 'Fields left empty keep the recorded text.', fields: def.fields.map((f) => ({ ...f, required: false })) };
  }
  openActionForm(def, {
    title: `${def.label} ${p.id}`,
    submit: (body) => post(`/api/v1/problems/${encodeURIComponent(p.id)}/${a}`, body),
    onDone: (reply) => {
      toast(`${p.id}: ${def.done || `${humanize(a)} done`}.`);
      onChange(reply);
    },
    onAllowed: (other) => { if (PROBLEM_FORMS[other]) openProblemAction(p, other, onChange); },
    allowedLabel: (other) => (PROBLEM_FORMS[other] ? PROBLEM_FORMS[other].label : humanize(other)),
  });
}

function head(p, asLink) {
  return h('div', { class: 'problem-head' },
    h(asLink ? 'h2' : 'h1', null, asLink ? link(`/ui/problems/${encodeURIComponent(p.id)}`, p.id) : p.id, ' ', h('span', { class: 'sig-title' }, p.signature)),
    h('div', { class: 'badges' },
      h('span', { class: `status status-${p.status}` }, humanize(p.status)),
      p.priority ? priorityBadge(p.priority) : null,
      p.priority_manual ? badge('set by hand', 'info') : null,
      badge(humanize(p.kind), 'kind')));
}

// --- the review list -------------------------------------------------------------

export function renderProblems(main) {
  const url = new URL(location.href);
  const state = { status: url.searchParams.get('status') ?? 'candidate', q: url.searchParams.get('q') || '' };
  const statusSel = h('select', { id: 'p-status' }, h('option', { value: '' }, 'Any status'),
    PROBLEM_STATUSES.map((st) => h('option', { value: st }, humanize(st))));
  statusSel.value = state.status;
  const search = h('input', { id: 'p-q', type: 'search', value: state.q, placeholder: 'Signature, CI, service', autocomplete: 'off' });
  const refresh = h('button', { type: 'button', class: 'btn small', onclick: () => load() }, 'Refresh');
  const list = h('div', { class: 'problem-list', 'aria-live': 'polite', 'aria-busy': 'true' });
  const count = h('p', { class: 'counts', role: 'status' });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Problem review'), refresh),
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field inline' }, h('label', { for: 'p-status' }, 'Status'), statusSel),
      h('div', { class: 'field inline grow' }, h('label', { for: 'p-q' }, 'Search'), search)),
    count,
    list);

  let seq = 0;
  async function load() {
    const my = ++seq;
    list.setAttribute('aria-busy', 'true');
    try {
      const reply = await get(`/api/v1/problems${qs({ status: state.status || undefined, q: state.q || undefined })}`);
      if (my !== seq) return;
      const probs = (reply.problems || []).slice().sort((a, b) =>
        (a.priority || 'P9').localeCompare(b.priority || 'P9') || Date.parse(b.last_seen) - Date.parse(a.last_seen));
      count.textContent = `${probs.length} ${state.status === 'candidate' ? 'candidate(s) awaiting review' : 'problem(s)'}`;
      if (!probs.length) {
        replace(list, h('p', { class: 'empty' }, state.status === 'candidate'
          ? 'No candidate awaits review. Recurrence detection proposes them as incidents recur.'
          : 'No problem matches these filters.'));
      } else {
        replace(list, probs.map(card));
      }
    } catch (err) {
      if (my !== seq) return;
      if (err instanceof ApiError && err.status === 404) {
        replace(list, h('p', { class: 'empty' }, 'Problem management is off for this store.'));
      } else {
        reportError(err);
      }
    } finally {
      if (my === seq) list.setAttribute('aria-busy', 'false');
    }
  }

  function card(p) {
    const el = h('article', { class: 'card problem', dataset: { id: p.id, status: p.status } });
    const fill = (cur) => replace(el,
      head(cur, true),
      h('div', { class: 'problem-body' },
        h('div', null, summaryFacts(cur), knownError(cur), members(cur, 12)),
        chartBox(cur)),
      actionButtons(cur, (updated) => {
        if (state.status && updated.status !== state.status) {
          el.classList.add('decided');
          replace(el, head(updated, true), h('p', { class: 'muted' }, `Now ${humanize(updated.status)}.`));
        } else {
          fill(updated);
        }
      }));
    fill(p);
    return el;
  }

  const apply = () => {
    state.status = statusSel.value;
    state.q = search.value.trim();
    const u = new URL(location.href);
    u.search = qs({ status: state.status === 'candidate' ? undefined : (state.status || ''), q: state.q });
    history.replaceState(null, '', u.pathname + u.search);
    load();
  };
  statusSel.addEventListener('change', apply);
  search.addEventListener('input', debounce(apply, 300));
  load();
}

// --- one problem ----------------------------------------------------------------------

export function renderProblem(main, id) {
  const root = h('div', { class: 'problem-page' }, h('p', { class: 'loading' }, `Loading ${id}…`));
  replace(main, h('p', { class: 'crumbs' }, link('/ui/problems', '← Problem review')), root);

  function show(p) {
    document.title = `${p.id} · Vigia`;
    replace(root,
      head(p, false),
      h('div', { class: 'cols' },
        h('div', { class: 'col-main' },
          h('section', { class: 'card' }, h('h2', null, 'Recurrence'), chartBox(p)),
          knownError(p) ? h('section', { class: 'card' }, h('h2', null, 'Known error'), knownError(p)) : null,
          h('section', { class: 'card' }, h('h2', null, `Member incidents (${(p.members || []).length})`), memberTable(p)),
          h('section', { class: 'card' }, h('h2', null, 'Timeline'), timeline(p.timeline || []))),
        h('aside', { class: 'col-side' },
          can('problem_manager') ? h('section', { class: 'card' }, h('h2', null, 'Actions'), actionButtons(p, show) || h('p', { class: 'muted' }, 'No action is open in this state.')) : null,
          h('section', { class: 'card' }, h('h2', null, 'Details'), summaryFacts(p)))));
  }

  get(`/api/v1/problems/${encodeURIComponent(id)}`).then(show).catch((err) => {
    if (err instanceof ApiError && err.status === 404) {
      replace(root, h('h1', null, id), h('p', { class: 'form-error', role: 'alert' }, `There is no problem ${id}.`));
    } else {
      reportError(err);
    }
  });
}

function memberTable(p) {
  const ms = (p.members || []).slice().reverse();
  if (!ms.length) return h('p', { class: 'muted' }, 'No member incident.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
    h('thead', null, h('tr', null, ['Incident', 'Priority', 'Opened', 'Resolved', 'Open for', 'CIs', 'Services'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, ms.map((m) => h('tr', null,
      h('td', null, link(`/ui/incidents/${encodeURIComponent(m.incident_id)}`, m.incident_id)),
      h('td', null, m.priority ? priorityBadge(m.priority) : '—'),
      h('td', null, timeEl(m.opened_at)),
      h('td', null, m.resolved_at ? timeEl(m.resolved_at) : h('span', { class: 'muted' }, 'open')),
      h('td', null, fmtDuration(parseDuration(m.open_duration))),
      h('td', null, (m.cis || []).join(', ') || '—'),
      h('td', null, (m.services || []).join(', ') || '—'))))));
}

function timeline(events) {
  if (!events.length) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
  return h('ol', { class: 'timeline' }, events.slice().reverse().map((ev) => h('li', { class: 'ev' },
    h('div', { class: 'ev-head' }, timeEl(ev.at), h('strong', { class: 'ev-kind' }, humanize(ev.kind)),
      ev.from || ev.to ? h('span', { class: 'ev-move' }, `${humanize(ev.from || '')} → ${humanize(ev.to || '')}`) : null,
      h('span', { class: 'ev-actor' }, 'by ', ev.actor || '?')),
    ev.comment ? h('p', { class: 'ev-comment prewrap' }, ev.comment) : null,
    ev.data && Object.keys(ev.data).length ? labelChips(ev.data) : null)));
}
