// views/users.js: the team (ADMIN+): list with search and filters, role
// changes within the hierarchy (an ADMIN manages USERs and grants nothing
// above USER; a SUPER_ADMIN manages everyone), activation, MFA reset and
// sessions. The console offers only what the caller may do; the server
// still decides, and its refusal is shown as its detail.
import * as api from '../api.js';
import { h, clear, field, select, pager, routeQuery, setRouteQuery, showError, toast, dialog,
  fmtTime, label, ROLES } from '../ui.js';

const RANK = { USER: 0, ADMIN: 1, SUPER_ADMIN: 2 };

export async function render(el, { ctx, stale }) {
  const q = routeQuery();
  const state = { search: q.get('search') || '', role: q.get('role') || '', isActive: q.get('isActive') || '', sort: q.get('sort') || '' };
  const page = Number(q.get('page') || 1);
  const me = ctx.session.user;
  const form = h('form.filters', { role: 'search', 'aria-label': 'Filter users' },
    field('Search', h('input', { type: 'search', name: 'search', value: state.search, maxlength: 200 })),
    field('Role', select('role', ['', ...ROLES], state.role)),
    field('Active', select('isActive', [['', 'Any'], ['true', 'Active'], ['false', 'Inactive']], state.isActive)),
    field('Sort', select('sort', [['', 'Newest'], ['name', 'Name'], ['email', 'Email'], ['-lastLoginAt', 'Last sign-in']], state.sort)),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Apply')));
  form.addEventListener('submit', (e) => { e.preventDefault(); setRouteQuery(Object.fromEntries(new FormData(form))); });
  const res = await api.get('/api/users', { ...state, page });
  if (stale()) return;
  const manages = (u) => u.id !== me.id && (RANK[me.role] === 2 || RANK[u.role] === 0);
  const reload = () => render(el, { ctx, stale });
  clear(el, h('div.head', h('h1', 'Users')), form,
    h('div.tablewrap', res.data.length ? h('table.data',
      h('thead', h('tr', ['Name', 'Email', 'Role', 'Status', 'MFA', 'Last sign-in', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', res.data.map((u) => row(u, me, manages(u), reload)))) : h('p.empty', 'No user matches.')),
    pager(res.pagination, (p) => setRouteQuery({ ...state, page: p > 1 ? p : '' })));
}

function row(u, me, can, reload) {
  const grantable = RANK[me.role] === 2 ? ROLES : ['USER'];
  const role = select('role', grantable.includes(u.role) ? grantable : [u.role, ...grantable], u.role,
    { 'aria-label': `Role of ${u.name}`, disabled: !can });
  role.addEventListener('change', () => update(u, { role: role.value }, reload));
  return h('tr',
    h('td', u.name), h('td', u.email, u.emailVerified ? '' : h('span.muted', ' (unverified)')),
    h('td', role),
    h('td', u.isActive ? 'Active' : h('span.muted', 'Inactive')),
    h('td', u.mfaEnabled ? 'On' : 'Off'),
    h('td', fmtTime(u.lastLoginAt)),
    h('td.actions',
      h('button', { type: 'button', disabled: !can, onclick: () => update(u, { isActive: !u.isActive }, reload) },
        u.isActive ? 'Deactivate' : 'Activate'),
      h('button', { type: 'button', disabled: !can || !u.mfaEnabled, onclick: () => resetMfa(u, reload) }, 'Reset MFA'),
      h('button', { type: 'button', disabled: !can, onclick: () => sessions(u) }, 'Sessions')));
}

async function update(u, body, reload) {
  try {
    await api.patch(`/api/users/${u.id}`, body);
    toast(`${u.name} updated.`);
  } catch (err) { showError(err); }
  reload();
}

async function resetMfa(u, reload) {
  const ok = await dialog(`Reset two-factor authentication of ${u.name}?`,
    h('p', 'Their sessions and API keys are revoked and they are told by mail.'), { submit: 'Reset MFA', danger: true });
  if (!ok) return;
  try { await api.del(`/api/users/${u.id}/mfa`); toast('Two-factor authentication reset.'); } catch (err) { showError(err); }
  reload();
}

async function sessions(u) {
  let res;
  try { res = await api.get(`/api/users/${u.id}/sessions`); } catch (err) { showError(err); return; }
  const ok = await dialog(`Sessions of ${u.name}`, res.data.length ? h('ul.list', res.data.map((s) =>
    h('li', `${fmtTime(s.lastUsedAt)} · ${s.ipAddress || '?'} · `, h('span.muted', (s.userAgent || '').slice(0, 80)))))
    : h('p.empty', 'No live session.'), { submit: 'Revoke all', danger: true });
  if (!ok) return;
  try { await api.del(`/api/users/${u.id}/sessions`); toast('Sessions revoked.'); } catch (err) { showError(err); }
}

