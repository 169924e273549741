// The steps every evidence video goes through, however it arrived (a multipart POST, or a
// resumable upload once it is complete): the same rules, the same queue item.
//
//   prepareEvidence   the file name and the account's right to its mine, before a byte is read
//   stageEvidence     stream into the blob store (SM3, size limit), nothing visible yet
//   completeEvidence  the MP4 check, commit (fsync, rename), queue item committed durably
import type { Readable } from 'node:stream';
import { BodyTooLarge, checkEvidenceFileName, flag, type EvidenceEndpoint, type EvidenceFileName, type Flag } from '../../src/contract/index.ts';
import { EsealError } from '../../src/errors.ts';
import { probeMp4File } from '../../src/media/mp4.ts';
import type { StagedBlob } from '../../src/store/BlobStoreTypes.ts';
import { NoSpace, TooLarge } from '../../src/store/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { Account } from '../auth/AccountStore.ts';
import { ensureMine } from '../auth/bearer.ts';
import { blobLocks } from '../keep/BlobLocks.ts';
import { withMineId } from '../stats/rejectedMine.ts';
import type { Accepted } from './Ingest.ts';
import type { RelayItem } from './RelayItem.ts';

const MP4_TYPES = new Set(['application/mp4', 'video/mp4']);

export interface PreparedEvidence {
  endpoint: EvidenceEndpoint;
  account: Account;
  fileName: string;
  contentType: string;
  name: EvidenceFileName;
  flags: Flag[];
  receivedAt: number;
}

export function prepareEvidence(
  ctx: RelayContext,
  endpoint: EvidenceEndpoint,
  account: Account,
  fileName: string,
  contentType: string,
  receivedAt = Date.now(),
): PreparedEvidence {
  ensureDiskRoom(ctx);
  let checked: ReturnType<typeof checkEvidenceFileName>;
  try {
    checked = checkEvidenceFileName(endpoint, fileName, { now: receivedAt, maxSkewMs: ctx.config.relay.clockSkewSeconds * 1000 });
    ensureMine(ctx, account, checked.value.mineId, `${endpoint.partName} filename mineId`);
  } catch (err) {
    // the console counts the refusal for the mine the name begins with (relay/stats/rejectedMine.ts)
    throw withMineId(err, /^\d{12}/.test(fileName) ? fileName.slice(0, 12) : undefined);
  }
  const flags = checked.flags;
  if (!MP4_TYPES.has(contentType.toLowerCase())) flags.push(flag('file.contentType', contentType.slice(0, 40)));
  return { endpoint, account, fileName, contentType, name: checked.value, flags, receivedAt };
}

/** Above the disk's high-water mark no video bytes are taken (507), however they come. */
export function ensureDiskRoom(ctx: RelayContext, what = 'nothing of this upload was stored'): void {
  if (ctx.disk.full) {
    throw NoSpace(
      `the relay's disk is above its high-water mark (${Math.round(ctx.disk.usedPercent)}% used, limit ${ctx.config.disk.highWatermarkPercent}%): videos are refused until space is freed; ${what}, retry later`,
    );
  }
}

export function tooLarge(endpoint: EvidenceEndpoint, maxBytes: number, cause?: unknown): EsealError {
  return BodyTooLarge(`${endpoint.partName}: larger than ${maxBytes} bytes (10 MiB, the national platform's limit)`, {
    field: endpoint.partName,
    cause,
  });
}

export async function stageEvidence(ctx: RelayContext, endpoint: EvidenceEndpoint, source: Readable): Promise<StagedBlob> {
  const maxBytes = ctx.config.relay.limits.videoMaxBytes;
  try {
    return await ctx.blobs.stage(source, { maxBytes });
  } catch (err) {
    if (TooLarge.is(err)) throw tooLarge(endpoint, maxBytes, err);
    throw err;
  }
}

/** Checks the staged MP4, keeps it and queues its item; the staged blob is discarded on any refusal. */
export async function completeEvidence(
  ctx: RelayContext,
  prepared: PreparedEvidence,
  staged: StagedBlob,
  meta: { requestId: string; from: string },
): Promise<Accepted> {
  const { endpoint } = prepared;
  let committed = false;
  try {
    let info;
    try {
      info = await probeMp4File(staged.tempPath, { field: endpoint.partName });
    } catch (err) {
      // The media catalogue says 415/422; the API answers every input rule with 400 (NATIONAL-API.md).
      if (err instanceof EsealError && err.statusCode < 500) {
        throw new EsealError(err.code, `${endpoint.partName}: ${err.message}`, 400, { field: endpoint.partName, cause: err, detail: { mineId: prepared.name.mineId } });
      }
      throw err;
    }
    // The blob and the item that refers to it, under the blob's lock: retention, deleting the blob
    // of a delivered item with the same bytes, waits and then sees this item (relay/keep/BlobLocks.ts).
    return await blobLocks(ctx.blobs).run(staged.id, async () => {
      const blob = await staged.commit();
      committed = true;
      const item: RelayItem = {
        v: 1,
        endpoint: endpoint.id,
        account: prepared.account.username,
        mineId: prepared.name.mineId,
        cameraId: prepared.name.cameraId,
        receivedAt: prepared.receivedAt,
        requestId: meta.requestId,
        from: meta.from,
        flags: prepared.flags,
        file: {
          name: prepared.fileName,
          blob: blob.id,
          size: blob.size,
          durationMs: info.durationMs,
          codec: info.video.codec,
          width: info.video.width,
          height: info.video.height,
          contentType: prepared.contentType,
        },
      };
      return ctx.ingest.accept(item, endpoint.lane);
    });
  } finally {
    if (!committed) await staged.discard().catch(() => {});
  }
}
