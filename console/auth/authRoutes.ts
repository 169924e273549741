// Logging in and out: the /login page and form, and the same as JSON under /api/ for scripts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleBadCredentials, ConsoleRateLimited } from '../errors.ts';
import { html } from '../pages/html.ts';
import { t } from '../pages/i18n.ts';
import { page } from '../pages/layout.ts';
import { dummyHash, verifyPassword } from '../../src/crypto/password.ts';
import { SESSION_COOKIE, setCookie, type Caller } from './guard.ts';
import { USER_NAME, PASSWORD_MAX } from './UserStore.ts';
import { API_ERROR, envelope } from '../api/schemas.ts';
import { Type } from '@sinclair/typebox';

const LoginBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 32, description: 'the console user name' }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
  },
  { additionalProperties: false },
);

const Me = Type.Object({
  name: Type.String(),
  role: Type.String({ enum: ['viewer', 'operator', 'admin'] }),
  csrf: Type.String({ description: 'send it in x-csrf-token with every request that changes something' }),
  expiresAt: Type.Integer({ description: 'ms since epoch' }),
});

function address(request: FastifyRequest): string {
  return request.socket.remoteAddress ?? '';
}

function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]{0,500}$/.test(next) && !next.startsWith('/login') ? next : '/';
}

/** Checks the credentials (limits first), makes the session, sets the cookie, audits either way. */
async function logIn(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply, name: string, password: string): Promise<Caller> {
  const from = address(request);
  const who = name.slice(0, 32);
  const blocked = ctx.logins.blocked(from, who);
  if (blocked) {
    await ctx.store.audit.append({ user: who, role: '', action: 'login', target: who, result: `refused: too many failures for this ${blocked}`, address: from });
    throw ConsoleRateLimited(`name: too many failed logins for this ${blocked === 'address' ? 'address' : 'user'}; wait 15 minutes`, { field: blocked === 'address' ? 'address' : 'name' });
  }
  const user = USER_NAME.test(name) ? ctx.store.users.get(name) : undefined;
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok) {
    ctx.logins.failed(from, who);
    await ctx.store.audit.append({ user: who, role: user?.role ?? '', action: 'login', target: who, result: 'failed: wrong name or password', address: from });
    throw ConsoleBadCredentials('name/password: wrong console user name or password', { field: 'password' });
  }
  ctx.logins.succeeded(name);
  const ttl = ctx.config.admin.sessionHours * 3600_000;
  const { id, session } = await ctx.store.sessions.create(user.name, ttl, from);
  setCookie(reply, request, SESSION_COOKIE, id, ttl / 1000);
  await ctx.store.audit.append({ user: user.name, role: user.role, action: 'login', target: user.name, result: 'ok', address: from });
  return { name: user.name, role: user.role, session, sessionId: id };
}

async function logOut(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const c = request.caller;
  if (c) {
    await ctx.store.sessions.end(c.sessionId);
    await ctx.store.audit.append({ user: c.name, role: c.role, action: 'logout', target: c.name, result: 'ok', address: address(request) });
  }
  setCookie(reply, request, SESSION_COOKIE, '', 0);
}

function loginPage(request: FastifyRequest, error?: string, next = '/'): string {
  const L = request.lang;
  return page({
    lang: L,
    active: '',
    title: t(L, 'login'),
    here: request.url,
    body: html`<form method="post" action="/login" class="login" id="login-form">
${error ? html`<div class="error" role="alert">${error}</div>` : ''}
<input type="hidden" name="next" value="${next}">
<label>${t(L, 'userName')}<input name="name" id="name" autocomplete="username" maxlength="32" required></label>
<label>${t(L, 'password')}<input name="password" id="password" type="password" autocomplete="current-password" maxlength="256" required></label>
<button type="submit">${t(L, 'login')}</button></form>`,
  });
}

export async function authRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/login', { config: { role: 'public' } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8');
    return loginPage(request, undefined, safeNext((request.query as Record<string, unknown>)['next']));
  });

  app.post('/login', { config: { role: 'public' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const name = typeof body['name'] === 'string' ? body['name'] : '';
    const password = typeof body['password'] === 'string' ? body['password'].slice(0, PASSWORD_MAX + 1) : '';
    const next = safeNext(body['next']);
    try {
      await logIn(ctx, request, reply, name, password);
    } catch (err) {
      const limited = ConsoleRateLimited.is(err);
      if (!limited && !ConsoleBadCredentials.is(err)) throw err;
      reply.status(limited ? 429 : 401).type('text/html; charset=utf-8');
      return loginPage(request, t(request.lang, limited ? 'rateLimited' : 'loginFailed'), next);
    }
    return reply.redirect(next, 303);
  });

  app.post('/logout', { config: { role: 'viewer' } }, async (request, reply) => {
    await logOut(ctx, request, reply);
    return reply.redirect('/login', 303);
  });

  app.post(
    '/api/login',
    {
      config: { role: 'public' },
      schema: { summary: 'log in: sets the eseal_session cookie (HttpOnly, SameSite=Strict)', tags: ['session'], body: LoginBody, response: { 200: envelope(Me), 401: API_ERROR, 429: API_ERROR } },
    },
    async (request, reply) => {
      const { name, password } = request.body as { name: string; password: string };
      const c = await logIn(ctx, request, reply, name, password);
      return { code: 0, msg: 'success', data: { name: c.name, role: c.role, csrf: c.session.csrf, expiresAt: c.session.expiresAt } };
    },
  );

  app.post(
    '/api/logout',
    { config: { role: 'viewer' }, schema: { summary: 'log out: ends the session', tags: ['session'], response: { 200: envelope(Type.Boolean()), 401: API_ERROR, 403: API_ERROR } } },
    async (request, reply) => {
      await logOut(ctx, request, reply);
      return { code: 0, msg: 'success', data: true };
    },
  );

  app.get(
    '/api/me',
    { config: { role: 'viewer' }, schema: { summary: 'who is logged in, and the CSRF token of the session', tags: ['session'], response: { 200: envelope(Me), 401: API_ERROR } } },
    async (request) => {
      const c = request.caller!;
      return { code: 0, msg: 'success', data: { name: c.name, role: c.role, csrf: c.session.csrf, expiresAt: c.session.expiresAt } };
    },
  );
}

