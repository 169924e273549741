// GET /sm2 and GET|POST /auth/oauth/token (guide 5.2.2, 5.2.3), with the answers of the national
// platform's framework (pig): 401 for a bad Basic client, 426 for bad credentials, the same token
// again while it is valid.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_FAILURES, AUTH_PATHS, InvalidField, formatJsonTime, type TokenAnswer } from '../../src/contract/index.ts';
import { EsealError } from '../../src/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import { usernameProblem, type Account, type LockPolicy } from './AccountStore.ts';
import { AuthBadCredentials, AuthClient, AuthLocked, AuthRateLimited, AuthUndecryptable } from '../errors.ts';
import { RateLimiter } from './RateLimiter.ts';

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks `Authorization: Basic base64(client:secret)`. */
function checkClient(header: string | undefined, id: string, secret: string): void {
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
  if (!m) {
    throw AuthClient('Authorization: Basic client credentials are required on the token endpoint (base64 of client:secret, as in the guide)', {
      field: 'Authorization',
    });
  }
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const gotId = colon < 0 ? decoded : decoded.slice(0, colon);
  const gotSecret = colon < 0 ? '' : decoded.slice(colon + 1);
  const idOk = sameText(gotId, id);
  const secretOk = sameText(gotSecret, secret); // compared even when the id is wrong: no timing hint
  if (!idOk || !secretOk) {
    throw AuthClient('Authorization: unknown client or wrong client secret in the Basic credentials', { field: 'Authorization' });
  }
}

function param(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function requireParam(params: Record<string, unknown>, name: string, what: string): string {
  const v = param(params, name);
  if (v === undefined || v === '') throw InvalidField(`${name}: required (${what})`, { field: name });
  return v;
}

export async function authRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const cfg = ctx.config.relay;
  const limiter = new RateLimiter(cfg.login.perAddressPerMinute);

  // Form bodies for POST /auth/oauth/token. URLSearchParams turns '+' into ' ' exactly as the
  // platform's framework does; the SM2 reader turns it back.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get(AUTH_PATHS.publicKey, async (_req, reply) => {
    reply.type('text/plain; charset=utf-8');
    return ctx.keys.publicKey(cfg.publicKeyFormat);
  });

  const policy: LockPolicy = { maxFailures: cfg.login.maxFailures, lockMs: cfg.login.lockSeconds * 1000 };
  const lockedError = (until: number) =>
    AuthLocked(`Bad credentials: account locked after ${cfg.login.maxFailures} failed logins until ${formatJsonTime(until)} (Beijing time)`);

  // What the request head decides is answered before a byte of the body is read: a slow or endless
  // body from a client that has no business here holds nothing. The connection is closed after the
  // answer, rather than reading the rest of the body to keep it alive.
  const checkHead = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      checkClient(request.headers.authorization, cfg.client.id, cfg.client.secret);
      const verdict = limiter.take(request.ip);
      if (!verdict.allowed) {
        ctx.metrics.logins.inc({ outcome: 'rate_limited' });
        reply.header('Retry-After', String(verdict.retryAfterSeconds));
        throw AuthRateLimited(
          `too many login attempts from ${request.ip}: at most ${cfg.login.perAddressPerMinute} a minute; retry in ${verdict.retryAfterSeconds} s`,
        );
      }
    } catch (err) {
      if (hasBody(request)) reply.header('Connection', 'close');
      throw err;
    }
  };

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    const params: Record<string, unknown> = {
      ...(request.query as Record<string, unknown>),
      ...(typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {}),
    };
    const username = requireParam(params, 'username', '用户名, issued by the national mine safety administration');
    const usernameWrong = usernameProblem(username);
    if (usernameWrong) throw InvalidField(usernameWrong, { field: 'username' });
    const encrypted = requireParam(params, 'password', "密码, SM2-encrypted with the key from GET /sm2");
    const grant = param(params, 'grant_type');
    if (grant !== 'password') throw InvalidField(`grant_type: must be password, got ${JSON.stringify(grant ?? '')}`, { field: 'grant_type' });
    const scope = param(params, 'scope');
    if (scope !== undefined && scope !== 'server') throw InvalidField(`scope: must be server, got ${JSON.stringify(scope)}`, { field: 'scope' });
    const encrypt = param(params, 'encrypt');
    if (encrypt !== undefined && encrypt.toUpperCase() !== 'SM2') {
      throw InvalidField(`encrypt: must be SM2, got ${JSON.stringify(encrypt)}`, { field: 'encrypt' });
    }

    // An undecryptable password tries no password: it is refused before the attempt is counted.
    let password: string;
    try {
      password = (await ctx.keys.decrypt(encrypted)).plaintext.toString('utf8');
    } catch (err) {
      ctx.metrics.logins.inc({ outcome: 'undecryptable' });
      throw AuthUndecryptable(
        "Bad credentials: password cannot be decrypted with the relay's SM2 key (encrypt it with the key GET /sm2 returns now: hex or base64, C1C3C2, C1C2C3 or ASN.1)",
        { field: 'password', cause: err },
      );
    }

    // Counted as it starts, so attempts in flight cannot outnumber the lockout.
    const admission = await ctx.accounts.beginLogin(username, policy);
    if (!admission.admitted) {
      ctx.metrics.logins.inc({ outcome: admission.busy ? 'busy' : 'locked' });
      if (admission.busy) {
        reply.header('Retry-After', '1');
        throw AuthRateLimited(`too many logins at once for ${username}; retry in 1 s`);
      }
      throw lockedError(admission.lockedUntil);
    }
    const { attempt } = admission;
    let checked: Checked;
    try {
      const local = ctx.accounts.get(username);
      const passthrough = ctx.upstream && ctx.config.upstream.mode === 'passthrough' && (!local || local.mode === 'passthrough');
      checked = passthrough ? await passthroughLogin(ctx, request, username, password) : await ctx.accounts.verify(username, password);
    } catch (err) {
      await ctx.accounts.finishLogin(attempt, 'failed', policy);
      throw err;
    }
    if (checked && 'unreachable' in checked) {
      // nobody could check it: the attempt is given back, not counted as a failure
      await ctx.accounts.finishLogin(attempt, 'undecided', policy);
      throw AuthBadCredentials(
        `Bad credentials: the national platform cannot be reached (${checked.unreachable}) to check credentials the relay has not seen before; try again later`,
      );
    }
    const ended = await ctx.accounts.finishLogin(attempt, checked ? 'ok' : 'failed', policy);
    if (!checked) {
      ctx.metrics.logins.inc({ outcome: 'bad_credentials' });
      request.log.info({ username, locked: ended.lockedUntil > Date.now() }, 'login failed');
      throw AuthBadCredentials('Bad credentials');
    }
    if (!ended.admitted) {
      // the right password, but attempts that ran beside it locked the account meanwhile
      ctx.metrics.logins.inc({ outcome: 'locked' });
      throw lockedError(ended.lockedUntil);
    }
    const account = checked;
    const issued = await ctx.tokens.issue(account);
    ctx.metrics.logins.inc({ outcome: issued.reused ? 'ok_reused' : 'ok' });
    request.log.info({ username, reused: issued.reused }, 'login');
    const answer: TokenAnswer = {
      access_token: issued.token,
      token_type: 'bearer',
      expires_in: issued.expiresIn,
      scope: 'server',
      dept_name: account.org,
      org_name: account.org,
    };
    reply.header('Cache-Control', 'no-store');
    return answer;
  };
  app.route({ method: ['GET', 'POST'], url: AUTH_PATHS.token, onRequest: checkHead, handler: token });
}

/** The outcome of a password check: the account, undefined for wrong credentials, or why nobody could check. */
type Checked = Account | undefined | { unreachable: string };

/** Whether the request announces a body (which an early answer leaves unread). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Passthrough: the mine's national credentials are checked by the national platform itself; what
 * it confirms is kept (hashed, and sealed for forwarding). While it cannot be reached, only
 * credentials it confirmed before are accepted. Resolves undefined for wrong credentials, and
 * `unreachable` when the platform cannot be reached to check credentials the relay has not seen.
 */
async function passthroughLogin(ctx: RelayContext, request: FastifyRequest, username: string, password: string): Promise<Checked> {
  const upstream = ctx.upstream!;
  let why: string;
  try {
    const answer = await upstream.client.login(username, password);
    if (answer.token) {
      const account = await ctx.accounts.rememberPassthrough(username, password, answer.org);
      upstream.tokens.remember(username, answer.token, answer.expiresIn ?? 0);
      ctx.metrics.logins.inc({ outcome: 'upstream_confirmed' });
      return account;
    }
    if (answer.status === 426 || (answer.status < 500 && answer.status !== 401 && answer.envelope?.code === 1)) return undefined;
    // 401: the relay's own upstream client settings are wrong, not the mine's password
    why = `HTTP ${answer.status}${answer.status === 401 ? ' (check upstream.client)' : ''}`;
  } catch (err) {
    why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  request.log.warn({ username, upstream: why }, 'national platform unreachable for a login: checking against credentials it confirmed before');
  const known = ctx.accounts.get(username);
  if (known?.mode === 'passthrough') return ctx.accounts.verify(username, password);
  return { unreachable: why };
}

/** The pig-style body for an authentication error, or undefined for other errors. */
export function authFailureBody(err: EsealError): unknown {
  if (err.code === AuthBadCredentials.code || err.code === AuthLocked.code || err.code === AuthUndecryptable.code) {
    return AUTH_FAILURES.badCredentials.body(err.message);
  }
  return undefined;
}
