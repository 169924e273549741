// 设置 (默认参数设置): the alarm thresholds, a default and per mine; admins change them.
import { THRESHOLD_KINDS, type Thresholds, type ThresholdSettings } from '../settings/thresholds.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { beijing } from './format.ts';

const KIND_WORDS: Record<keyof Thresholds, [string, string]> = {
  personsInPerDay: ['每日入井人数', 'Persons in per day'],
  trucksOutPerDay: ['每日出矿车数', 'Trucks out per day'],
  beltRunningPerDay: ['每日皮带运行上报', 'Belt running reports per day'],
  dispatchRoomEmptyPerDay: ['每日调度室无人上报', 'Empty dispatch room reports per day'],
  occlusionMovedPerDay: ['每日遮挡/移位上报', 'Occluded / moved reports per day'],
};

export function settingsBody(lang: Lang, s: ThresholdSettings, user: { role: string; csrf: string }, message?: { error?: string; notice?: string }, form?: Record<string, string>): Html {
  const L = lang === 'en' ? 1 : 0;
  const admin = user.role === 'admin';
  const input = (name: string, value: number | string | undefined, placeholder = '') =>
    html`<input type="number" min="0" max="100000" step="1" name="${name}" id="${name}" value="${value ?? ''}" placeholder="${placeholder}"${admin ? '' : html` disabled`}>`;
  const mines = Object.entries(s.mines).sort(([a], [b]) => a.localeCompare(b));
  return html`${message?.error ? html`<div class="error" role="alert">${message.error}</div>` : ''}${message?.notice ? html`<div class="notice" role="status">${message.notice}</div>` : ''}
<p>${L ? 'A day\'s count above its threshold is an alarm; for a shut-down mine, persons in or trucks out above it is suspected illegal production.' : '当日计数超过阈值即报警；停产矿井入井人数或出矿车数超过阈值视为疑似违法生产。'}</p>
<h2>${L ? 'Default' : '默认阈值'}</h2>
<form method="post" action="/settings/default" id="default-form" class="filters">
<input type="hidden" name="_csrf" value="${user.csrf}">
${THRESHOLD_KINDS.map((k) => html`<label>${KIND_WORDS[k][L]}${input(k, form?.[k] ?? s.default[k])}</label>`)}
${admin ? html`<button type="submit">${L ? 'Save' : '保存'}</button>` : ''}</form>
<h2>${L ? 'Per mine' : '按煤矿设置'}</h2>
<table id="mine-thresholds"><thead><tr><th>${t(lang, 'mine')}</th>${THRESHOLD_KINDS.map((k) => html`<th>${KIND_WORDS[k][L]}</th>`)}${admin ? html`<th></th>` : ''}</tr></thead><tbody>
${mines.map(
  ([mine, o]) => html`<tr data-mine="${mine}"><td>${mine}</td>${THRESHOLD_KINDS.map((k) => html`<td class="num">${o[k] ?? html`<span class="muted">${s.default[k]}</span>`}</td>`)}
${admin ? html`<td><form method="post" action="/settings/mine" class="inline"><input type="hidden" name="_csrf" value="${user.csrf}"><input type="hidden" name="mine" value="${mine}"><button type="submit" class="danger">${L ? 'Use default' : '恢复默认'}</button></form></td>` : ''}</tr>`,
)}</tbody></table>
${admin
  ? html`<form method="post" action="/settings/mine" id="mine-form" class="filters">
<input type="hidden" name="_csrf" value="${user.csrf}">
<label>${t(lang, 'mine')}<input name="mine" id="mine" maxlength="12" value="${form?.['mine'] ?? ''}" required></label>
${THRESHOLD_KINDS.map((k) => html`<label>${KIND_WORDS[k][L]}${input(`m_${k}`, form?.[`m_${k}`], L ? 'default' : '默认')}</label>`)}
<button type="submit">${L ? 'Set for this mine' : '设置该煤矿'}</button></form>`
  : ''}
${s.updatedAt ? html`<p><small>${s.updatedBy} · ${beijing(s.updatedAt)}</small></p>` : ''}`;
}
