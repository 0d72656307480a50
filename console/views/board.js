// views/board.js: the pipeline board: one column per lead status (the 50
// most recently updated leads of each), cards dragged between columns or
// moved with the keyboard through each card's "Move to" menu. Moving to
// LOST asks for the reason the contract requires; the server's answer
// (its detail on a refusal) decides, the board never assumes.
import * as api from '../api.js';
import { h, clear, showError, toast, dialog, field, label, fmtMoney, LEAD_STATUSES } from '../ui.js';

export async function render(el, { stale }) {
  const cols = await Promise.all(LEAD_STATUSES.map((s) =>
    api.get('/api/leads', { status: s, sort: '-updatedAt', limit: 50 })));
  if (stale()) return;
  const board = h('div.board');
  LEAD_STATUSES.forEach((status, i) => board.append(column(status, cols[i], board)));
  clear(el, h('div.head', h('h1', 'Pipeline'), h('a.button', { href: '#/leads' }, 'Table view')),
    h('p.muted', 'Drag a card to another column, or use its “Move to” menu.'), board);
}

function column(status, res, board) {
  const list = h('ul.cards', { 'aria-label': label(status) });
  for (const lead of res.data) list.append(card(lead, board));
  const total = res.pagination.total;
  const col = h('section.col', { dataset: { status } },
    h('h2', label(status), ' ', h('span.count', `${total}${res.pagination.totalIsExact === false ? '+' : ''}`)), list);
  col.addEventListener('dragover', (e) => { e.preventDefault(); col.classList.add('over'); });
  col.addEventListener('dragleave', () => col.classList.remove('over'));
  col.addEventListener('drop', async (e) => {
    e.preventDefault();
    col.classList.remove('over');
    const id = e.dataTransfer.getData('text/plain');
    const li = board.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (li) await move(li, status, board);
  });
  return col;
}

function card(lead, board) {
  const menu = h('select', { 'aria-label': `Move ${lead.name} to`, class: 'move' },
    h('option', { value: '' }, 'Move to…'),
    LEAD_STATUSES.filter((s) => s !== lead.status).map((s) => h('option', { value: s }, label(s))));
  const li = h('li.card', { draggable: 'true', dataset: { id: lead.id, status: lead.status } },
    h('a', { href: `#/leads/${lead.id}` }, lead.name),
    h('div.muted', lead.company || lead.email),
    lead.estimatedValue != null ? h('div', fmtMoney(lead.estimatedValue)) : null,
    menu);
  li.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/plain', lead.id); li.classList.add('dragging'); });
  li.addEventListener('dragend', () => li.classList.remove('dragging'));
  menu.addEventListener('change', async () => {
    const to = menu.value;
    menu.value = '';
    if (to) await move(li, to, board);
  });
  return li;
}

async function move(li, to, board) {
  if (li.dataset.status === to) return;
  const body = { status: to };
  if (to === 'LOST') {
    const data = await dialog('Why was this lead lost?',
      field('Reason', h('textarea', { name: 'lostReason', required: true, maxlength: 500, rows: 3 })),
      { submit: 'Mark as lost' });
    if (!data) return;
    body.lostReason = String(data.get('lostReason')).trim();
  }
  try {
    const lead = await api.patch(`/api/leads/${li.dataset.id}`, body);
    const fresh = card(lead, board);
    li.replaceWith(fresh);
    const target = board.querySelector(`section.col[data-status="${to}"] ul.cards`);
    target.prepend(fresh);
    bump(board, li.dataset.status, -1);
    bump(board, to, +1);
    fresh.querySelector('select').focus();
    toast(`${lead.name} moved to ${label(to)}.`);
  } catch (err) {
    showError(err);
  }
}

function bump(board, status, d) {
  const c = board.querySelector(`section.col[data-status="${status}"] .count`);
  const n = parseInt(c.textContent, 10);
  if (!Number.isNaN(n)) c.textContent = String(n + d) + (c.textContent.endsWith('+') ? '+' : '');
}
