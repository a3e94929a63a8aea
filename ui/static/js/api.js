// api.js: calls to Vigia's JSON API.
//
// Authentication is a bearer token in the Authorization header, set here on
// every call. The token lives in sessionStorage (this tab only, gone when it
// closes) and never in a cookie: the browser attaches nothing by itself to a
// request another site makes, so cross-site request forgery has no ambient
// credential to ride on.

const TOKEN_KEY = 'vigia.token';

export class ApiError extends Error {
  constructor(status, body, method, path) {
    const msg = (body && body.error) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.body = body || {};
    this.method = method;
    this.path = path;
  }

  // allowed is the list of actions a 409 answer names.
  get allowed() {
    return Array.isArray(this.body.allowed) ? this.body.allowed : [];
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(tok) {
  try {
    if (tok) sessionStorage.setItem(TOKEN_KEY, tok);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts only as long as the page.
  }
}

// onUnauthorized is called when a call with a token answers 401.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// request sends one API call and returns the decoded JSON reply; it throws
// ApiError for any non-2xx answer and for network failures (status 0).
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const tok = opts.token !== undefined ? opts.token : getToken();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const init = { method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (opts.signal) init.signal = opts.signal;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, { error: 'Vigia cannot be reached (network error)' }, method, path);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    const ct = resp.headers.get('Content-Type') || '';
    if (ct.includes('json')) {
      try { data = JSON.parse(text); } catch { data = null; }
    } else {
      data = { text };
    }
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data, method, path);
    if (resp.status === 401 && tok && !opts.noAuthRedirect) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);

// qs builds a query string from an object, skipping empty values; arrays
// repeat the key.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.set(k, v);
  }
  const str = u.toString();
  return str ? `?${str}` : '';
}

// --- the session ----------------------------------------------------------------

// session is the reply of GET /api/v1/whoami once known.
export const session = { who: null };

// can reports whether the caller holds role r, as the server decides it
// (auth.Identity.Has): admin holds every role; analyst and problem_manager
// imply viewer. The UI hides what the caller may not do; the server checks.
export function can(r) {
  const roles = (session.who && session.who.roles) || [];
  return roles.some((have) => have === r || have === 'admin' ||
    (r === 'viewer' && (have === 'analyst' || have === 'problem_manager')));
}

export function workflow() {
  return (session.who && session.who.workflow) || {};
}
