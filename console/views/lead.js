// views/lead.js: one lead: every field editable by an admin (only the
// changed ones are sent, as PATCH), assignment to an admin, its
// consultations, and deletion. A USER sees their own lead read-only.
import * as api from '../api.js';
import { h, clear, field, select, showError, toast, dialog, changedFields, fmtTime,
  label, LEAD_STATUSES, LEAD_SOURCES } from '../ui.js';
import { adminsList } from './leads.js';

const TEXT = [['name', 'Name', 100], ['email', 'Email', 254], ['phone', 'Phone', 32], ['company', 'Company', 200],
  ['jobTitle', 'Job title', 100], ['utmSource', 'UTM source', 200], ['utmMedium', 'UTM medium', 200],
  ['utmCampaign', 'UTM campaign', 200], ['utmTerm', 'UTM term', 200], ['utmContent', 'UTM content', 200],
  ['referrer', 'Referrer', 2048], ['landingPage', 'Landing page', 2048]];
const AREAS = [['message', 'Message', 5000], ['notes', 'Notes', 10000], ['lostReason', 'Lost reason', 500]];

export async function render(el, { args: [id], ctx, stale }) {
  const admin = ctx.isAdmin();
  const [lead, admins, cons] = await Promise.all([
    api.get(`/api/leads/${id.toLowerCase()}`),
    admin ? adminsList().catch(() => []) : [],
    api.get('/api/consultations', { leadId: id.toLowerCase(), limit: 50 }).catch(() => ({ data: [] })),
  ]);
  if (stale()) return;
  const msg = h('div.msg', { 'aria-live': 'assertive' });
  const ro = !admin;
  const form = h('form.card.grid', { 'aria-label': 'Lead details' },
    TEXT.map(([n, l, max]) => field(l, h('input', { name: n, value: lead[n] ?? '', maxlength: max, readonly: ro, type: n === 'email' ? 'email' : 'text' }))),
    field('Status', select('status', LEAD_STATUSES, lead.status, { disabled: ro })),
    field('Source', select('source', LEAD_SOURCES, lead.source, { disabled: ro })),
    field('Score (0-100)', h('input', { name: 'score', type: 'number', min: 0, max: 100, step: 1, value: lead.score ?? '', readonly: ro })),
    field('Estimated value', h('input', { name: 'estimatedValue', type: 'number', min: 0, step: '0.01', value: lead.estimatedValue ?? '', readonly: ro })),
    admin ? field('Assigned to', select('assignedToId', [['', 'Nobody'], ...admins.map((u) => [u.id, `${u.name} (${u.email})`])], lead.assignedToId ?? '')) : null,
    AREAS.map(([n, l, max]) => h('div.wide', field(l, h('textarea', { name: n, maxlength: max, rows: 3, readonly: ro }, lead[n] ?? '')))),
    admin ? h('div.actions.wide',
      h('button.danger', { type: 'button', onclick: () => remove(lead, ctx) }, 'Delete lead'),
      h('button.primary', { type: 'submit' }, 'Save changes')) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    const body = changedFields(form, lead, { score: 'number', estimatedValue: 'number' });
    if (!Object.keys(body).length) { toast('Nothing changed.'); return; }
    try {
      const saved = await api.patch(`/api/leads/${lead.id}`, body);
      Object.assign(lead, saved);
      toast('Lead saved.');
      render(el, { args: [id], ctx, stale });
    } catch (err) { showError(err, msg); }
  });
  clear(el,
    h('div.head', h('h1', lead.name), h('span.badge.s-' + lead.status.toLowerCase(), label(lead.status))),
    h('p.muted', `Created ${fmtTime(lead.createdAt)} · updated ${fmtTime(lead.updatedAt)}`,
      lead.convertedAt ? ` · converted ${fmtTime(lead.convertedAt)}` : ''),
    msg, form,
    h('h2', 'Consultations'),
    cons.data.length ? h('ul.list', cons.data.map((c) => h('li',
      h('strong', fmtTime(c.scheduledAt)), ` · ${c.durationMinutes} min · ${label(c.status)} · `, c.topic)))
      : h('p.empty', 'No consultation yet.'),
    h('p', h('a', { href: '#/leads' }, '← All leads')));
}

async function remove(lead, ctx) {
  const ok = await dialog('Delete this lead?', h('p', `“${lead.name}” disappears from every list.`), { submit: 'Delete', danger: true });
  if (!ok) return;
  try {
    await api.del(`/api/leads/${lead.id}`);
    toast('Lead deleted.');
    ctx.go('#/leads');
  } catch (err) { showError(err); }
}
