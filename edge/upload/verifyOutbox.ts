// The scrub of the edge's outbox (`eseal edge verify`): every entry and every clip, at rest.
// Reports, in the shape of the relay's `eseal verify`:
//   missingBlob      a clip an entry names is not there (one per clip)
//   itemWithoutBlob  an entry whose clip is not there (one per entry)
//   orphanBlob       a clip no entry names (the outbox removes these when it opens: run the scrub
//                    before the edge starts to see them)
//   mismatch         a clip whose bytes do not hash to its SM3 address (altered, truncated, emptied)
// With `repair`, mismatched and orphan clips are moved (never deleted) to
// quarantine/<yyyy-mm-dd>/<sm3> in the outbox's directory, and every entry whose clip is corrupt
// or gone becomes a dead letter marked ESEAL_ERR_STORE_CORRUPT (as the uploader does when it finds
// one while sending). Repair only while the edge is stopped: the running outbox keeps state in
// memory. Reading is safe while it runs, but a clip sent or staged meanwhile may be reported.
// Entries already set aside as corrupt (by the uploader or an earlier repair) whose clip is gone
// are counted as setAside, not as damage: after a repair the next scrub finds the outbox whole.
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createSm3 } from '../../src/crypto/sm3.ts';
import { Corrupt, errnoOf, wrapStoreError } from '../../src/store/errors.ts';
import { fsyncDir } from '../../src/store/fsync.ts';
import { FsBlobStore } from '../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import type { QueueItem } from '../../src/store/QueueStoreTypes.ts';
import { OUTBOX_LAYOUT, isCorrupt, setAsideCorrupt, type OutboxPayload } from './Outbox.ts';

export type OutboxDamageKind = 'missingBlob' | 'itemWithoutBlob' | 'orphanBlob' | 'mismatch';

export interface OutboxDamage {
  kind: OutboxDamageKind;
  /** the clip's SM3 address */
  sm3: string;
  /** where the clip is (or should be) */
  path: string;
  /** the outbox entry (the first of several naming the clip); null for an orphan */
  item: string | null;
  /** what is wrong, in words */
  detail: string;
  /** with repair: where the clip was moved */
  quarantined?: string;
}

export interface OutboxVerifyReport {
  dir: string;
  /** ms since epoch, when the scrub started */
  at: number;
  durationMs: number;
  /** entries in the outbox (records and clips, pending and dead) */
  items: number;
  /** clip files in the outbox */
  blobs: number;
  /** bytes of clip files hashed */
  bytes: number;
  summary: {
    missingBlobs: number;
    orphanBlobs: number;
    mismatches: number;
    itemsWithoutBlob: number;
    /** dead letters already set aside as corrupt whose clip is gone (quarantined): not damage */
    setAside: number;
  };
  damage: OutboxDamage[];
  /** with repair: what was done */
  repair?: { quarantined: number; marked: number; quarantineDir: string };
}

export interface VerifyOutboxOptions {
  /** quarantine corrupt and orphan clips, set aside the entries of corrupt or missing clips */
  repair?: boolean;
  /** after each clip hashed */
  onProgress?: (done: number, total: number) => void;
  clock?: () => number;
}

/** The SM3 of a file's bytes and their count. */
async function hashFile(path: string): Promise<{ sm3: string; size: number }> {
  const hash = createSm3();
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw wrapStoreError(err, 'reading a clip to check it', path);
  }
  return { sm3: hash.digest('hex'), size };
}

/** Moves a file into `dir` under its own name (with a suffix when taken), durably; answers the new path. */
async function moveInto(path: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  for (let n = 0; ; n++) {
    const target = join(dir, n === 0 ? basename(path) : `${basename(path)}.${n}`);
    const taken = await stat(target).then(
      () => true,
      (err: unknown) => (errnoOf(err) === 'ENOENT' ? false : Promise.reject(err)),
    );
    if (taken) continue;
    await rename(path, target);
    await fsyncDir(dir);
    await fsyncDir(dirname(path));
    return target;
  }
}

export async function verifyOutbox(dir: string, options: VerifyOutboxOptions = {}): Promise<OutboxVerifyReport> {
  const clock = options.clock ?? Date.now;
  const at = clock();
  const queue = LmdbQueueStore.open<OutboxPayload>(join(dir, OUTBOX_LAYOUT.queue), { name: OUTBOX_LAYOUT.queueName, clock });
  let blobs: FsBlobStore | undefined;
  try {
    blobs = await FsBlobStore.open(join(dir, OUTBOX_LAYOUT.blobs));
    const items = queue.range();
    /** clip -> the entries naming it, oldest first */
    const named = new Map<string, QueueItem<OutboxPayload>[]>();
    for (const item of items) {
      const blob = item.payload.blob;
      if (blob !== undefined) named.set(blob, [...(named.get(blob) ?? []), item]);
    }
    const listed: string[] = [];
    for await (const id of blobs.list()) listed.push(id);
    const present = new Set(listed);

    const damage: OutboxDamage[] = [];
    /** clips found corrupt or gone -> the path the mark names */
    const badClips = new Map<string, OutboxDamage>();
    let setAside = 0;
    for (const [sm3, all] of named) {
      if (present.has(sm3)) continue;
      const its = all.filter((item) => !isCorrupt(item));
      setAside += all.length - its.length;
      if (its.length === 0) continue;
      const path = blobs.pathOf(sm3);
      const d: OutboxDamage = { kind: 'missingBlob', sm3, path, item: String(its[0]!.seq), detail: `named by ${its.length} entr${its.length === 1 ? 'y' : 'ies'}, not on disk` };
      damage.push(d);
      badClips.set(sm3, d);
      for (const item of its) {
        damage.push({ kind: 'itemWithoutBlob', sm3, path, item: String(item.seq), detail: `entry ${item.seq} (${item.payload.fileName ?? ''}, ${item.state}) names a clip that is gone` });
      }
    }
    let bytes = 0;
    let done = 0;
    for (const sm3 of listed) {
      const path = blobs.pathOf(sm3);
      const its = named.get(sm3);
      const got = await hashFile(path).catch((err: unknown) => {
        // removed since it was listed (the running edge delivered it)
        if (errnoOf((err as { cause?: unknown }).cause) === 'ENOENT') return undefined;
        throw err;
      });
      if (got) {
        bytes += got.size;
        const staged = its?.[0]?.bytes;
        if (got.sm3 !== sm3) {
          const d: OutboxDamage = {
            kind: 'mismatch',
            sm3,
            path,
            item: its ? String(its[0]!.seq) : null,
            detail: `its ${got.size} bytes${staged !== undefined ? ` (${staged} staged)` : ''} hash to ${got.sm3}`,
          };
          damage.push(d);
          badClips.set(sm3, d);
        }
        if (!its) damage.push({ kind: 'orphanBlob', sm3, path, item: null, detail: `${got.size} bytes, named by no entry` });
      }
      options.onProgress?.(++done, listed.length);
    }

    const report: OutboxVerifyReport = {
      dir,
      at,
      durationMs: 0,
      items: items.length,
      blobs: listed.length,
      bytes,
      summary: {
        missingBlobs: damage.filter((d) => d.kind === 'missingBlob').length,
        orphanBlobs: damage.filter((d) => d.kind === 'orphanBlob').length,
        mismatches: damage.filter((d) => d.kind === 'mismatch').length,
        itemsWithoutBlob: damage.filter((d) => d.kind === 'itemWithoutBlob').length,
        setAside,
      },
      damage,
    };

    if (options.repair) {
      const quarantineDir = join(dir, OUTBOX_LAYOUT.quarantine, new Date(at).toISOString().slice(0, 10));
      let quarantined = 0;
      let marked = 0;
      /** clip -> where it is now */
      const moved = new Map<string, string>();
      for (const d of damage) {
        if ((d.kind !== 'mismatch' && d.kind !== 'orphanBlob') || moved.has(d.sm3)) {
          if (moved.has(d.sm3)) d.quarantined = moved.get(d.sm3)!;
          continue;
        }
        try {
          d.quarantined = await moveInto(d.path, quarantineDir);
        } catch (err) {
          throw wrapStoreError(err, 'moving a clip to quarantine', d.path);
        }
        moved.set(d.sm3, d.quarantined);
        quarantined++;
      }
      for (const [sm3, d] of badClips) {
        const path = moved.get(sm3) ?? d.path;
        for (const item of named.get(sm3) ?? []) {
          const current = queue.get(item.seq);
          if (!current) continue;
          const already = isCorrupt(current);
          const reason =
            d.kind === 'mismatch'
              ? `the clip ${d.path} does not match its SM3 address: ${d.detail}; found by eseal edge verify`
              : `the clip ${d.path} is gone; found by eseal edge verify`;
          await setAsideCorrupt(queue, current, { code: Corrupt.code, reason: current.payload.corrupt?.reason ?? reason, path, at: clock() });
          if (!already) marked++;
        }
      }
      report.repair = { quarantined, marked, quarantineDir };
    }
    report.durationMs = clock() - at;
    return report;
  } finally {
    await blobs?.close();
    await queue.close();
  }
}
