// The console's pages: server-rendered HTML from the same functions as the JSON API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid } from '../errors.ts';
import { overview } from '../api/overviewApi.ts';
import { actOnItem, getItem, listItems } from '../api/itemsApi.ts';
import { auditPage } from '../audit/auditApi.ts';
import type { Html } from './html.ts';
import { t, type WordKey } from './i18n.ts';
import { page } from './layout.ts';
import { overviewBody } from './overviewPage.ts';
import { itemBody, itemsBody, readItemsFilter } from './itemsPage.ts';
import { devicesPages } from './devicesPage.ts';
import { livePages } from './livePage.ts';
import { auditBody } from './auditPage.ts';
import { settingsBody } from './settingsPage.ts';
import { changeThresholds } from '../settings/settingsApi.ts';
import { THRESHOLD_KINDS, type ThresholdSettings } from '../settings/thresholds.ts';
import { EsealError } from '../../src/errors.ts';
import { minesPages } from './minesPage.ts';
import { alarmsPages } from './alarmsPage.ts';
import { acceptancePages } from './acceptancePage.ts';

export type SendPage = typeof send;

function send(request: FastifyRequest, reply: FastifyReply, active: string, word: WordKey | string, body: Html, title?: string): string {
  const c = request.caller!;
  reply.type('text/html; charset=utf-8');
  return page({
    lang: request.lang,
    active,
    title: title ?? t(request.lang, word as WordKey),
    here: request.url,
    user: { name: c.name, role: c.role, csrf: c.session.csrf },
    body,
  });
}

function seqParam(request: FastifyRequest): number {
  const raw = (request.params as { seq?: string }).seq ?? '';
  if (!/^[0-9]{1,15}$/.test(raw)) throw ConsoleInvalid(`seq: a whole number, got ${JSON.stringify(raw.slice(0, 20))}`, { field: 'seq' });
  return Number(raw);
}

export async function pageRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/', { config: { role: 'viewer' } }, async (request, reply) => send(request, reply, '/', 'overview', overviewBody(request.lang, await overview(ctx))));

  app.get('/items', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const { filter, form } = readItemsFilter(q);
    const notice = typeof q['purged'] === 'string' && /^\d{1,15}$/.test(q['purged']) ? `${t(request.lang, 'purged')}: ${q['purged']}` : undefined;
    return send(request, reply, '/items', 'items', itemsBody(request.lang, form, await listItems(ctx, { ...filter, limit: 50 }), notice));
  });

  app.get('/items/:seq', { config: { role: 'viewer' } }, async (request, reply) => {
    const seq = seqParam(request);
    const item = await getItem(ctx, seq);
    const done = (request.query as Record<string, unknown>)['done'] === 'replayed' ? t(request.lang, 'replayed') : undefined;
    const c = request.caller!;
    return send(request, reply, '/items', 'items', itemBody(request.lang, item, { role: c.role, csrf: c.session.csrf }, done), `${t(request.lang, 'items')} #${seq}`);
  });

  app.post('/items/:seq/replay', { config: { role: 'operator' } }, async (request, reply) => {
    const seq = seqParam(request);
    await actOnItem(ctx, request, 'replay', seq);
    return reply.redirect(`/items/${seq}?done=replayed`, 303);
  });

  app.post('/items/:seq/purge', { config: { role: 'operator' } }, async (request, reply) => {
    const seq = seqParam(request);
    await actOnItem(ctx, request, 'purge', seq);
    return reply.redirect(`/items?purged=${seq}`, 303);
  });

  app.get('/audit', { config: { role: 'admin' } }, async (request, reply) => {
    const before = (request.query as Record<string, unknown>)['before'];
    if (before !== undefined && (typeof before !== 'string' || !/^[1-9][0-9]{0,14}$/.test(before))) throw ConsoleInvalid('before: a whole number ≥ 1', { field: 'before' });
    return send(request, reply, '/audit', 'audit', auditBody(request.lang, auditPage(ctx, { limit: 100, ...(before ? { before: Number(before) } : {}) })));
  });

  const settingsPage = (request: FastifyRequest, reply: FastifyReply, message?: { error?: string; notice?: string }, form?: Record<string, string>) => {
    const c = request.caller!;
    return send(request, reply, '/settings', 'settings', settingsBody(request.lang, ctx.store.thresholds.get(), { role: c.role, csrf: c.session.csrf }, message, form));
  };
  app.get('/settings', { config: { role: 'viewer' } }, async (request, reply) => {
    const saved = (request.query as Record<string, unknown>)['saved'] !== undefined;
    return settingsPage(request, reply, saved ? { notice: request.lang === 'en' ? 'Saved' : '已保存' } : undefined);
  });
  /** a form's thresholds: blank fields left out (a mine's blank field: the default applies) */
  const formValues = (form: Record<string, string>, prefix: string) => {
    const out: Record<string, string> = {};
    for (const k of THRESHOLD_KINDS) {
      const v = (form[prefix + k] ?? '').trim();
      if (v !== '') out[k] = v;
    }
    return out;
  };
  const settingsPost = (path: string, target: (form: Record<string, string>) => string, change: (form: Record<string, string>, by: string) => Promise<ThresholdSettings>) =>
    app.post(path, { config: { role: 'admin' } }, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      try {
        await changeThresholds(ctx, request, target(form), () => change(form, request.caller!.name));
      } catch (err) {
        if (!(err instanceof EsealError) || err.statusCode !== 400) throw err;
        reply.status(400);
        return settingsPage(request, reply, { error: err.message }, form);
      }
      return reply.redirect('/settings?saved=1', 303);
    });
  settingsPost('/settings/default', () => 'thresholds default', (form, by) => ctx.store.thresholds.setDefault(formValues(form, ''), by));
  settingsPost('/settings/mine', (form) => `thresholds mine ${String(form['mine'] ?? '').slice(0, 40)}`, (form, by) =>
    ctx.store.thresholds.setMine(String(form['mine'] ?? '').trim(), formValues(form, 'm_'), by),
  );

  await minesPages(app, ctx, send);
  await alarmsPages(app, ctx, send);
  await acceptancePages(app, ctx, send);
  await devicesPages(app, ctx, send);
  await livePages(app, ctx, send);
}
