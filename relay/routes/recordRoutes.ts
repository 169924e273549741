// The seven JSON calls: infoReport/* (5.1.2), camera/live and camera/online-offine. POST is
// canonical; the guide's own examples show GET with a JSON body for some, so GET with a body (or,
// failing that, the fields in the query string) is accepted too. Every accepted record is durable
// before the mine hears success.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DEFAULT_JSON_LIMITS,
  RECORD_ENDPOINTS,
  SUCCESS,
  UnsupportedContentType,
  BodyTooLarge,
  checkRecord,
  parseJsonBody,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth, ensureMine } from '../auth/bearer.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';

/** Reads a request body that Fastify does not parse (GET), bounded by `limit` bytes. */
async function readRawBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw BodyTooLarge(`body: larger than ${limit} bytes`, { field: 'body' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function bodyInput(request: FastifyRequest, bytes: Buffer, limits: typeof DEFAULT_JSON_LIMITS): unknown {
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/')) {
    throw UnsupportedContentType('body: this endpoint takes a JSON object (Content-Type: application/json), not multipart/form-data', {
      field: 'body',
    });
  }
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(bytes.toString('utf8')));
  if (bytes.length === 0 && request.method === 'GET') {
    const q = { ...(request.query as Record<string, unknown>) };
    delete q['access_token'];
    if (Object.keys(q).length > 0) return q;
  }
  return parseJsonBody(bytes, limits);
}

export async function recordRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const limits = ctx.config.relay.limits;
  const jsonLimits = { ...DEFAULT_JSON_LIMITS, maxDepth: limits.jsonMaxDepth };
  const skewMs = ctx.config.relay.clockSkewSeconds * 1000;

  // Bodies are read as bytes whatever the declared type (devices send text/plain, no type, or a
  // charset the JSON parser would trip on); our own reader gives the precise errors.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.jsonMaxBytes }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', bearerAuth(ctx));

  const handle = (endpoint: RecordEndpoint) => async (request: FastifyRequest) => {
    const bytes = Buffer.isBuffer(request.body) ? request.body : await readRawBody(request, limits.jsonMaxBytes);
    const input = bodyInput(request, bytes, jsonLimits);
    const receivedAt = Date.now();
    const { value, flags } = checkRecord(endpoint, input, { now: receivedAt, maxSkewMs: skewMs });
    const account = request.account!;
    ensureMine(ctx, account, String(value['mineId']));
    const item: RelayItem = {
      v: 1,
      endpoint: endpoint.id,
      account: account.username,
      mineId: String(value['mineId']),
      cameraId: String(value['cameraId']),
      receivedAt,
      requestId: request.id,
      from: request.ip,
      flags,
      record: value,
    };
    const accepted = await ctx.ingest.accept(item, endpoint.lane);
    request.log.debug({ endpoint: endpoint.id, seq: accepted.seq, duplicate: accepted.duplicate, flags }, 'record accepted');
    return SUCCESS;
  };

  for (const endpoint of Object.values(RECORD_ENDPOINTS)) {
    for (const method of endpoint.methods) {
      app.route({ method, url: endpoint.path, config: { endpoint: endpoint.id }, handler: handle(endpoint) });
    }
  }
}
