// The five evidence uploads (5.1.1): multipart/form-data with one file part of the guide's name,
// an H.264 MP4 of at most 10 MiB named by table 5-25. The file is streamed to a temporary file
// while its SM3 is computed (never held in memory), checked, fsynced and renamed into the blob
// store, and its queue item committed, before the mine hears success. A connection that breaks
// mid-upload leaves nothing behind.
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { EVIDENCE_ENDPOINTS, SUCCESS, type EvidenceEndpoint } from '../../src/contract/index.ts';
import type { StagedBlob } from '../../src/store/BlobStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth } from '../auth/bearer.ts';
import { UploadBusy, UploadNotMultipart, UploadPart } from '../errors.ts';
import { completeEvidence, prepareEvidence, stageEvidence, tooLarge, type PreparedEvidence } from '../ingest/evidence.ts';

/** The boundary parameter of a multipart Content-Type ('' when missing or empty: the parser cannot split the body). */
function multipartBoundary(contentType: string): string {
  // boundary characters (RFC 2046) include no ';', so splitting on it is safe even for quoted values
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const value = param.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return '';
}

/** Reads and throws away the rest of a part we refuse, so the connection stays usable. */
function drain(part: MultipartFile): Promise<void> {
  return new Promise((resolve) => {
    part.file.on('end', resolve).on('error', () => resolve()).on('close', resolve);
    part.file.resume();
  });
}

export async function evidenceRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const limits = ctx.config.relay.limits;
  let active = 0;

  await app.register(multipart, {
    // One byte over our own limit, so that the blob store's check (with its clear message) fires
    // first; `truncated` is still checked below in case the two ever disagree.
    limits: { fileSize: limits.videoMaxBytes + 1, files: 2, fields: 16, fieldSize: 4096, parts: 24, headerPairs: 64 },
  });
  app.addHook('onRequest', bearerAuth(ctx));

  const upload = (endpoint: EvidenceEndpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.isMultipart()) {
      throw UploadNotMultipart(
        `${endpoint.partName}: the request must be multipart/form-data with one file part named "${endpoint.partName}" (got Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')})`,
        { field: endpoint.partName },
      );
    }
    const contentType = request.headers['content-type'] ?? '';
    if (!multipartBoundary(contentType)) {
      throw UploadNotMultipart(
        `Content-Type: multipart/form-data needs a boundary parameter (e.g. multipart/form-data; boundary=----eseal), got ${JSON.stringify(contentType.slice(0, 100))}`,
        { field: 'Content-Type' },
      );
    }
    if (active >= limits.maxConcurrentUploads) {
      reply.header('Retry-After', '5');
      throw UploadBusy(`relay busy: ${active} uploads in progress; retry in 5 s (nothing of this upload was stored)`);
    }
    active++;
    let staged: StagedBlob | undefined;
    try {
      let prepared: PreparedEvidence | undefined;
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue;
        if (prepared) {
          await drain(part);
          throw UploadPart(`${endpoint.partName}: only one file part per request (a second one, "${part.fieldname}", came)`, {
            field: endpoint.partName,
          });
        }
        if (part.fieldname !== endpoint.partName) {
          await drain(part);
          throw UploadPart(
            `${endpoint.partName}: the file part must be named "${endpoint.partName}" for ${endpoint.id}, got "${part.fieldname}"`,
            { field: endpoint.partName },
          );
        }
        try {
          prepared = prepareEvidence(ctx, endpoint, request.account!, part.filename, part.mimetype);
        } catch (err) {
          await drain(part);
          throw err;
        }
        staged = await stageEvidence(ctx, endpoint, part.file);
        if (part.file.truncated) throw tooLarge(endpoint, limits.videoMaxBytes);
      }
      if (!prepared || !staged) {
        throw UploadPart(`${endpoint.partName}: missing; the body must carry one file part named "${endpoint.partName}" (filename ${endpoint.fileForm === 'plain' ? '30' : '34'} digits + .MP4)`, {
          field: endpoint.partName,
        });
      }
      const done = staged;
      staged = undefined; // completeEvidence owns it now
      const accepted = await completeEvidence(ctx, prepared, done, { requestId: request.id, from: request.ip });
      request.log.info(
        { endpoint: endpoint.id, seq: accepted.seq, duplicate: accepted.duplicate, file: prepared.fileName, flags: prepared.flags },
        'evidence accepted',
      );
      return SUCCESS;
    } finally {
      active--;
      if (staged) await staged.discard().catch(() => {});
    }
  };

  for (const endpoint of Object.values(EVIDENCE_ENDPOINTS)) {
    app.route({ method: 'POST', url: endpoint.path, config: { endpoint: endpoint.id }, handler: upload(endpoint) });
  }
}
