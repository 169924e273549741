// Resumable evidence uploads (断点续传, guide 5.3.3) over tus 1.0.0 with the creation, checksum,
// termination and expiration extensions:
//
//   OPTIONS  …/fileOperator/resumable/       what the relay supports
//   POST     …/fileOperator/resumable/       create: Upload-Length, Upload-Metadata kind + filename
//   HEAD     …/fileOperator/resumable/<id>   Upload-Offset: where to resume
//   PATCH    …/fileOperator/resumable/<id>   a chunk at Upload-Offset (application/offset+octet-stream)
//   DELETE   …/fileOperator/resumable/<id>   terminate
//
// Every call carries the mine's Bearer token; an upload is seen only by the account that made it.
// The last chunk is answered only once the video went through the same steps as a multipart
// upload (relay/ingest/evidence.ts) and its queue item is committed.
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyTooLarge, UnsupportedContentType, endpointById, type EvidenceEndpoint } from '../../src/contract/index.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth } from '../auth/bearer.ts';
import { TusChecksum, TusHeader, TusLimit, TusOffset, TusVersion, UploadBusy } from '../errors.ts';
import { NoSpace } from '../../src/store/errors.ts';
import { TusStore, type TusUpload } from './TusStore.ts';
import { TusUploads, type CallMeta, type TusOptions } from './TusUploads.ts';
import {
  CHECKSUM_ALGORITHMS,
  OFFSET_OCTET_STREAM,
  TUS_ENDPOINT_ID,
  TUS_EXTENSIONS,
  TUS_PATH,
  TUS_VERSION,
  formatMetadata,
  httpDate,
  parseByteCount,
  parseChecksum,
  parseMetadata,
} from '../../src/contract/tus.ts';

export type { TusOptions } from './TusUploads.ts';

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function meta(request: FastifyRequest): CallMeta {
  return { requestId: request.id, from: request.ip, log: request.log };
}

function uploadMetadata(upload: TusUpload): string {
  const endpoint = endpointById(upload.endpoint) as EvidenceEndpoint | undefined;
  return formatMetadata({ kind: endpoint?.partName ?? upload.endpoint, filename: upload.fileName, filetype: upload.contentType });
}

export async function tusRoutes(app: FastifyInstance, ctx: RelayContext, options: TusOptions = {}): Promise<void> {
  const store = await TusStore.open(ctx.root, join(ctx.config.dataDir, 'tus'));
  const uploads = new TusUploads(ctx, store, options);
  app.addHook('onReady', async () => uploads.start());
  app.addHook('onClose', async () => uploads.close());

  // The chunk stays a stream (request.raw), read and written piece by piece, never buffered whole.
  app.addContentTypeParser(OFFSET_OCTET_STREAM, (_request, _payload, done) => done(null, undefined));

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Tus-Resumable', TUS_VERSION);
  });
  app.addHook('onRequest', bearerAuth(ctx));
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const version = header(request, 'tus-resumable');
    if (version !== TUS_VERSION) {
      reply.header('Tus-Version', TUS_VERSION);
      throw TusVersion(`Tus-Resumable: must be ${TUS_VERSION}, got ${version === undefined ? 'none' : JSON.stringify(version.slice(0, 20))}`, {
        field: 'Tus-Resumable',
      });
    }
  });

  /** Headers a refusal needs besides its envelope: where the offset is, how to end the connection. */
  function decorate(reply: FastifyReply, err: unknown): never {
    if (TusOffset.is(err) || TusChecksum.is(err)) {
      const offset = err.detail?.['offset'];
      if (typeof offset === 'number') reply.header('Upload-Offset', String(offset));
      if (TusChecksum.is(err)) reply.raw.statusMessage = 'Checksum Mismatch';
    }
    // The rest of an oversized body (or of one refused for a full disk) is not read: close rather than drain it.
    if (BodyTooLarge.is(err) || NoSpace.is(err)) reply.header('Connection', 'close');
    throw err;
  }

  const config = { endpoint: TUS_ENDPOINT_ID };
  const root = [TUS_PATH, TUS_PATH.slice(0, -1)];
  const one = `${TUS_PATH}:id`;

  const options204 = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('Tus-Version', TUS_VERSION)
      .header('Tus-Extension', TUS_EXTENSIONS.join(','))
      .header('Tus-Max-Size', String(uploads.maxBytes))
      .header('Tus-Checksum-Algorithm', CHECKSUM_ALGORITHMS.join(','))
      .code(204);
    return reply.send();
  };
  for (const url of [...root, one]) app.route({ method: 'OPTIONS', url, config, handler: options204 });

  for (const url of root) {
    app.route({
      method: 'POST',
      url,
      config,
      handler: async (request, reply) => {
        let upload: TusUpload;
        try {
          upload = await uploads.create(
            request.account!,
            {
              length: parseByteCount('Upload-Length', request.headers['upload-length']),
              deferLength: request.headers['upload-defer-length'] !== undefined,
              metadata: parseMetadata(header(request, 'upload-metadata')),
            },
            meta(request),
          );
        } catch (err) {
          // room comes back as uploads complete or expire
          if (TusLimit.is(err) || UploadBusy.is(err)) reply.header('Retry-After', '60');
          throw err;
        }
        reply.header('Location', TUS_PATH + upload.id).header('Upload-Expires', httpDate(upload.expiresAt)).code(201);
        return reply.send();
      },
    });
  }

  app.route<{ Params: { id: string } }>({
    method: 'HEAD',
    url: one,
    config,
    handler: async (request, reply) => {
      reply.header('Cache-Control', 'no-store');
      const upload = await uploads.status(request.params.id, request.account!, meta(request));
      const offset = upload.state === 'done' ? upload.length : upload.offset;
      reply.header('Upload-Offset', String(offset)).header('Upload-Length', String(upload.length)).header('Upload-Metadata', uploadMetadata(upload));
      if (upload.state === 'receiving') reply.header('Upload-Expires', httpDate(upload.expiresAt));
      reply.code(200);
      return reply.send();
    },
  });

  app.route<{ Params: { id: string } }>({
    method: 'PATCH',
    url: one,
    config,
    // Before any parser reads the body: a chunk is application/offset+octet-stream, nothing else.
    preParsing: async (request, _reply, payload) => {
      const type = (header(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== OFFSET_OCTET_STREAM) {
        throw UnsupportedContentType(`Content-Type: a chunk must be sent as ${OFFSET_OCTET_STREAM}, got ${JSON.stringify(type || 'none')}`, {
          field: 'Content-Type',
        });
      }
      return payload;
    },
    handler: async (request, reply) => {
      const offset = parseByteCount('Upload-Offset', request.headers['upload-offset']);
      if (offset === undefined) {
        throw TusHeader('Upload-Offset: required: the offset this chunk starts at (HEAD the upload to learn it)', { field: 'Upload-Offset' });
      }
      const checksum = parseChecksum(header(request, 'upload-checksum'));
      const declaredLength = parseByteCount('Content-Length', request.headers['content-length']);
      let release: (() => void) | undefined;
      try {
        release = uploads.takePatchSlot(request.account!);
      } catch (err) {
        reply.header('Retry-After', '5');
        throw err;
      }
      let upload: TusUpload;
      try {
        upload = await uploads.append(request.params.id, request.account!, { offset, declaredLength, checksum, body: request.raw }, meta(request));
      } catch (err) {
        decorate(reply, err);
      } finally {
        release();
      }
      reply.header('Upload-Offset', String(upload.state === 'done' ? upload.length : upload.offset));
      if (upload.state === 'receiving') reply.header('Upload-Expires', httpDate(upload.expiresAt));
      reply.code(204);
      return reply.send();
    },
  });

  app.route<{ Params: { id: string } }>({
    method: 'DELETE',
    url: one,
    config,
    handler: async (request, reply) => {
      await uploads.terminate(request.params.id, request.account!);
      reply.code(204);
      return reply.send();
    },
  });
}
