// api.js: the console's only door to the server: the public HTTP API.
//
// The access token lives in this module's memory only (never in
// localStorage or sessionStorage); the refresh token is the server's
// HttpOnly cookie, so a reload signs in again silently through
// POST /auth/refresh. Every error is an ApiError carrying the problem's
// `detail` (shown to the user as is) and, for 429, the wait in seconds.

let access = null;          // {token, expiresAt}
let refreshing = null;      // the one refresh in flight
let refreshTimer = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    const p = problem || {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.code = p.code || 'http_' + status;
    this.errors = Array.isArray(p.errors) ? p.errors : [];
    this.retryAfter = retryAfter;
  }
  // The text shown to a person: the problem's detail, and the wait for 429.
  get display() {
    if (this.status === 429 && this.retryAfter != null) {
      return `${this.message} Try again in ${formatWait(this.retryAfter)}.`;
    }
    const fields = this.errors.map((e) => `${e.field}: ${e.message}`);
    return fields.length ? `${this.message} (${fields.join('; ')})` : this.message;
  }
}

export function formatWait(seconds) {
  const s = Math.max(1, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  return `${Math.ceil(s / 3600)} h`;
}

// Called with true/false when the signed-in state changes.
export function onAuthChange(fn) { listeners.add(fn); }
function notify(on) { for (const fn of listeners) fn(on); }

export function signedIn() { return access !== null; }

function setAccess(body) {
  access = { token: body.accessToken, expiresAt: Date.now() + body.expiresIn * 1000 };
  clearTimeout(refreshTimer);
  // renew a minute before expiry (or halfway for short lifetimes)
  const lead = Math.min(60, body.expiresIn / 2) * 1000;
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); },
    Math.max(5000, body.expiresIn * 1000 - lead));
}

function clearAccess() {
  const was = access !== null;
  access = null;
  clearTimeout(refreshTimer);
  if (was) notify(false);
}

async function problemOf(res) {
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { return await res.json(); } catch { return null; }
  }
  return null;
}

async function send(method, path, { body, query, auth = true, raw = false } = {}) {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const headers = { Accept: raw ? 'text/csv, application/problem+json' : 'application/json' };
  if (auth && access) headers.Authorization = 'Bearer ' + access.token;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(url, init);
}

// request(): JSON in and out; one silent refresh and retry on 401.
export async function request(method, path, opts = {}) {
  let res = await send(method, path, opts);
  if (res.status === 401 && opts.auth !== false && access) {
    try { await refresh(); } catch { clearAccess(); }
    if (access) res = await send(method, path, opts);
  }
  if (!res.ok) {
    const problem = await problemOf(res);
    const err = new ApiError(res.status, problem, res.headers.get('Retry-After'));
    if (res.status === 401 && opts.auth !== false) clearAccess();
    throw err;
  }
  if (opts.raw) return res;
  if (res.status === 204 || res.status === 202) {
    return res.status === 202 ? await res.json().catch(() => ({})) : null;
  }
  return res.json();
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, body) => request('POST', path, { body });
export const patch = (path, body) => request('PATCH', path, { body });
export const put = (path, body) => request('PUT', path, { body });
export const del = (path) => request('DELETE', path);

// refresh(): one in flight at a time; resolves true when signed in.
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const res = await send('POST', '/auth/refresh', { auth: false });
      if (!res.ok) {
        const problem = await problemOf(res);
        clearAccess();
        throw new ApiError(res.status, problem, res.headers.get('Retry-After'));
      }
      const was = access !== null;
      setAccess(await res.json());
      if (!was) notify(true);
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

// login(): {mfaRequired, mfaToken} for a second step, else signed in.
export async function login(email, password) {
  const body = await request('POST', '/auth/login', { body: { email, password }, auth: false });
  if (body.mfaRequired) return body;
  setAccess(body);
  notify(true);
  return body;
}

export async function verifyMfa(mfaToken, code, isRecovery) {
  const payload = isRecovery ? { mfaToken, recoveryCode: code } : { mfaToken, code };
  const body = await request('POST', '/auth/mfa/verify', { body: payload, auth: false });
  setAccess(body);
  notify(true);
  return body;
}

export async function logout() {
  try { await request('POST', '/auth/logout', { auth: false }); } finally { clearAccess(); }
}

export async function logoutAll() {
  try { await request('POST', '/auth/logout-all'); } finally { clearAccess(); }
}

// download(): a CSV (or any file) fetched with the token, saved by the browser.
export async function download(path, query, fallbackName) {
  const res = await request('GET', path, { query, raw: true });
  const disp = res.headers.get('Content-Disposition') || '';
  const m = /filename="([^"]+)"/.exec(disp);
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return blob.size;
}
