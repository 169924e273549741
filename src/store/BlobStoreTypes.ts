// Content-addressed storage for video blobs.
//
// Writing is in two steps so that an upload can be checked before it is kept:
//   stage(stream)  streams to a temporary file in the store's own file system while computing the
//                  SM3 hash and counting bytes; nothing is visible yet;
//   commit()       fsyncs the file, renames it to its content address, fsyncs the directory.
// discard() removes the temporary file. A staged blob that is neither committed nor discarded (the
// process died) is removed by the next open().
//
// Writes always take streams, never whole buffers.

import type { Readable } from 'node:stream';

export interface BlobRef {
  /** SM3 of the content, lower-case hex (64 chars): the blob's address */
  id: string;
  size: number;
}

export interface StageOptions {
  /** the stream is refused (ESEAL_ERR_STORE_TOO_LARGE) as soon as it exceeds this many bytes */
  maxBytes: number;
}

export interface StageFileOptions extends StageOptions {
  /**
   * Take the file instead of copying it: renamed into the store when on the same file system
   * (gone from `path` once stageFile resolves; put back if staging fails), else copied and
   * removed once the blob is committed. Without it the file is copied and left in place.
   */
  move?: boolean;
}

export interface StagedBlob extends BlobRef {
  /** path of the temporary file, readable until commit() or discard() */
  readonly tempPath: string;
  commit(): Promise<BlobRef>;
  discard(): Promise<void>;
}

export interface BlobStore {
  /**
   * Streams `source` to a temporary file. Rejects, leaving nothing behind, when the source errors,
   * is aborted, or exceeds maxBytes.
   */
  stage(source: Readable, options: StageOptions): Promise<StagedBlob>;
  /**
   * Capability (optional; the contract test checks it when present): stages a file already on
   * disk, as stage() would its stream, moving it in rather than copying where it can. A file over
   * maxBytes is refused (ESEAL_ERR_STORE_TOO_LARGE) and left as it was; one that cannot be read
   * with ESEAL_ERR_STORE_SOURCE.
   */
  stageFile?(path: string, options: StageFileOptions): Promise<StagedBlob>;
  /**
   * Capability (optional): the file that holds a committed blob (it may be absent), for readers
   * that need a path and for messages that must name the file (a corrupt blob).
   */
  pathOf?(id: string): string;
  has(id: string): Promise<boolean>;
  /** size in bytes, or undefined when absent */
  size(id: string): Promise<number | undefined>;
  read(id: string, range?: { start: number; end?: number }): Readable;
  delete(id: string): Promise<void>;
  /** every committed blob id (for audits and purges) */
  list(): AsyncIterable<string>;
  close(): Promise<void>;
}
