// views/dashboard.js: totals and conversion (GET /api/leads/stats),
// conversion by source, and leads over time (GET /api/leads/stats/series),
// drawn as plain SVG built through the DOM (no chart library, no inline
// style). The period is in the URL (#/dashboard?days=90).
import * as api from '../api.js';
import { h, clear, select, label, routeQuery, setRouteQuery, showError, LEAD_STATUSES } from '../ui.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

export async function render(el, { stale }) {
  const days = Number(routeQuery().get('days') || 30);
  const to = new Date();
  const from = new Date(to.getTime() - days * 86400000);
  const interval = days > 180 ? 'month' : days > 60 ? 'week' : 'day';
  const period = { from: from.toISOString(), to: to.toISOString() };
  const [stats, series] = await Promise.all([
    api.get('/api/leads/stats', period),
    api.get('/api/leads/stats/series', { ...period, interval }).catch((err) => ({ error: err })),
  ]);
  if (stale()) return;
  const pick = select('days', [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last 12 months']],
    String(days), { 'aria-label': 'Period' });
  pick.addEventListener('change', () => setRouteQuery({ days: pick.value }));
  const pct = (x) => `${(x * 100).toFixed(1)} %`;
  const seriesBox = h('section.card', h('h2', 'Leads over time'));
  if (series.error) showError(series.error, seriesBox.appendChild(h('div')));
  else seriesBox.append(seriesChart(series));
  clear(el,
    h('div.head', h('h1', 'Dashboard'), pick),
    h('div.tiles',
      tile('Leads', stats.total.toLocaleString()),
      tile('Converted', (stats.byStatus.CONVERTED || 0).toLocaleString()),
      tile('Conversion rate', pct(stats.conversionRate)),
      tile('Days to convert', stats.avgDaysToConvert == null ? '—' : stats.avgDaysToConvert.toFixed(1))),
    h('section.card', h('h2', 'By status'), statusBars(stats.byStatus)),
    h('section.card', h('h2', 'Conversion by source'), sourceTable(stats.bySource)),
    seriesBox);
}

function tile(name, value) { return h('div.tile', h('div.muted', name), h('div.big', value)); }

function statusBars(byStatus) {
  const max = Math.max(1, ...LEAD_STATUSES.map((k) => byStatus[k] || 0));
  const w = 560, row = 26;
  const svg = s('svg', { viewBox: `0 0 ${w} ${row * LEAD_STATUSES.length}`, role: 'img', class: 'chart',
    'aria-label': LEAD_STATUSES.map((k) => `${label(k)} ${byStatus[k] || 0}`).join(', ') });
  LEAD_STATUSES.forEach((k, i) => {
    const n = byStatus[k] || 0;
    const bw = Math.round((w - 220) * n / max);
    svg.append(s('text', { x: 0, y: i * row + 17, class: 'lbl' }, label(k)),
      s('rect', { x: 120, y: i * row + 5, width: Math.max(bw, 1), height: 16, class: 'bar s-' + k.toLowerCase() }),
      s('text', { x: 126 + bw, y: i * row + 17, class: 'val' }, n.toLocaleString()));
  });
  return svg;
}

function sourceTable(bySource) {
  return h('table.data',
    h('thead', h('tr', ['Source', 'Leads', 'Converted', 'Rate'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', Object.entries(bySource).map(([src, v]) => h('tr',
      h('td', label(src)), h('td.num', v.total.toLocaleString()), h('td.num', v.converted.toLocaleString()),
      h('td', h('meter', { min: 0, max: 1, value: v.conversionRate, 'aria-label': `${label(src)} conversion` }),
        ` ${(v.conversionRate * 100).toFixed(1)} %`)))));
}

function seriesChart(series) {
  const b = series.buckets || [];
  const w = 640, ht = 200, pad = 30;
  const max = Math.max(1, ...b.map((x) => x.total));
  const bw = b.length ? (w - pad) / b.length : 0;
  const svg = s('svg', { viewBox: `0 0 ${w} ${ht + 24}`, role: 'img', class: 'chart',
    'aria-label': `Leads per ${series.interval}: ` + b.map((x) => `${x.start.slice(0, 10)} ${x.total}`).join(', ') });
  svg.append(s('text', { x: 0, y: 12, class: 'val' }, String(max)), s('line', { x1: pad, y1: ht, x2: w, y2: ht, class: 'axis' }));
  b.forEach((x, i) => {
    const hTot = Math.round((ht - 10) * x.total / max);
    const hConv = Math.round((ht - 10) * x.converted / max);
    const g = s('g', {}, s('title', {}, `${x.start.slice(0, 10)}: ${x.total} leads, ${x.converted} converted`),
      s('rect', { x: pad + i * bw + 1, y: ht - hTot, width: Math.max(bw - 2, 1), height: hTot, class: 'bar' }),
      s('rect', { x: pad + i * bw + 1, y: ht - hConv, width: Math.max(bw - 2, 1), height: hConv, class: 'bar conv' }));
    svg.append(g);
    if (b.length <= 12 || i % Math.ceil(b.length / 8) === 0) {
      svg.append(s('text', { x: pad + i * bw, y: ht + 16, class: 'lbl small' }, x.start.slice(5, 10)));
    }
  });
  return h('figure', svg, h('figcaption.muted', `Leads per ${series.interval} (${series.timezone}); the darker part converted.`));
}
