// The five evidence uploads (5.1.1): multipart/form-data with one file part of the guide's name,
// an H.264 MP4 of at most 10 MiB named by table 5-25. The file is streamed to a temporary file
// while its SM3 is computed (never held in memory), checked, fsynced and renamed into the blob
// store, and its queue item committed, before the mine hears success. A connection that breaks
// mid-upload leaves nothing behind.
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import {
  EVIDENCE_ENDPOINTS,
  SUCCESS,
  BodyTooLarge,
  checkEvidenceFileName,
  flag,
  type EvidenceEndpoint,
  type Flag,
} from '../../src/contract/index.ts';
import { EsealError } from '../../src/errors.ts';
import { probeMp4File } from '../../src/media/mp4.ts';
import type { StagedBlob } from '../../src/store/BlobStoreTypes.ts';
import { TooLarge } from '../../src/store/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import { bearerAuth, ensureMine } from '../auth/bearer.ts';
import { UploadBusy, UploadNotMultipart, UploadPart } from '../errors.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';

const MP4_TYPES = new Set(['application/mp4', 'video/mp4']);

/** Reads and throws away the rest of a part we refuse, so the connection stays usable. */
function drain(part: MultipartFile): Promise<void> {
  return new Promise((resolve) => {
    part.file.on('end', resolve).on('error', () => resolve()).on('close', resolve);
    part.file.resume();
  });
}

export async function evidenceRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const limits = ctx.config.relay.limits;
  const maxBytes = limits.videoMaxBytes;
  const skewMs = ctx.config.relay.clockSkewSeconds * 1000;
  let active = 0;

  await app.register(multipart, {
    // One byte over our own limit, so that the blob store's check (with its clear message) fires
    // first; `truncated` is still checked below in case the two ever disagree.
    limits: { fileSize: maxBytes + 1, files: 2, fields: 16, fieldSize: 4096, parts: 24, headerPairs: 64 },
  });
  app.addHook('onRequest', bearerAuth(ctx));

  const upload = (endpoint: EvidenceEndpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.isMultipart()) {
      throw UploadNotMultipart(
        `${endpoint.partName}: the request must be multipart/form-data with one file part named "${endpoint.partName}" (got Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')})`,
        { field: endpoint.partName },
      );
    }
    if (active >= limits.maxConcurrentUploads) {
      reply.header('Retry-After', '5');
      throw UploadBusy(`relay busy: ${active} uploads in progress; retry in 5 s (nothing of this upload was stored)`);
    }
    active++;
    let staged: StagedBlob | undefined;
    try {
      const account = request.account!;
      const receivedAt = Date.now();
      let found: { part: MultipartFile; flags: Flag[]; name: ReturnType<typeof checkEvidenceFileName>['value'] } | undefined;
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue;
        if (found) {
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
        let checked;
        try {
          checked = checkEvidenceFileName(endpoint, part.filename, { now: receivedAt, maxSkewMs: skewMs });
          ensureMine(ctx, account, checked.value.mineId, `${endpoint.partName} filename mineId`);
        } catch (err) {
          await drain(part);
          throw err;
        }
        const flags = checked.flags;
        if (!MP4_TYPES.has(part.mimetype.toLowerCase())) flags.push(flag('file.contentType', part.mimetype.slice(0, 40)));
        try {
          staged = await ctx.blobs.stage(part.file, { maxBytes });
        } catch (err) {
          if (TooLarge.is(err)) {
            throw BodyTooLarge(`${endpoint.partName}: larger than ${maxBytes} bytes (10 MiB, the national platform's limit)`, {
              field: endpoint.partName,
              cause: err,
            });
          }
          throw err;
        }
        if (part.file.truncated) {
          throw BodyTooLarge(`${endpoint.partName}: larger than ${maxBytes} bytes (10 MiB, the national platform's limit)`, {
            field: endpoint.partName,
          });
        }
        found = { part, flags, name: checked.value };
      }
      if (!found || !staged) {
        throw UploadPart(`${endpoint.partName}: missing; the body must carry one file part named "${endpoint.partName}" (filename ${endpoint.fileForm === 'plain' ? '30' : '34'} digits + .MP4)`, {
          field: endpoint.partName,
        });
      }
      let info;
      try {
        info = await probeMp4File(staged.tempPath, { field: endpoint.partName });
      } catch (err) {
        // The media catalogue says 415/422; the API answers every input rule with 400 (NATIONAL-API.md).
        if (err instanceof EsealError && err.statusCode < 500) {
          throw new EsealError(err.code, `${endpoint.partName}: ${err.message}`, 400, { field: endpoint.partName, cause: err });
        }
        throw err;
      }
      const video = info.video!;
      const blob = await staged.commit();
      staged = undefined;
      const { name, flags, part } = found;
      const item: RelayItem = {
        v: 1,
        endpoint: endpoint.id,
        account: account.username,
        mineId: name.mineId,
        cameraId: name.cameraId,
        receivedAt,
        requestId: request.id,
        from: request.ip,
        flags,
        file: {
          name: part.filename,
          blob: blob.id,
          size: blob.size,
          durationMs: info.durationMs,
          codec: video.codec,
          width: video.width,
          height: video.height,
          contentType: part.mimetype,
        },
      };
      const accepted = await ctx.ingest.accept(item, endpoint.lane);
      request.log.info(
        { endpoint: endpoint.id, seq: accepted.seq, duplicate: accepted.duplicate, file: part.filename, size: blob.size, flags },
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
