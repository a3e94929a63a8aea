// workflow.js: the incident and problem lifecycles as the UI needs them,
// and the form of every action.
//
// The tables below say which actions to offer for a status. They are a hint
// for the screen only: the server decides, and a forbidden action answers
// 409 with the allowed list, which the UI then shows. ui_test.go checks the
// tables against incident.Allowed and problem.Allowed, so they cannot drift.

/* BEGIN incident-allowed */
export const INCIDENT_ALLOWED = {
  "new": ["confirm", "reject", "assign", "escalate", "comment", "merge", "move", "categorize", "declare_major"],
  "confirmed": ["acknowledge", "assign", "escalate", "resolve", "comment", "merge", "move", "categorize", "declare_major", "pause", "resume"],
  "rejected": ["reopen", "comment", "move"],
  "acknowledged": ["assign", "escalate", "start", "resolve", "comment", "merge", "move", "categorize", "declare_major", "pause", "resume"],
  "in_progress": ["assign", "escalate", "resolve", "comment", "merge", "move", "categorize", "declare_major", "pause", "resume"],
  "resolved": ["close", "reopen", "comment", "move", "categorize"],
  "closed": ["comment"],
  "merged": []
};
/* END incident-allowed */

/* BEGIN problem-allowed */
export const PROBLEM_ALLOWED = {
  "candidate": ["confirm", "reject", "known_error", "set_priority"],
  "confirmed": ["reject", "known_error", "resolve", "close", "set_priority"],
  "rejected": ["reopen"],
  "known_error": ["known_error", "resolve", "close", "set_priority"],
  "resolved": ["close", "reopen"],
  "closed": ["reopen"]
};
/* END problem-allowed */

export const INCIDENT_STATUSES = Object.keys(INCIDENT_ALLOWED);
export const PROBLEM_STATUSES = Object.keys(PROBLEM_ALLOWED);
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'];

function paused(inc) {
  const p = inc.pauses || [];
  return p.length > 0 && !p[p.length - 1].end;
}

// incidentActions lists the actions to offer for an incident, refined as
// incident.Incident.Allowed does: pause only when not paused, resume only
// when paused, escalate only below L4.
export function incidentActions(inc) {
  return (INCIDENT_ALLOWED[inc.status] || []).filter((a) => {
    if (a === 'pause') return !paused(inc);
    if (a === 'resume') return paused(inc);
    if (a === 'escalate') return inc.level !== 'L4';
    return true;
  });
}

export function problemActions(p) {
  return PROBLEM_ALLOWED[p.status] || [];
}

// Field kinds: text, textarea, select (options: a function of the workflow
// settings from /api/v1/whoami), incident (an incident id), alerts (the
// alerts ticked in the alert table).
const comment = { name: 'comment', label: 'Comment', kind: 'textarea' };
const commentRequired = { ...comment, required: true };

export const INCIDENT_FORMS = {
  confirm: { label: 'Confirm', done: 'confirmed', primary: true, help: 'A real incident: it moves on to be worked.', fields: [comment] },
  reject: {
    label: 'Reject', done: 'rejected', danger: true, help: 'Not an incident. A comment is required for the reason "other".',
    fields: [
      { name: 'reason', label: 'Reason', kind: 'select', required: true, options: (wf) => wf.reject_reasons || [] },
      comment,
      { name: 'suppress_for', label: 'Suppress these alerts for (optional)', kind: 'text', placeholder: 'e.g. 2h or 1d' },
    ],
  },
  acknowledge: { label: 'Acknowledge', done: 'acknowledged', primary: true, help: 'Stops the respond SLA clock; you become the assignee if there is none.', fields: [comment] },
  assign: {
    label: 'Assign', done: 'assigned', help: 'Set at least one of group, assignee and level.',
    fields: [
      { name: 'group', label: 'Assignment group', kind: 'text' },
      { name: 'assignee', label: 'Assignee', kind: 'text' },
      { name: 'level', label: 'Support level', kind: 'select', emptyLabel: '(unchanged)', options: (wf) => ['', ...(wf.support_levels || [])] },
      comment,
    ],
  },
  escalate: {
    label: 'Escalate', done: 'escalated', help: 'Up one support level, or to the level given.',
    fields: [
      { name: 'level', label: 'To level', kind: 'select', emptyLabel: '(the next level)', options: (wf) => ['', ...(wf.support_levels || [])] },
      { name: 'group', label: 'Group (optional)', kind: 'text' },
      comment,
    ],
  },
  start: { label: 'Start work', done: 'work started', primary: true, fields: [comment] },
  resolve: {
    label: 'Resolve', done: 'resolved', primary: true,
    fields: [{ name: 'closure_code', label: 'Closure code', kind: 'select', required: true, options: (wf) => wf.closure_codes || [] }, comment],
  },
  close: {
    label: 'Close', done: 'closed',
    fields: [{ name: 'closure_code', label: 'Closure code', kind: 'select', emptyLabel: '(keep the one set at resolve)', options: (wf) => ['', ...(wf.closure_codes || [])] }, comment],
  },
  reopen: { label: 'Reopen', done: 'reopened', fields: [comment] },
  comment: { label: 'Comment', done: 'commented', fields: [commentRequired] },
  merge: {
    label: 'Merge into…', done: 'merged', help: 'This incident and its alerts join the target incident.',
    fields: [{ name: 'into', label: 'Target incident', kind: 'incident', required: true, placeholder: 'INC-000123' }, comment],
  },
  move: {
    label: 'Move alerts…', done: 'alerts moved', help: 'Tick the alerts to move in the alert list. Without a target a new incident is opened.',
    fields: [
      { name: 'alerts', label: 'Alerts', kind: 'alerts', required: true },
      { name: 'into', label: 'Target incident (optional)', kind: 'incident', placeholder: 'INC-000123' },
      comment,
    ],
  },
  categorize: {
    label: 'Categorize', done: 'categorized',
    fields: [
      { name: 'category', label: 'Category', kind: 'text', required: true },
      { name: 'subcategory', label: 'Subcategory', kind: 'text' },
      comment,
    ],
  },
  declare_major: {
    label: 'Declare major', done: 'declared major', danger: true,
    fields: [{ name: 'coordinator', label: 'Coordinator', kind: 'text', required: true }, comment],
  },
  pause: { label: 'Pause SLA', done: 'SLA paused', help: 'Stops the SLA clocks (waiting on a vendor or customer).', fields: [commentRequired] },
  resume: { label: 'Resume SLA', done: 'SLA resumed', fields: [comment] },
};

export const PROBLEM_FORMS = {
  confirm: { label: 'Confirm problem', done: 'confirmed', primary: true, help: 'Accept the candidate as a problem to investigate.', fields: [comment] },
  reject: {
    label: 'Reject', done: 'rejected', danger: true, help: 'Not a problem. It stays quiet for the period given (empty: the configured default).',
    fields: [
      { name: 'reason', label: 'Reason', kind: 'text', required: true },
      { name: 'quiet_for', label: 'Quiet for (e.g. 30d, 72h)', kind: 'text', placeholder: '30d' },
      comment,
    ],
  },
  known_error: {
    label: 'Record known error', done: 'known error recorded', help: 'New incidents of this signature will show the workaround.',
    fields: [
      { name: 'root_cause', label: 'Root cause', kind: 'textarea', required: true },
      { name: 'workaround', label: 'Workaround', kind: 'textarea', required: true },
      comment,
    ],
  },
  resolve: { label: 'Resolve', done: 'resolved', help: 'A permanent fix was applied; a recurrence reopens the problem.', fields: [comment] },
  close: {
    label: 'Close', done: 'closed',
    fields: [{ name: 'closure_code', label: 'Closure code', kind: 'select', required: true, options: (wf) => wf.problem_closure_codes || [] }, comment],
  },
  reopen: { label: 'Reopen', done: 'reopened', fields: [comment] },
  set_priority: {
    label: 'Set priority', done: 'priority set',
    fields: [{ name: 'priority', label: 'Priority', kind: 'select', required: true, options: () => PRIORITIES }, comment],
  },
};
