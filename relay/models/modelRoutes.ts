// The registry's download routes for edges; publishing is the CLI's (eseal models publish).
//   GET /eseal/models/manifest.json      the signed manifest, byte for byte as written
//   GET /eseal/models/files/<sm3>.onnx   a model file, streamed, ETag "<sm3>"
// Both need the Bearer token of any mine account. These are not national API paths, so a missing
// or stale token is answered with HTTP 401 (in the API's envelope), not the guide's 424.
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MODEL_PATHS } from '../../src/models/manifest.ts';
import { ModelNotFound } from '../../src/models/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth } from '../auth/bearer.ts';
import { AuthTokenInvalid } from '../errors.ts';
import { ModelRegistry } from './ModelRegistry.ts';

export async function modelRoutes(app: FastifyInstance, ctx: RelayContext, registry = new ModelRegistry(ctx.config.dataDir)): Promise<void> {
  const auth = bearerAuth(ctx);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    try {
      await auth(request);
    } catch (err) {
      if (AuthTokenInvalid.is(err)) throw AuthTokenInvalid(err.message, { statusCode: 401 });
      throw err;
    }
  });

  app.get(MODEL_PATHS.manifest, { config: { endpoint: 'models.manifest' } }, async (_request, reply) => {
    const bytes = await registry.manifestBytes();
    if (bytes === undefined) throw ModelNotFound('no model has been published on this relay yet (eseal models publish)');
    // The manifest is small and changes rarely; edges poll it, so never let a proxy serve a stale one.
    return reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(bytes);
  });

  app.get(`${MODEL_PATHS.filePrefix}:file`, { config: { endpoint: 'models.file' } }, async (request, reply) => {
    const name = (request.params as { file: string }).file;
    const sm3 = /^([0-9a-f]{64})\.onnx$/.exec(name)?.[1] ?? '';
    const found = await registry.file(sm3);
    if (!found) throw ModelNotFound(`file: ${name.slice(0, 80)} is not a model file of this registry (see the manifest)`, { field: 'file' });
    const etag = `"${sm3}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=31536000, immutable');
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply
      .header('content-length', String(found.bytes))
      .type('application/octet-stream')
      .send(createReadStream(found.path));
  });
}
