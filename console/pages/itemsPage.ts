// 数据: the relay's items, newest first, filtered by mine, camera, kind, lane, state and time; one
// item's fields and, for evidence, its video played in the page; replay and purge for operators.
import type { ItemDetail, ItemSummary, ItemsFilter } from '../api/itemsApi.ts';
import { ITEM_LANES, ITEM_STATES } from '../api/itemsApi.ts';
import { ConsoleInvalid } from '../errors.ts';
import { html, query, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { beijing, bytes } from './format.ts';

/** The filters of /items as typed (from/to in Beijing time), and what the relay is asked. */
export interface ItemsPageFilter {
  filter: ItemsFilter;
  /** the form's own values, shown back as typed */
  form: Record<string, string>;
}

const BEIJING_MS = 8 * 3600_000;

/** `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM` in Beijing time → ms; a day alone is its start (or, for `to`, its end). */
export function beijingTime(text: string, field: string, endOfDay = false): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  const rule = `${field}: a Beijing time YYYY-MM-DD or YYYY-MM-DD HH:MM, got ${JSON.stringify(text.slice(0, 30))}`;
  if (!m) throw ConsoleInvalid(rule, { field });
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((v) => v ?? undefined) as string[];
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const back = new Date(ms);
  if (!Number.isFinite(ms) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(y) < 2000) {
    throw ConsoleInvalid(rule, { field });
  }
  return ms - BEIJING_MS + (endOfDay && m[4] === undefined ? 86400_000 : 0);
}

/** The filters of /items from its query string: empty fields are no filter; a bad one names itself. */
export function readItemsFilter(q: Record<string, unknown>): ItemsPageFilter {
  const str = (k: string) => (typeof q[k] === 'string' && (q[k] as string).trim() !== '' ? (q[k] as string).trim() : undefined);
  const f: ItemsFilter = {};
  const form: Record<string, string> = {};
  const oneOf = (k: 'state' | 'lane', values: readonly string[]) => {
    const v = str(k);
    if (v === undefined) return;
    if (!values.includes(v)) throw ConsoleInvalid(`${k}: one of ${values.join(', ')}`, { field: k });
    f[k] = form[k] = v;
  };
  oneOf('state', ITEM_STATES);
  oneOf('lane', ITEM_LANES);
  for (const k of ['mine', 'camera'] as const) {
    const v = str(k);
    if (v === undefined) continue;
    if (!/^[0-9A-Za-z_-]{1,32}$/.test(v)) throw ConsoleInvalid(`${k}: ${k === 'mine' ? 'a mine id' : 'a camera id'} of letters and digits, at most 32`, { field: k });
    f[k] = form[k] = v;
  }
  const endpoint = str('endpoint');
  if (endpoint !== undefined) {
    if (!/^[A-Za-z0-9/_-]{1,64}$/.test(endpoint)) throw ConsoleInvalid('endpoint: an endpoint id such as infoReport/truck', { field: 'endpoint' });
    f.endpoint = form['endpoint'] = endpoint;
  }
  const from = str('from');
  if (from !== undefined) f.from = beijingTime((form['from'] = from), 'from');
  const to = str('to');
  if (to !== undefined) f.to = beijingTime((form['to'] = to), 'to', true);
  if (f.from !== undefined && f.to !== undefined && f.to <= f.from) throw ConsoleInvalid('to: later than from', { field: 'to' });
  const before = str('before');
  if (before !== undefined) {
    if (!/^[1-9][0-9]{0,14}$/.test(before)) throw ConsoleInvalid('before: a whole number ≥ 1 (the next page link gives it)', { field: 'before' });
    f.before = Number(before);
  }
  return { filter: f, form };
}

function select(name: string, values: readonly string[], current: string | undefined, lang: Lang): Html {
  return html`<select name="${name}" id="f-${name}"><option value="">${t(lang, 'any')}</option>${values.map((v) => html`<option${v === current ? html` selected` : ''}>${v}</option>`)}</select>`;
}

export function itemsBody(lang: Lang, form: Record<string, string>, list: { items: ItemSummary[]; nextBefore?: number }, notice?: string): Html {
  const rows = list.items.map(
    (i) => html`<tr data-seq="${i.seq}"><td><a href="/items/${i.seq}">${i.seq}</a></td><td class="${i.state === 'dead' ? 'bad' : ''}">${i.state}</td><td>${i.lane}</td><td>${i.endpoint}${i.file ? html` <span class="tag" title="${i.file.name}">▶</span>` : ''}</td>
<td>${i.mineId}</td><td>${i.cameraId}</td><td>${i.account}</td><td>${beijing(i.receivedAt)}</td><td class="num">${i.attempts}</td><td>${i.lastError ?? ''}</td></tr>`,
  );
  const next = list.nextBefore ? html`<a href="/items${query({ ...form, before: list.nextBefore })}" id="next">${t(lang, 'next')}</a>` : '';
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}
<form method="get" action="/items" class="filters">
<label>${t(lang, 'state')}${select('state', ITEM_STATES, form['state'], lang)}</label>
<label>${t(lang, 'lane')}${select('lane', ITEM_LANES, form['lane'], lang)}</label>
<label>${t(lang, 'mine')}<input name="mine" id="f-mine" value="${form['mine'] ?? ''}" maxlength="32"></label>
<label>${t(lang, 'camera')}<input name="camera" id="f-camera" value="${form['camera'] ?? ''}" maxlength="32" size="6"></label>
<label>${t(lang, 'endpoint')}<input name="endpoint" id="f-endpoint" value="${form['endpoint'] ?? ''}" maxlength="64"></label>
<label>${t(lang, 'itemsFrom')}<input name="from" id="f-from" value="${form['from'] ?? ''}" maxlength="19" placeholder="YYYY-MM-DD HH:MM" size="16"></label>
<label>${t(lang, 'itemsTo')}<input name="to" id="f-to" value="${form['to'] ?? ''}" maxlength="19" placeholder="YYYY-MM-DD HH:MM" size="16"></label>
<button type="submit">${t(lang, 'filter')}</button></form>
<p class="hint">${t(lang, 'itemsNewestFirst')}</p>
<table id="items"><thead><tr><th>#</th><th>${t(lang, 'state')}</th><th>${t(lang, 'lane')}</th><th>${t(lang, 'endpoint')}</th><th>${t(lang, 'mine')}</th><th>${t(lang, 'camera')}</th>
<th>${t(lang, 'account')}</th><th>${t(lang, 'received')}</th><th>${t(lang, 'attempts')}</th><th>${t(lang, 'lastError')}</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="10">${t(lang, 'noItems')}</td></tr>`}</tbody></table>${next}`;
}

export function itemBody(lang: Lang, i: ItemDetail, user: { role: string; csrf: string }, notice?: string): Html {
  const canAct = user.role === 'operator' || user.role === 'admin';
  const row = (k: string, v: unknown) => html`<tr><th>${k}</th><td>${v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : v}</td></tr>`;
  const actions = canAct
    ? html`<p class="actions">${i.state === 'dead'
        ? html`<form method="post" action="/items/${i.seq}/replay" class="inline"><input type="hidden" name="_csrf" value="${user.csrf}"><button type="submit" id="replay">${t(lang, 'replay')}</button></form> `
        : ''}${i.state === 'dead' || i.state === 'done'
        ? html`<form method="post" action="/items/${i.seq}/purge" class="inline" data-confirm="${t(lang, 'confirmPurge')}"><input type="hidden" name="_csrf" value="${user.csrf}"><button type="submit" class="danger" id="purge">${t(lang, 'purge')}</button></form>`
        : ''}</p>`
    : '';
  const f = i.file;
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}${actions}
<table id="item"><tbody>
${row('seq', i.seq)}${row(t(lang, 'state'), i.state)}${row(t(lang, 'lane'), i.lane)}${row(t(lang, 'endpoint'), i.endpoint)}${row(t(lang, 'mine'), i.mineId)}${row(t(lang, 'camera'), i.cameraId)}
${row(t(lang, 'account'), i.account)}${row(t(lang, 'received'), beijing(i.receivedAt))}${row(t(lang, 'attempts'), i.attempts)}${row(t(lang, 'lastError'), i.state === 'dead' ? undefined : i.lastError)}
${row(t(lang, 'deadReason'), i.deadReason)}${row(t(lang, 'delivered'), i.deliveredAt ? beijing(i.deliveredAt) : undefined)}${row(t(lang, 'flags'), i.flags?.length ? i.flags : undefined)}
</tbody></table>
${i.record ? html`<h2>${t(lang, 'fields')}</h2><table id="record"><tbody>${Object.entries(i.record).map(([k, v]) => row(k, v))}</tbody></table>` : ''}
${f
  ? html`<h2>${t(lang, 'file')}</h2>
<video id="video" controls preload="metadata" width="${Math.min(f.width || 640, 960)}" src="/api/items/${i.seq}/video"></video>
<p><a href="/api/items/${i.seq}/video" download="${f.name}" id="download">${t(lang, 'itemsDownload')}</a></p>
<table id="file"><tbody>${row('name', f.name)}${row('size', bytes(f.size))}${row('duration', `${(f.durationMs / 1000).toFixed(1)} s`)}${row('codec', `${f.codec} ${f.width}×${f.height}`)}</tbody></table>`
  : ''}`;
}
