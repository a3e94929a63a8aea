// queue.js: the NOC queue (new incidents awaiting validation) and the
// incident list (any status), live-updating.
//
// Keys: j/k or arrows move, c confirms, r rejects with the chosen reason,
// x rejects with another reason, Enter or o opens, / searches, ? helps.

import { badge, debounce, fmtAgo, fmtTime, h, humanize, link, priorityBadge, replace, statusBadge, timeEl } from './dom.js';
import { ApiError, can, get, post, qs, workflow } from './api.js';
import { INCIDENT_FORMS, INCIDENT_STATUSES, PRIORITIES } from './workflow.js';
import { openActionForm } from './forms.js';
import { navigate, poller, reportError, toast } from './shell.js';

const POLL_MS = 4000;
const PAGE = 1000;
const MAX_PAGES = 3;
const REASON_KEY = 'vigia.rejectReason';

function prioRank(p) {
  const i = PRIORITIES.indexOf(p);
  return i < 0 ? 99 : i;
}

// sortQueue puts the highest priority first and, within a priority, the newest.
export function sortQueue(list) {
  return list.slice().sort((a, b) => prioRank(a.priority) - prioRank(b.priority) ||
    (Date.parse(b.opened_at) - Date.parse(a.opened_at)) || (a.id < b.id ? 1 : -1));
}

export function renderQueue(main, { queue }) {
  const analyst = can('analyst');
  const url = new URL(location.href);
  const statusParam = url.searchParams.get('status');
  const state = {
    // "any" in the URL is every status; no parameter is the page's default.
    status: statusParam === null ? (queue ? 'new' : '') : (statusParam === 'any' ? '' : statusParam),
    priorities: url.searchParams.getAll('priority'),
    q: url.searchParams.get('q') || '',
    incidents: [],
    selected: null,
    selectedIndex: 0,
    truncated: false,
    busy: new Set(),
    known: null,
  };
  const reasons = workflow().reject_reasons || [];
  let defaultReason = sessionStorage.getItem(REASON_KEY) || '';
  if (!reasons.includes(defaultReason)) defaultReason = reasons.includes('false_positive') ? 'false_positive' : (reasons[0] || '');

  // --- toolbar
  const statusSel = h('select', { id: 'f-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    INCIDENT_STATUSES.map((s) => h('option', { value: s }, humanize(s))));
  statusSel.value = state.status;
  const prioBoxes = PRIORITIES.map((p) => {
    const cb = h('input', { type: 'checkbox', value: p, id: `f-prio-${p}`, checked: state.priorities.includes(p) });
    return h('label', { class: 'prio-filter', for: `f-prio-${p}` }, cb, priorityBadge(p));
  });
  const search = h('input', { id: 'f-q', type: 'search', placeholder: 'Title or id', value: state.q, autocomplete: 'off', 'aria-keyshortcuts': '/' });
  const reasonSel = h('select', { id: 'f-reason', name: 'reason', 'aria-describedby': 'reason-help' },
    reasons.map((r) => h('option', { value: r }, humanize(r))));
  reasonSel.value = defaultReason;
  const live = h('span', { class: 'live', 'aria-live': 'off' }, 'connecting…');
  const counts = h('p', { class: 'counts', role: 'status' });

  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filters', onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'field inline' }, h('label', { for: 'f-status' }, 'Status'), statusSel),
    h('fieldset', { class: 'field inline prio-set' }, h('legend', null, 'Priority'), prioBoxes),
    h('div', { class: 'field inline grow' }, h('label', { for: 'f-q' }, 'Search'), search),
    analyst ? h('div', { class: 'field inline' },
      h('label', { for: 'f-reason' }, 'Reject reason'), reasonSel,
      h('span', { id: 'reason-help', class: 'sr-only' }, 'The reason the Reject buttons and the r key use.')) : null);

  const tbody = h('tbody');
  const table = h('table', { class: 'grid queue', 'aria-label': queue ? 'Incidents awaiting validation' : 'Incidents' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Priority'),
      h('th', { scope: 'col' }, 'Incident'),
      h('th', { scope: 'col', class: 'num' }, 'Alerts'),
      h('th', { scope: 'col' }, 'Root-cause CI'),
      h('th', { scope: 'col' }, 'Method'),
      h('th', { scope: 'col' }, 'Opened'),
      queue ? null : h('th', { scope: 'col' }, 'Status'),
      analyst ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
    tbody);
  const empty = h('p', { class: 'empty', hidden: true });

  const help = h('details', { class: 'keys' }, h('summary', null, 'Keyboard'),
    h('ul', null,
      h('li', null, h('kbd', null, 'j'), ' / ', h('kbd', null, 'k'), ' next / previous'),
      h('li', null, h('kbd', null, 'Enter'), ' or ', h('kbd', null, 'o'), ' open the incident'),
      analyst ? h('li', null, h('kbd', null, 'c'), ' confirm') : null,
      analyst ? h('li', null, h('kbd', null, 'r'), ' reject with the chosen reason') : null,
      analyst ? h('li', null, h('kbd', null, 'x'), ' reject with another reason…') : null,
      h('li', null, h('kbd', null, '/'), ' search')));

  replace(main,
    h('div', { class: 'page-head' },
      h('h1', null, queue ? 'NOC queue' : 'Incidents'),
      live),
    filters,
    h('div', { class: 'queue-meta' }, counts, help),
    h('div', { class: 'table-wrap' }, table),
    empty);

  // --- data
  async function load() {
    const params = { status: state.status || undefined, priority: state.priorities, q: state.q || undefined, limit: PAGE };
    let all = [];
    let cursor = '';
    let truncated = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      const reply = await get(`/api/v1/incidents${qs({ ...params, cursor: cursor || undefined })}`);
      all = all.concat(reply.incidents || []);
      cursor = reply.next_cursor || '';
      if (!cursor) break;
      if (page === MAX_PAGES - 1) truncated = true;
    }
    const prev = state.known;
    state.known = new Set(all.map((i) => i.id));
    state.incidents = queue ? sortQueue(all) : all;
    state.truncated = truncated;
    render(prev);
    live.textContent = `Live · updated ${fmtTime(new Date().toISOString()).split(' ').pop()}`;
    live.classList.remove('stale');
  }

  const poll = poller(async () => {
    try {
      await load();
    } catch (err) {
      live.textContent = `Not updating: ${err.message}`;
      live.classList.add('stale');
      if (!(err instanceof ApiError)) throw err;
    }
  }, POLL_MS);

  function render(prevIDs) {
    const list = state.incidents;
    if (!list.some((i) => i.id === state.selected)) {
      state.selected = list.length ? list[Math.min(state.selectedIndex || 0, list.length - 1)].id : null;
    }
    // Keep the keyboard focus on the same control across a refresh.
    const act = document.activeElement;
    const focusRow = act && tbody.contains(act) ? act.closest('tr') : null;
    const focusKey = focusRow ? [focusRow.dataset.id, act.dataset.act || (act.tagName === 'A' ? 'link' : '')] : null;
    // Rows whose incident did not change are kept as they are: a refresh
    // does not disturb a click, the focus or a screen reader.
    const next = new Map();
    const trs = list.map((inc) => {
      const key = rowKey(inc);
      const old = rows.get(inc.id);
      const tr = old && old.key === key ? old.tr : row(inc, prevIDs && !prevIDs.has(inc.id));
      next.set(inc.id, { key, tr });
      return tr;
    });
    rows = next;
    const kids = tbody.children;
    if (trs.length !== kids.length || trs.some((tr, i) => kids[i] !== tr)) tbody.replaceChildren(...trs);
    for (const t of tbody.querySelectorAll('time[datetime]')) t.textContent = fmtAgo(new Date(t.dateTime));
    if (focusKey && !tbody.contains(document.activeElement)) {
      const tr = trs.find((r) => r.dataset.id === focusKey[0]);
      const el = tr && (focusKey[1] === 'link' ? tr.querySelector('a') : tr.querySelector(`[data-act="${focusKey[1]}"]`));
      if (el) el.focus({ preventScroll: true });
    }
    const byPrio = PRIORITIES.map((p) => [p, list.filter((i) => i.priority === p).length]).filter(([, n]) => n > 0);
    replace(counts,
      `${list.length}${state.truncated ? '+' : ''} ${queue && state.status === 'new' ? 'incident(s) awaiting validation' : 'incident(s)'}`,
      byPrio.length ? ` — ${byPrio.map(([p, n]) => `${p}: ${n}`).join(', ')}` : '');
    empty.hidden = list.length > 0;
    empty.textContent = queue && state.status === 'new' && !state.q && state.priorities.length === 0
      ? 'Nothing awaits validation. New incidents appear here as they open.'
      : 'No incident matches these filters.';
    table.hidden = list.length === 0;
    markSelected(false);
  }

  // rows are the table rows by incident id, with the key they were drawn from.
  let rows = new Map();

  function rowKey(inc) {
    return [inc.version, inc.status, inc.priority, inc.title, inc.alert_count, inc.firing_count, inc.root_cause_ci,
      inc.method, inc.rule, inc.major, inc.flapping, inc.problem_id, state.busy.has(inc.id), reasonSel.value].join('\u0000');
  }

  function row(inc, fresh) {
    const ci = inc.root_cause_ci
      ? h('span', { class: 'ci' }, inc.root_cause_ci, inc.root_cause_inferred ? h('span', { class: 'muted' }, ' (inferred)') : null)
      : h('span', { class: 'muted' }, '—');
    const badges = [
      inc.major ? badge('Major', 'danger', 'Major incident') : null,
      inc.flapping ? badge('Flapping', 'warn', 'Its alerts keep firing and resolving') : null,
      inc.problem_id ? badge('Known error', 'info', `Matches ${inc.problem_id}${inc.workaround ? ': a workaround exists' : ''}`) : null,
    ];
    const tr = h('tr', { dataset: { id: inc.id }, class: fresh ? 'fresh' : null },
      h('td', null, priorityBadge(inc.priority)),
      h('td', { class: 'title-cell' },
        h('div', null, link(`/ui/incidents/${encodeURIComponent(inc.id)}`, inc.id), ' ', badges),
        h('div', { class: 'title' }, inc.title || '(untitled)'),
        inc.severity || inc.category ? h('div', { class: 'sub' }, [inc.severity, inc.category].filter(Boolean).join(' · ')) : null),
      h('td', { class: 'num' }, h('span', { title: `${inc.firing_count} firing of ${inc.alert_count}` }, String(inc.alert_count),
        inc.firing_count ? h('span', { class: 'firing-count' }, ` (${inc.firing_count} firing)`) : null)),
      h('td', null, ci),
      h('td', null, h('span', { class: 'method' }, inc.method || '—'), inc.rule ? h('div', { class: 'sub' }, inc.rule) : null),
      h('td', null, timeEl(inc.opened_at, true)),
      queue ? null : h('td', null, statusBadge(inc.status)),
      analyst ? h('td', { class: 'actions' }, inc.status === 'new' ? [
        h('button', { type: 'button', class: 'btn small primary', dataset: { act: 'confirm' }, disabled: state.busy.has(inc.id), onclick: (e) => { e.stopPropagation(); confirmInc(inc.id); } }, 'Confirm'),
        h('button', { type: 'button', class: 'btn small danger', dataset: { act: 'reject' }, disabled: state.busy.has(inc.id), title: `Reject as ${humanize(reasonSel.value)}`, onclick: (e) => { e.stopPropagation(); rejectInc(inc.id, reasonSel.value); } },
          'Reject', h('span', { class: 'reason-tag' }, ` · ${humanize(reasonSel.value)}`)),
        h('button', { type: 'button', class: 'btn small', dataset: { act: 'reject-other' }, 'aria-label': `Reject ${inc.id} with another reason`, title: 'Reject with another reason (x)', onclick: (e) => { e.stopPropagation(); rejectWith(inc.id); } }, 'Other…'),
      ] : null) : null);
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a, button')) return;
      select(inc.id);
    });
    tr.addEventListener('dblclick', (e) => {
      if (e.target.closest('a, button')) return;
      open(inc.id);
    });
    return tr;
  }

  function select(id, scroll = true) {
    state.selected = id;
    state.selectedIndex = state.incidents.findIndex((i) => i.id === id);
    markSelected(scroll);
  }

  function markSelected(scroll) {
    for (const tr of tbody.children) {
      const on = tr.dataset.id === state.selected;
      if (on) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
      tr.classList.toggle('selected', on);
      if (on && scroll) tr.scrollIntoView({ block: 'nearest' });
    }
  }

  function move(delta) {
    const list = state.incidents;
    if (!list.length) return;
    let i = list.findIndex((x) => x.id === state.selected);
    i = Math.max(0, Math.min(list.length - 1, (i < 0 ? 0 : i + delta)));
    select(list[i].id);
  }

  function open(id) {
    if (id) navigate(`/ui/incidents/${encodeURIComponent(id)}`);
  }

  // --- actions
  function leaveQueue(id) {
    // A decided incident leaves a list of new incidents at once.
    if (state.status !== 'new') return;
    const i = state.incidents.findIndex((x) => x.id === id);
    if (i < 0) return;
    state.incidents.splice(i, 1);
    if (state.selected === id) {
      const next = state.incidents[Math.min(i, state.incidents.length - 1)];
      state.selected = next ? next.id : null;
      state.selectedIndex = i;
    }
    render(null);
  }

  async function act(id, action, body, done) {
    if (state.busy.has(id)) return;
    state.busy.add(id);
    render(null);
    try {
      const reply = await post(`/api/v1/incidents/${encodeURIComponent(id)}/${action}`, body);
      state.busy.delete(id);
      leaveQueue(id);
      done(reply);
    } catch (err) {
      state.busy.delete(id);
      render(null);
      if (err instanceof ApiError && err.status === 409) {
        toast(`${id}: ${err.message}. Allowed: ${err.allowed.map(humanize).join(', ') || 'none'}.`, { kind: 'error', ms: 10000 });
      } else {
        reportError(err);
      }
    } finally {
      poll.now();
    }
  }

  function confirmInc(id) {
    act(id, 'confirm', {}, () => toast(`${id} confirmed.`));
  }

  function rejectInc(id, reason) {
    if (!reason) return;
    if (reason === 'other') {
      rejectWith(id, 'other');
      return;
    }
    act(id, 'reject', { reason }, () => toast(`${id} rejected as ${humanize(reason).toLowerCase()}.`, {
      action: { label: 'Undo', run: () => undoReject(id) },
    }));
  }

  function rejectWith(id, reason) {
    openActionForm(INCIDENT_FORMS.reject, {
      title: `Reject ${id}`,
      initial: { reason: reason || reasonSel.value },
      submit: (body) => post(`/api/v1/incidents/${encodeURIComponent(id)}/reject`, body),
      onDone: () => { leaveQueue(id); toast(`${id} rejected.`); poll.now(); },
    });
  }

  async function undoReject(id) {
    try {
      await post(`/api/v1/incidents/${encodeURIComponent(id)}/reopen`, { comment: 'rejection undone from the queue' });
      toast(`${id} is back in the queue.`);
    } catch (err) {
      reportError(err);
    }
    poll.now();
  }

  // --- filters
  function applyFilters() {
    state.status = statusSel.value;
    state.priorities = prioBoxes.map((l) => l.querySelector('input')).filter((c) => c.checked).map((c) => c.value);
    state.q = search.value.trim();
    const u = new URL(location.href);
    u.search = qs({ status: state.status !== (queue ? 'new' : '') ? (state.status || 'any') : undefined, priority: state.priorities, q: state.q });
    history.replaceState(null, '', u.pathname + u.search);
    poll.now();
  }
  statusSel.addEventListener('change', applyFilters);
  for (const l of prioBoxes) l.querySelector('input').addEventListener('change', applyFilters);
  search.addEventListener('input', debounce(applyFilters, 300));
  reasonSel.addEventListener('change', () => {
    sessionStorage.setItem(REASON_KEY, reasonSel.value);
    render(null);
  });

  // --- keyboard
  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    const t = e.target;
    const typing = t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
    if (typing) {
      if (e.key === 'Escape' && t === search) search.blur();
      return;
    }
    const id = state.selected;
    const cur = state.incidents.find((i) => i.id === id);
    switch (e.key) {
      case 'j': case 'ArrowDown': move(1); break;
      case 'k': case 'ArrowUp': move(-1); break;
      case 'Enter': case 'o': open(id); break;
      case '/': search.focus(); break;
      case '?': help.open = !help.open; break;
      case 'c': if (analyst && cur && cur.status === 'new') confirmInc(id); else return; break;
      case 'r': if (analyst && cur && cur.status === 'new') rejectInc(id, reasonSel.value); else return; break;
      case 'x': if (analyst && cur && cur.status === 'new') rejectWith(id); else return; break;
      default: return;
    }
    e.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  return () => {
    poll.stop();
    document.removeEventListener('keydown', onKey);
  };
}
