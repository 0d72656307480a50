// ui.js: small DOM helpers shared by the views.
//
// Text from the server is always set through textContent (h() never parses
// HTML), so a lead named "<img onerror=...>" stays text. No inline styles:
// looks come from classes in style.css (the console's CSP has no
// 'unsafe-inline').

export const LEAD_STATUSES = ['NEW', 'CONTACTED', 'QUALIFIED', 'PROPOSAL', 'CONVERTED', 'LOST'];
export const LEAD_SOURCES = ['WEBSITE', 'REFERRAL', 'SOCIAL', 'EMAIL', 'ADS', 'EVENT', 'OTHER'];
export const ROLES = ['USER', 'ADMIN', 'SUPER_ADMIN'];
export const CONSULTATION_STATUSES = ['SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'NO_SHOW'];
export const MEETING_TYPES = ['VIDEO', 'PHONE', 'IN_PERSON'];
// allowed next statuses (API.md "Booking")
export const CONSULTATION_NEXT = {
  SCHEDULED: ['CONFIRMED', 'COMPLETED', 'NO_SHOW', 'CANCELLED'],
  CONFIRMED: ['COMPLETED', 'NO_SHOW', 'CANCELLED'],
};

// h('tag.class#id', {attr: v, onclick: fn}, ...children)
export function h(spec, attrs, ...children) {
  const [, tag, rest] = /^([a-z0-9]+)(.*)$/i.exec(spec);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) { el.replaceChildren(); append(el, children); return el; }

let toastSeq = 0;
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div.toast.' + kind, { id: 'toast-' + (++toastSeq), role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4000);
  return t;
}

// Shows an ApiError (its detail, the wait for 429) or any error.
export function showError(err, where) {
  const text = err && err.display ? err.display : String(err && err.message || err);
  if (where) clear(where, h('p.error', { role: 'alert' }, text));
  else toast(text, 'error');
  return text;
}

export function fmtTime(iso, tz) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: tz || undefined });
}
export function fmtDate(iso) { return iso ? new Date(iso).toLocaleDateString() : '—'; }
export function fmtMoney(v) { return v === null || v === undefined ? '—' : Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 }); }
export const label = (s) => String(s).replace(/_/g, ' ').toLowerCase().replace(/^./, (c) => c.toUpperCase());

export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o === '' ? 'Any' : label(o)];
      return h('option', { value: v, selected: v === (value ?? '') }, text);
    }));
}

export function field(labelText, control, hint) {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2, 9);
  control.id = id;
  return h('div.field', h('label', { for: id }, labelText), control, hint ? h('small.muted', hint) : null);
}

// A modal <dialog>; resolves with the submitted FormData or null.
export function dialog(title, body, { submit = 'Save', danger = false } = {}) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog' },
      h('h2', title), body,
      h('div.actions',
        h('button', { type: 'button', value: 'cancel', class: 'ghost' }, 'Cancel'),
        h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, submit)));
    const dlg = h('dialog', { 'aria-label': title }, form);
    const cancel = form.querySelector('button[value=cancel]');
    cancel.addEventListener('click', () => dlg.close('cancel'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dlg.returnValue = 'ok';
      const data = new FormData(form);
      dlg.close('ok');
      resolve(data);
    });
    dlg.addEventListener('close', () => { if (dlg.returnValue !== 'ok') resolve(null); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
    const first = form.querySelector('input, select, textarea, button[type=submit]');
    if (first) first.focus();
  });
}

// Pager for part 1 lists: page numbers, and the cursor when the server gives one.
export function pager(pagination, go) {
  const p = pagination || {};
  const page = p.page || 1;
  const pages = p.totalPages || 0;
  const total = p.total === undefined ? '' : `${p.total}${p.totalIsExact === false ? '+' : ''} in all`;
  return h('nav.pager', { 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '← Previous'),
    h('span', `Page ${page}${pages ? ' of ' + pages : ''} `, h('span.muted', total)),
    h('button', { type: 'button', disabled: pages ? page >= pages : !p.nextCursor, onclick: () => go(page + 1) }, 'Next →'));
}

// Reads the hash route's query (#/leads?status=NEW) and writes it back.
export function routeQuery() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}
export function setRouteQuery(params, replace = false) {
  const base = location.hash.split('?')[0] || '#/';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  const next = base + (s ? '?' + s : '');
  if (replace) history.replaceState(null, '', next);
  else location.hash = next;
}

// Collects a form's non-empty fields (and the emptied ones as null when
// `orig` says they had a value), for partial updates.
export function changedFields(form, orig, types = {}) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    let v = el.type === 'checkbox' ? el.checked : el.value.trim();
    if (types[el.name] === 'number') v = v === '' ? null : Number(v);
    else if (types[el.name] === 'datetime') v = v === '' ? null : new Date(v).toISOString();
    else if (v === '' && el.type !== 'checkbox') v = null;
    const was = orig[el.name] ?? null;
    const same = types[el.name] === 'datetime' && v && was ? new Date(was).getTime() === new Date(v).getTime() : was === v;
    if (!same) out[el.name] = v;
  }
  return out;
}

// ISO string -> value for <input type="datetime-local"> in local time.
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
