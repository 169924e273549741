// Where an uploaded video goes while it arrives: a temporary file, written in batches of about
// 1 MiB, hashed with SM3 and counted on the way (refused past the size limit). It is removed
// afterwards unless kept (keepFiles).
import { randomUUID } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hash } from 'node:crypto';
import { createSm3 } from '../../src/crypto/sm3.ts';
import type { PartSink } from './multipart.ts';

const BATCH_BYTES = 1024 * 1024;

export class FileSink implements PartSink {
  size = 0;
  #sm3: string | undefined;
  #hash: Hash = createSm3();
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #handle: FileHandle | undefined;
  #kept = false;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {
    this.#handle = handle;
  }

  static async open(dir: string, maxBytes: number, tooLarge: () => Error): Promise<FileSink> {
    const path = join(dir, `.upload-${randomUUID()}.part`);
    const handle = await open(path, 'wx', 0o600);
    return new FileSink(path, handle, maxBytes, tooLarge);
  }

  /** SM3 of the whole file, hex (after end()). */
  get sm3(): string {
    if (this.#sm3 === undefined) throw new Error('FileSink: sm3 read before end()');
    return this.#sm3;
  }

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.size > this.maxBytes) throw this.tooLarge();
    this.#hash.update(chunk);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= BATCH_BYTES) await this.#flush();
  }

  async end(): Promise<void> {
    await this.#flush();
    await this.#handle?.close();
    this.#handle = undefined;
    this.#sm3 = this.#hash.digest('hex');
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0 || !this.#handle) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#handle.writev(batch);
  }

  /** Moves the finished file to `path` (same file system: the staging directory is beside it). */
  async keepAs(path: string): Promise<void> {
    await rename(this.path, path);
    this.#kept = true;
  }

  /** Closes and removes the temporary file unless it was kept. */
  async dispose(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
    if (!this.#kept) await rm(this.path, { force: true });
  }
}
