// The admin API, for operators' tools (eseal status uses /admin/status): loopback only, admin token.
//   GET    /admin/status               what `eseal status` shows
//   GET    /admin/queue?state=&lane=&mine=&endpoint=&fromSeq=&limit=   items, oldest first
//   GET    /admin/queue/:seq           one item
//   POST   /admin/queue/:seq/replay    a dead letter becomes ready again
//   DELETE /admin/queue/:seq           purge a dead or delivered item (never an undelivered one)
//   GET    /admin/daily, /admin/hourly, /admin/mines, /admin/items…   the console's data (consoleRoutes.ts)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidField, success } from '../../src/contract/index.ts';
import type { QueueItem, QueueItemState } from '../../src/store/QueueStoreTypes.ts';
import { NotFound as StoreNotFound } from '../../src/store/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import { AuthAdmin } from '../errors.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { adminAuth } from '../routes/opsRoutes.ts';
import { consoleRoutes } from './consoleRoutes.ts';
import { liveStatus } from './statusReport.ts';

const STATES: readonly QueueItemState[] = ['ready', 'leased', 'dead', 'done'];
const MAX_LIMIT = 1000;

export async function loopbackOnly(request: FastifyRequest): Promise<void> {
  const ip = request.socket.remoteAddress ?? '';
  if (!(ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.'))) {
    throw AuthAdmin('the admin API answers on loopback addresses only: run eseal on the relay host', { statusCode: 403 });
  }
}

function seqParam(request: FastifyRequest): number {
  const raw = (request.params as { seq?: string }).seq ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw InvalidField(`seq: a whole number, got ${JSON.stringify(raw.slice(0, 20))}`, { field: 'seq' });
  return Number(raw);
}

export async function adminRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const startedAt = Date.now();
  app.addHook('onRequest', loopbackOnly);
  app.addHook('onRequest', adminAuth(ctx));

  app.get('/admin/status', async () => liveStatus(ctx, startedAt));

  app.get('/admin/queue', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const state = q['state'] as QueueItemState | undefined;
    if (state !== undefined && !STATES.includes(state)) throw InvalidField(`state: one of ${STATES.join(', ')}, got ${JSON.stringify(state)}`, { field: 'state' });
    const limit = q['limit'] === undefined ? 100 : Number(q['limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw InvalidField(`limit: a whole number from 1 to ${MAX_LIMIT}`, { field: 'limit' });
    const fromSeq = q['fromSeq'] === undefined ? 1 : Number(q['fromSeq']);
    if (!Number.isInteger(fromSeq) || fromSeq < 1) throw InvalidField('fromSeq: a whole number ≥ 1', { field: 'fromSeq' });
    const match = (i: QueueItem<RelayItem>) =>
      (!q['lane'] || i.lane === q['lane']) && (!q['mine'] || i.payload.mineId === q['mine']) && (!q['endpoint'] || i.payload.endpoint === q['endpoint']);
    const items: QueueItem<RelayItem>[] = [];
    let from = fromSeq;
    // pages of the queue until `limit` matches (filters other than state scan)
    for (;;) {
      const page = ctx.queue.range({ fromSeq: from, limit: 1000, ...(state ? { state } : {}) });
      for (const i of page) if (match(i) && items.length < limit) items.push(i);
      if (page.length < 1000 || items.length >= limit) break;
      from = page[page.length - 1]!.seq + 1;
    }
    const next = items.length === limit ? items[items.length - 1]!.seq + 1 : undefined;
    return success({ items, ...(next ? { nextFromSeq: next } : {}) });
  });

  app.get('/admin/queue/:seq', async (request) => {
    const seq = seqParam(request);
    const item = ctx.queue.get(seq);
    if (!item) throw StoreNotFound(`no item ${seq} in the queue (purged, or never there)`, { field: 'seq' });
    return success(item);
  });

  app.post('/admin/queue/:seq/replay', async (request) => {
    const seq = seqParam(request);
    await ctx.queue.replay(seq);
    ctx.forwarder?.kick();
    return success(ctx.queue.get(seq));
  });

  app.delete('/admin/queue/:seq', async (request) => {
    const seq = seqParam(request);
    await ctx.queue.purge(seq);
    return success(true);
  });

  await consoleRoutes(app, ctx);
}
