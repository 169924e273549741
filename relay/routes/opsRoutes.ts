// Operator endpoints: /healthz (public, says only whether the relay can serve) and /metrics
// (Prometheus; needs the admin token from <dataDir>/admin.token as a Bearer token).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RelayContext } from '../RelayContext.ts';
import { AuthAdmin } from '../errors.ts';

export function adminAuth(ctx: RelayContext) {
  const expected = Buffer.from(ctx.adminToken);
  return async (request: FastifyRequest): Promise<void> => {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const got = Buffer.from(m?.[1] ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw AuthAdmin(`Authorization: the admin token (in ${ctx.config.dataDir}/admin.token) is required as a Bearer token`, {
        field: 'Authorization',
      });
    }
  };
}

export async function opsRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const startedAt = Date.now();
  app.get('/healthz', async () => {
    const stats = ctx.queue.stats();
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), lastSeq: stats.lastSeq };
  });
  app.get('/metrics', { onRequest: adminAuth(ctx) }, async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
