// views/consultations.js: a week calendar in the business time zone (the
// zone GET /api/consultations/availability reports). Each day shows its
// consultations and the free slots of the chosen consultant; a free slot
// books, a consultation dragged onto a free slot is rescheduled (or
// rescheduled from its dialog with the keyboard), and its dialog changes
// status, link, notes and follow-up. State (week, consultant) is in the URL.
import * as api from '../api.js';
import { h, clear, field, select, showError, toast, dialog, routeQuery, setRouteQuery,
  label, CONSULTATION_NEXT, MEETING_TYPES } from '../ui.js';
import { adminsList } from './leads.js';

const DAY = 86400000;

// Y-M-D of an instant in a time zone.
function ymd(t, tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
}
function hm(t, tz) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit' }).format(new Date(t));
}
// The UTC instant of local midnight of date (YYYY-MM-DD) in tz.
function midnight(date, tz) {
  const [y, m, d] = date.split('-').map(Number);
  let t = Date.UTC(y, m - 1, d);
  for (let i = 0; i < 2; i++) {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
      .formatToParts(t).map((x) => [x.type, x.value]));
    const asUtc = Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute);
    t += Date.UTC(y, m - 1, d) - asUtc;
  }
  return t;
}
function addDays(date, n) { return new Date(Date.parse(date + 'T00:00:00Z') + n * DAY).toISOString().slice(0, 10); }
function monday(date) { const wd = (new Date(date + 'T00:00:00Z').getUTCDay() + 6) % 7; return addDays(date, -wd); }

export async function render(el, { ctx, stale }) {
  const q = routeQuery();
  const admin = ctx.isAdmin();
  const consultant = q.get('consultantId') || '';
  const probe = await api.get('/api/consultations/availability', { date: ymd(Date.now(), 'UTC') });
  const tz = probe.timezone;
  const week = monday(q.get('week') || ymd(Date.now(), tz));
  const days = [...Array(7)].map((_, i) => addDays(week, i));
  const admins = admin ? await adminsList().catch(() => []) : [];
  const [list, ...avail] = await Promise.all([
    api.get('/api/consultations', { from: new Date(midnight(days[0], tz)).toISOString(),
      to: new Date(midnight(addDays(week, 7), tz)).toISOString(), limit: 100, sort: 'scheduledAt' }),
    ...days.map((d) => api.get('/api/consultations/availability', { date: d, durationMinutes: 30, consultantId: consultant || undefined })),
  ]);
  if (stale()) return;

  const pick = admin ? select('consultantId', [['', 'Unassigned'], ...admins.map((u) => [u.id, u.name])], consultant, { 'aria-label': 'Consultant' }) : null;
  if (pick) pick.addEventListener('change', () => setRouteQuery({ week, consultantId: pick.value }));
  const grid = h('div.week');
  days.forEach((d, i) => {
    const mine = list.data.filter((c) => ymd(Date.parse(c.scheduledAt), tz) === d);
    grid.append(dayColumn(d, tz, mine, avail[i].slots, { consultant, reload: () => render(el, { ctx, stale }) }));
  });
  clear(el,
    h('div.head', h('h1', 'Calendar'),
      h('div.actions',
        h('button', { type: 'button', onclick: () => setRouteQuery({ week: addDays(week, -7), consultantId: consultant }) }, '← Previous week'),
        h('button', { type: 'button', onclick: () => setRouteQuery({ consultantId: consultant }) }, 'This week'),
        h('button', { type: 'button', onclick: () => setRouteQuery({ week: addDays(week, 7), consultantId: consultant }) }, 'Next week →'),
        pick)),
    h('p.muted', `Week of ${week}, times in ${tz}. Drag a consultation onto a free slot to move it.`),
    grid);
}

function dayColumn(date, tz, items, slots, env) {
  const name = new Date(date + 'T12:00:00Z').toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'short', timeZone: 'UTC' });
  const col = h('section.day', { 'aria-label': name }, h('h2', name));
  for (const c of items) col.append(consultationCard(c, tz, env));
  const free = h('ul.slots', { 'aria-label': `Free slots on ${name}` });
  for (const s of slots) {
    const btn = h('button.slot', { type: 'button', dataset: { start: s.start } }, hm(s.start, tz));
    btn.addEventListener('click', () => book(s.start, tz, env));
    btn.addEventListener('dragover', (e) => { e.preventDefault(); btn.classList.add('over'); });
    btn.addEventListener('dragleave', () => btn.classList.remove('over'));
    btn.addEventListener('drop', (e) => {
      e.preventDefault();
      btn.classList.remove('over');
      reschedule(e.dataTransfer.getData('text/plain'), s.start, env);
    });
    free.append(h('li', btn));
  }
  col.append(slots.length ? free : h('p.empty', 'No free slot.'));
  return col;
}

function consultationCard(c, tz, env) {
  const card = h('button.appt.s-' + c.status.toLowerCase(), { type: 'button', draggable: 'true' },
    h('strong', `${hm(c.scheduledAt, tz)} · ${c.durationMinutes} min`), h('span', c.name), h('span.muted', label(c.status)));
  card.addEventListener('dragstart', (e) => e.dataTransfer.setData('text/plain', c.id));
  card.addEventListener('click', () => details(c, tz, env));
  return card;
}

async function book(start, tz, env) {
  const data = await dialog(`Book ${new Date(start).toLocaleString(undefined, { timeZone: tz })}`, [
    field('Name', h('input', { name: 'name', required: true, maxlength: 100 })),
    field('Email', h('input', { name: 'email', type: 'email', required: true, maxlength: 254 })),
    field('Topic', h('input', { name: 'topic', required: true, maxlength: 200 })),
    field('Duration', select('durationMinutes', [['30', '30 min'], ['45', '45 min'], ['60', '60 min'], ['90', '90 min']], '30')),
    field('Meeting', select('meetingType', MEETING_TYPES, 'VIDEO')),
  ], { submit: 'Book' });
  if (!data) return;
  const body = Object.fromEntries(data);
  body.durationMinutes = Number(body.durationMinutes);
  body.scheduledAt = start;
  if (env.consultant) body.consultantId = env.consultant;
  try {
    await api.post('/api/consultations', body);
    toast('Consultation booked.');
    env.reload();
  } catch (err) { showError(err); }
}

async function reschedule(id, start, env) {
  if (!id) return;
  try {
    await api.patch(`/api/consultations/${id}`, { scheduledAt: start });
    toast('Consultation moved.');
    env.reload();
  } catch (err) { showError(err); }
}

async function details(c, tz, env) {
  const next = CONSULTATION_NEXT[c.status] || [];
  const data = await dialog(`${c.name} · ${c.topic}`, [
    h('p.muted', `${new Date(c.scheduledAt).toLocaleString(undefined, { timeZone: tz })} (${tz}), ${c.durationMinutes} min, ${label(c.meetingType)}`),
    next.length ? field('Status', select('status', [['', `Keep ${label(c.status)}`], ...next.map((s) => [s, label(s)])], '')) : h('p', `Status: ${label(c.status)}`),
    field('Cancellation reason (when cancelling)', h('input', { name: 'cancellationReason', maxlength: 500 })),
    field('Move to (local time of the business)', h('input', { name: 'moveTo', type: 'datetime-local', step: 900 })),
    field('Meeting link', h('input', { name: 'meetingLink', type: 'url', value: c.meetingLink || '', maxlength: 2048 })),
    field('Notes', h('textarea', { name: 'notes', rows: 3, maxlength: 10000 }, c.notes || '')),
    h('label.check', h('input', { type: 'checkbox', name: 'followUpRequired', checked: !!c.followUpRequired }), ' Follow-up required'),
    field('Follow-up notes', h('textarea', { name: 'followUpNotes', rows: 2, maxlength: 5000 }, c.followUpNotes || '')),
  ], { submit: 'Save' });
  if (!data) return;
  const body = {};
  if (data.get('status')) body.status = data.get('status');
  if (body.status === 'CANCELLED' && data.get('cancellationReason')) body.cancellationReason = data.get('cancellationReason');
  if (data.get('moveTo')) {
    const [d, t] = data.get('moveTo').split('T');
    const [hh, mm] = t.split(':').map(Number);
    body.scheduledAt = new Date(midnight(d, tz) + (hh * 60 + mm) * 60000).toISOString();
  }
  for (const k of ['meetingLink', 'notes', 'followUpNotes']) {
    const v = String(data.get(k) || '').trim();
    if (v !== (c[k] || '')) body[k] = v || null;
  }
  const fu = data.get('followUpRequired') === 'on';
  if (fu !== !!c.followUpRequired) body.followUpRequired = fu;
  if (!Object.keys(body).length) return;
  try {
    await api.patch(`/api/consultations/${c.id}`, body);
    toast('Consultation saved.');
    env.reload();
  } catch (err) { showError(err); }
}
