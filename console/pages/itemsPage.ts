// 数据: the relay's items, filtered; one item's fields; replay and purge for operators.
import type { ItemsFilter, QueueItemView } from '../api/itemsApi.ts';
import { ITEM_LANES, ITEM_STATES } from '../api/itemsApi.ts';
import { html, query, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { beijing, bytes } from './format.ts';

function select(name: string, values: readonly string[], current: string | undefined, lang: Lang): Html {
  return html`<select name="${name}" id="f-${name}"><option value="">${t(lang, 'any')}</option>${values.map((v) => html`<option${v === current ? html` selected` : ''}>${v}</option>`)}</select>`;
}

export function itemsBody(lang: Lang, f: ItemsFilter, list: { items: QueueItemView[]; nextFromSeq?: number }, notice?: string): Html {
  const rows = list.items.map(
    (i) => html`<tr data-seq="${i.seq}"><td><a href="/items/${i.seq}">${i.seq}</a></td><td class="${i.state === 'dead' ? 'bad' : ''}">${i.state}</td><td>${i.lane}</td><td>${i.payload.endpoint}</td>
<td>${i.payload.mineId}</td><td>${i.payload.cameraId}</td><td>${i.payload.account}</td><td>${beijing(i.payload.receivedAt)}</td><td class="num">${i.attempts}</td><td>${i.deadReason ?? i.lastError ?? ''}</td></tr>`,
  );
  const next = list.nextFromSeq ? html`<a href="/items${query({ ...f, fromSeq: list.nextFromSeq })}" id="next">${t(lang, 'next')}</a>` : '';
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}
<form method="get" action="/items" class="filters">
<label>${t(lang, 'state')}${select('state', ITEM_STATES, f.state, lang)}</label>
<label>${t(lang, 'lane')}${select('lane', ITEM_LANES, f.lane, lang)}</label>
<label>${t(lang, 'mine')}<input name="mine" value="${f.mine ?? ''}" maxlength="32"></label>
<label>${t(lang, 'endpoint')}<input name="endpoint" value="${f.endpoint ?? ''}" maxlength="64"></label>
<button type="submit">${t(lang, 'filter')}</button></form>
<table id="items"><thead><tr><th>#</th><th>${t(lang, 'state')}</th><th>${t(lang, 'lane')}</th><th>${t(lang, 'endpoint')}</th><th>${t(lang, 'mine')}</th><th>${t(lang, 'camera')}</th>
<th>${t(lang, 'account')}</th><th>${t(lang, 'received')}</th><th>${t(lang, 'attempts')}</th><th>${t(lang, 'lastError')}</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="10">${t(lang, 'noItems')}</td></tr>`}</tbody></table>${next}`;
}

export function itemBody(lang: Lang, i: QueueItemView, user: { role: string; csrf: string }, notice?: string): Html {
  const p = i.payload;
  const canAct = user.role === 'operator' || user.role === 'admin';
  const row = (k: string, v: unknown) => html`<tr><th>${k}</th><td>${v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : v}</td></tr>`;
  const actions = canAct
    ? html`<p class="actions">${i.state === 'dead'
        ? html`<form method="post" action="/items/${i.seq}/replay" class="inline"><input type="hidden" name="_csrf" value="${user.csrf}"><button type="submit" id="replay">${t(lang, 'replay')}</button></form> `
        : ''}${i.state === 'dead' || i.state === 'done'
        ? html`<form method="post" action="/items/${i.seq}/purge" class="inline" data-confirm="${t(lang, 'confirmPurge')}"><input type="hidden" name="_csrf" value="${user.csrf}"><button type="submit" class="danger" id="purge">${t(lang, 'purge')}</button></form>`
        : ''}</p>`
    : '';
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}${actions}
<table id="item"><tbody>
${row('seq', i.seq)}${row(t(lang, 'state'), i.state)}${row(t(lang, 'lane'), i.lane)}${row(t(lang, 'endpoint'), p.endpoint)}${row(t(lang, 'mine'), p.mineId)}${row(t(lang, 'camera'), p.cameraId)}
${row(t(lang, 'account'), p.account)}${row(t(lang, 'received'), beijing(p.receivedAt))}${row(t(lang, 'attempts'), i.attempts)}${row(t(lang, 'lastError'), i.lastError)}
${row(t(lang, 'deadReason'), i.deadReason)}${row(t(lang, 'delivered'), i.doneAt ? beijing(i.doneAt) : undefined)}${row(t(lang, 'flags'), p.flags?.length ? p.flags : undefined)}
</tbody></table>
${p.record ? html`<h2>${t(lang, 'fields')}</h2><table id="record"><tbody>${Object.entries(p.record).map(([k, v]) => row(k, v))}</tbody></table>` : ''}
${p.file ? html`<h2>${t(lang, 'file')}</h2><table id="file"><tbody>${row('name', p.file.name)}${row('size', bytes(p.file.size))}${row('duration', `${(p.file.durationMs / 1000).toFixed(1)} s`)}${row('codec', `${p.file.codec} ${p.file.width}×${p.file.height}`)}</tbody></table>` : ''}`;
}
