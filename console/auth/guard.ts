// Who is asking, and may they: every route names the role it needs (route config `role`, 'public'
// for the login page and the assets). The session comes from the HttpOnly cookie; a changing
// request (anything but GET/HEAD) must also come from this origin and carry the session's CSRF
// token in the x-csrf-token header or the _csrf form field. Anonymous API calls get 401, anonymous
// pages a redirect to /login; a role too low gets 403.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleCsrf, ConsoleForbidden, ConsoleLoginRequired } from '../errors.ts';
import { isLang, type Lang } from '../pages/i18n.ts';
import { allows, type ConsoleRole } from './roles.ts';
import type { Session } from './SessionStore.ts';

export const SESSION_COOKIE = 'eseal_session';
export const LANG_COOKIE = 'eseal_lang';

export type RouteRole = ConsoleRole | 'public';

export interface Caller {
  name: string;
  role: ConsoleRole;
  session: Session;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | undefined;
    lang: Lang;
  }
  interface FastifyContextConfig {
    /** the least role the route needs ('public': none) */
    role?: RouteRole;
  }
}

export function cookies(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').slice(0, 8192).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      const k = part.slice(0, eq).trim();
      try {
        out[k] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        // a cookie of someone else's making: ignored
      }
    }
  }
  return out;
}

export function isApi(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

export function setCookie(reply: FastifyReply, request: FastifyRequest, name: string, value: string, maxAgeSeconds: number, httpOnly = true): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, 'SameSite=Strict'];
  if (httpOnly) parts.push('HttpOnly');
  if (secure(request)) parts.push('Secure');
  const prev = reply.getHeader('set-cookie');
  reply.header('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), parts.join('; ')]);
}

/** onRequest: the language, the caller, and whether the route lets them in. */
export function identify(ctx: ConsoleContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const c = cookies(request);
    const q = (request.query as Record<string, unknown> | undefined)?.['lang'];
    if (isLang(q)) {
      request.lang = q;
      setCookie(reply, request, LANG_COOKIE, q, 365 * 86400, false);
    } else request.lang = isLang(c[LANG_COOKIE]) ? c[LANG_COOKIE] : 'zh';

    const id = c[SESSION_COOKIE];
    const session = ctx.store.sessions.get(id);
    const user = session ? ctx.store.users.get(session.user) : undefined;
    request.caller = session && user && id ? { name: user.name, role: user.role, session, sessionId: id } : undefined;

    // an unknown path: a 404 for anyone, except under /api/ where the anonymous learn nothing but 401
    const needed = request.is404 ? (isApi(request) ? 'viewer' : 'public') : (request.routeOptions.config?.role ?? 'admin');
    if (needed === 'public') return;
    if (!request.caller) {
      if (isApi(request) || request.method !== 'GET') throw ConsoleLoginRequired('cookie eseal_session: log in first (POST /api/login or the /login page)', { field: 'eseal_session' });
      return reply.redirect(`/login?next=${encodeURIComponent(request.url.slice(0, 500))}`);
    }
    if (!allows(request.caller.role, needed)) throw ConsoleForbidden(`role: this needs the ${needed} role; ${request.caller.name} is ${request.caller.role}`, { field: 'role' });
  };
}

/** A changing request from another origin is refused, with or without a session. */
export function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const expected = `${request.protocol}://${request.headers.host ?? ''}`;
  if (origin !== expected) throw ConsoleCsrf(`Origin: ${JSON.stringify(origin.slice(0, 100))} is not this console (${expected})`, { field: 'Origin' });
}

/** preHandler: the CSRF token of the session on every changing request of a logged-in caller. */
export async function checkCsrf(request: FastifyRequest): Promise<void> {
  if (request.method === 'GET' || request.method === 'HEAD') return;
  checkOrigin(request);
  // the login form: no session to hold a token yet (the Origin check and SameSite cookies guard it)
  if (!request.caller || request.routeOptions.config?.role === 'public') return;
  const header = request.headers['x-csrf-token'];
  const field = (request.body as Record<string, unknown> | undefined)?.['_csrf'];
  const got = Buffer.from(typeof header === 'string' ? header : typeof field === 'string' ? field : '');
  const want = Buffer.from(request.caller.session.csrf);
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw ConsoleCsrf('x-csrf-token: the session\'s CSRF token is required (header x-csrf-token or form field _csrf; GET /api/me gives it)', { field: 'x-csrf-token' });
  }
}
