// views/account.js: the caller's own account, one tab each: profile,
// password, two-factor setup (QR code drawn locally by the vendored
// qrcode-generator, never by a third party), sessions, API keys (the key
// shown once), and for SUPER_ADMIN the audit log and the mail outbox.
import * as api from '../api.js';
import { h, clear, field, showError, toast, dialog, changedFields, fmtTime, pager, label } from '../ui.js';
import qrcode from '../vendor/qrcode.mjs';

const TABS = [['profile', 'Profile'], ['password', 'Password'], ['mfa', 'Two-factor'], ['sessions', 'Sessions'],
  ['keys', 'API keys'], ['audit', 'Audit log', true], ['outbox', 'Mail outbox', true]];

export async function render(el, { args: [tab = 'profile'], ctx, stale }) {
  const tabs = TABS.filter(([, , sup]) => !sup || ctx.isSuper());
  const body = h('section.card', { id: 'tab-' + tab });
  clear(el, h('h1', 'My account'),
    h('nav.tabs', { 'aria-label': 'Account sections' }, tabs.map(([k, l]) =>
      h('a', { href: '#/account/' + k, 'aria-current': k === tab ? 'page' : null }, l))),
    body);
  const view = { profile, password, mfa, sessions, keys, audit, outbox }[tab];
  if (!view || !tabs.some(([k]) => k === tab)) { clear(body, h('p', 'Unknown section.')); return; }
  await view(body, ctx, stale);
}

async function profile(box, ctx) {
  const u = await ctx.refreshUser();
  const msg = h('div.msg');
  const f = [['name', 'Name', 100], ['company', 'Company', 200], ['phone', 'Phone', 32], ['jobTitle', 'Job title', 100]];
  const form = h('form.grid',
    f.map(([n, l, m]) => field(l, h('input', { name: n, value: u[n] ?? '', maxlength: m }))),
    h('div.wide', field('Bio', h('textarea', { name: 'bio', rows: 4, maxlength: 2000 }, u.bio ?? ''))),
    h('div.actions.wide', h('button.primary', { type: 'submit' }, 'Save profile')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = changedFields(form, u);
    if (body.name === null) delete body.name;
    try { await api.put('/auth/profile', body); await ctx.refreshUser(); toast('Profile saved.'); } catch (err) { showError(err, msg); }
  });
  clear(box, h('h2', 'Profile'), h('p.muted', `${u.email} · ${label(u.role)}${u.emailVerified ? '' : ' · email not verified'}`), msg, form);
}

async function password(box, ctx) {
  const msg = h('div.msg');
  const cur = h('input', { type: 'password', name: 'currentPassword', autocomplete: 'current-password', required: true });
  const nw = h('input', { type: 'password', name: 'newPassword', autocomplete: 'new-password', required: true, minlength: 8 });
  const form = h('form', field('Current password', cur), field('New password (8 characters or more)', nw),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Change password')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.post(`/api/users/${ctx.session.user.id}/change-password`, { currentPassword: cur.value, newPassword: nw.value });
      form.reset();
      clear(msg, h('p.ok', 'Password changed. Your other sessions were signed out.'));
    } catch (err) { showError(err, msg); }
  });
  const all = h('button.danger', { type: 'button', onclick: async () => {
    try { await api.logoutAll(); } catch (err) { showError(err, msg); }
  } }, 'Sign out everywhere');
  clear(box, h('h2', 'Password'), msg, form, h('h2', 'All sessions'), h('p', 'Ends every session of this account, this one included.'), all);
}

function qrSvg(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount(), NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `-2 -2 ${n + 4} ${n + 4}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code of the authenticator set-up link');
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c} ${r}h1v1h-1z`;
  const bg = document.createElementNS(NS, 'rect');
  for (const [k, v] of [['x', -2], ['y', -2], ['width', n + 4], ['height', n + 4], ['fill', '#fff']]) bg.setAttribute(k, v);
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}

function codesList(codes) {
  return h('div', h('p', 'Recovery codes (each works once; keep them somewhere safe, they are not shown again):'),
    h('ul.codes', codes.map((c) => h('li', h('code', c)))));
}

async function mfa(box, ctx) {
  const u = await ctx.refreshUser();
  const msg = h('div.msg', { 'aria-live': 'polite' });
  const pw = () => h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  if (!u.mfaEnabled) {
    const p = pw();
    const start = h('form', field('Password', p), h('div.actions', h('button.primary', { type: 'submit' }, 'Set up two-factor')));
    start.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const s = await api.post('/auth/mfa/totp/setup', { password: p.value });
        const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 6 });
        const enable = h('form', qrSvg(s.otpauthUri), h('p', 'Scan it, or type this key: ', h('code.secret', s.secret)),
          field('Code from the app', code), h('div.actions', h('button.primary', { type: 'submit' }, 'Turn on')));
        enable.addEventListener('submit', async (ev) => {
          ev.preventDefault();
          try {
            const r = await api.post('/auth/mfa/totp/enable', { code: code.value.trim() });
            clear(box, h('h2', 'Two-factor authentication is on'), codesList(r.recoveryCodes));
            await ctx.refreshUser();
          } catch (err) { showError(err, msg); }
        });
        clear(start, enable);
        code.focus();
      } catch (err) { showError(err, msg); }
    });
    clear(box, h('h2', 'Two-factor authentication'), h('p', 'Off. Protect this account with an authenticator app.'), msg, start);
    return;
  }
  const p = pw();
  const code = h('input', { name: 'code', autocomplete: 'one-time-code', maxlength: 12, required: true });
  const form = h('form', field('Password', p), field('Code or recovery code', code),
    h('div.actions',
      h('button', { type: 'submit', value: 'codes' }, 'New recovery codes'),
      h('button.danger', { type: 'submit', value: 'off' }, 'Turn off')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = code.value.replace(/\s/g, '');
    const body = { password: p.value, ...(/^\d{6}$/.test(c) ? { code: c } : { recoveryCode: c }) };
    try {
      if (e.submitter && e.submitter.value === 'off') {
        await api.post('/auth/mfa/totp/disable', body);
        toast('Two-factor authentication turned off.');
        mfa(box, ctx);
      } else {
        const r = await api.post('/auth/mfa/recovery-codes', body);
        clear(msg, codesList(r.recoveryCodes));
      }
    } catch (err) { showError(err, msg); }
  });
  clear(box, h('h2', 'Two-factor authentication'), h('p', 'On.'), msg, form);
}

async function sessions(box) {
  const res = await api.get('/auth/sessions');
  clear(box, h('h2', 'Sessions'), h('table.data',
    h('thead', h('tr', ['Signed in', 'Last used', 'Address', 'Browser', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', res.data.map((s) => h('tr',
      h('td', fmtTime(s.createdAt)), h('td', fmtTime(s.lastUsedAt)), h('td', s.ipAddress || '—'),
      h('td.clip', s.userAgent || '—'),
      h('td', s.current ? h('strong', 'This session') : h('button', { type: 'button', onclick: async () => {
        try { await api.del(`/auth/sessions/${s.id}`); toast('Session revoked.'); sessions(box); } catch (err) { showError(err); }
      } }, 'Revoke')))))));
}

const SCOPES = ['leads:read', 'leads:write', 'stats:read', 'consultations:read', 'consultations:write', 'users:read', 'users:write'];

async function keys(box, ctx) {
  const res = await api.get('/api/keys');
  const msg = h('div.msg', { 'aria-live': 'polite' });
  const name = h('input', { name: 'name', required: true, maxlength: 100 });
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const scopeBoxes = SCOPES.map((s) => h('label.check', h('input', { type: 'checkbox', name: 'scopes', value: s }), ' ', s));
  const form = h('form', field('Name', name), h('fieldset', h('legend', 'Scopes'), scopeBoxes), field('Password', pw),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Create key')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((i) => i.value);
    try {
      const k = await api.post('/api/keys', { name: name.value.trim(), scopes, password: pw.value });
      clear(msg, h('div.ok', h('p', 'Copy this key now; it is not shown again:'), h('code.secret', k.key)));
      form.reset();
      keys(box, ctx).then(() => box.prepend(msg));
    } catch (err) { showError(err, msg); }
  });
  clear(box, h('h2', 'API keys'), msg, res.data.length ? h('table.data',
    h('thead', h('tr', ['Name', 'Prefix', 'Scopes', 'Expires', 'Last used', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', res.data.map((k) => h('tr', h('td', k.name), h('td', h('code', k.prefix)), h('td', k.scopes.join(' ')),
      h('td', fmtTime(k.expiresAt)), h('td', fmtTime(k.lastUsedAt)),
      h('td', h('button', { type: 'button', onclick: async () => {
        const ok = await dialog(`Revoke ${k.name}?`, h('p', 'Programs using it stop working at once.'), { submit: 'Revoke', danger: true });
        if (!ok) return;
        try { await api.del(`/api/keys/${k.id}`); toast('Key revoked.'); keys(box, ctx); } catch (err) { showError(err); }
      } }, 'Revoke')))))) : h('p.empty', 'No key yet.'), h('h2', 'New key'), form);
}

async function pagedTable(box, title, path, cols, rowFn, page = 1) {
  const res = await api.get(path, { page, limit: 50 });
  clear(box, h('h2', title), res.data.length ? h('div.tablewrap', h('table.data',
    h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', res.data.map(rowFn)))) : h('p.empty', 'Nothing yet.'),
  pager(res.pagination, (p) => pagedTable(box, title, path, cols, rowFn, p)));
}

function audit(box) {
  return pagedTable(box, 'Audit log', '/api/audit', ['When', 'Action', 'Actor', 'Subject', 'Address', 'Details'],
    (a) => h('tr', h('td', fmtTime(a.at)), h('td', h('code', a.action)), h('td', a.actorId ? `${a.actorRole || ''} ${a.actorId.slice(0, 8)}` : '—'),
      h('td', a.subjectId ? `${a.subjectType} ${a.subjectId.slice(0, 8)}` : '—'), h('td', a.ipAddress || '—'),
      h('td.clip', a.details ? JSON.stringify(a.details) : '')));
}

function outbox(box) {
  return pagedTable(box, 'Mail outbox', '/api/notifications', ['Queued', 'Kind', 'To', 'Subject', 'Status', 'Attempts', 'Last error'],
    (m) => h('tr', h('td', fmtTime(m.createdAt)), h('td', label(m.kind)), h('td', m.to), h('td.clip', m.subject),
      h('td', label(m.status)), h('td.num', m.attempts), h('td.clip', m.lastError || '')));
}
