// views/leads.js: the lead table: every filter of GET /api/leads, search,
// sort, paging (page numbers, or the server's cursor for deep pages), the
// whole state kept in the URL (#/leads?status=NEW&sort=-score&page=3), and
// a CSV export of the same filters (GET /api/leads/export).
import * as api from '../api.js';
import { h, clear, select, field, pager, routeQuery, setRouteQuery, showError, toast,
  fmtDate, fmtMoney, label, LEAD_STATUSES, LEAD_SOURCES } from '../ui.js';

const FILTERS = ['status', 'source', 'assignedToId', 'search', 'createdFrom', 'createdTo', 'sort', 'limit'];
const SORTS = [['-createdAt', 'Newest'], ['createdAt', 'Oldest'], ['-updatedAt', 'Recently updated'],
  ['name', 'Name'], ['email', 'Email'], ['status', 'Status'], ['-score', 'Score'], ['-estimatedValue', 'Value']];

export async function adminsList() {
  const [a, s] = await Promise.all([
    api.get('/api/users', { role: 'ADMIN', isActive: 'true', limit: 100 }),
    api.get('/api/users', { role: 'SUPER_ADMIN', isActive: 'true', limit: 100 }),
  ]);
  return [...s.data, ...a.data];
}

export async function render(el, { ctx, stale }) {
  const q = routeQuery();
  const state = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || '']));
  const page = Number(q.get('page') || 1);
  const admin = ctx.isAdmin();
  const admins = admin ? await adminsList().catch(() => []) : [];
  if (stale()) return;

  const form = h('form.filters', { role: 'search', 'aria-label': 'Filter leads' },
    field('Search', h('input', { type: 'search', name: 'search', value: state.search, placeholder: 'Name, email or company', maxlength: 200 })),
    field('Status', select('status', ['', ...LEAD_STATUSES], state.status)),
    field('Source', select('source', ['', ...LEAD_SOURCES], state.source)),
    admin ? field('Assigned to', select('assignedToId', [['', 'Anyone'], ...admins.map((u) => [u.id, u.name])], state.assignedToId)) : null,
    field('Created from', h('input', { type: 'date', name: 'createdFrom', value: (state.createdFrom || '').slice(0, 10) })),
    field('Created before', h('input', { type: 'date', name: 'createdTo', value: (state.createdTo || '').slice(0, 10) })),
    field('Sort', select('sort', SORTS, state.sort || '-createdAt')),
    field('Per page', select('limit', [['20', '20'], ['50', '50'], ['100', '100']], state.limit || '20')),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Apply'),
      h('button.ghost', { type: 'button', onclick: () => setRouteQuery({}) }, 'Reset')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = Object.fromEntries(new FormData(form));
    for (const k of ['createdFrom', 'createdTo']) {
      if (next[k]) next[k] = new Date(next[k] + 'T00:00:00').toISOString();
    }
    if (next.sort === '-createdAt') next.sort = '';
    if (next.limit === '20') next.limit = '';
    setRouteQuery(next);
  });

  // deep pages go by the server's keyset cursor (time independent of
  // depth); with a cursor the filters and sort come from the cursor itself
  const cursor = q.get('cursor') || '';
  const query = cursor ? { cursor, limit: state.limit } : { ...state, page };
  const exportBtn = admin ? h('button', {
    type: 'button',
    onclick: async () => {
      try {
        const { limit, ...filters } = state;   // export takes the filters and sort only
        const size = await api.download('/api/leads/export', filters, 'leads.csv');
        toast(`Exported ${size.toLocaleString()} bytes of CSV.`);
      } catch (err) { showError(err); }
    },
  }, 'Export CSV') : null;

  const table = h('div.tablewrap', { 'aria-live': 'polite' }, h('p.muted', 'Loading…'));
  clear(el, h('div.head', h('h1', admin ? 'Leads' : 'My leads'),
    h('div.actions', admin ? h('a.button', { href: '#/board' }, 'Pipeline board') : null, exportBtn)), form, table);
  try {
    const res = await api.get('/api/leads', query);
    if (stale()) return;
    const byId = Object.fromEntries(admins.map((u) => [u.id, u.name]));
    clear(table, leadTable(res.data, byId), cursor || page >= CURSOR_FROM_PAGE
      ? cursorPager(res.pagination, state)
      : pager(res.pagination, (p) => setRouteQuery({ ...state, page: p > 1 ? p : '' })));
  } catch (err) {
    showError(err, table);
  }
}

// From this page on, "Next" follows pagination.nextCursor instead of a
// page number (OFFSET grows with depth; a cursor does not).
const CURSOR_FROM_PAGE = 50;

function cursorPager(p, state) {
  return h('nav.pager', { 'aria-label': 'Pages' },
    h('button', { type: 'button', onclick: () => setRouteQuery({ ...state }) }, '⇤ First page'),
    h('span.muted', 'Deep pages follow a cursor'),
    h('button', { type: 'button', disabled: !p.nextCursor,
      onclick: () => setRouteQuery({ ...state, cursor: p.nextCursor }) }, 'Next →'));
}

function leadTable(rows, adminNames) {
  if (!rows.length) return h('p.empty', 'No lead matches these filters.');
  return h('table.data',
    h('caption.sr-only', 'Leads'),
    h('thead', h('tr', ['Name', 'Email', 'Company', 'Status', 'Source', 'Score', 'Value', 'Assigned', 'Created']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', rows.map((l) => h('tr',
      h('td', h('a', { href: `#/leads/${l.id}` }, l.name)),
      h('td', l.email), h('td', l.company || '—'),
      h('td', h('span.badge.s-' + l.status.toLowerCase(), label(l.status))),
      h('td', label(l.source)), h('td.num', l.score ?? '—'), h('td.num', fmtMoney(l.estimatedValue)),
      h('td', l.assignedToId ? adminNames[l.assignedToId] || 'Someone' : '—'),
      h('td', fmtDate(l.createdAt))))));
}
