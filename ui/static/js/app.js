// app.js: start-up, login, navigation between pages.

import { h, replace } from './dom.js';
import { ApiError, can, get, getToken, session, setToken, setUnauthorizedHandler } from './api.js';
import { renderQueue } from './queue.js';
import { renderIncident } from './incident.js';
import { renderProblems, renderProblem } from './problems.js';
import { renderDashboard } from './dashboard.js';
import { reportError, setRouter } from './shell.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

// The pages, by path. A page renders into main and returns a cleanup
// function (stop polling, remove listeners) or nothing.
const routes = [
  { re: /^\/(?:ui\/?)?$/, page: (m) => renderQueue(m, { queue: true }), nav: 'queue', title: 'NOC queue' },
  { re: /^\/ui\/queue\/?$/, page: (m) => renderQueue(m, { queue: true }), nav: 'queue', title: 'NOC queue' },
  { re: /^\/ui\/incidents\/?$/, page: (m) => renderQueue(m, { queue: false }), nav: 'incidents', title: 'Incidents' },
  { re: /^\/ui\/incidents\/([^/]+)\/?$/, page: (m, id) => renderIncident(m, id), nav: 'incidents', title: 'Incident' },
  { re: /^\/ui\/problems\/?$/, page: (m) => renderProblems(m), nav: 'problems', title: 'Problem review' },
  { re: /^\/ui\/problems\/([^/]+)\/?$/, page: (m, id) => renderProblem(m, id), nav: 'problems', title: 'Problem' },
  { re: /^\/ui\/dashboard\/?$/, page: (m) => renderDashboard(m), nav: 'dashboard', title: 'Executive dashboard' },
];

let cleanup = null;

function navigate(path, { replace: rep = false } = {}) {
  if (rep) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

function route() {
  if (cleanup) {
    try { cleanup(); } catch (err) { reportError(err); }
    cleanup = null;
  }
  if (!session.who) {
    renderLogin();
    return;
  }
  if (location.pathname === '/ui/login') history.replaceState(null, '', '/ui/queue');
  const path = location.pathname;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    document.title = `${r.title} · Vigia`;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    replace(main);
    const params = m.slice(1).map((x) => decodeURIComponent(x));
    try {
      cleanup = r.page(main, ...params) || null;
    } catch (err) {
      reportError(err);
    }
    main.focus({ preventScroll: true });
    return;
  }
  document.title = 'Not found · Vigia';
  replace(main, h('h1', null, 'Page not found'), h('p', null, h('a', { href: '/ui/queue', 'data-link': true }, 'Go to the NOC queue')));
}

// --- login ------------------------------------------------------------------

function renderLogin(message) {
  document.title = 'Sign in · Vigia';
  nav.hidden = true;
  replace(who);
  const err = h('p', { class: 'form-error', role: 'alert', hidden: !message }, message || '');
  const input = h('input', {
    // No name: were the form ever submitted natively, the token would not
    // end up in a URL.
    id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
    'aria-describedby': 'token-help',
  });
  const form = h('form', { class: 'login card', id: 'login-form' },
    h('h1', null, 'Sign in to Vigia'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'help' },
      'Paste the bearer token your administrator gave you. It is kept in this browser tab only, and sent with every API call.'),
    err,
    h('button', { type: 'submit', class: 'btn primary', id: 'signin' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const tok = input.value.trim();
    if (!tok) {
      err.textContent = 'Paste a token first.';
      err.hidden = false;
      return;
    }
    try {
      session.who = await get('/api/v1/whoami', { token: tok, noAuthRedirect: true });
      setToken(tok);
      signedIn();
      const path = location.pathname === '/ui/login' ? '/ui/queue' : location.pathname;
      navigate(path + location.search, { replace: true });
    } catch (e) {
      err.textContent = e instanceof ApiError && e.status === 401
        ? 'This token is not valid.'
        : `Cannot sign in: ${e.message}`;
      err.hidden = false;
    }
  });
  replace(main, form);
  input.focus();
}

function signedIn() {
  nav.hidden = false;
  const w = session.who;
  const roles = (w.roles || []).join(', ');
  replace(who,
    h('span', { class: 'who-name', title: `Roles: ${roles}` }, w.name),
    h('span', { class: 'who-roles' }, roles),
    w.auth_enabled
      ? h('button', { type: 'button', class: 'btn small ghost', id: 'signout', onclick: signOut }, 'Sign out')
      : h('span', { class: 'badge warn', title: 'No token is configured: everyone has every role.' }, 'Authentication off'));
  document.body.classList.toggle('can-analyst', can('analyst'));
  document.body.classList.toggle('can-problem-manager', can('problem_manager'));
}

function signOut() {
  setToken('');
  session.who = null;
  if (cleanup) { cleanup(); cleanup = null; }
  history.pushState(null, '', '/ui/login');
  renderLogin();
}

setUnauthorizedHandler(() => {
  setToken('');
  session.who = null;
  if (cleanup) { cleanup(); cleanup = null; }
  renderLogin('Your token was refused: sign in again.');
});

// --- start ----------------------------------------------------------------------

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-link]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
setRouter(navigate);

async function start() {
  const tok = getToken();
  try {
    // Without a token this answers 200 only when authentication is off.
    session.who = await get('/api/v1/whoami', { noAuthRedirect: true });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      replace(main, h('p', { class: 'form-error', role: 'alert' }, `Vigia cannot be reached: ${err.message}`));
      return;
    }
    if (tok) setToken('');
    renderLogin(tok ? 'Your session has ended: sign in again.' : '');
    return;
  }
  signedIn();
  route();
}

start();
