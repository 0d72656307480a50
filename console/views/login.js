// views/login.js: sign-in with a password, the MFA step (a code or a
// recovery code), "forgot password", and the landing of an OpenID Connect
// sign-in (#mfaToken= or #error= from /auth/oidc/login).
import * as api from '../api.js';
import { h, clear, field, showError, routeQuery } from '../ui.js';
import { afterSignIn } from '../app.js';

let landing = null;
export function setLanding(l) { landing = l; }

const OIDC_ERRORS = {
  oidc_not_provisioned: 'No account exists for this sign-in. Ask an administrator to invite you.',
  identity_link_required: 'An account with this email exists. Sign in with your password, then link the provider in My account.',
  email_not_verified: 'Your email address is not verified yet.',
  account_disabled: 'This account is disabled.',
};

export async function render(el) {
  const next = routeQuery().get('next') || '';
  if (landing && landing.mfaToken) {
    const token = landing.mfaToken;
    landing = null;
    return mfaStep(el, token, next);
  }
  const msg = h('div.msg', { 'aria-live': 'assertive' });
  if (landing && landing.error) {
    showError({ message: OIDC_ERRORS[landing.error] || 'Sign-in with the provider failed.' }, msg);
    landing = null;
  }
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = h('form.card.narrow', { novalidate: true },
    h('h1', 'Sign in'), msg,
    field('Email', email), field('Password', password),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Sign in')),
    h('p', h('a', { href: '#/login?forgot=1' }, 'Forgot your password?')),
    h('p', h('a', { href: '/auth/oidc/login', class: 'oidc' }, 'Sign in with your organisation')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    try {
      const body = await api.login(email.value.trim(), password.value);
      if (body.mfaRequired) return mfaStep(el, body.mfaToken, next);
      await afterSignIn(next);
    } catch (err) {
      showError(err, msg);
      password.select();
    }
  });
  if (routeQuery().get('forgot')) return forgot(el);
  clear(el, form);
  email.focus();
}

function mfaStep(el, mfaToken, next) {
  const msg = h('div.msg', { 'aria-live': 'assertive' });
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 12 });
  const recovery = h('input', { type: 'checkbox', name: 'recovery' });
  const form = h('form.card.narrow',
    h('h1', 'Two-factor authentication'), msg,
    h('p', 'Enter the 6-digit code from your authenticator app, or a recovery code.'),
    field('Code', code),
    h('label.check', recovery, ' This is a recovery code'),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Verify')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    try {
      await api.verifyMfa(mfaToken, code.value.replace(/\s/g, ''), recovery.checked);
      await afterSignIn(next);
    } catch (err) {
      showError(err, msg);
      code.select();
    }
  });
  clear(el, form);
  code.focus();
}

function forgot(el) {
  const msg = h('div.msg', { 'aria-live': 'polite' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const form = h('form.card.narrow',
    h('h1', 'Reset your password'), msg,
    h('p', 'We will send a link to this address if an account uses it.'),
    field('Email', email),
    h('div.actions', h('a', { href: '#/login' }, 'Back to sign in'), h('button.primary', { type: 'submit' }, 'Send the link')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.request('POST', '/auth/password/forgot', { body: { email: email.value.trim() }, auth: false });
      clear(msg, h('p.ok', { role: 'status' }, 'If an account uses this address, a link is on its way.'));
    } catch (err) {
      showError(err, msg);
    }
  });
  clear(el, form);
  email.focus();
}
