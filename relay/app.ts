// The relay's HTTP(S) server: the national API mirrored for mines, plus /healthz and /metrics.
// Every answer, errors included, is the API's envelope {code, msg, data}.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  ALL_ENDPOINTS,
  AUTH_FAILURES,
  BodyTooLarge,
  InvalidField,
  UnsupportedContentType,
  failure,
  serverError,
} from '../src/contract/index.ts';
import { EsealError } from '../src/errors.ts';
import { safeUrl } from '../src/log.ts';
import { NoSpace } from '../src/store/errors.ts';
import type { RelayContext } from './RelayContext.ts';
import { authFailureBody, authRoutes } from './auth/authRoutes.ts';
import { bearerToken } from './auth/bearer.ts';
import { AuthTokenInvalid, ConnectionLimit, MethodNotAllowed, NotFound, UploadNotMultipart, UploadPart } from './errors.ts';
import { ConnectionGuard } from './http/ConnectionGuard.ts';
import { evidenceRoutes } from './routes/evidenceRoutes.ts';
import { mineStatusRoutes } from './routes/mineStatusRoutes.ts';
import { openapiRoute } from './routes/openapiRoute.ts';
import { opsRoutes } from './routes/opsRoutes.ts';
import { adminRoutes } from './admin/adminRoutes.ts';
import { modelRoutes } from './models/modelRoutes.ts';
import { modelAdminRoutes } from './models/modelAdminRoutes.ts';
import { deviceRoutes } from './devices/deviceRoutes.ts';
import { recordRoutes } from './routes/recordRoutes.ts';
import { tusRoutes } from './tus/tusRoutes.ts';
import { countRejected } from './stats/rejectedMine.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** endpoint id (src/contract/endpoints.ts), for metrics and logs */
    endpoint?: string;
  }
}

export interface RelayAppOptions {
  https?: { key: string | Buffer; cert: string | Buffer };
}

/** a call slower than this is logged at info even when it succeeds */
const SLOW_MS = 2000;

const byPath = new Map(ALL_ENDPOINTS.map((e) => [e.path, e]));

/** Maps errors of Fastify and its plugins to our catalogue, keeping the original as cause. */
function normalise(err: FastifyError | EsealError | Error): EsealError {
  if (err instanceof EsealError) return err;
  const code = (err as FastifyError).code ?? '';
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return BodyTooLarge('body: larger than the relay accepts for this endpoint', { field: 'body', cause: err });
    case 'FST_REQ_FILE_TOO_LARGE':
      return BodyTooLarge("file: larger than 10 MiB, the national platform's limit", { field: 'file', cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return UnsupportedContentType(`Content-Type: not accepted here (${err.message})`, { field: 'Content-Type', cause: err });
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return UploadPart(`body: too many multipart parts (${err.message})`, { field: 'body', cause: err });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return InvalidField('body: empty; a JSON object is required', { field: 'body', cause: err });
    default:
      break;
  }
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return NoSpace('the relay is out of disk space; nothing of this call was stored, retry later', { cause: err });
  }
  // busboy: a multipart Content-Type without a boundary (the upload routes check this first)
  if (/^Multipart: Boundary not found/i.test(err.message)) {
    return UploadNotMultipart('Content-Type: multipart/form-data needs a boundary parameter (e.g. multipart/form-data; boundary=----eseal)', {
      field: 'Content-Type',
      cause: err,
    });
  }
  // busboy: the body ended before its closing boundary (a broken connection, a truncated client)
  if (/Unexpected end of (form|multipart)/i.test(err.message)) {
    return UploadPart('body: the multipart body ended before its closing boundary (connection broken?); nothing was stored', {
      field: 'body',
      cause: err,
    });
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) return new EsealError('ESEAL_ERR_INPUT_FIELD', `request: ${err.message}`, status, { cause: err });
  return new EsealError('ESEAL_ERR_RELAY_INTERNAL', err.message, 500, { cause: err });
}

/** Statuses for the parser's refusals: too many or too long headers, a request too slow, anything else. */
function clientErrorStatus(err: NodeJS.ErrnoException): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** Node's 'clientError': a request its HTTP parser refused. Answers once in the envelope and closes. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err);
  const reason = status === 431 ? 'headers: larger than the relay accepts' : status === 408 ? 'request: did not arrive in time' : 'request: not a well-formed HTTP/1.1 request';
  const body = JSON.stringify(failure(reason));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function buildRelayApp(ctx: RelayContext, options: RelayAppOptions = {}): Promise<FastifyInstance> {
  const limits = ctx.config.relay.limits;
  // request ids: unique per start (random prefix) and cheap (a counter, not randomness per request)
  const idPrefix = randomBytes(3).toString('hex') + '-';
  let requests = 0;
  const app = (Fastify as (o: object) => unknown)({
    loggerInstance: ctx.log,
    // our own one-line access log (onResponse below) replaces Fastify's, with the URL made safe
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `${idPrefix}${(++requests).toString(36)}`,
    requestIdHeader: false,
    bodyLimit: limits.jsonMaxBytes,
    connectionTimeout: 0,
    keepAliveTimeout: limits.keepAliveSeconds * 1000,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    trustProxy: false,
    return503OnClosing: true,
    // What Node's parser or Fastify's router refuse before any route runs is answered in the API's
    // envelope too, never in Fastify's own {"error","message","statusCode"} shape.
    clientErrorHandler: answerClientError,
    frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      reply.status(err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400);
      reply.send(failure(`request: ${err.code === 'FST_ERR_BAD_URL' ? 'the request target cannot be read (a malformed URL or escape)' : err.message}`));
    },
    ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}),
  }) as unknown as FastifyInstance; // an https.Server is an http.Server to the code here
  app.server.headersTimeout = limits.headersTimeoutSeconds * 1000;
  app.server.maxConnections = limits.maxConnections;
  const conn = ctx.config.relay.connections;
  const guard = new ConnectionGuard(
    app.server,
    {
      perAddress: conn.perAddress,
      minBodyBytesPerSecond: conn.minBodyBytesPerSecond,
      windowMs: conn.bodyRateWindowSeconds * 1000,
      graceMs: conn.bodyGraceSeconds * 1000,
    },
    {
      refused(address, open, first) {
        ctx.metrics.rejected.inc({ endpoint: 'other', reason: ConnectionLimit.code });
        // one line per run of refusals from an address, not one per connection of a flood
        if (first) {
          ctx.log.warn(
            { code: ConnectionLimit.code, from: address, open, limit: conn.perAddress },
            'connections refused: this address holds relay.connections.perAddress already (many mines behind one NAT address? raise it)',
          );
        }
      },
      cut({ req, address, error, bytesPerSecond }) {
        const path = (req.url ?? '').split('?')[0] ?? '';
        ctx.metrics.rejected.inc({ endpoint: byPath.get(path)?.id ?? 'other', reason: error.code });
        ctx.log.info({ code: error.code, method: req.method, url: safeUrl(req.url ?? ''), from: address, bytesPerSecond }, 'request refused: body too slow');
      },
    },
  );
  app.addHook('onClose', async () => guard.close());

  app.addHook('onResponse', async (request, reply) => {
    const endpoint = request.routeOptions.config?.endpoint;
    if (endpoint) ctx.metrics.latency.observe({ endpoint }, reply.elapsedTime / 1000);
    // Successes are counted in /metrics; a line each at 10,000 records/s would cost a fifth of the
    // relay's time. They are logged at debug; refusals, failures and slow calls at info.
    const notable = reply.statusCode >= 400 || reply.elapsedTime > SLOW_MS;
    if (!notable && !ctx.log.isLevelEnabled('debug')) return;
    request.log[notable ? 'info' : 'debug'](
      {
        method: request.method,
        url: safeUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        from: request.ip,
        account: request.account?.username,
      },
      'request',
    );
  });

  app.setErrorHandler(async (raw: FastifyError | EsealError | Error, request: FastifyRequest, reply: FastifyReply) => {
    // cut off for a slow body: answered, counted and logged by the guard; this is the route giving up
    const cut = guard.cutError(request.raw);
    if (cut) {
      reply.status(cut.statusCode);
      return failure(cut.message);
    }
    const err = normalise(raw);
    const endpoint = request.routeOptions.config?.endpoint ?? 'other';
    ctx.metrics.rejected.inc({ endpoint, reason: err.code });
    countRejected(ctx, request, err, endpoint);
    if (err.statusCode >= 500) {
      request.log.error({ err: raw, code: err.code }, 'request failed');
    } else {
      request.log.info({ code: err.code, field: err.field, reason: err.message }, 'request refused');
    }
    reply.status(err.statusCode);
    if (err.code === AuthTokenInvalid.code) {
      const body = AUTH_FAILURES.tokenInvalid.body(bearerToken(request));
      return { ...body, msg: err.message };
    }
    const auth = authFailureBody(err);
    if (auth) return auth;
    // 503 and 507 carry advice for the mine; any other fault's details are for the operator's log.
    if (err.statusCode >= 500 && err.statusCode !== 503 && err.statusCode !== 507) {
      return serverError(`internal error (request ${request.id}, ${err.code}); send the call again (re-sends are idempotent)`);
    }
    return failure(err.message);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const known = byPath.get(path);
    const err = known
      ? MethodNotAllowed(
          `${request.method} ${path}: not allowed; this endpoint takes ${'methods' in known ? known.methods.join(' or ') : known.method}`,
        )
      : NotFound(`${request.method} ${path}: no such endpoint of the national API (see the README's API table)`);
    ctx.metrics.rejected.inc({ endpoint: 'other', reason: err.code });
    reply.status(err.statusCode);
    return failure(err.message);
  });

  // on the root, before the routes: its hooks count every call per account (the device inventory)
  await deviceRoutes(app, ctx);
  await app.register((scope) => opsRoutes(scope, ctx));
  await app.register((scope) => openapiRoute(scope, ctx));
  await app.register((scope) => adminRoutes(scope, ctx));
  await app.register((scope) => authRoutes(scope, ctx));
  await app.register((scope) => recordRoutes(scope, ctx));
  await app.register((scope) => evidenceRoutes(scope, ctx));
  await app.register((scope) => tusRoutes(scope, ctx));
  await app.register((scope) => mineStatusRoutes(scope, ctx));
  await app.register((scope) => modelRoutes(scope, ctx));
  await app.register((scope) => modelAdminRoutes(scope, ctx));
  return app;
}
