// 实时视频: several streams at once in a grid, picked by checkboxes (at most nine). The marked MJPEG
// streams are opened by the browser itself (the edge's mjpg-streamer, so the page's policy lets
// images come from exactly those origins); GB/T 28181 channels come through the console's proxy.
// No script: the checkboxes are a GET form, the grid is <img> elements.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid } from '../errors.ts';
import { EsealError } from '../../src/errors.ts';
import { LIVE_MAX_SHOWN, liveStreams, type GbStream, type LiveStreams, type MjpegStream } from '../api/liveApi.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { beijing } from './format.ts';
import type { SendPage } from './pageRoutes.ts';

/** rows of the pick list at most (a province has thousands of cameras: filter by mine or device) */
export const LIVE_LIST_MAX = 300;
const STREAM_ID = /^(m:[0-9A-Za-z_-]{1,32}:[0-9A-Za-z_-]{1,32}|g:\d{20}:\d{20})$/;

export interface LiveSelection {
  show: string[];
  filter: string;
}

/** `show` (repeated, at most nine stream ids) and `filter` (a mine or device id's start) from the query. */
export function readLiveSelection(q: Record<string, unknown>): LiveSelection {
  const raw = q['show'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > LIVE_MAX_SHOWN) throw ConsoleInvalid(`show: at most ${LIVE_MAX_SHOWN} streams at once, got ${list.length}`, { field: 'show' });
  const show: string[] = [];
  for (const v of list) {
    if (typeof v !== 'string' || !STREAM_ID.test(v)) throw ConsoleInvalid(`show: a stream id m:<mine>:<camera> or g:<device>:<channel>, got ${JSON.stringify(String(v).slice(0, 60))}`, { field: 'show' });
    if (!show.includes(v)) show.push(v);
  }
  const f = q['filter'];
  const filter = typeof f === 'string' ? f.trim() : '';
  if (filter && !/^[0-9A-Za-z_-]{1,32}$/.test(filter)) throw ConsoleInvalid('filter: the start of a mine or device id, letters and digits, at most 32', { field: 'filter' });
  return { show, filter };
}

/** The page's policy: the console's own, with images also from the origins of the MJPEG streams shown. */
export function livePolicy(origins: readonly string[]): string {
  const img = ["'self'", 'data:', 'blob:', ...new Set(origins)].join(' ');
  return `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src ${img}; media-src 'self' blob:; frame-ancestors 'none'; form-action 'self'`;
}

type Shown = { id: string; title: string; src: string; online: boolean | undefined; kind: 'mjpeg' | 'gb' };

function shownOf(lang: Lang, s: LiveStreams, ids: readonly string[]): { shown: Shown[]; missing: string[] } {
  const byId = new Map<string, Shown>();
  for (const m of s.mjpeg) byId.set(m.id, { id: m.id, title: `${t(lang, 'mine')} ${m.mineId} · ${t(lang, 'camera')} ${m.cameraId}`, src: m.url, online: m.online, kind: 'mjpeg' });
  for (const g of s.gb.channels) byId.set(g.id, { id: g.id, title: `${g.name ?? g.channelId} · ${g.deviceName ?? g.deviceId}`, src: g.url, online: g.online, kind: 'gb' });
  const shown: Shown[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const x = byId.get(id);
    if (x) shown.push(x);
    else missing.push(id);
  }
  return { shown, missing };
}

function state(lang: Lang, online: boolean | undefined): Html {
  return online === undefined ? html`<span class="muted">-</span>` : html`<span class="${online ? 'ok' : 'bad'}">${t(lang, online ? 'dvOnline' : 'dvOffline')}</span>`;
}

export function liveBody(lang: Lang, s: LiveStreams, sel: LiveSelection, error?: string): { body: Html; origins: string[] } {
  const { shown, missing } = shownOf(lang, s, sel.show);
  const origins = shown.filter((x) => x.kind === 'mjpeg').map((x) => new URL(x.src).origin);
  const checked = new Set(sel.show);
  const box = (id: string) => html`<input type="checkbox" name="show" value="${id}"${checked.has(id) ? html` checked` : ''} id="pick-${id.replace(/:/g, '-')}">`;
  const keep = (id: string, ...keys: (string | undefined)[]) => checked.has(id) || !sel.filter || keys.some((k) => k?.startsWith(sel.filter));
  const mjpeg = s.mjpeg.filter((m) => keep(m.id, m.mineId));
  const gb = s.gb.channels.filter((g) => keep(g.id, g.deviceId, g.channelId));
  const mRows = mjpeg.slice(0, LIVE_LIST_MAX).map(
    (m: MjpegStream) => html`<tr data-stream="${m.id}"><td>${box(m.id)}</td><td>${m.mineId}</td><td>${m.cameraId}</td><td>${state(lang, m.online)}</td><td><small>${m.url}</small></td><td>${beijing(m.lastSeenAt)}</td></tr>`,
  );
  const gRows = gb.slice(0, LIVE_LIST_MAX).map(
    (g: GbStream) => html`<tr data-stream="${g.id}"><td>${box(g.id)}</td><td>${g.deviceId}${g.deviceName ? html` <small>${g.deviceName}</small>` : ''}</td><td>${g.channelId}</td><td>${g.name ?? ''}</td><td>${state(lang, g.online)}</td></tr>`,
  );
  const more = (n: number) => (n > LIVE_LIST_MAX ? html`<p class="muted">${t(lang, 'lvMore')} (${n - LIVE_LIST_MAX})</p>` : '');
  const grid = shown.length
    ? html`<div class="live-grid" id="live-grid">${shown.map(
        (x) => html`<figure class="live-cell" data-stream="${x.id}"><img src="${x.src}" alt="${x.title}" data-kind="${x.kind}"><figcaption>${x.title} ${state(lang, x.online)}</figcaption></figure>`,
      )}</div>`
    : html`<p class="notice" id="live-empty">${t(lang, 'lvPick')}</p>`;
  const body = html`<style>.live-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px;margin-bottom:16px}
.live-cell{margin:0;background:#111;border:1px solid #d8dee4}.live-cell img{display:block;width:100%;aspect-ratio:4/3;object-fit:contain;background:#111}
.live-cell figcaption{background:#fff;padding:4px 8px;font-size:12px}</style>
${error ? html`<div class="error" role="alert">${error}</div>` : ''}${missing.length ? html`<div class="error" role="alert">${t(lang, 'lvGone')}: ${missing.join(', ')}</div>` : ''}
${grid}
<form method="get" action="/live" id="live-form">
<p class="filters"><label>${t(lang, 'lvFilter')} <input name="filter" value="${sel.filter}" maxlength="32" id="live-filter"></label>
<button type="submit" id="live-show">${t(lang, 'lvShow')}</button> <small class="muted">${t(lang, 'lvAtMost')} ${LIVE_MAX_SHOWN}</small></p>
<h2>${t(lang, 'lvMarked')}</h2>
<table id="live-mjpeg"><thead><tr><th></th><th>${t(lang, 'mine')}</th><th>${t(lang, 'camera')}</th><th>${t(lang, 'state')}</th><th>URL</th><th>${t(lang, 'dvLastSeen')}</th></tr></thead>
<tbody>${mRows.length ? mRows : html`<tr><td colspan="6">${t(lang, 'none')}</td></tr>`}</tbody></table>${more(mjpeg.length)}
<h2>${t(lang, 'dvGb')}</h2>
${s.gb.running ? '' : html`<p class="notice" id="gb-down">${t(lang, 'dvGbDown')} <small class="muted">${s.gb.error ?? ''}</small></p>`}
<table id="live-gb"><thead><tr><th></th><th>${t(lang, 'dvDevice')}</th><th>${t(lang, 'lvChannel')}</th><th>${t(lang, 'dvName')}</th><th>${t(lang, 'state')}</th></tr></thead>
<tbody>${gRows.length ? gRows : html`<tr><td colspan="5">${t(lang, 'none')}</td></tr>`}</tbody></table>${more(gb.length)}
</form>`;
  return { body, origins };
}

export async function livePages(app: FastifyInstance, ctx: ConsoleContext, send: SendPage): Promise<void> {
  app.get('/live', { config: { role: 'viewer' } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const q = request.query as Record<string, unknown>;
    let sel: LiveSelection;
    let error: string | undefined;
    try {
      sel = readLiveSelection(q);
    } catch (err) {
      if (!(err instanceof EsealError)) throw err;
      reply.status(err.statusCode);
      error = err.message;
      sel = { show: [], filter: '' };
    }
    const { body, origins } = liveBody(request.lang, await liveStreams(ctx), sel, error);
    reply.header('content-security-policy', livePolicy(origins));
    return send(request, reply, '/live', 'live', body);
  });
}
