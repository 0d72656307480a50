// app.js: the console's shell: who is signed in, the navigation, the
// theme, and a hash router that maps #/path?query to a view module.
//
// Start-up signs in silently through the refresh cookie (so a reload, or
// the same console served by another node, needs no new sign-in); the
// access token never leaves memory.
import * as api from './api.js';
import { h, clear, showError, toast } from './ui.js';
import * as login from './views/login.js';
import * as dashboard from './views/dashboard.js';
import * as leads from './views/leads.js';
import * as board from './views/board.js';
import * as lead from './views/lead.js';
import * as consultations from './views/consultations.js';
import * as users from './views/users.js';
import * as account from './views/account.js';

const RANK = { USER: 0, ADMIN: 1, SUPER_ADMIN: 2 };
export const session = { user: null };
export const isAdmin = () => session.user && RANK[session.user.role] >= 1;
export const isSuper = () => session.user && session.user.role === 'SUPER_ADMIN';

const ROUTES = [
  { re: /^\/login$/, view: login, public: true },
  { re: /^\/dashboard$/, view: dashboard, admin: true, nav: 'Dashboard' },
  { re: /^\/leads$/, view: leads, nav: 'Leads' },
  { re: /^\/board$/, view: board, admin: true, nav: 'Pipeline' },
  { re: /^\/leads\/([0-9a-fA-F-]{36})$/, view: lead },
  { re: /^\/consultations$/, view: consultations, nav: 'Calendar' },
  { re: /^\/users$/, view: users, admin: true, nav: 'Users' },
  { re: /^\/account(?:\/(\w+))?$/, view: account, nav: 'My account' },
];

const main = () => document.getElementById('main');

function homePath() { return isAdmin() ? '#/dashboard' : '#/leads'; }

function renderNav() {
  const nav = document.getElementById('nav');
  const here = location.hash.split('?')[0].slice(1);
  clear(nav, ROUTES.filter((r) => r.nav && (!r.admin || isAdmin())).map((r) => {
    const path = r.re.source.replace(/^\^\\\//, '/').replace(/\$$/, '').replace(/\(\?:.*$/, '');
    return h('a', { href: '#' + path, 'aria-current': here === path ? 'page' : null }, r.nav);
  }));
  document.getElementById('who').textContent = session.user
    ? `${session.user.name} · ${session.user.role.replace('_', ' ')}` : '';
  document.getElementById('bar').hidden = !session.user;
}

let seq = 0;
async function route() {
  const mine = ++seq;
  const [path] = (location.hash.slice(1) || '/').split('?');
  if (!session.user && path !== '/login') {
    location.replace('#/login?next=' + encodeURIComponent(location.hash.slice(1) || '/'));
    return;
  }
  if (path === '/' || path === '') { location.replace(homePath()); return; }
  const r = ROUTES.find((x) => x.re.test(path));
  renderNav();
  const el = main();
  if (!r) { clear(el, h('h1', 'Not found'), h('p', h('a', { href: homePath() }, 'Back to the start'))); return; }
  if (r.admin && !isAdmin()) { clear(el, h('h1', 'Not allowed'), h('p', 'This view is for administrators.')); return; }
  const args = path.match(r.re).slice(1);
  clear(el, h('p.muted', 'Loading…'));
  try {
    await r.view.render(el, { args, ctx: context(), stale: () => mine !== seq });
  } catch (err) {
    if (mine === seq) showError(err, el);
  }
  if (mine === seq) {
    const heading = el.querySelector('h1');
    document.title = (heading ? heading.textContent + ' · ' : '') + 'LeadCRM console';
  }
}

function context() {
  return { session, isAdmin, isSuper, go: (hash) => { location.hash = hash; }, refreshUser };
}

async function refreshUser() {
  session.user = await api.get('/auth/profile');
  renderNav();
  return session.user;
}

api.onAuthChange(async (on) => {
  if (on) return;
  session.user = null;
  renderNav();
  if (!location.hash.startsWith('#/login')) {
    toast('Your session has ended. Please sign in again.');
    location.hash = '#/login';
  }
});

export async function afterSignIn(next) {
  await refreshUser();
  location.hash = next && next !== '/login' && next !== '/' ? '#' + next : homePath();
}

function initTheme() {
  const saved = localStorage.getItem('leadcrm-theme');   // a preference, never a token
  if (saved) document.documentElement.dataset.theme = saved;
  document.getElementById('theme').addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === 'dark'
      : matchMedia('(prefers-color-scheme: dark)').matches;
    const next = dark ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('leadcrm-theme', next);
  });
}

async function start() {
  initTheme();
  document.getElementById('signout').addEventListener('click', async () => {
    try { await api.logout(); } catch (err) { showError(err); }
  });
  // OIDC landings carry #mfaToken=... or #error=... (API.md part 2)
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.has('mfaToken') || frag.has('error')) {
    login.setLanding({ mfaToken: frag.get('mfaToken'), error: frag.get('error') });
    history.replaceState(null, '', '#/login');
  }
  try {
    await api.refresh();
    await refreshUser();
  } catch { /* not signed in: the login view */ }
  window.addEventListener('hashchange', route);
  route();
}

start();
