// The model registry for the province's console (loopback only, admin token):
//   GET  /admin/models            the manifest's models and bindings
//   PUT  /admin/models/bindings   {bindings: [{target: {mine}|{account}|{device}, model}]}: replaces the
//                                 bindings, signs and publishes the manifest (the push)
//   POST /admin/models/push       signs the same manifest again with a new issuedAt
// Every answer is the GET's shape. Edges see a new manifest at their next poll, or at once when
// their heartbeat's answer names another bound model than the one they run.
import type { ModelsView } from '../../src/contract/admin.ts';
import type { FastifyInstance } from 'fastify';
import { InvalidField, success } from '../../src/contract/index.ts';
import { ManifestMalformed } from '../../src/models/errors.ts';
import type { ModelManifest } from '../../src/models/manifest.ts';
import type { RelayContext } from '../RelayContext.ts';
import { loopbackOnly } from '../admin/adminRoutes.ts';
import { adminAuth } from '../routes/opsRoutes.ts';
import { ModelRegistry } from './ModelRegistry.ts';

/** a bindings body: 10,000 bindings of ~100 bytes */
const BINDINGS_MAX_BYTES = 2 * 1024 * 1024;

export type { ModelsView };

export function modelsView(manifest: ModelManifest | undefined): ModelsView {
  if (!manifest) return { bindings: [] };
  return {
    manifest: {
      issuedAt: Date.parse(manifest.issuedAt),
      publisher: manifest.publisher,
      models: manifest.models.map(({ name, version, sm3, bytes, inputSize }) => ({ name, version, sm3, bytes, inputSize })),
    },
    bindings: manifest.bindings ?? [],
  };
}

export async function modelAdminRoutes(app: FastifyInstance, ctx: RelayContext, registry = new ModelRegistry(ctx.config.dataDir)): Promise<void> {
  app.addHook('onRequest', loopbackOnly);
  app.addHook('onRequest', adminAuth(ctx));

  app.get('/admin/models', async () => success(modelsView(await registry.current())));

  app.put('/admin/models/bindings', { bodyLimit: BINDINGS_MAX_BYTES }, async (request) => {
    const body = request.body as { bindings?: unknown } | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !('bindings' in body)) {
      throw InvalidField('bindings: required, a list of {target: {mine: ID} | {account: NAME} | {device: ID}, model: NAME} ([] removes every binding)', {
        field: 'bindings',
      });
    }
    try {
      const manifest = await registry.setBindings(body.bindings);
      request.log.info({ bindings: manifest.bindings?.length ?? 0, issuedAt: manifest.issuedAt }, 'model bindings set and published');
      return success(modelsView(manifest));
    } catch (err) {
      // the body's fault, told as such (not as a broken manifest)
      if (ManifestMalformed.is(err)) throw InvalidField(err.message.replace(/^model manifest: /, ''), { field: err.field ?? 'bindings', cause: err });
      throw err;
    }
  });

  app.post('/admin/models/push', async (request) => {
    const manifest = await registry.push();
    request.log.info({ issuedAt: manifest.issuedAt }, 'model manifest pushed again');
    return success(modelsView(manifest));
  });
}
