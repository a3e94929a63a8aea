// shell.js: what every page shares with the application shell: toasts,
// error reports and navigation (the router registers itself here, so that
// pages need not import app.js).

import { h } from './dom.js';
import { ApiError } from './api.js';

let router = (path) => { location.assign(path); };

export function setRouter(fn) { router = fn; }

// navigate shows another page of the application without reloading.
export function navigate(path, opts) { router(path, opts); }

// toast shows a short message; action is an optional {label, run} button.
export function toast(text, { kind = 'ok', action = null, ms = 6000 } = {}) {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast ${kind}` }, h('span', null, text));
  if (action) {
    el.append(h('button', { type: 'button', class: 'btn small', onclick: () => { el.remove(); action.run(); } }, action.label));
  }
  el.append(h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.append(el);
  setTimeout(() => el.remove(), ms);
}

// reportError shows an unexpected failure without breaking the page.
export function reportError(err) {
  if (err && err.name === 'AbortError') return;
  if (err instanceof ApiError && err.status === 401) return; // the login page is shown
  toast(err && err.message ? err.message : String(err), { kind: 'error', ms: 10000 });
}

// poller calls fn now and then every ms milliseconds while the page is
// visible, one call at a time; stop() ends it, now() calls it at once.
export function poller(fn, ms) {
  let timer = null;
  let stopped = false;
  let running = false;
  let again = false;
  function schedule(delay) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, delay);
  }
  async function tick() {
    timer = null;
    if (stopped) return;
    if (running) { again = true; return; }
    if (document.hidden) { schedule(ms); return; }
    running = true;
    try { await fn(); } catch (err) { reportError(err); }
    running = false;
    if (again) { again = false; schedule(0); } else schedule(ms);
  }
  const onVisible = () => { if (!document.hidden) schedule(0); };
  document.addEventListener('visibilitychange', onVisible);
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
    now() { schedule(0); },
  };
}
