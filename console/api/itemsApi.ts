// Items of the relay's queue, through its admin API: list with filters, one item, replay and purge
// of dead letters (operator role, audited). The pages use the same functions.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid, ConsoleNotFound, ConsoleUpstream } from '../errors.ts';
import { API_ERROR, Passed, SeqParams, envelope, ok } from './schemas.ts';

export const ITEM_STATES = ['ready', 'leased', 'dead', 'done'] as const;
export const ITEM_LANES = ['status', 'record', 'evidence'] as const;

export const ItemsQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ enum: [...ITEM_STATES] })),
    lane: Type.Optional(Type.String({ enum: [...ITEM_LANES] })),
    mine: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z]{0,32}$', description: 'a mine id' })),
    endpoint: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9/_-]{0,64}$', description: 'an endpoint id, e.g. infoReport/truck' })),
    fromSeq: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e15 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
export type ItemsFilter = { state?: string; lane?: string; mine?: string; endpoint?: string; fromSeq?: number; limit?: number };

/** A queue item as the relay's admin API gives it. */
export interface QueueItemView {
  seq: number;
  state: string;
  lane: string;
  enqueuedAt: number;
  attempts: number;
  lastError?: string;
  deadReason?: string;
  deadAt?: number;
  doneAt?: number;
  payload: {
    endpoint: string;
    account: string;
    mineId: string;
    cameraId: string;
    receivedAt: number;
    from?: string;
    flags?: unknown[];
    record?: Record<string, unknown>;
    file?: { name: string; size: number; durationMs: number; codec: string; width: number; height: number };
  };
}

export async function listItems(ctx: ConsoleContext, f: ItemsFilter): Promise<{ items: QueueItemView[]; nextFromSeq?: number }> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') q.set(k, String(v));
  if (!q.has('limit')) q.set('limit', '50');
  return ctx.relay.get(`/admin/queue?${q}`);
}

export async function getItem(ctx: ConsoleContext, seq: number): Promise<QueueItemView> {
  const a = await ctx.relay.call<QueueItemView>('GET', `/admin/queue/${seq}`);
  if (a.status === 404) throw ConsoleNotFound(`seq: no item ${seq} in the relay's queue (purged, or never there)`, { field: 'seq' });
  if (!a.data) throw ConsoleUpstream(`GET /admin/queue/${seq}: HTTP ${a.status}: ${a.msg ?? ''}`);
  return a.data;
}

function addressOf(request: FastifyRequest): string {
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

const Item = Passed('a queue item of the relay: seq, state, lane, enqueuedAt, attempts, lastError, deadReason, payload {endpoint, account, mineId, cameraId, receivedAt, flags, record | file}');

export async function itemsApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/items',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "items of the relay's queue, oldest first from fromSeq",
        tags: ['items'],
        querystring: ItemsQuery,
        response: { 200: envelope(Type.Object({ items: Type.Array(Item), nextFromSeq: Type.Optional(Type.Integer()) })), 400: API_ERROR, 401: API_ERROR, 502: API_ERROR },
      },
    },
    async (request) => ok(await listItems(ctx, request.query as ItemsFilter)),
  );
  app.get(
    '/api/items/:seq',
    { config: { role: 'viewer' }, schema: { summary: 'one item', tags: ['items'], params: SeqParams, response: { 200: envelope(Item), 401: API_ERROR, 404: API_ERROR } } },
    async (request) => ok(await getItem(ctx, seqOf(request))),
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
