// Bearer authentication of data calls: `Authorization: Bearer <token>` (or Spring's
// `?access_token=`), answered as the national platform does: HTTP 424 "token expire".
import type { FastifyRequest } from 'fastify';
import type { RelayContext } from '../RelayContext.ts';
import { AuthForbiddenMine, AuthTokenInvalid } from '../errors.ts';
import type { Account } from './AccountStore.ts';
import { tokenFits } from './TokenStore.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** the mine account behind the Bearer token (data routes only) */
    account?: Account;
  }
}

export function bearerToken(request: FastifyRequest): string {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (m) return m[1]!;
  const q = (request.query as Record<string, unknown> | undefined)?.['access_token'];
  return typeof q === 'string' ? q : '';
}

export function bearerAuth(ctx: RelayContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    const owner = ctx.tokens.verify(token);
    const found = owner && ctx.accounts.get(owner.username);
    // a token of an account removed (and perhaps added again since) is no token
    const account = found && tokenFits(owner, found) ? found : undefined;
    if (!account) {
      throw AuthTokenInvalid(token ? 'token expire' : 'token expire: no Bearer token (send Authorization: Bearer <access_token>)');
    }
    request.account = account;
  };
}

/** An account may only send data for its own mines. */
export function ensureMine(ctx: RelayContext, account: Account, mineId: string, field = 'mineId'): void {
  if (!ctx.accounts.mayUseMine(account, mineId)) {
    const shown = account.mines.length > 5 ? `${account.mines.slice(0, 5).join(', ')}, …` : account.mines.join(', ');
    throw AuthForbiddenMine(`${field}: ${mineId} is not a mine of account ${account.username} (its mines: ${shown})`, { field });
  }
}
