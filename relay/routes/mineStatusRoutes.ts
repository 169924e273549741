// GET camera/mineStatus?mineId= (5.2.4): answered from the relay's own store (set by the operator
// with `eseal mines set-status`, or relay.mineStatusDefault) until forwarding brings the national
// platform's answer.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { QUERY_ENDPOINTS, checkQuery, success } from '../../src/contract/index.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth, ensureMine } from '../auth/bearer.ts';
import { MineStatusUnknown } from '../errors.ts';

export async function mineStatusRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const endpoint = QUERY_ENDPOINTS.mineStatus;
  app.addHook('onRequest', bearerAuth(ctx));
  app.get(endpoint.path, { config: { endpoint: endpoint.id } }, async (request: FastifyRequest) => {
    const query = { ...(request.query as Record<string, unknown>) };
    delete query['access_token'];
    const { value } = checkQuery(endpoint, query, { now: Date.now(), maxSkewMs: Infinity });
    const mineId = String(value['mineId']);
    ensureMine(ctx, request.account!, mineId);
    const status = ctx.mines.get(mineId)?.status ?? ctx.config.relay.mineStatusDefault;
    if (!status) {
      throw MineStatusUnknown(
        `mineId: the relay does not know the status of mine ${mineId} yet (the provincial operator sets it with: eseal mines set-status ${mineId} <status>)`,
        { field: 'mineId' },
      );
    }
    return success({ status });
  });
}
