// dom.js: building DOM nodes safely, and formatting.
//
// Every piece of data reaches the page as a text node or an attribute value
// set through the DOM: nothing is ever parsed as HTML (no innerHTML), so a
// label value such as "<img onerror=...>" shows as the text it is.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'required' || k === 'hidden') {
      el[k] = !!v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

// h('div', {class: 'x', onclick: fn}, 'text', child, [more]) builds an HTML element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s('rect', {x: 1}) builds an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// link to a page of the application (handled by the router, no reload).
export function link(href, ...children) {
  return h('a', { href, 'data-link': true }, ...children);
}

// --- formatting ---------------------------------------------------------------

const dtf = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const df = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit' });

export function parseTime(v) {
  if (!v) return null;
  const t = new Date(v);
  if (Number.isNaN(t.getTime()) || t.getUTCFullYear() <= 1) return null;
  return t;
}

export function fmtTime(v) {
  const t = parseTime(v);
  return t ? dtf.format(t) : '—';
}

export function fmtDate(v) {
  const t = parseTime(v);
  return t ? df.format(t) : '—';
}

// time element with the exact time as its title and machine value.
export function timeEl(v, relative = false) {
  const t = parseTime(v);
  if (!t) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: t.toISOString(), title: dtf.format(t) }, relative ? fmtAgo(t) : dtf.format(t));
}

// fmtDuration(ms) writes "2d 3h", "4h 05m", "12m", "40s".
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const neg = ms < 0;
  let sec = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(sec / 86400); sec -= d * 86400;
  const hr = Math.floor(sec / 3600); sec -= hr * 3600;
  const m = Math.floor(sec / 60); sec -= m * 60;
  let out;
  if (d > 0) out = `${d}d ${hr}h`;
  else if (hr > 0) out = `${hr}h ${String(m).padStart(2, '0')}m`;
  else if (m > 0) out = `${m}m`;
  else out = `${sec}s`;
  return neg ? `-${out}` : out;
}

export function fmtAgo(t) {
  const ms = Date.now() - t.getTime();
  if (ms < 0) return `in ${fmtDuration(-ms)}`;
  if (ms < 45000) return 'just now';
  return `${fmtDuration(ms)} ago`;
}

// parseDuration reads Go-style durations ("1h30m", "15m", "45s") and whole
// days ("7d"); it returns milliseconds or null.
export function parseDuration(str) {
  if (typeof str !== 'string' || str === '') return null;
  const days = /^(\d+)d$/.exec(str);
  if (days) return Number(days[1]) * 86400000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let consumed = 0;
  let m;
  while ((m = re.exec(str)) !== null) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  const sign = str.startsWith('-') ? -1 : 1;
  if (consumed !== str.replace(/^[-+]/, '').length) return null;
  return sign * total;
}

export function humanize(code) {
  if (!code) return '';
  const t = String(code).replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtPercent(share, digits = 1) {
  if (share === null || share === undefined || Number.isNaN(Number(share))) return '—';
  return `${(Number(share) * 100).toFixed(digits)}%`;
}

// --- small components ---------------------------------------------------------

export function badge(text, cls, title) {
  return h('span', { class: `badge ${cls || ''}`.trim(), title }, text);
}

export function priorityBadge(p) {
  return h('span', { class: `prio prio-${String(p || '').toLowerCase()}`, title: `Priority ${p}` }, p || '?');
}

export function statusBadge(st) {
  return h('span', { class: `status status-${st}` }, humanize(st));
}

// labels renders a label set as chips, sorted by name.
export function labelChips(labels, highlight) {
  const keys = Object.keys(labels || {}).sort();
  if (keys.length === 0) return h('span', { class: 'muted' }, 'no labels');
  return h('ul', { class: 'chips', 'aria-label': 'Labels' },
    keys.map((k) => h('li', { class: highlight && k in highlight ? 'chip shared' : 'chip' },
      h('span', { class: 'k' }, k), '=', h('span', { class: 'v' }, labels[k]))));
}

// dl builds a description list from [term, value] pairs, skipping empty values.
export function dl(pairs, cls) {
  const el = h('dl', { class: cls || 'facts' });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    el.append(h('dt', null, k), h('dd', null, v));
  }
  return el;
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
