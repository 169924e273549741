// Content-addressed blob files. Layout under the store's directory:
//
//   tmp/<pid>.<random>.part       a blob being staged (removed by open() once its process is gone)
//   <id[0..2]>/<id[2..4]>/<id>     a committed blob; id = SM3 of its bytes, lower-case hex
//
// A blob is streamed to a temporary file while its SM3 is computed (never held in memory), then
// commit() fsyncs it, renames it to its address and fsyncs the directory, so a committed blob
// survives power loss. Identical content is kept once.
//
// stageFile() takes a file already on disk (an evidence clip the edge just wrote): moved into tmp/
// by a rename when it is on the same file system, so its bytes are read once for the hash and
// never copied; otherwise copied like a stream.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { HashWorkerFailed, Sm3Job } from '../../crypto/sm3Offload.ts';
import type { BlobRef, BlobStore, StageFileOptions, StageOptions, StagedBlob } from '../BlobStoreTypes.ts';
import { Closed, InvalidInput, NotFound, SourceFailed, TooLarge, WrongState, errnoOf, wrapStoreError } from '../errors.ts';
import { fsyncDir, removeDurable } from '../fsync.ts';

const BLOB_ID = /^[0-9a-f]{64}$/;
const FAN_OUT = /^[0-9a-f]{2}$/;
const TEMP_NAME = /^(\d+)\.[0-9a-f]+\.part$/;
/** a temp file of another live process is left alone unless it is older than this */
const ORPHAN_AGE_MS = 24 * 60 * 60 * 1000;
const READ_CHUNK = 64 * 1024;
/** bytes gathered per write (and per block hashed on the SM3 worker) */
const WRITE_BLOCK = 1024 * 1024;

/** temp files of stores of this process that are being written or wait for commit() */
const liveTemps = new Set<string>();

export class FsBlobStore implements BlobStore {
  readonly dir: string;
  readonly #tmp: string;
  /** directories created (or found) whose own entry in their parent has been fsynced */
  readonly #durableDirs = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** temp files of blobs staged by this store and neither committed nor discarded yet */
  readonly #staged = new Set<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Creates the directories if needed and removes temp files left by a process that died. */
  static async open(dir: string): Promise<FsBlobStore> {
    if (typeof dir !== 'string' || dir === '') throw InvalidInput('FsBlobStore.open: the directory path is empty');
    const tmp = join(dir, 'tmp');
    try {
      await mkdir(tmp, { recursive: true, mode: 0o750 });
      await fsyncDir(dir);
      await fsyncDir(dirname(dir));
    } catch (err) {
      throw wrapStoreError(err, 'opening the blob store', dir);
    }
    await removeOrphanTemps(tmp);
    return new FsBlobStore(dir);
  }

  private constructor(dir: string) {
    this.dir = dir;
    this.#tmp = join(dir, 'tmp');
  }

  async stage(source: Readable, options: StageOptions): Promise<StagedBlob> {
    this.#assertOpen();
    const maxBytes = options?.maxBytes;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw InvalidInput(`stage: maxBytes must be a whole number >= 0, got ${maxBytes}`, { field: 'maxBytes' });
    }
    if (!source || typeof (source as Readable).pipe !== 'function') throw InvalidInput('stage: source must be a readable stream');
    return this.#track(this.#stage(source, maxBytes));
  }

  async stageFile(path: string, options: StageFileOptions): Promise<StagedBlob> {
    this.#assertOpen();
    const maxBytes = options?.maxBytes;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw InvalidInput(`stageFile: maxBytes must be a whole number >= 0, got ${maxBytes}`, { field: 'maxBytes' });
    }
    if (typeof path !== 'string' || path === '') throw InvalidInput('stageFile: the path of the file is empty', { field: 'path' });
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw SourceFailed(`stageFile: cannot read ${path}: ${(err as Error).message}; nothing was kept`, { cause: err, field: 'path' });
    }
    if (size > maxBytes) {
      throw TooLarge(`the file ${path} (${size} bytes) is larger than ${maxBytes} bytes, the limit for it; it was left as it was`, {
        detail: { maxBytes },
      });
    }
    if (options.move) {
      const tempPath = this.#tempPath();
      liveTemps.add(tempPath);
      try {
        await rename(path, tempPath);
        return await this.#track(this.#adopt(path, tempPath, maxBytes));
      } catch (err) {
        liveTemps.delete(tempPath);
        if (errnoOf(err) !== 'EXDEV') {
          if (errnoOf(err) !== undefined && (err as NodeJS.ErrnoException).syscall === 'rename') {
            throw SourceFailed(`stageFile: cannot move ${path} into the blob store: ${(err as Error).message}; it was left as it was`, { cause: err, field: 'path' });
          }
          throw err;
        }
      }
    }
    const staged = await this.stage(createReadStream(path), { maxBytes });
    if (!options.move) return staged;
    // copied from another file system: the source goes once the copy is committed
    return {
      id: staged.id,
      size: staged.size,
      tempPath: staged.tempPath,
      commit: async () => {
        const ref = await staged.commit();
        await removeDurable(path).catch(() => false);
        return ref;
      },
      discard: () => staged.discard(),
    };
  }

  /**
   * The file of a committed blob (it may be absent), for readers that need a path rather than a
   * stream (a resumable upload reading from an offset, ffmpeg).
   */
  pathOf(id: string): string {
    return this.#path(id, 'pathOf');
  }

  async has(id: string): Promise<boolean> {
    return (await this.size(id)) !== undefined;
  }

  async size(id: string): Promise<number | undefined> {
    const path = this.#path(id, 'size');
    try {
      const st = await stat(path);
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw wrapStoreError(err, 'reading the size of a blob', path);
    }
  }

  /**
   * The blob's bytes, or those from `start` to `end` inclusive (as in HTTP ranges and
   * fs.createReadStream); a range past the end is cut at the end. An absent blob gives a stream
   * that fails with ESEAL_ERR_STORE_NOT_FOUND.
   */
  read(id: string, range?: { start: number; end?: number }): Readable {
    this.#assertOpen();
    const path = this.#path(id, 'read');
    const start = range?.start ?? 0;
    const end = range?.end;
    if (!Number.isSafeInteger(start) || start < 0) throw InvalidInput(`read: range.start must be a whole number >= 0, got ${start}`);
    if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
      throw InvalidInput(`read: range.end must be a whole number >= range.start (${start}), got ${end}`);
    }
    return new BlobReader(path, id, start, end === undefined ? Infinity : end + 1);
  }

  async delete(id: string): Promise<void> {
    this.#assertOpen();
    const path = this.#path(id, 'delete');
    await removeDurable(path);
  }

  async *list(): AsyncIterable<string> {
    this.#assertOpen();
    for (const a of await subdirs(this.dir)) {
      for (const b of await subdirs(join(this.dir, a))) {
        const leaf = join(this.dir, a, b);
        let names: string[];
        try {
          names = await readdir(leaf);
        } catch (err) {
          if (errnoOf(err) === 'ENOENT') continue;
          throw wrapStoreError(err, 'listing blobs', leaf);
        }
        names.sort();
        for (const name of names) if (BLOB_ID.test(name) && name.startsWith(a + b)) yield name;
      }
    }
  }

  /**
   * Refuses new calls, waits for stage() and commit() calls under way, then removes blobs that
   * were staged but neither committed nor discarded (commit() is refused once closed).
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = (async () => {
        await Promise.allSettled([...this.#inFlight]);
        for (const tempPath of this.#staged) {
          await rm(tempPath, { force: true }).catch(() => {});
          liveTemps.delete(tempPath);
        }
        this.#staged.clear();
      })();
    }
    return this.#closing;
  }

  // ---- internals ----

  #tempPath(): string {
    return join(this.#tmp, `${process.pid}.${randomBytes(12).toString('hex')}.part`);
  }

  /** A file renamed from `source` to `tempPath`: hashed in place; put back where it was if that fails. */
  async #adopt(source: string, tempPath: string, maxBytes: number): Promise<StagedBlob> {
    const hash = new Sm3Job();
    let size = 0;
    let handle: FileHandle | undefined;
    let id: string;
    try {
      handle = await open(tempPath, 'r');
      for (;;) {
        const block = Buffer.allocUnsafeSlow(WRITE_BLOCK);
        const { bytesRead } = await handle.read(block, 0, WRITE_BLOCK, size);
        if (bytesRead === 0) break;
        size += bytesRead;
        if (size > maxBytes) throw TooLarge(`the file ${source} grew past ${maxBytes} bytes, the limit for it`, { detail: { maxBytes } });
        await hash.update(bytesRead === WRITE_BLOCK ? block : block.subarray(0, bytesRead), WRITE_BLOCK);
      }
      [, id] = await Promise.all([handle.sync(), hash.digest()]);
      await handle.close();
      handle = undefined;
      // the name is gone from the source's folder for good too
      await fsyncDir(dirname(source)).catch(() => {});
    } catch (err) {
      hash.abort();
      await handle?.close().catch(() => {});
      await rename(tempPath, source).catch(() => rm(tempPath, { force: true }).catch(() => {}));
      liveTemps.delete(tempPath);
      if (TooLarge.is(err) || HashWorkerFailed.is(err)) throw err;
      throw wrapStoreError(err, 'reading a file moved into the blob store', tempPath);
    }
    return this.#stagedBlob(id, size, tempPath);
  }

  async #stage(source: Readable, maxBytes: number): Promise<StagedBlob> {
    const tempPath = this.#tempPath();
    liveTemps.add(tempPath);
    // Bytes are gathered into blocks: one write per block, and each full block goes to the SM3
    // worker (transferred, not copied) so hashing overlaps with receiving and writing.
    const hash = new Sm3Job();
    let size = 0;
    let handle: FileHandle | undefined;
    let block = Buffer.allocUnsafeSlow(WRITE_BLOCK);
    let fill = 0;
    let written = 0;
    let failedIn: 'source' | 'file' = 'source';
    const flush = async () => {
      const view = block.subarray(0, fill);
      failedIn = 'file';
      for (let done = 0; done < view.length; ) done += (await handle!.write(view, done, view.length - done, written + done)).bytesWritten;
      written += view.length;
      failedIn = 'source';
      await hash.update(view, WRITE_BLOCK);
      block = Buffer.allocUnsafeSlow(WRITE_BLOCK);
      fill = 0;
    };
    let id: string;
    try {
      failedIn = 'file';
      handle = await open(tempPath, 'wx', 0o640);
      failedIn = 'source';
      for await (const chunk of source as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          throw TooLarge(`the stream is larger than ${maxBytes} bytes, the limit for it; it was refused and nothing of it was kept`, {
            detail: { maxBytes },
          });
        }
        for (let at = 0; at < chunk.length; ) {
          const n = chunk.copy(block, fill, at);
          fill += n;
          at += n;
          if (fill === WRITE_BLOCK) await flush();
        }
      }
      if (fill > 0) await flush();
      failedIn = 'file';
      // the fsync overlaps with the end of the hashing; commit() syncs again (then a no-op)
      [, id] = await Promise.all([handle.sync(), hash.digest()]);
      await handle.close();
      handle = undefined;
    } catch (err) {
      hash.abort();
      await handle?.close().catch(() => {});
      await rm(tempPath, { force: true }).catch(() => {});
      liveTemps.delete(tempPath);
      if (TooLarge.is(err) || HashWorkerFailed.is(err)) throw err;
      if (failedIn === 'file' && typeof (err as NodeJS.ErrnoException)?.syscall === 'string') {
        throw wrapStoreError(err, 'writing a blob to a temporary file', tempPath);
      }
      const why = errnoOf(err) === 'ERR_STREAM_PREMATURE_CLOSE' ? 'it was closed before its end' : (err as Error)?.message ?? String(err);
      throw SourceFailed(`the stream being stored broke off after ${size} bytes (${why}); nothing of it was kept`, { cause: err });
    }
    // an error the source emits after this must not crash the process
    source.on('error', () => {});
    return this.#stagedBlob(id, size, tempPath);
  }

  /** The handle on a fully written, fsynced temp file whose SM3 is `id`. */
  #stagedBlob(id: string, size: number, tempPath: string): StagedBlob {
    this.#staged.add(tempPath);
    let state: 'staged' | 'committed' | 'discarded' = 'staged';
    let committing: Promise<BlobRef> | undefined;
    const commit = (): Promise<BlobRef> => {
      if (state === 'discarded') return Promise.reject(WrongState(`commit: the staged blob ${id} was discarded`));
      if (!committing) {
        committing = this.#track(this.#commit(id, size, tempPath)).then(
          (ref) => {
            state = 'committed';
            this.#staged.delete(tempPath);
            return ref;
          },
          (err: unknown) => {
            committing = undefined; // the temp file is still there: commit() may be tried again
            throw err;
          },
        );
      }
      return committing;
    };
    const discard = async (): Promise<void> => {
      if (state !== 'staged' || committing) return;
      state = 'discarded';
      this.#staged.delete(tempPath);
      liveTemps.delete(tempPath);
      await rm(tempPath, { force: true }).catch((err: unknown) => {
        throw wrapStoreError(err, 'discarding a staged blob', tempPath);
      });
    };
    return { id, size, tempPath, commit, discard };
  }

  async #commit(id: string, size: number, tempPath: string): Promise<BlobRef> {
    this.#assertOpen();
    const d1 = join(this.dir, id.slice(0, 2));
    const d2 = join(d1, id.slice(2, 4));
    const final = join(d2, id);
    try {
      await this.#ensureDurableDir(d1);
      await this.#ensureDurableDir(d2);
      const handle = await open(tempPath, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const existing = await stat(final).catch((err: unknown) => {
        if (errnoOf(err) === 'ENOENT') return undefined;
        throw err;
      });
      // same address and same length: the same bytes are there already (committed, so fsynced)
      if (existing?.isFile() && existing.size === size) await unlink(tempPath);
      else await rename(tempPath, final);
      await fsyncDir(d2);
    } catch (err) {
      throw wrapStoreError(err, 'committing a blob', final);
    }
    liveTemps.delete(tempPath);
    return { id, size };
  }

  /** mkdir that is durable: the new entry in the parent is fsynced once per directory. */
  #ensureDurableDir(path: string): Promise<void> {
    let ready = this.#durableDirs.get(path);
    if (!ready) {
      ready = (async () => {
        try {
          await mkdir(path, { mode: 0o750 });
        } catch (err) {
          if (errnoOf(err) !== 'EEXIST') throw err;
        }
        await fsyncDir(dirname(path));
      })();
      this.#durableDirs.set(path, ready);
      ready.catch(() => this.#durableDirs.delete(path));
    }
    return ready;
  }

  #path(id: string, op: string): string {
    if (typeof id !== 'string' || !BLOB_ID.test(id)) {
      throw InvalidInput(`${op}: a blob id is 64 lower-case hex characters (SM3), got ${JSON.stringify(String(id).slice(0, 80))}`, {
        field: 'id',
      });
    }
    return join(this.dir, id.slice(0, 2), id.slice(2, 4), id);
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const untrack = () => this.#inFlight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  #assertOpen(): void {
    if (this.#closed) throw Closed(`the blob store at ${this.dir} is closed; the call was not carried out`);
  }
}

/** Reads a file (or a range of it) a chunk at a time, as the consumer asks for it. */
class BlobReader extends Readable {
  readonly #path: string;
  readonly #id: string;
  #position: number;
  /** exclusive */
  #end: number;
  #handle: FileHandle | undefined;

  constructor(path: string, id: string, start: number, end: number) {
    super({ highWaterMark: READ_CHUNK });
    this.#path = path;
    this.#id = id;
    this.#position = start;
    this.#end = end;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.#path, 'r')
      .then(async (handle) => {
        this.#handle = handle;
        const { size } = await handle.stat();
        this.#end = Math.min(this.#end, size);
        callback();
      })
      .catch((err: unknown) => {
        callback(
          errnoOf(err) === 'ENOENT'
            ? NotFound(`no blob ${this.#id} in the blob store (never stored, or deleted)`, { cause: err })
            : wrapStoreError(err, 'reading a blob', this.#path),
        );
      });
  }

  override _read(wanted: number): void {
    const length = Math.min(Math.max(wanted, 1), READ_CHUNK * 4, this.#end - this.#position);
    if (length <= 0 || !this.#handle) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(length);
    this.#handle.read(buffer, 0, length, this.#position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.#position += bytesRead;
        this.push(bytesRead < length ? buffer.subarray(0, bytesRead) : buffer);
      },
      (err: unknown) => this.destroy(wrapStoreError(err, 'reading a blob', this.#path)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle) {
      callback(error);
      return;
    }
    handle.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}

async function subdirs(path: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw wrapStoreError(err, 'listing blobs', path);
  }
  return entries
    .filter((e) => e.isDirectory() && FAN_OUT.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** true while a process with this id exists (EPERM: it exists, it is another user's) */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}

/**
 * Removes what a crash left in tmp/: files of processes that are gone, files of this process id
 * that no store of this process is writing (the id was reused, as in a container), anything
 * that is not a temp file of ours, and anything older than a day.
 */
async function removeOrphanTemps(tmp: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch (err) {
    throw wrapStoreError(err, 'cleaning the blob store temp directory', tmp);
  }
  let removed = false;
  for (const name of names) {
    const path = join(tmp, name);
    const match = TEMP_NAME.exec(name);
    let orphan = true;
    if (match) {
      const pid = Number(match[1]);
      if (pid === process.pid) orphan = !liveTemps.has(path);
      else if (processAlive(pid)) {
        const st = await stat(path).catch(() => undefined);
        orphan = st !== undefined && Date.now() - st.mtimeMs > ORPHAN_AGE_MS;
      }
    }
    if (!orphan) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed = true;
    } catch (err) {
      throw wrapStoreError(err, 'removing a temp file left by a crash', path);
    }
  }
  if (removed) await fsyncDir(tmp);
}
