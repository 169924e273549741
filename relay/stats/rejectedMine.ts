// Which mine a refused call was for, when it can be read: for the console's "rejected" counts
// (a mine's self-test shows the calls the relay refused). Counted only for a mine the relay knows
// (it has data from it, or an account names it), so that garbage ids never grow the aggregates.
import type { FastifyRequest } from 'fastify';
import { endpointById } from '../../src/contract/index.ts';
import type { EsealError } from '../../src/errors.ts';
import type { RelayContext } from '../RelayContext.ts';

/** refusals of the call's content (input rules, a mine not allowed, sizes, types); not auth or capacity */
const COUNTED_STATUSES = new Set([400, 403, 413, 415, 422]);
const MINE_RE = /^[0-9A-Za-z]{1,32}$/;
/** a body larger than this is not parsed again for its mineId */
const MAX_BODY_PARSED = 64 * 1024;

function mineIdOf(request: FastifyRequest, err: EsealError): string | undefined {
  const fromDetail = err.detail?.['mineId'];
  if (typeof fromDetail === 'string') return fromDetail;
  const body = request.body;
  if (Buffer.isBuffer(body) && body.length <= MAX_BODY_PARSED) {
    try {
      const v = (JSON.parse(body.toString('utf8')) as { mineId?: unknown } | null)?.mineId;
      if (typeof v === 'string' || typeof v === 'number') return String(v);
    } catch {
      // not JSON: maybe a form body
      const v = new URLSearchParams(body.toString('utf8')).get('mineId');
      if (v) return v;
    }
  }
  const q = (request.query as Record<string, unknown> | undefined)?.['mineId'];
  return typeof q === 'string' ? q : undefined;
}

function known(ctx: RelayContext, mineId: string): boolean {
  if (ctx.stats.knowsMine(mineId)) return true;
  return ctx.accounts.list().some((a) => a.mines.includes(mineId));
}

/** Counts a refused data call for its mine (in its own commit; never fails the answer). */
export function countRejected(ctx: RelayContext, request: FastifyRequest, err: EsealError, endpoint: string, now = Date.now()): void {
  if (!COUNTED_STATUSES.has(err.statusCode) || !endpointById(endpoint)) return;
  let mineId: string | undefined;
  try {
    mineId = mineIdOf(request, err);
  } catch {
    return;
  }
  if (mineId === undefined || !MINE_RE.test(mineId) || !known(ctx, mineId)) return;
  ctx.stats.rejected(mineId, endpoint, now).catch((e: unknown) => request.log.warn({ err: e }, 'console aggregates: a refusal was not counted'));
}

/** Marks a refusal with the mine it was for (an evidence file name's first 12 digits), for countRejected. */
export function withMineId(err: unknown, mineId: string | undefined): unknown {
  if (mineId === undefined || !(err instanceof Error) || !('statusCode' in err)) return err;
  const e = err as EsealError;
  if (e.detail) {
    if (e.detail['mineId'] === undefined) e.detail['mineId'] = mineId;
  } else {
    Object.defineProperty(e, 'detail', { value: { mineId }, enumerable: true });
  }
  return e;
}
