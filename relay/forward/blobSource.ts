// The bytes of a queued video for sending upstream (multipart or tus), checked against its SM3
// address as they stream (src/store/verifiedRead.ts): a file altered, cut short, emptied or removed
// on disk fails the send with ESEAL_ERR_STORE_CORRUPT before the upstream has all of it, and the
// forwarder sets its item aside.
//
// ESEAL_BENCH_FORWARD_UNVERIFIED=1 reads without the check: the baseline of the forward benchmark
// (test/bench/forward.ts), which measures what the check costs. Not a setting; never documented.
import type { Readable } from 'node:stream';
import { EsealError } from '../../src/errors.ts';
import type { BlobStore } from '../../src/store/BlobStoreTypes.ts';
import { Corrupt } from '../../src/store/errors.ts';
import { checkedBlob, verifiedBlobStream, type CheckedBlob } from '../../src/store/verifiedRead.ts';
import type { EvidenceFile } from '../ingest/RelayItem.ts';

const UNVERIFIED = process.env['ESEAL_BENCH_FORWARD_UNVERIFIED'] === '1';

/** The video's bytes from `from` (a resumed upload) to its end; the bytes before `from` are checked too. */
export function forwardedBlob(blobs: BlobStore, file: Pick<EvidenceFile, 'blob' | 'size'>, from = 0): Readable {
  if (UNVERIFIED) return blobs.read(file.blob, { start: from });
  return verifiedBlobStream(blobs, file.blob, { from, size: file.size });
}

/**
 * The video read for a tus upload: the chunks before the last plainly (yet a missing or short file
 * fails them as corrupt, not as a network error retried for ever), the completing one verified.
 */
export function forwardedChunks(blobs: BlobStore, file: Pick<EvidenceFile, 'blob' | 'size'>): Pick<CheckedBlob, 'open' | 'openLast'> {
  if (UNVERIFIED) return { open: (start) => blobs.read(file.blob, { start }), openLast: (start) => blobs.read(file.blob, { start }) };
  return checkedBlob(blobs, file.blob, file.size);
}

/** The ESEAL_ERR_STORE_CORRUPT error behind `err` (itself, or a cause of it), if there is one. */
export function corruptionOf(err: unknown): EsealError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as Error).cause, depth++) {
    if (Corrupt.is(e)) return e as EsealError;
  }
  return undefined;
}
