// Reading a blob to send it elsewhere, checked against its SM3 address while it streams. A blob's
// address is the SM3 of its bytes, so a file altered on disk (a failing disk, a careless hand), cut
// short, emptied or removed is known for what it is before the reader has all of it: the last piece
// is held back until the whole file has been hashed, and the stream fails with
// ESEAL_ERR_STORE_CORRUPT instead of giving it. A reader that sends what it gets (a multipart body,
// a tus PATCH) therefore never completes a request with wrong bytes.
//
// `from` starts the stream at an offset (a resumed upload): the bytes before it are read and hashed
// too, never given. Hashing runs on the reading thread, a 64 KiB piece at a time (OpenSSL's SM3).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EsealError } from '../errors.ts';
import type { BlobStore } from './BlobStoreTypes.ts';
import { Corrupt, InvalidInput, NotFound } from './errors.ts';

export interface VerifiedReadOptions {
  /** first byte given (default 0); the bytes before it are hashed, not given */
  from?: number;
  /** the size the blob must have (as recorded with its item): checked as it streams */
  size?: number;
}

/** What was wrong with a blob, in detail.reason of the ESEAL_ERR_STORE_CORRUPT error. */
export type CorruptReason = 'missing' | 'empty' | 'short' | 'long' | 'mismatch';

/**
 * The bytes of blob `id` from `options.from` to its end, checked against `id` (its SM3) and
 * `options.size` as they stream. Fails with ESEAL_ERR_STORE_CORRUPT (detail: path, blob, reason)
 * rather than give its last piece when the blob is not what its address says, or is missing.
 */
export function verifiedBlobStream(store: BlobStore, id: string, options: VerifiedReadOptions = {}): Readable {
  const from = options.from ?? 0;
  const size = options.size;
  if (!Number.isSafeInteger(from) || from < 0) throw InvalidInput(`verifiedBlobStream: from must be a whole number >= 0, got ${from}`, { field: 'from' });
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw InvalidInput(`verifiedBlobStream: size must be a whole number >= 0, got ${size}`, { field: 'size' });
  }
  return Readable.from(verified(store, id, from, size), { objectMode: false });
}

/** The ESEAL_ERR_STORE_CORRUPT error for blob `id` of `store`: what is wrong, the file's path. */
function corruptionFor(store: BlobStore, id: string) {
  const path = store.pathOf?.(id) ?? id;
  return (reason: CorruptReason, what: string, extra: Record<string, unknown> = {}, cause?: unknown): EsealError =>
    Corrupt(`the stored file ${path} of blob ${id} ${what}; it was not sent`, {
      detail: { path, blob: id, reason, ...extra },
      ...(cause === undefined ? {} : { cause }),
    });
}

async function* verified(store: BlobStore, id: string, from: number, size: number | undefined): AsyncGenerator<Buffer> {
  const corrupt = corruptionFor(store, id);
  const hash = createHash('sm3');
  let seen = 0;
  let held: Buffer | undefined;
  const source = store.read(id);
  try {
    for await (const piece of source) {
      const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
      hash.update(buf);
      const start = seen;
      seen += buf.length;
      if (size !== undefined && seen > size) throw corrupt('long', `is longer than the ${size} bytes stored for it`, { bytes: seen });
      if (seen <= from) continue;
      if (held) yield held;
      held = start >= from ? buf : buf.subarray(from - start);
    }
  } catch (err) {
    if (NotFound.is(err)) throw corrupt('missing', 'is missing', {}, err);
    throw err;
  } finally {
    source.destroy();
  }
  if (size !== undefined && seen < size) {
    throw corrupt(seen === 0 ? 'empty' : 'short', `holds ${seen} bytes, not the ${size} stored for it (cut short)`, { bytes: seen });
  }
  if (seen < from) throw corrupt('short', `holds ${seen} bytes, fewer than the ${from} already sent`, { bytes: seen });
  const actual = hash.digest('hex');
  if (actual !== id) {
    throw corrupt(seen === 0 ? 'empty' : 'mismatch', `does not match its SM3 address (its bytes hash to ${actual})`, { bytes: seen, sm3: actual });
  }
  if (held) yield held;
}

/**
 * A blob read for one send that reads it several times (a tus upload: each chunk, its checksum pass,
 * a resumed attempt). The read that completes the send (`openLast`, or a whole multipart body) is
 * the verified one; the chunks before it (`open`) are plain reads that still fail as corrupt on a
 * missing or short file, so a damaged blob never loops as a network error. `failure` keeps the first
 * corruption any read met, for a sender whose error reaches it wrapped (an HTTP client's body error).
 */
export interface CheckedBlob {
  /** the bytes from `start` to the end, unverified (the chunks before the last) */
  open(start: number): Readable;
  /** the bytes from `start` to the end, the whole blob checked as they stream (verifiedBlobStream) */
  openLast(start: number): Readable;
  readonly failure: EsealError | undefined;
}

export function checkedBlob(store: BlobStore, id: string, size: number): CheckedBlob {
  let failure: EsealError | undefined;
  const keep = (stream: Readable): Readable =>
    stream.once('error', (err) => {
      if (Corrupt.is(err)) failure ??= err as EsealError;
    });
  const corrupt = corruptionFor(store, id);
  async function* plain(start: number): AsyncGenerator<Buffer> {
    let at = start;
    const source = store.read(id, { start });
    try {
      for await (const piece of source) {
        const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
        at += buf.length;
        yield buf;
      }
    } catch (err) {
      if (NotFound.is(err)) throw corrupt('missing', 'is missing', {}, err);
      throw err;
    } finally {
      source.destroy();
    }
    if (at < size) throw corrupt(at === 0 ? 'empty' : 'short', `holds ${at} bytes, not the ${size} stored for it (cut short)`, { bytes: at });
  }
  return {
    open: (start) => keep(Readable.from(plain(start), { objectMode: false })),
    openLast: (start) => keep(verifiedBlobStream(store, id, { from: start, size })),
    get failure() {
      return failure;
    },
  };
}
