// The console's admin listener (admin.listen, 127.0.0.1:9090 by default): the pages at /, the JSON
// API under /api/ (OpenAPI at /api/openapi.json), the assets under /assets/. It keeps only its own
// users, sessions, audit log and settings; the relay's data comes from the relay's admin API.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseListen } from '../src/config/load.ts';
import { EsealError } from '../src/errors.ts';
import type { ConsoleConfig } from './config.ts';
import type { ConsoleContext } from './ConsoleContext.ts';
import { ConsoleStore } from './ConsoleStore.ts';
import { ConsoleInternal, ConsoleInvalid, ConsoleLoginRequired, ConsoleNotFound } from './errors.ts';
import { LoginLimiter, type LoginLimits } from './auth/LoginLimiter.ts';
import { checkCsrf, identify, isApi } from './auth/guard.ts';
import { authRoutes } from './auth/authRoutes.ts';
import { relayAdminFrom } from './upstream/RelayAdmin.ts';
import { OpenApiCollector } from './api/openapi.ts';
import { itemsApi } from './api/itemsApi.ts';
import { overviewApi } from './api/overviewApi.ts';
import { minesApi } from './api/minesApi.ts';
import { alarmsApi } from './api/alarmsApi.ts';
import { acceptanceApi } from './api/acceptanceApi.ts';
import { devicesApi } from './api/devicesApi.ts';
import { liveApi } from './api/liveApi.ts';
import { auditApi } from './audit/auditApi.ts';
import { settingsApi } from './settings/settingsApi.ts';
import { pageRoutes } from './pages/pageRoutes.ts';
import { html } from './pages/html.ts';
import { page } from './pages/layout.ts';
import { t } from './pages/i18n.ts';

export interface RunningConsole {
  /** http://host:port of the admin listener */
  url: string;
  /** the relay admin API it reads */
  relayUrl: string;
  ctx: ConsoleContext;
  close(): Promise<void>;
}

export interface ConsoleOptions {
  /** failed-login limits (tests lower them) */
  logins?: Partial<LoginLimits>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** the assets beside the sources (compiled code runs from dist/console, the assets stay in console/) */
const ASSETS = [join(HERE, 'assets'), join(HERE, '..', '..', 'console', 'assets')].find((d) => existsSync(join(d, 'console.css')))!;

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const require = createRequire(import.meta.url);
  return new Map([
    ['console.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(ASSETS, 'console.css')) }],
    ['console.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(ASSETS, 'console.js')) }],
    ['charts.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(ASSETS, 'charts.js')) }],
    ['echarts.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('echarts/dist/echarts.min.js')) }],
  ]);
}

function version(): string {
  try {
    const pkg = [join(HERE, '..', 'package.json'), join(HERE, '..', '..', 'package.json')].find(existsSync);
    return (JSON.parse(readFileSync(pkg!, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Any error as the console's: its own kept, Fastify's validation named by field, the rest a 500. */
function normalise(err: FastifyError | EsealError | Error): EsealError {
  if (err instanceof EsealError) return err;
  const fe = err as FastifyError;
  if (fe.validation?.length) {
    const v = fe.validation[0]!;
    const params = v.params as { missingProperty?: string; additionalProperty?: string };
    const field = params.missingProperty ?? params.additionalProperty ?? (v.instancePath.replace(/^\//, '').replace(/\//g, '.') || fe.validationContext || 'body');
    return ConsoleInvalid(`${field}: ${v.message ?? 'breaks its rule'}`, { field });
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return ConsoleInvalid(`request: ${fe.message}`, { statusCode: fe.statusCode });
  return ConsoleInternal('an unexpected error inside the console', { cause: err });
}

export async function startConsole(config: ConsoleConfig, log: Logger, options: ConsoleOptions = {}): Promise<RunningConsole> {
  const { host, port } = parseListen(config.admin.listen, 'admin.listen');
  const store = ConsoleStore.open(config.dataDir);
  const relay = relayAdminFrom(config);
  const ctx: ConsoleContext = { config, store, relay, log, logins: new LoginLimiter(options.logins) };
  const assets = loadAssets();
  const openapi = new OpenApiCollector();

  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    connectionTimeout: 60_000,
    requestTimeout: 60_000,
    routerOptions: { maxParamLength: 100 },
    // a key the API does not know is refused by name, not dropped in silence
    ajv: { customOptions: { removeAdditional: false } },
  });
  // answers go out as they are: the response schemas document them (OpenAPI), they do not filter them
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    const form: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of new URLSearchParams(body as string)) if (n++ < 32) form[k] = v;
    done(null, form);
  });
  app.decorateRequest('caller', undefined);
  app.decorateRequest('lang', 'zh');
  app.addHook('onRoute', openapi.onRoute);
  app.addHook('onRequest', identify(ctx));
  app.addHook('preHandler', checkCsrf);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    // a page may widen the policy for itself (实时视频: the edges' MJPEG streams are other origins)
    if (!reply.hasHeader('content-security-policy')) reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'; form-action 'self'",
    );
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler(async (raw: FastifyError | EsealError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const err = normalise(raw);
    if (err.statusCode >= 500) log.error({ err: raw, code: err.code, url: request.url.split('?')[0] }, 'console request failed');
    reply.status(err.statusCode);
    if (isApi(request) || request.method !== 'GET') {
      if (!isApi(request) && ConsoleLoginRequired.is(err)) return reply.redirect('/login', 303);
      return { code: err.code, msg: err.statusCode >= 500 && ConsoleInternal.is(err) ? `internal error (request ${request.id})` : err.message };
    }
    reply.type('text/html; charset=utf-8');
    const c = request.caller;
    return page({
      lang: request.lang ?? 'zh',
      active: '',
      title: err.statusCode === 403 ? t(request.lang, 'forbidden') : err.statusCode === 404 ? t(request.lang, 'notFound') : t(request.lang, 'error'),
      here: request.url,
      user: c ? { name: c.name, role: c.role, csrf: c.session.csrf } : undefined,
      body: html`<div class="error" role="alert" data-code="${err.code}">${err.message}</div>`,
    });
  });
  app.setNotFoundHandler({ preHandler: async () => {} }, async (request) => {
    throw ConsoleNotFound(`${request.method} ${request.url.split('?')[0]!.slice(0, 200)}: no such page or API path`);
  });

  app.get('/favicon.ico', { config: { role: 'public' } }, async (_request, reply) => reply.status(204).header('cache-control', 'public, max-age=86400').send());
  app.get('/assets/:name', { config: { role: 'public' } }, async (request, reply) => {
    const a = assets.get((request.params as { name: string }).name);
    if (!a) throw ConsoleNotFound('name: no such asset', { field: 'name' });
    reply.type(a.type).header('cache-control', 'public, max-age=3600');
    return a.body;
  });
  await app.register(async (scope) => {
    await authRoutes(scope, ctx);
    await overviewApi(scope, ctx);
    await itemsApi(scope, ctx);
    await minesApi(scope, ctx);
    await alarmsApi(scope, ctx);
    await acceptanceApi(scope, ctx);
    await auditApi(scope, ctx);
    await settingsApi(scope, ctx);
    await devicesApi(scope, ctx);
    await liveApi(scope, ctx);
    await pageRoutes(scope, ctx);
    scope.get('/api/openapi.json', { config: { role: 'public' } }, async () => openapi.document({ version: version() }));
  });

  try {
    await app.listen({ host, port });
  } catch (err) {
    await relay.close();
    await store.close();
    throw err;
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  log.info({ url, relayAdmin: relay.url }, 'console listening');
  return {
    url,
    relayUrl: relay.url,
    ctx,
    async close() {
      await app.close();
      await relay.close();
      await store.close();
    },
  };
}
