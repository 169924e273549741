// A clip read for sending, checked against its SM3 address while it streams: the edge must never
// send a clip that is not what it recorded (a failing disk, a careless hand). Every byte of the
// clip is hashed once, in order, whatever the reads ask for: a resumed tus upload that starts at an
// offset has the bytes before it hashed from disk first (not sent). The piece that ends the clip is
// held back until the digest compares, so on a mismatch the upstream never receives a complete
// request: the read fails with ESEAL_ERR_STORE_CORRUPT instead, and `failure` says why.
// A file shorter than recorded, or gone, fails the same way. One read at a time (a tus upload
// reads a chunk for its checksum, then again as the body).
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createSm3 } from '../../src/crypto/sm3.ts';
import type { EsealError } from '../../src/errors.ts';
import { Corrupt, errnoOf, wrapStoreError } from '../../src/store/errors.ts';

/** bytes per read */
const PIECE = 64 * 1024;

export interface ClipRef {
  /** the clip's file */
  path: string;
  /** its SM3 address, lower-case hex */
  sm3: string;
  /** the size recorded when it was staged */
  size: number;
}

export interface VerifiedClip {
  /** The clip's bytes from `start` to its end; fails with ESEAL_ERR_STORE_CORRUPT before its last piece if the clip is not what was staged. */
  open(start: number): Readable;
  /** set once a read found the clip corrupt */
  readonly failure: EsealError | undefined;
}

export function verifiedClip(clip: ClipRef): VerifiedClip {
  const hash = createSm3();
  /** bytes [0, hashed) are in the hash */
  let hashed = 0;
  let verified = false;
  let failure: EsealError | undefined;
  const corrupt = (why: string, cause?: unknown): EsealError =>
    (failure ??= Corrupt(`the clip ${clip.path} ${why}; it was not sent and is kept as it is`, {
      ...(cause !== undefined ? { cause } : {}),
      detail: { path: clip.path, sm3: clip.sm3, size: clip.size },
    }));

  async function* read(start: number): AsyncGenerator<Buffer> {
    if (failure) throw failure;
    let handle: FileHandle;
    try {
      handle = await open(clip.path, 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw corrupt('is gone', err);
      throw wrapStoreError(err, 'reading a clip to send', clip.path);
    }
    try {
      // from where the hash stands when the read starts past it (bytes hashed, not sent)
      let at = Math.min(start, hashed);
      while (at < clip.size) {
        const piece = Buffer.allocUnsafe(Math.min(PIECE, clip.size - at));
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(piece, 0, piece.length, at));
        } catch (err) {
          throw wrapStoreError(err, 'reading a clip to send', clip.path);
        }
        if (bytesRead === 0) throw corrupt(`is ${at} bytes long, ${clip.size} were staged`);
        const end = at + bytesRead;
        if (end > hashed) {
          hash.update(piece.subarray(hashed - at, bytesRead));
          hashed = end;
        }
        if (end === clip.size && !verified) {
          const got = hash.digest('hex');
          if (got !== clip.sm3) throw corrupt(`does not match its SM3 address (its bytes hash to ${got})`);
          verified = true;
        }
        if (end > start) yield piece.subarray(Math.max(0, start - at), bytesRead);
        at = end;
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  return {
    open: (start) => Readable.from(read(start), { objectMode: false, highWaterMark: PIECE }),
    get failure() {
      return failure;
    },
  };
}
