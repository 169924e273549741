// Operator endpoints: /healthz (public, says only whether the relay can serve) and /metrics
// (Prometheus; needs the admin token from <dataDir>/admin.token as a Bearer token). The admin API
// is relay/admin/adminRoutes.ts.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RelayContext } from '../RelayContext.ts';
import { LANES } from '../../src/contract/index.ts';
import { AuthAdmin } from '../errors.ts';

export function adminAuth(ctx: RelayContext) {
  const expected = Buffer.from(ctx.adminToken);
  return async (request: FastifyRequest): Promise<void> => {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const got = Buffer.from(m?.[1] ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      // the data dir's path is the operator's to know, not the network's
      throw AuthAdmin('Authorization: the admin token (admin.token in the data directory) is required as a Bearer token', {
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
    const m = ctx.metrics;
    const now = Date.now();
    const stats = ctx.queue.stats();
    for (const lane of Object.keys(LANES)) {
      m.queueDepth.set({ lane }, stats.pendingByLane[lane] ?? 0);
      const at = stats.oldestPendingByLane?.[lane];
      m.queueOldest.set({ lane }, at === undefined ? 0 : (now - at) / 1000);
    }
    m.queueDead.set(stats.byState.dead);
    const state = ctx.forwarder?.status(now).upstream.state;
    if (state) m.upstreamUp.set(state === 'closed' ? 1 : state === 'halfOpen' ? 0.5 : 0);
    m.diskUsed.set(ctx.disk.usedPercent);
    m.diskHighWatermark.set(ctx.config.disk.highWatermarkPercent);
    for (const [mine, at] of ctx.ingest.lastSeen) m.mineLastSeen.set({ mine }, at / 1000);
    reply.type(m.registry.contentType);
    return m.registry.metrics();
  });
}
