// 报警管理: a day of every mine against the thresholds (默认参数设置), shut-down mines with activity
// highlighted as suspected illegal production with links to their evidence, and the 7-day trend.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { alarms, readAlarmsQuery, type AlarmShow, type AlarmsView } from '../api/alarmsApi.ts';
import { ALARM_KINDS, KIND_ENDPOINTS, type AlarmKind, type MineAlarm } from '../alarms/alarmRules.ts';
import { html, query, type Html } from './html.ts';
import { t, type Lang, type WordKey } from './i18n.ts';
import { CHART_SCRIPTS, chart, statusCell } from './minesPage.ts';
import type { SendPage } from './pageRoutes.ts';
import { intIn } from '../api/minesApi.ts';

export const ALARMS_PAGE_SIZE = 100;

export const KIND_WORDS: Record<AlarmKind, WordKey> = {
  personsInPerDay: 'personsIn',
  trucksOutPerDay: 'trucksOut',
  beltRunningPerDay: 'beltRunning',
  dispatchRoomEmptyPerDay: 'dispatchEmpty',
  occlusionMovedPerDay: 'occlusionMoved',
};

function evidenceLinks(lang: Lang, a: MineAlarm, kinds: readonly AlarmKind[]): Html {
  const endpoints = [...new Set(kinds.flatMap((k) => KIND_ENDPOINTS[k]))].filter((e) => a.evidence[e]);
  return html`${endpoints.map((e) => html`<a href="/items${query({ mine: a.mineId, endpoint: e })}" class="evidence" data-endpoint="${e}">${e} (${a.evidence[e]})</a><br>`)}${endpoints.length ? '' : html`<span class="muted">${t(lang, 'none')}</span>`}`;
}

function row(lang: Lang, a: MineAlarm): Html {
  const cell = (k: AlarmKind) => {
    const over = a.alarms.includes(k);
    return html`<td class="num ${over ? 'bad' : ''}" data-kind="${k}" title="${t(lang, 'thresholdsLink')}: ${a.thresholds[k]}">${a.counts[k]} <small class="muted">/ ${a.thresholds[k]}</small></td>`;
  };
  const active: AlarmKind[] = a.suspectedIllegal ? ['personsInPerDay', 'trucksOutPerDay', 'beltRunningPerDay'] : a.alarms;
  return html`<tr data-mine="${a.mineId}"${a.suspectedIllegal ? html` class="suspect" style="background:#fde7e7"` : a.alarms.length ? html` class="risk"` : ''}>
<td><a href="/mines/${a.mineId}">${a.mineId}</a></td><td>${statusCell(lang, a.status, a.shutDown)}</td>${ALARM_KINDS.map(cell)}
<td>${a.suspectedIllegal ? html`<strong class="bad suspected">${t(lang, 'suspected')}</strong><br>` : ''}${a.alarms.map((k) => html`<span class="warn">${t(lang, KIND_WORDS[k])}</span> `)}</td>
<td>${active.length ? evidenceLinks(lang, a, active) : ''}</td></tr>`;
}

export function alarmsBody(lang: Lang, v: AlarmsView, show: AlarmShow, offset: number): Html {
  const days = v.trend.map((d) => d.day.slice(5));
  const option = {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 40, left: 40, right: 40, bottom: 30 },
    xAxis: { type: 'category', data: days },
    yAxis: [{ type: 'value', minInterval: 1 }, { type: 'value', minInterval: 1, position: 'right' }],
    series: [
      ...ALARM_KINDS.map((k) => ({ name: t(lang, KIND_WORDS[k]), type: 'line', data: v.trend.map((d) => d.counts[k]) })),
      { name: t(lang, 'minesWithAlarms'), type: 'bar', yAxisIndex: 1, data: v.trend.map((d) => d.minesWithAlarms), itemStyle: { color: '#f0b429' } },
      { name: t(lang, 'suspected'), type: 'bar', yAxisIndex: 1, data: v.trend.map((d) => d.suspected), itemStyle: { color: '#b3261e' } },
    ],
  };
  const shown = v.mines.slice(offset, offset + ALARMS_PAGE_SIZE);
  const here = { day: v.day, show };
  const prev = offset > 0 ? html`<a href="/alarms${query({ ...here, offset: Math.max(0, offset - ALARMS_PAGE_SIZE) })}" id="prev">${t(lang, 'previous')}</a> ` : '';
  const next = offset + ALARMS_PAGE_SIZE < v.mines.length ? html`<a href="/alarms${query({ ...here, offset: offset + ALARMS_PAGE_SIZE })}" id="next">${t(lang, 'next')}</a>` : '';
  return html`<form method="get" action="/alarms" class="filters" id="alarms-filter">
<label>${t(lang, 'day')}<input type="date" name="day" id="f-day" value="${v.day}" required></label>
<label>${t(lang, 'show')}<select name="show" id="f-show"><option value="alarms"${show === 'alarms' ? html` selected` : ''}>${t(lang, 'onlyAlarms')}</option><option value="all"${show === 'all' ? html` selected` : ''}>${t(lang, 'allMines')}</option></select></label>
<button type="submit">${t(lang, 'filter')}</button> <a href="/settings">${t(lang, 'thresholdsLink')}</a></form>
<div class="cards">
<div class="card" id="a-suspected"><div>${t(lang, 'suspected')}</div><div class="v ${v.totals.suspected ? 'bad' : 'ok'}">${v.totals.suspected}</div></div>
<div class="card" id="a-alarms"><div>${t(lang, 'minesWithAlarms')}</div><div class="v ${v.totals.minesWithAlarms ? 'warn' : 'ok'}">${v.totals.minesWithAlarms}</div><small>/ ${v.totals.mines}</small></div>
${ALARM_KINDS.map((k) => html`<div class="card" data-total="${k}"><div>${t(lang, KIND_WORDS[k])}</div><div class="v">${v.totals.counts[k]}</div></div>`)}
</div>
<p><small>${t(lang, 'shutDownRule')}</small></p>
<h2>${t(lang, 'trend7')} (${v.trend[0]?.day} – ${v.day})</h2>
${chart('chart-trend', option)}
<h2>${v.day}</h2>
<table id="alarms"><thead><tr><th>${t(lang, 'mine')}</th><th>${t(lang, 'mineStatus')}</th>${ALARM_KINDS.map((k) => html`<th>${t(lang, KIND_WORDS[k])}</th>`)}<th>${t(lang, 'alarmKinds')}</th><th>${t(lang, 'evidence')}</th></tr></thead>
<tbody>${shown.length ? shown.map((a) => row(lang, a)) : html`<tr><td colspan="${ALARM_KINDS.length + 4}">${t(lang, 'noItems')}</td></tr>`}</tbody></table>${prev}${next}
${CHART_SCRIPTS}`;
}

export async function alarmsPages(app: FastifyInstance, ctx: ConsoleContext, send: SendPage): Promise<void> {
  app.get('/alarms', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const { day, show } = readAlarmsQuery({ ...q, show: q['show'] ?? 'alarms' });
    const offset = intIn(q, 'offset', 0, 1_000_000, 0);
    return send(request, reply, '/alarms', 'alarms', alarmsBody(request.lang, await alarms(ctx, day, show), show, offset));
  });
}
