// An evidence video for the console's <video>: the whole file (200) or one byte range (206, RFC 9110
// 14), read through the blob store's verified read (src/store/verifiedRead.ts) so that a file altered
// on disk is never shown as the evidence. A range that ends before the file does is held until the
// rest of the file has been hashed (a video is at most 10 MiB); one that runs to the end streams.
import type { FastifyReply } from 'fastify';
import { failure } from '../../src/contract/index.ts';
import type { BlobStore } from '../../src/store/BlobStoreTypes.ts';
import { verifiedBlobStream } from '../../src/store/verifiedRead.ts';

export type ByteRange = { start: number; end: number };

/**
 * The one range of a Range header for a file of `size` bytes: undefined when there is none or it
 * cannot be read (the whole file is sent, as RFC 9110 allows; so are several ranges), 'unsatisfiable'
 * when it lies outside the file.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined || header.length > 200) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // not valid: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

async function heldRange(blobs: BlobStore, blob: string, size: number, range: ByteRange): Promise<Buffer> {
  const parts: Buffer[] = [];
  let at = range.start;
  for await (const piece of verifiedBlobStream(blobs, blob, { from: range.start, size })) {
    const buf = piece as Buffer;
    if (at <= range.end) parts.push(buf.subarray(0, Math.min(buf.length, range.end + 1 - at)));
    at += buf.length;
  }
  return Buffer.concat(parts);
}

export async function sendVideo(reply: FastifyReply, blobs: BlobStore, blob: string, size: number, rangeHeader: string | undefined): Promise<unknown> {
  reply.header('accept-ranges', 'bytes');
  reply.header('cache-control', 'private, max-age=3600');
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    reply.code(416).header('content-range', `bytes */${size}`);
    return failure(`Range: outside the video of ${size} bytes (send bytes=start-end with start < ${size})`);
  }
  reply.type('video/mp4');
  if (range === undefined) {
    reply.header('content-length', size);
    return reply.send(verifiedBlobStream(blobs, blob, { size }));
  }
  reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  reply.header('content-length', range.end - range.start + 1);
  if (range.end === size - 1) return reply.send(verifiedBlobStream(blobs, blob, { from: range.start, size }));
  return reply.send(await heldRange(blobs, blob, size, range));
}
