// A relay data directory with evidence items and their videos, written through the relay's own
// stores (no HTTP, no ffmpeg: the integrity checks look at bytes and SM3 addresses, not at MP4s),
// and the ways a disk or a careless hand damages what it holds.
import { randomBytes } from 'node:crypto';
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { createLogger } from '../../src/log.ts';
import { openRelayContext, type RelayContext } from '../../relay/RelayContext.ts';
import { type RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { AppConfig } from '../../app/config.ts';
import { MINE, testConfig } from '../helpers/relay.ts';

export interface StoredVideo {
  seq: number;
  blob: string;
  fileName: string;
  path: string;
}

export function blobPath(dataDir: string, id: string): string {
  return join(dataDir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

let counter = 0;

/** Stores a video of `bytes` (random unless given) and queues its evidence item, as an upload would. */
export async function storeVideo(ctx: RelayContext, bytes: Buffer = randomBytes(40_000 + Math.floor(Math.random() * 20_000))): Promise<StoredVideo> {
  const staged = await ctx.blobs.stage(Readable.from([bytes]), { maxBytes: 10 * 1024 * 1024 });
  const blob = await staged.commit();
  const fileName = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() - ++counter * 1000 });
  const item: RelayItem = {
    v: 1,
    endpoint: EVIDENCE_ENDPOINTS.personVideo.id,
    account: 'mine001',
    mineId: MINE,
    cameraId: '20',
    receivedAt: Date.now(),
    requestId: `test-${counter}`,
    from: '127.0.0.1',
    flags: [],
    file: { name: fileName, blob: blob.id, size: blob.size, durationMs: 1000, codec: 'avc1', width: 160, height: 120, contentType: 'video/mp4' },
  };
  const accepted = await ctx.ingest.accept(item, 'evidence');
  return { seq: accepted.seq, blob: blob.id, fileName, path: blobPath(ctx.config.dataDir, blob.id) };
}

/** Opens the data dir's stores (no listener), runs `fn`, closes them. */
export async function withContext<T>(dataDir: string, fn: (ctx: RelayContext, config: AppConfig) => Promise<T>, set: Record<string, string | number> = {}): Promise<T> {
  const config = await testConfig(dataDir, set);
  const ctx = await openRelayContext(config, createLogger({ level: 'silent' }));
  try {
    return await fn(ctx, config);
  } finally {
    await ctx.close();
  }
}

/** The ways a stored video is damaged on disk. */
export const damage = {
  /** 64 bytes overwritten in the middle, as a failing disk or a careless hand would */
  async middle(path: string): Promise<void> {
    const fh = await open(path, 'r+');
    try {
      const { size } = await fh.stat();
      await fh.write(randomBytes(64), 0, 64, Math.floor(size / 2));
    } finally {
      await fh.close();
    }
  },
  async truncated(path: string): Promise<void> {
    await truncate(path, 1000);
  },
  async zeroLength(path: string): Promise<void> {
    await writeFile(path, '');
  },
  async missing(path: string): Promise<void> {
    await rm(path);
  },
};
