// forms.js: the modal form of an action, its validation and its errors.

import { h, humanize, replace } from './dom.js';
import { ApiError, workflow } from './api.js';

let seq = 0;

// openActionForm shows a modal dialog with the form of one action.
//
//   def      the form definition (workflow.js INCIDENT_FORMS / PROBLEM_FORMS)
//   opts.title       dialog title
//   opts.context     { alerts: () => [fingerprints] } for the move form
//   opts.initial     initial field values
//   opts.submit      async (body) => reply; the body holds the fields filled in
//   opts.onDone      (reply) => void after a successful submit
//   opts.onAllowed   (action) => void: open another action named by a 409
//   opts.allowedLabel (action) => text of that action
export function openActionForm(def, opts) {
  const wf = workflow();
  const id = `f${++seq}`;
  const errBox = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const inputs = {};
  const fields = def.fields.map((f) => field(f, `${id}-${f.name}`, wf, inputs, opts));
  const submitBtn = h('button', { type: 'submit', class: def.danger ? 'btn danger' : 'btn primary' }, def.label.replace(/…$/, ''));
  const cancelBtn = h('button', { type: 'button', class: 'btn', onclick: () => close() }, 'Cancel');
  const form = h('form', { class: 'action-form', novalidate: true },
    def.help ? h('p', { class: 'help' }, def.help) : null,
    fields,
    errBox,
    h('div', { class: 'form-buttons' }, cancelBtn, submitBtn));
  const titleId = `${id}-title`;
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, opts.title || def.label),
    form);
  document.body.appendChild(dlg);

  function close() {
    if (dlg.open) dlg.close();
  }
  dlg.addEventListener('close', () => dlg.remove());

  for (const [k, v] of Object.entries(opts.initial || {})) {
    if (inputs[k] && 'value' in inputs[k]) inputs[k].value = v;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    const problems = [];
    for (const f of def.fields) {
      const v = readField(f, inputs[f.name], opts);
      if (f.required && (v === '' || (Array.isArray(v) && v.length === 0))) problems.push(`${f.label} is required.`);
      if (v !== '' && !(Array.isArray(v) && v.length === 0)) body[f.name] = v;
    }
    // Reject with reason "other" needs a comment (the server says so too).
    if (body.reason === 'other' && !body.comment && inputs.reason && inputs.reason.tagName === 'SELECT') {
      problems.push('A comment is required when the reason is "other".');
    }
    if (body.suppress_for !== undefined) {
      body.suppress = { duration: body.suppress_for };
      delete body.suppress_for;
    }
    if (body.into) body.into = body.into.trim().toUpperCase();
    if (problems.length) {
      showError(problems.join(' '));
      return;
    }
    submitBtn.disabled = true;
    try {
      const reply = await opts.submit(body);
      close();
      if (opts.onDone) opts.onDone(reply);
    } catch (err) {
      showApiError(err);
    } finally {
      submitBtn.disabled = false;
    }
  });

  function showError(text, extra) {
    replace(errBox, h('p', null, text), extra || null);
    errBox.hidden = false;
  }

  function showApiError(err) {
    if (!(err instanceof ApiError)) {
      showError(String(err && err.message ? err.message : err));
      return;
    }
    if (err.status === 409) {
      const allowed = err.allowed;
      const list = allowed.length === 0
        ? h('p', null, 'No action is allowed in this state.')
        : h('div', null, h('p', null, 'Allowed now:'),
          h('ul', { class: 'allowed' }, allowed.map((a) => h('li', null,
            opts.onAllowed
              ? h('button', { type: 'button', class: 'btn small', onclick: () => { close(); opts.onAllowed(a); } },
                opts.allowedLabel ? opts.allowedLabel(a) : humanize(a))
              : humanize(a)))));
      showError(`Not allowed now: ${err.message}.`, list);
      return;
    }
    const field = err.body && err.body.field ? ` (${err.body.field})` : '';
    showError(`${err.status ? `${err.status}: ` : ''}${err.message}${field}`);
  }

  dlg.showModal();
  const first = form.querySelector('input:not([type=hidden]), select, textarea');
  if (first) first.focus();
  return dlg;
}

function field(f, id, wf, inputs, opts) {
  const label = h('label', { for: id }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  let input;
  switch (f.kind) {
    case 'textarea':
      input = h('textarea', { id, name: f.name, rows: 3, required: f.required, placeholder: f.placeholder });
      break;
    case 'select': {
      const options = f.options(wf);
      input = h('select', { id, name: f.name, required: f.required },
        f.required ? h('option', { value: '' }, '— choose —') : null,
        options.map((o) => h('option', { value: o }, o === '' ? (f.emptyLabel || '(none)') : humanize(o))));
      break;
    }
    case 'alerts': {
      const picked = opts.context && opts.context.alerts ? opts.context.alerts() : [];
      input = h('output', { id, name: f.name, class: 'picked' },
        picked.length === 0 ? 'No alert ticked: tick them in the alert list first.' : `${picked.length} alert(s): ${picked.join(', ')}`);
      input.picked = picked;
      break;
    }
    case 'incident':
      input = h('input', { id, name: f.name, type: 'text', required: f.required, placeholder: f.placeholder, pattern: '[A-Za-z]+-[0-9]+', autocomplete: 'off', spellcheck: 'false' });
      break;
    default:
      input = h('input', { id, name: f.name, type: 'text', required: f.required, placeholder: f.placeholder, autocomplete: 'off' });
  }
  inputs[f.name] = input;
  return h('div', { class: 'field' }, label, input);
}

function readField(f, input) {
  if (f.kind === 'alerts') return input.picked || [];
  return (input.value || '').trim();
}
