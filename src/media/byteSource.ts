// Positional reads over a file or a buffer, so that a parser can look at a 10 MiB upload without
// holding it in memory, and tests can run the same parser over bytes they built.

import { open } from 'node:fs/promises';

export interface ByteSource {
  /** total length in bytes */
  readonly size: number;
  /**
   * Up to `length` bytes from `offset`; fewer only where the source ends (or shrank since `size`
   * was taken).
   */
  read(offset: number, length: number): Promise<Buffer>;
}

export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

export function bufferSource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/** Opens `path` for positional reads; the size is taken once, at open. */
export async function openFileSource(path: string): Promise<FileByteSource> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      size,
      async read(offset, length) {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled === buffer.length ? buffer : buffer.subarray(0, filled);
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
