// 煤矿: every mine and its cameras (filtered, sorted and paged on the server), and one mine's page:
// its cameras, its 31 days by kind (an ECharts chart), its newest items linked to /items/:seq.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { MINE_SORTS, checkMineParam, listMines, mineDetail, readMinesFilter, type MineDetail, type MineListRow, type MinesFilter, type MinesPage } from '../api/minesApi.ts';
import { daysFrom } from '../alarms/relayRows.ts';
import { html, query, type Html } from './html.ts';
import { t, type Lang, type WordKey } from './i18n.ts';
import { beijing } from './format.ts';
import type { SendPage } from './pageRoutes.ts';

/** An ECharts chart drawn by /assets/charts.js from the option the server made (no inline script: the CSP forbids it). */
export function chart(id: string, option: Record<string, unknown>, height = 300): Html {
  return html`<div class="chart" id="${id}" style="height:${height}px;background:#fff;border:1px solid #d8dee4;margin-bottom:12px" data-chart="${JSON.stringify({ animation: false, ...option })}"></div>`;
}

export const CHART_SCRIPTS = html`<script src="/assets/echarts.min.js" defer></script><script src="/assets/charts.js" defer></script>`;

export function statusCell(lang: Lang, status: string | undefined, shutDown: boolean): Html {
  if (status === undefined) return html`<span class="muted">${t(lang, 'statusUnknown')}</span>`;
  return html`<span class="${shutDown ? 'warn' : ''}" title="${t(lang, shutDown ? 'shutDown' : 'producing')}">${status}</span>`;
}

export function ms(v: number): string {
  return v ? `${(v / 1000).toFixed(1)} s` : '-';
}

function byKind(today: Record<string, number>): Html {
  const kinds = Object.entries(today).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  return html`${kinds.map(([e, n]) => html`<small class="kind" data-endpoint="${e}">${e} <b>${n}</b></small><br>`)}`;
}

const SORT_WORDS: Record<(typeof MINE_SORTS)[number], WordKey> = {
  mineId: 'mine',
  lastSeenAt: 'lastSeen',
  total: 'dataOfDay',
  offline: 'offline',
  flagged: 'flags',
  rejected: 'rejected',
  late: 'late',
  latencyMaxMs: 'latencyMax',
};

function filterQuery(f: MinesFilter, over: Partial<Record<string, string | number | undefined>> = {}): string {
  return query({ day: f.day, q: f.q, status: f.status, camera: f.offline ? 'offline' : undefined, sort: f.sort, order: f.order, ...over });
}

export function minesBody(lang: Lang, p: MinesPage, f: MinesFilter): Html {
  const head = (key: (typeof MINE_SORTS)[number]) => {
    const on = f.sort === key;
    const order = on && f.order === 'asc' ? 'desc' : 'asc';
    return html`<th><a href="/mines${filterQuery(f, { sort: key, order })}" data-sort="${key}">${t(lang, SORT_WORDS[key])}${on ? (f.order === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
  };
  const rows = p.mines.map(
    (m: MineListRow) => html`<tr data-mine="${m.mineId}"><td><a href="/mines/${m.mineId}">${m.mineId}</a></td><td>${statusCell(lang, m.status, m.shutDown)}</td>
<td>${beijing(m.lastSeenAt)}</td><td class="num" data-cameras="${m.cameras.length}"><span class="ok">${m.online}</span> / <span class="${m.offline ? 'bad' : ''}">${m.offline}</span> / ${m.cameras.length}</td>
<td class="num">${m.total}</td><td>${byKind(m.today)}</td><td class="num ${m.flagged ? 'warn' : ''}">${m.flagged}</td><td class="num ${m.rejected ? 'bad' : ''}">${m.rejected}</td>
<td class="num ${m.late ? 'warn' : ''}">${m.late}</td><td class="num">${ms(m.latencyMaxMs)}</td></tr>`,
  );
  const prev = p.offset > 0 ? html`<a href="/mines${filterQuery(f, { offset: Math.max(0, p.offset - p.limit) })}" id="prev">${t(lang, 'previous')}</a> ` : '';
  const next = p.offset + p.limit < p.total ? html`<a href="/mines${filterQuery(f, { offset: p.offset + p.limit })}" id="next">${t(lang, 'next')}</a>` : '';
  const opt = (v: string, word: WordKey, current: string | undefined) => html`<option value="${v}"${v === (current ?? '') ? html` selected` : ''}>${t(lang, word)}</option>`;
  return html`<form method="get" action="/mines" class="filters" id="mines-filter">
<label>${t(lang, 'day')}<input type="date" name="day" id="f-day" value="${f.day}"></label>
<label>${t(lang, 'mineContains')}<input name="q" id="f-q" value="${f.q ?? ''}" maxlength="32" pattern="[0-9A-Za-z]{0,32}"></label>
<label>${t(lang, 'mineStatus')}<select name="status" id="f-status">${opt('', 'any', f.status)}${opt('producing', 'producing', f.status)}${opt('shutDown', 'shutDown', f.status)}${opt('unknown', 'statusUnknown', f.status)}</select></label>
<label>${t(lang, 'cameras')}<select name="camera" id="f-camera">${opt('', 'any', f.offline ? 'offline' : '')}${opt('offline', 'withOffline', f.offline ? 'offline' : '')}</select></label>
<input type="hidden" name="sort" value="${f.sort}"><input type="hidden" name="order" value="${f.order}">
<button type="submit">${t(lang, 'filter')}</button></form>
<p id="mines-count">${t(lang, 'minesShown')}: <b>${p.total}</b> / ${p.all}${p.total > p.limit ? ` (${p.offset + 1}–${Math.min(p.total, p.offset + p.limit)})` : ''}</p>
<table id="mines"><thead><tr>${head('mineId')}<th>${t(lang, 'mineStatus')}</th>${head('lastSeenAt')}<th>${t(lang, 'cameras')} (${t(lang, 'online')} / ${t(lang, 'offline')} / ∑)</th>
${head('total')}<th>${t(lang, 'endpoint')}</th>${head('flagged')}${head('rejected')}${head('late')}${head('latencyMaxMs')}</tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="10">${t(lang, 'noItems')}</td></tr>`}</tbody></table>${prev}${next}`;
}

export function mineBody(lang: Lang, d: MineDetail): Html {
  const m = d.mine;
  const days = daysFrom(d.from, d.to);
  const endpoints = [...new Set(d.daily.map((r) => r.endpoint))].sort();
  const series = endpoints.map((e) => ({
    name: e,
    type: 'bar',
    stack: 'calls',
    data: days.map((day) => d.daily.filter((r) => r.day === day && r.endpoint === e).reduce((a, r) => a + r.count, 0)),
  }));
  const option = { tooltip: { trigger: 'axis' }, legend: { type: 'scroll', top: 0 }, grid: { top: 40, left: 40, right: 20, bottom: 30 }, xAxis: { type: 'category', data: days.map((x) => x.slice(5)) }, yAxis: { type: 'value', minInterval: 1 }, series };
  const cams = m.cameras.map(
    (c) => html`<tr data-camera="${c.cameraId}"><td>${c.cameraId}</td><td>${beijing(c.lastSeenAt)}</td>
<td class="${c.online === false ? 'bad' : c.online ? 'ok' : 'muted'}">${c.online === undefined ? '-' : t(lang, c.online ? 'online' : 'offline')}</td><td>${beijing(c.onlineChangedAt)}</td><td>${c.liveUrl ?? '-'}</td></tr>`,
  );
  const items = d.items.map(
    (i) => html`<tr data-seq="${i.seq}"><td><a href="/items/${i.seq}">${i.seq}</a></td><td>${beijing(i.receivedAt)}</td><td>${i.endpoint}</td><td>${i.cameraId}</td>
<td class="${i.state === 'dead' ? 'bad' : ''}">${i.state}</td><td>${i.deliveredAt ? ms(i.deliveredAt - i.receivedAt) : '-'}</td><td>${i.flags.length ? i.flags.join(', ') : ''}</td><td>${i.lastError ?? ''}</td></tr>`,
  );
  return html`<div class="cards">
<div class="card" id="m-status"><div>${t(lang, 'mineStatus')}</div><div class="v">${statusCell(lang, m.status, m.shutDown)}</div></div>
<div class="card" id="m-last"><div>${t(lang, 'lastSeen')}</div><div class="v" style="font-size:16px">${beijing(m.lastSeenAt)}</div></div>
<div class="card" id="m-cameras"><div>${t(lang, 'cameras')}</div><div class="v"><span class="ok">${m.online}</span> / <span class="${m.offline ? 'bad' : ''}">${m.offline}</span> / ${m.cameras.length}</div><small>${t(lang, 'online')} / ${t(lang, 'offline')} / ∑</small></div>
<div class="card" id="m-today"><div>${t(lang, 'dataOfDay')}</div><div class="v">${m.total}</div><small>${t(lang, 'flags')} ${m.flagged} · ${t(lang, 'rejected')} ${m.rejected} · ${t(lang, 'late')} ${m.late} · ${t(lang, 'latencyMax')} ${ms(m.latencyMaxMs)}</small></div>
</div>
<p><a href="/items${query({ mine: m.mineId })}" id="all-items">${t(lang, 'allOfMine')}</a> · <a href="/acceptance/${m.mineId}">${t(lang, 'acceptance')}</a></p>
<h2>${t(lang, 'cameras')}</h2>
<table id="cameras"><thead><tr><th>${t(lang, 'camera')}</th><th>${t(lang, 'lastSeen')}</th><th>${t(lang, 'state')}</th><th>${t(lang, 'changedAt')}</th><th>${t(lang, 'liveUrl')}</th></tr></thead>
<tbody>${cams.length ? cams : html`<tr><td colspan="5">${t(lang, 'none')}</td></tr>`}</tbody></table>
<h2>${t(lang, 'chart31')} (${d.from} – ${d.to})</h2>
${chart('chart-daily', option)}
<h2>${t(lang, 'timeline')}</h2>
<table id="timeline"><thead><tr><th>#</th><th>${t(lang, 'received')}</th><th>${t(lang, 'endpoint')}</th><th>${t(lang, 'camera')}</th><th>${t(lang, 'state')}</th><th>${t(lang, 'latency')}</th><th>${t(lang, 'flags')}</th><th>${t(lang, 'lastError')}</th></tr></thead>
<tbody>${items.length ? items : html`<tr><td colspan="8">${t(lang, 'noItems')}</td></tr>`}</tbody></table>
${CHART_SCRIPTS}`;
}

export async function minesPages(app: FastifyInstance, ctx: ConsoleContext, send: SendPage): Promise<void> {
  app.get('/mines', { config: { role: 'viewer' } }, async (request, reply) => {
    const f = readMinesFilter(request.query as Record<string, unknown>);
    return send(request, reply, '/mines', 'mines', minesBody(request.lang, await listMines(ctx, f), f));
  });
  app.get('/mines/:mine', { config: { role: 'viewer' } }, async (request, reply) => {
    const mine = checkMineParam((request.params as { mine: string }).mine);
    return send(request, reply, '/mines', 'mines', mineBody(request.lang, await mineDetail(ctx, mine)), `${t(request.lang, 'mines')} ${mine}`);
  });
}
