// incident.js: one incident: its facts, SLA clocks, known error, alerts
// with the explanation of each membership, timeline, and every workflow
// action with its form.

import { badge, dl, fmtDuration, fmtTime, h, humanize, labelChips, link, parseDuration, parseTime, priorityBadge, replace, s, statusBadge, timeEl } from './dom.js';
import { ApiError, can, get, post, workflow } from './api.js';
import { INCIDENT_FORMS, incidentActions } from './workflow.js';
import { openActionForm } from './forms.js';
import { navigate, poller, toast } from './shell.js';

const POLL_MS = 10000;

export function renderIncident(main, id) {
  const analyst = can('analyst');
  const state = { view: null, picked: new Set(), version: null, timelineLen: -1 };
  const root = h('div', { class: 'incident-page' }, h('p', { class: 'loading' }, `Loading ${id}…`));
  replace(main, h('p', { class: 'crumbs' }, link('/ui/queue', '← NOC queue'), ' · ', link('/ui/incidents', 'All incidents')), root);
  let clockTimer = null;

  const path = `/api/v1/incidents/${encodeURIComponent(id)}`;

  async function load(force) {
    let view;
    try {
      view = await get(path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        replace(root, h('h1', null, id), h('p', { class: 'form-error', role: 'alert' }, `There is no incident ${id}.`));
        poll.stop();
        return;
      }
      throw err;
    }
    // Re-render only when something changed: a refresh must not reset the
    // ticked alerts, the open sections or the scroll position.
    const inc = view.incident;
    if (!force && state.view && inc.version === state.version && (view.timeline || []).length === state.timelineLen &&
        (view.alerts || []).length === (state.view.alerts || []).length) return;
    show(view);
  }

  function show(view) {
    state.view = view;
    state.version = view.incident.version;
    state.timelineLen = (view.timeline || []).length;
    const known = new Set((view.alerts || []).map((a) => a.fingerprint));
    for (const f of [...state.picked]) if (!known.has(f)) state.picked.delete(f);
    const open = new Set([...root.querySelectorAll('details[open][data-key]')].map((d) => d.dataset.key));
    render(view);
    for (const d of root.querySelectorAll('details[data-key]')) if (open.has(d.dataset.key)) d.open = true;
  }

  const poll = poller(() => (document.querySelector('dialog[open]') ? null : load(false)), POLL_MS);

  function render(view) {
    const inc = view.incident;
    document.title = `${inc.id} · Vigia`;
    replace(root,
      header(inc),
      knownError(inc),
      h('div', { class: 'cols' },
        h('div', { class: 'col-main' },
          section('Alerts', `${(view.alerts || []).length}`, alerts(view)),
          section('Timeline', `${(view.timeline || []).length}`, timeline(view.timeline || []))),
        h('aside', { class: 'col-side' },
          analyst ? section('Actions', '', actions(inc)) : null,
          section('SLA', '', slaClocks(inc)),
          section('Details', '', facts(inc)))));
    clearInterval(clockTimer);
    clockTimer = setInterval(updateClocks, 1000);
  }

  function header(inc) {
    return h('header', { class: 'inc-head' },
      h('h1', null, h('span', { class: 'inc-id' }, inc.id), ' ', inc.title || '(untitled)'),
      h('div', { class: 'badges' },
        statusBadge(inc.status), priorityBadge(inc.priority),
        inc.major ? badge('Major incident', 'danger') : null,
        inc.flapping ? badge('Flapping', 'warn', 'Its alerts keep firing and resolving') : null,
        inc.level ? badge(inc.level, 'level', 'Support level') : null,
        inc.pauses && inc.pauses.length && !inc.pauses[inc.pauses.length - 1].end ? badge('SLA paused', 'info') : null,
        inc.merged_into ? h('span', null, 'Merged into ', link(`/ui/incidents/${encodeURIComponent(inc.merged_into)}`, inc.merged_into)) : null));
  }

  function knownError(inc) {
    if (!inc.problem_id && !inc.workaround) return null;
    return h('section', { class: 'known-error', 'aria-labelledby': 'ke-title' },
      h('h2', { id: 'ke-title' }, 'Known error'),
      inc.problem_id ? h('p', null, 'This incident matches problem ', link(`/ui/problems/${encodeURIComponent(inc.problem_id)}`, inc.problem_id), '.') : null,
      inc.workaround ? [h('h3', null, 'Workaround'), h('p', { class: 'prewrap' }, inc.workaround)] : null);
  }

  function facts(inc) {
    const pauses = inc.pauses || [];
    return dl([
      ['Opened', timeEl(inc.opened_at)],
      ['Updated', timeEl(inc.updated_at)],
      ['Confirmed', inc.confirmed_at ? timeEl(inc.confirmed_at) : null],
      ['Acknowledged', inc.acknowledged_at ? timeEl(inc.acknowledged_at) : null],
      ['Work started', inc.started_at ? timeEl(inc.started_at) : null],
      ['Resolved', inc.resolved_at ? timeEl(inc.resolved_at) : null],
      ['Closed', inc.closed_at ? timeEl(inc.closed_at) : null],
      ['Rejected', inc.rejected_at ? timeEl(inc.rejected_at) : null],
      ['Decided by', inc.decided_by],
      ['Reject reason', inc.reject_reason ? humanize(inc.reject_reason) : null],
      ['Closure code', inc.closure_code ? humanize(inc.closure_code) : null],
      ['Severity', inc.severity],
      ['Urgency / impact', inc.urgency || inc.impact ? `${humanize(inc.urgency || '?')} / ${humanize(inc.impact || '?')}` : null],
      ['Category', inc.category ? `${inc.category}${inc.subcategory ? ` / ${inc.subcategory}` : ''}` : null],
      ['Support level', inc.level],
      ['Assignment group', inc.assignment_group],
      ['Assignee', inc.assignee],
      ['Coordinator', inc.coordinator],
      ['Escalations', inc.escalation_count ? String(inc.escalation_count) : null],
      ['Bounces', inc.bounces ? String(inc.bounces) : null],
      ['Reopens', inc.reopens ? String(inc.reopens) : null],
      ['Root-cause CI', inc.root_cause_ci ? `${inc.root_cause_ci}${inc.root_cause_inferred ? ' (inferred)' : ''}` : null],
      ['Grouping', `${inc.method}${inc.rule ? ` · rule ${inc.rule}` : ''}`],
      ['Group key', inc.group_key ? h('code', null, inc.group_key) : null],
      ['Alerts', `${inc.alert_count} (${inc.firing_count} firing)`],
      ['First / last event', h('span', null, timeEl(inc.first_event_at), ' → ', timeEl(inc.last_event_at))],
      ['SLA pauses', pauses.length ? h('ul', { class: 'plain' }, pauses.map((p) => h('li', null, timeEl(p.start), ' → ', p.end ? timeEl(p.end) : 'now'))) : null],
      ['Labels', inc.labels && Object.keys(inc.labels).length ? labelChips(inc.labels) : null],
      ['Version', String(inc.version)],
    ]);
  }

  // --- SLA clocks ---------------------------------------------------------------

  function slaClocks(inc) {
    const box = h('div', { class: 'sla', id: 'sla' });
    box.append(...clockViews(inc));
    return box;
  }

  function updateClocks() {
    const box = root.querySelector('#sla');
    if (!box || !state.view) return;
    replace(box, ...clockViews(state.view.incident));
  }

  function clockViews(inc) {
    if (inc.status === 'rejected' || inc.status === 'merged') {
      return [h('p', { class: 'muted' }, `No SLA: the incident is ${inc.status}.`)];
    }
    const sla = workflow().sla || {};
    const policyName = inc.major ? 'major' : inc.priority;
    const policy = inc.major ? sla.major : (sla.policies || {})[inc.priority];
    const marks = inc.sla_marks || {};
    const out = [];
    if (!policy) {
      out.push(h('p', { class: 'muted' }, 'The SLA policy is not known to this page.'));
    } else {
      out.push(h('p', { class: 'sla-policy' }, `Policy ${policyName === 'major' ? 'for major incidents' : policyName}: respond within ${policy.respond}, resolve within ${policy.resolve}` +
        `${policy.calendar && policy.calendar !== '24x7' ? ` (calendar ${policy.calendar})` : ''}.`));
      const respondStop = inc.acknowledged_at || inc.resolved_at || null;
      out.push(clock('Respond', policy, parseDuration(policy.respond), respondStop, inc, marks.respond_at_risk, marks.respond_breached));
      out.push(clock('Resolve', policy, parseDuration(policy.resolve), inc.resolved_at || null, inc, marks.resolve_at_risk, marks.resolve_breached));
    }
    return out;
  }

  function clock(name, policy, target, stopAt, inc, atRiskMark, breachedMark) {
    const now = Date.now();
    const opened = parseTime(inc.opened_at);
    const stop = parseTime(stopAt);
    const end = stop ? stop.getTime() : now;
    const paused = (inc.pauses || []).some((p) => !p.end);
    const businessHours = policy.calendar && policy.calendar !== '24x7';
    let stateName;
    let detail;
    let share = null;
    if (!businessHours && opened && target) {
      // 24x7: elapsed is wall time from opening to the stop (or now), less
      // the pauses that fall inside it.
      let elapsed = end - opened.getTime();
      for (const p of inc.pauses || []) {
        const ps = Math.max(parseTime(p.start).getTime(), opened.getTime());
        const pe = Math.min(p.end ? parseTime(p.end).getTime() : now, end);
        if (pe > ps) elapsed -= pe - ps;
      }
      const remaining = target - elapsed;
      share = elapsed / target;
      const atRisk = policy.at_risk || 0.8;
      if (stop) {
        stateName = elapsed <= target ? 'met' : 'breached';
        detail = `${stateName === 'met' ? 'Met' : 'Breached'}: took ${fmtDuration(elapsed)} of ${fmtDuration(target)}, stopped ${fmtTime(stopAt)}`;
      } else if (remaining <= 0) {
        stateName = 'breached';
        detail = `Breached ${fmtDuration(-remaining)} ago (due ${fmtTime(new Date(now + remaining).toISOString())})`;
      } else {
        stateName = share >= atRisk ? 'at_risk' : 'ok';
        detail = paused
          ? `Paused with ${fmtDuration(remaining)} left`
          : `${fmtDuration(remaining)} left · due ${fmtTime(new Date(now + remaining).toISOString())}`;
      }
    } else {
      // Business-hours calendars: Vigia computes the clock; the page shows
      // the marks it recorded.
      stateName = breachedMark ? 'breached' : atRiskMark ? 'at_risk' : stop ? 'stopped' : 'running';
      detail = stop ? `Stopped ${fmtTime(stopAt)}` : `Running on calendar ${policy.calendar}`;
    }
    const bar = share === null ? null : s('svg', { viewBox: '0 0 100 6', preserveAspectRatio: 'none', class: 'clock-bar', 'aria-hidden': 'true' },
      s('rect', { class: 'track', x: 0, y: 0, width: 100, height: 6 }),
      s('rect', { class: `fill ${stateName}`, x: 0, y: 0, width: Math.min(100, Math.max(0, share * 100)), height: 6 }));
    return h('div', { class: `clock ${stateName}`, dataset: { clock: name.toLowerCase() } },
      h('div', { class: 'clock-head' }, h('strong', null, name), ' ', h('span', { class: `clock-state ${stateName}` }, humanize(stateName))),
      bar,
      h('div', { class: 'clock-detail' }, detail),
      atRiskMark ? h('div', { class: 'clock-mark' }, 'At risk since ', timeEl(atRiskMark)) : null,
      breachedMark ? h('div', { class: 'clock-mark' }, 'Breached at ', timeEl(breachedMark)) : null);
  }

  // --- alerts -----------------------------------------------------------------------

  function alerts(view) {
    const list = view.alerts || [];
    if (!list.length) return h('p', { class: 'muted' }, 'No alert belongs to this incident any more.');
    return h('ol', { class: 'alerts' }, list.map((a) => alertItem(a)));
  }

  function alertItem(a) {
    const ex = a.explanation;
    const name = (a.labels && (a.labels.alertname || a.labels.trigger)) || a.fingerprint;
    const cbId = `pick-${a.fingerprint}`;
    const pick = analyst ? h('input', {
      type: 'checkbox', id: cbId, class: 'pick', checked: state.picked.has(a.fingerprint),
      'aria-label': `Select alert ${name} (${a.fingerprint}) to move`,
      onchange: (e) => { if (e.target.checked) state.picked.add(a.fingerprint); else state.picked.delete(a.fingerprint); },
    }) : null;
    const summary = a.annotations && (a.annotations.summary || a.annotations.description);
    return h('li', { class: `alert ${a.status}`, dataset: { fingerprint: a.fingerprint } },
      h('div', { class: 'alert-head' },
        pick,
        h('span', { class: `alert-status ${a.status}` }, humanize(a.status)),
        h('strong', { class: 'alert-name' }, name),
        a.ci ? h('span', { class: 'ci', title: 'Configuration item' }, a.ci) : null,
        a.suppressed ? badge('Suppressed', 'info', `by ${a.suppressed}`) : null,
        h('span', { class: 'alert-times' }, timeEl(a.starts_at), ' → ', a.ends_at ? timeEl(a.ends_at) : 'firing')),
      summary ? h('p', { class: 'alert-summary' }, summary) : null,
      labelChips(a.labels, ex && ex.shared_labels),
      explanation(ex),
      h('details', { class: 'alert-more', dataset: { key: `more-${a.fingerprint}` } }, h('summary', null, 'More'),
        dl([
          ['Fingerprint', h('code', null, a.fingerprint)],
          ['Source', a.source],
          ['Notifications', String(a.notifications)],
          ['First / last seen', h('span', null, timeEl(a.first_seen), ' → ', timeEl(a.last_seen))],
          ['Joined', timeEl(a.joined_at)],
          ['Annotations', a.annotations && Object.keys(a.annotations).length ? labelChips(a.annotations) : null],
          ['Source link', safeURL(a.generator_url) ? h('a', { href: safeURL(a.generator_url), rel: 'noopener noreferrer', target: '_blank' }, 'Open in the source') : null],
        ])));
  }

  function explanation(ex) {
    if (!ex) return h('p', { class: 'why muted' }, 'No explanation recorded.');
    return h('div', { class: 'why' },
      h('span', { class: 'why-title' }, 'Why it is here: '),
      h('span', { class: 'method' }, ex.method),
      ex.rule ? h('span', null, ' · rule ', h('code', null, ex.rule)) : null,
      ex.window ? h('span', null, ` · window ${ex.window}`) : null,
      h('span', null, ` · score ${Number(ex.score).toFixed(2)}`),
      ex.reason ? h('p', { class: 'why-reason' }, ex.reason) : null,
      ex.shared_labels && Object.keys(ex.shared_labels).length
        ? h('div', { class: 'why-shared' }, h('span', { class: 'muted' }, 'Shared labels: '), labelChips(ex.shared_labels)) : null,
      ex.ci_path && ex.ci_path.length
        ? h('div', { class: 'why-path' }, h('span', { class: 'muted' }, 'CI path: '),
          h('ol', { class: 'ci-path' }, ex.ci_path.map((c) => h('li', null, c)))) : null);
  }

  // --- timeline ----------------------------------------------------------------------

  function timeline(events) {
    if (!events.length) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
    return h('ol', { class: 'timeline' }, events.slice().reverse().map((ev) => h('li', { class: `ev ev-${ev.kind}` },
      h('div', { class: 'ev-head' },
        timeEl(ev.at),
        h('strong', { class: 'ev-kind' }, humanize(ev.kind)),
        ev.from || ev.to ? h('span', { class: 'ev-move' }, `${humanize(ev.from || '')} → ${humanize(ev.to || '')}`) : null,
        h('span', { class: 'ev-actor' }, 'by ', ev.actor || '?')),
      ev.comment ? h('p', { class: 'ev-comment prewrap' }, ev.comment) : null,
      ev.data && Object.keys(ev.data).length ? labelChips(ev.data) : null)));
  }

  // --- actions ----------------------------------------------------------------------

  function actions(inc) {
    const offered = incidentActions(inc);
    const others = Object.keys(INCIDENT_FORMS).filter((a) => !offered.includes(a));
    const btn = (a, plain) => {
      const def = INCIDENT_FORMS[a];
      return h('button', {
        type: 'button', class: `btn ${plain ? '' : def.primary ? 'primary' : def.danger ? 'danger' : ''}`.trim(), dataset: { action: a },
        onclick: () => openAction(a),
      }, def.label);
    };
    return h('div', { class: 'action-panel' },
      offered.length ? h('div', { class: 'action-buttons' }, offered.map((a) => btn(a, false))) : h('p', { class: 'muted' }, 'No action is open in this state.'),
      others.length ? h('details', { class: 'other-actions', dataset: { key: 'other-actions' } },
        h('summary', null, 'Other actions'),
        h('p', { class: 'help' }, 'Not allowed in this state; Vigia will say which are.'),
        h('div', { class: 'action-buttons' }, others.map((a) => btn(a, true)))) : null);
  }

  function openAction(a) {
    const inc = state.view.incident;
    openActionForm(INCIDENT_FORMS[a], {
      title: `${INCIDENT_FORMS[a].label.replace(/…$/, '')} ${inc.id}`,
      context: { alerts: () => [...state.picked] },
      submit: (body) => post(`${path}/${a}`, body),
      onDone: (reply) => {
        toast(`${inc.id}: ${INCIDENT_FORMS[a].done || `${humanize(a)} done`}.`);
        if (a === 'move') state.picked.clear();
        if (reply && reply.incident) show(reply);
        if (a === 'merge' && reply && reply.incident && reply.incident.merged_into) {
          toast(`${inc.id} merged into ${reply.incident.merged_into}.`, { action: { label: 'Open it', run: () => navigate(`/ui/incidents/${encodeURIComponent(reply.incident.merged_into)}`) } });
        }
      },
      onAllowed: (other) => { if (INCIDENT_FORMS[other]) openAction(other); },
      allowedLabel: (other) => (INCIDENT_FORMS[other] ? INCIDENT_FORMS[other].label : humanize(other)),
    });
  }

  return () => {
    poll.stop();
    clearInterval(clockTimer);
    for (const d of document.querySelectorAll('dialog')) d.remove();
  };
}

function section(title, count, body) {
  const id = `sec-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title, count ? h('span', { class: 'count' }, count) : null),
    body);
}

// safeURL lets through only http and https links from alert data.
function safeURL(u) {
  if (!u) return null;
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
