// Where resumable uploads live between their chunks:
//
//   <dataDir>/tus/<id>          the bytes received so far (no more than the committed offset counts)
//   LMDB table `tus-uploads`    one record per upload: owner, kind, file name, length, committed
//                               offset, dates and state
//
// The file is written first and fsynced, the record (the offset) committed after, so an offset on
// disk never counts a byte that is not. Bytes past the committed offset (a write that was cut by a
// crash) are cut off by the next append. A file without a live record (a crash between the two
// steps) is removed by removeOrphans().
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Hash } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { wrapStoreError } from '../../src/store/errors.ts';
import { fsyncDir, removeDurable } from '../../src/store/fsync.ts';
import { UPLOAD_ID } from '../../src/contract/tus.ts';

/**
 * receiving: bytes are coming (or all came and the shared evidence steps have not finished);
 * done: the evidence item is committed, the bytes are gone, the record answers HEAD until keepUntil;
 * expired: the upload expired incomplete, its bytes are gone; it answers 410 until keepUntil.
 */
export type TusUploadState = 'receiving' | 'done' | 'expired';

export interface TusUpload {
  v: 1;
  id: string;
  /** the account that created it: no other may see it */
  account: string;
  /** evidence endpoint id (src/contract/endpoints.ts) */
  endpoint: string;
  /** the guide's file name */
  fileName: string;
  contentType: string;
  length: number;
  /** bytes received, fsynced and committed */
  offset: number;
  createdAt: number;
  /** an upload still receiving at this time expires */
  expiresAt: number;
  /** request id and source address of the creation, for the item when no request completes it */
  requestId: string;
  from: string;
  state: TusUploadState;
  /** done and expired records are dropped after this time */
  keepUntil?: number;
}

export interface AppendOptions {
  /** bytes the upload may still take; more is an overflow */
  maxBytes: number;
  /** fed every byte appended, for Upload-Checksum */
  hash?: Hash;
}

export interface AppendResult {
  /** bytes written at the upload's offset and fsynced (not yet committed) */
  written: number;
  /** the source ended normally (else it broke off: `error`) */
  ended: boolean;
  /** the source carried more than maxBytes; reading stopped there */
  overflow: boolean;
  error?: unknown;
}

export class TusStore {
  readonly dir: string;
  readonly #db: Database<TusUpload, string>;

  static async open(root: RootDatabase, dir: string): Promise<TusStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await fsyncDir(dirname(dir));
    } catch (err) {
      throw wrapStoreError(err, 'opening the resumable-upload directory', dir);
    }
    return new TusStore(root, dir);
  }

  private constructor(root: RootDatabase, dir: string) {
    this.dir = dir;
    this.#db = root.openDB<TusUpload, string>({ name: 'tus-uploads' });
  }

  get(id: string): TusUpload | undefined {
    return UPLOAD_ID.test(id) ? this.#db.get(id) : undefined;
  }

  all(): TusUpload[] {
    return [...this.#db.getRange({}).map(({ value }) => value)];
  }

  path(id: string): string {
    return join(this.dir, id);
  }

  /** An empty data file (durable), then the record (durable). */
  async create(upload: TusUpload): Promise<void> {
    const path = this.path(upload.id);
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsyncDir(this.dir);
    } catch (err) {
      throw wrapStoreError(err, 'creating a resumable upload', path);
    }
    await this.#db.put(upload.id, upload);
  }

  /** Commits a record change (the new offset, a state) durably. */
  async save(upload: TusUpload): Promise<void> {
    await this.#db.put(upload.id, upload);
  }

  /**
   * Writes `pieces` at the upload's committed offset until they end, throw (a broken connection)
   * or overflow, and fsyncs what was written. It throws only for a failure of the disk; a source
   * that fails is reported in the result, with every piece it gave written.
   */
  async append(upload: TusUpload, pieces: AsyncIterable<Buffer>, options: AppendOptions): Promise<AppendResult> {
    const path = this.path(upload.id);
    let handle;
    try {
      handle = await open(path, 'r+');
    } catch (err) {
      throw wrapStoreError(err, 'opening a resumable upload', path);
    }
    const result: AppendResult = { written: 0, ended: false, overflow: false };
    try {
      await handle.truncate(upload.offset);
      let writeFailed: { err: unknown } | undefined;
      try {
        for await (const piece of pieces) {
          if (result.written + piece.length > options.maxBytes) {
            result.overflow = true;
            break;
          }
          options.hash?.update(piece);
          try {
            await writeAll(handle, piece, upload.offset + result.written);
          } catch (err) {
            writeFailed = { err };
            break;
          }
          result.written += piece.length;
        }
        result.ended = !result.overflow && !writeFailed;
      } catch (err) {
        result.error = err;
      }
      if (writeFailed) throw writeFailed.err;
      await handle.sync();
    } catch (err) {
      throw wrapStoreError(err, 'writing a resumable upload', path);
    } finally {
      await handle.close();
    }
    return result;
  }

  /** Cuts the file back to the committed offset (a chunk refused after it was written). */
  async truncate(upload: TusUpload): Promise<void> {
    const path = this.path(upload.id);
    try {
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(upload.offset);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw wrapStoreError(err, 'truncating a resumable upload', path);
    }
  }

  /** The upload's bytes, exactly its length. */
  read(upload: TusUpload): Readable {
    return createReadStream(this.path(upload.id), { start: 0, end: upload.length - 1 });
  }

  /** Keeps a small record in `state` until keepUntil; the bytes go. */
  async retire(upload: TusUpload, state: 'done' | 'expired', keepUntil: number): Promise<TusUpload> {
    const retired: TusUpload = { ...upload, state, keepUntil };
    await this.#db.put(upload.id, retired);
    await removeDurable(this.path(upload.id));
    return retired;
  }

  /** Record first, then bytes: a crash between leaves an orphan file, never a record without bytes. */
  async remove(upload: TusUpload): Promise<void> {
    await this.#db.remove(upload.id);
    await removeDurable(this.path(upload.id));
  }

  /** Removes data files that no receiving record owns (except `keep`, being created now). */
  async removeOrphans(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (keep.has(name)) continue;
      const owner = this.get(name);
      if (owner?.state === 'receiving') continue;
      if (await removeDurable(join(this.dir, name)).catch(() => false)) removed++;
    }
    return removed;
  }
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
