// Items of the relay's queue, through its admin API: list with filters, one item, replay and purge
// of dead letters (operator role, audited). The pages use the same functions.
import type { ItemSummary } from '../../src/contract/admin.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid, ConsoleNotFound, ConsoleUpstream } from '../errors.ts';
import { API_ERROR, Passed, SeqParams, envelope, ok } from './schemas.ts';

export const ITEM_STATES = ['ready', 'leased', 'dead', 'done'] as const;
export const ITEM_LANES = ['status', 'record', 'evidence'] as const;

/** the relay's item ids and endpoint ids (relay/admin/consoleParams.ts) */
const ID = '^[0-9A-Za-z_-]{0,32}$';
const MS = { minimum: 0, maximum: 8_640_000_000_000_000 };

export const ItemsQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ enum: [...ITEM_STATES] })),
    lane: Type.Optional(Type.String({ enum: [...ITEM_LANES] })),
    mine: Type.Optional(Type.String({ pattern: ID, description: 'a mine id' })),
    camera: Type.Optional(Type.String({ pattern: ID, description: 'a camera id' })),
    endpoint: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9/_-]{0,64}$', description: 'an endpoint id, e.g. infoReport/truck' })),
    from: Type.Optional(Type.Integer({ ...MS, description: 'received at or after (ms since 1970)' })),
    to: Type.Optional(Type.Integer({ ...MS, description: 'received before (ms since 1970)' })),
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e15, description: 'the nextBefore of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
export type ItemsFilter = { state?: string; lane?: string; mine?: string; camera?: string; endpoint?: string; from?: number; to?: number; before?: number; limit?: number };

export type { ItemSummary };

/** One item whole (GET /admin/items/:seq): the summary and the queue's own fields. */
export interface ItemDetail extends ItemSummary {
  enqueuedAt: number;
  deadReason?: string;
  deadAt?: number;
  doneAt?: number;
  payload?: { from?: string } & Record<string, unknown>;
}

/** Newest first; `nextBefore` pages on. */
export async function listItems(ctx: ConsoleContext, f: ItemsFilter): Promise<{ items: ItemSummary[]; nextBefore?: number }> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') q.set(k, String(v));
  if (!q.has('limit')) q.set('limit', '50');
  const a = await ctx.relay.call<{ items: ItemSummary[]; nextBefore?: number }>('GET', `/admin/items?${q}`);
  if (a.data) return a.data;
  // the relay names the field it refuses ('before: item 7 is not kept any more; …')
  if (a.status === 400) throw ConsoleInvalid(a.msg ?? 'request: refused by the relay', { field: /^(\w+):/.exec(a.msg ?? '')?.[1] ?? 'request' });
  throw ConsoleUpstream(`GET /admin/items: HTTP ${a.status}: ${a.msg ?? ''}`);
}

export async function getItem(ctx: ConsoleContext, seq: number): Promise<ItemDetail> {
  const a = await ctx.relay.call<ItemDetail>('GET', `/admin/items/${seq}`);
  if (a.status === 404) throw ConsoleNotFound(`seq: no item ${seq} in the relay's queue (purged, or never there)`, { field: 'seq' });
  if (!a.data) throw ConsoleUpstream(`GET /admin/items/${seq}: HTTP ${a.status}: ${a.msg ?? ''}`);
  return a.data;
}

/** The relay's answer headers a <video> needs, passed on as they are. */
const VIDEO_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges'] as const;

/**
 * An evidence video for the page's <video>: the Range header goes to the relay's
 * /admin/items/:seq/video, its answer (200, 206, 416) comes back streamed; 404 when it has none.
 */
export async function proxyVideo(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply, seq: number): Promise<unknown> {
  const range = request.headers.range;
  const aborter = new AbortController();
  reply.raw.once('close', () => aborter.abort());
  const res = await ctx.relay.stream(`/admin/items/${seq}/video`, typeof range === 'string' && range.length <= 200 ? { range } : {}, aborter.signal);
  if (res.statusCode === 404) {
    const msg = ((await res.body.json().catch(() => ({}))) as { msg?: string }).msg;
    throw ConsoleNotFound(msg ?? `seq: item ${seq} has no evidence video`, { field: 'seq' });
  }
  if (res.statusCode !== 200 && res.statusCode !== 206 && res.statusCode !== 416) {
    const text = await res.body.text().catch(() => '');
    throw ConsoleUpstream(`GET /admin/items/${seq}/video: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  reply.status(res.statusCode);
  for (const h of VIDEO_HEADERS) {
    const v = res.headers[h];
    if (typeof v === 'string') reply.header(h, v);
  }
  reply.header('cache-control', 'private, max-age=3600');
  if (res.statusCode === 416) {
    const msg = ((await res.body.json().catch(() => ({}))) as { msg?: string }).msg ?? 'Range: outside the video';
    throw ConsoleInvalid(msg, { field: 'Range', statusCode: 416 });
  }
  res.body.on('error', () => undefined);
  return reply.send(res.body);
}

/** the caller's address, for the audit log */
export function addressOf(request: FastifyRequest): string {
  return request.socket.remoteAddress ?? '';
}

/** Replay ('replay') or purge ('purge') one item; audited with the relay's verdict either way. */
export async function actOnItem(ctx: ConsoleContext, request: FastifyRequest, action: 'replay' | 'purge', seq: number): Promise<unknown> {
  const c = request.caller!;
  const a = action === 'replay' ? await ctx.relay.call('POST', `/admin/queue/${seq}/replay`) : await ctx.relay.call('DELETE', `/admin/queue/${seq}`);
  const result = a.data !== undefined ? 'ok' : `refused: HTTP ${a.status}: ${a.msg ?? ''}`;
  await ctx.store.audit.append({ user: c.name, role: c.role, action, target: `item ${seq}`, result, address: addressOf(request) });
  if (a.data === undefined) {
    if (a.status === 404) throw ConsoleNotFound(`seq: no item ${seq} in the relay's queue`, { field: 'seq' });
    if (a.status >= 400 && a.status < 500) throw ConsoleInvalid(`seq: the relay refused to ${action} item ${seq}: ${a.msg ?? ''}`, { field: 'seq', statusCode: 409 });
    throw ConsoleUpstream(`the relay did not ${action} item ${seq}: HTTP ${a.status}: ${a.msg ?? ''}`);
  }
  return a.data;
}

export function seqOf(request: FastifyRequest): number {
  return Number((request.params as { seq: string }).seq);
}

const Item = Passed('an item of the relay: seq, state, lane, endpoint, mineId, cameraId, account, receivedAt, deliveredAt, attempts, lastError, flags, record | file');
const ItemWhole = Passed('one item whole: the list\'s fields, enqueuedAt, deadReason, deadAt, doneAt and the payload as the relay keeps it');

export async function itemsApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/items',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "the relay's items, newest first by the time received; pass nextBefore as before for the next page",
        tags: ['items'],
        querystring: ItemsQuery,
        response: { 200: envelope(Type.Object({ items: Type.Array(Item), nextBefore: Type.Optional(Type.Integer()) })), 400: API_ERROR, 401: API_ERROR, 502: API_ERROR },
      },
    },
    async (request) => ok(await listItems(ctx, request.query as ItemsFilter)),
  );
  app.get(
    '/api/items/:seq',
    { config: { role: 'viewer' }, schema: { summary: 'one item', tags: ['items'], params: SeqParams, response: { 200: envelope(ItemWhole), 401: API_ERROR, 404: API_ERROR } } },
    async (request) => ok(await getItem(ctx, seqOf(request))),
  );
  app.get(
    '/api/items/:seq/video',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "an evidence item's video (MP4) for the page's <video>: Range requests answered 206 (or 416), through the relay's verified read",
        tags: ['items'],
        params: SeqParams,
        response: {
          200: Type.String({ description: 'the whole MP4', contentMediaType: 'video/mp4' }),
          206: Type.String({ description: 'the byte range asked for (Content-Range)', contentMediaType: 'video/mp4' }),
          401: API_ERROR,
          404: API_ERROR,
          416: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async (request, reply) => proxyVideo(ctx, request, reply, seqOf(request)),
  );
  app.post(
    '/api/items/:seq/replay',
    {
      config: { role: 'operator' },
      schema: { summary: 'a dead letter becomes ready to be sent again (audited)', tags: ['items'], params: SeqParams, response: { 200: envelope(Item), 401: API_ERROR, 403: API_ERROR, 404: API_ERROR, 409: API_ERROR } },
    },
    async (request) => ok(await actOnItem(ctx, request, 'replay', seqOf(request))),
  );
  app.delete(
    '/api/items/:seq',
    {
      config: { role: 'operator' },
      schema: { summary: 'purge a dead or delivered item, never an undelivered one (audited)', tags: ['items'], params: SeqParams, response: { 200: envelope(Type.Boolean()), 401: API_ERROR, 403: API_ERROR, 404: API_ERROR, 409: API_ERROR } },
    },
    async (request) => ok(await actOnItem(ctx, request, 'purge', seqOf(request))),
  );
}
