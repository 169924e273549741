// GET camera/mineStatus?mineId= (5.2.4). With an upstream: the national platform's answer, reused
// for upstream.mineStatusCacheSeconds and kept as the last known status; when the platform cannot
// be reached, the last known status is served with `stale: true` and the time it was learned.
// Without an upstream (or before the platform ever answered): the status the operator set
// (`eseal mines set-status`), then relay.mineStatusDefault.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QUERY_ENDPOINTS, checkQuery, formatJsonTime, success } from '../../src/contract/index.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { Account } from '../auth/AccountStore.ts';
import { bearerAuth, ensureMine } from '../auth/bearer.ts';
import { MineStatusUnknown } from '../errors.ts';
import type { ApiAnswer } from '../../src/client/NationalClient.ts';

interface Cached {
  status: string;
  at: number;
}

export async function mineStatusRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const endpoint = QUERY_ENDPOINTS.mineStatus;
  const cache = new Map<string, Cached>();
  const ttlMs = ctx.config.upstream.mineStatusCacheSeconds * 1000;

  /** The platform's answer, logging in again once if the token is refused. */
  async function ask(account: Account, mineId: string): Promise<ApiAnswer> {
    const up = ctx.upstream!;
    return (await up.tokens.withToken(account.username, (token) => up.client.mineStatus(mineId, token))).answer;
  }

  app.addHook('onRequest', bearerAuth(ctx));
  app.get(endpoint.path, { config: { endpoint: endpoint.id } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const query = { ...(request.query as Record<string, unknown>) };
    delete query['access_token'];
    const { value } = checkQuery(endpoint, query, { now: Date.now(), maxSkewMs: Infinity });
    const mineId = String(value['mineId']);
    const account = request.account!;
    ensureMine(ctx, account, mineId);

    if (ctx.upstream) {
      const hit = cache.get(mineId);
      if (hit && Date.now() - hit.at < ttlMs) return success({ status: hit.status });
      let why: string;
      try {
        const a = await ask(account, mineId);
        const data = a.envelope?.data as { status?: unknown } | null | undefined;
        if (a.status === 200 && a.envelope?.code === 0 && typeof data?.status === 'string') {
          cache.set(mineId, { status: data.status, at: Date.now() });
          if (ctx.mines.get(mineId)?.status !== data.status) await ctx.mines.setStatus(mineId, data.status, 'upstream').catch(() => {});
          return success({ status: data.status });
        }
        if (a.status === 200 && a.envelope) {
          // the platform's own answer about this mine (e.g. not found): passed on as it is
          return a.envelope;
        }
        why = `HTTP ${a.status}`;
      } catch (err) {
        why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      }
      const known = ctx.mines.get(mineId);
      if (known) {
        request.log.warn({ mineId, upstream: why }, 'national platform unreachable: answering the last known mine status');
        reply.header('Warning', '110 - "stale: the national platform cannot be reached"');
        return success({ status: known.status, stale: true, updatedAt: formatJsonTime(known.updatedAt) });
      }
      throw MineStatusUnknown(`mineId: the national platform cannot be reached (${why}) and the relay has no status of mine ${mineId} yet; retry later`, {
        field: 'mineId',
        statusCode: 503,
      });
    }

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
