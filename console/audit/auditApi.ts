// The audit log for admins: newest first, paged by `before` (a seq).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { API_ERROR, envelope, ok } from '../api/schemas.ts';
import type { AuditEntry } from './AuditLog.ts';

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e15, description: 'entries older than this seq' })),
  },
  { additionalProperties: false },
);

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.Integer({ description: 'ms since epoch' }),
  user: Type.String(),
  role: Type.String(),
  action: Type.String({ description: 'login, logout, replay, purge, settings, binding, user.add, user.remove' }),
  target: Type.String(),
  result: Type.String(),
  address: Type.String(),
});

export function auditPage(ctx: ConsoleContext, q: { limit?: number; before?: number }): { entries: AuditEntry[]; nextBefore?: number } {
  const limit = q.limit ?? 100;
  const entries = ctx.store.audit.list({ limit, ...(q.before ? { before: q.before } : {}) });
  const last = entries[entries.length - 1];
  return { entries, ...(entries.length === limit && last && last.seq > 1 ? { nextBefore: last.seq } : {}) };
}

export async function auditApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/audit',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'the audit log of operator actions, newest first',
        tags: ['audit'],
        querystring: AuditQuery,
        response: { 200: envelope(Type.Object({ entries: Type.Array(Entry), nextBefore: Type.Optional(Type.Integer()) })), 400: API_ERROR, 401: API_ERROR, 403: API_ERROR },
      },
    },
    async (request) => ok(auditPage(ctx, request.query as { limit?: number; before?: number })),
  );
}
