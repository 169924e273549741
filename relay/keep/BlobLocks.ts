// One lock per blob id, taken by what makes a blob referenced (an upload committing the blob and
// appending its queue item, relay/ingest/evidence.ts) and by what deletes blobs (Retention), so
// that a blob is never deleted between an upload's commit and its item: the deleter, holding the
// lock, sees every item that refers to the blob, and an upload that comes after writes it anew.
// Blobs are content-addressed: an upload of bytes a delivered item already holds ends in the same
// blob, so the two really do meet.
import type { BlobStore } from '../../src/store/BlobStoreTypes.ts';

export class BlobLocks {
  readonly #lines = new Map<string, { tail: Promise<void>; users: number }>();

  /** Runs `fn` once every earlier holder of `id`'s lock is done, in arrival order. */
  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    let line = this.#lines.get(id);
    if (!line) this.#lines.set(id, (line = { tail: Promise.resolve(), users: 0 }));
    line.users++;
    const before = line.tail;
    let done!: () => void;
    line.tail = new Promise<void>((resolve) => (done = resolve));
    try {
      await before;
      return await fn();
    } finally {
      done();
      if (--line.users === 0) this.#lines.delete(id);
    }
  }

  /** How many hold or wait for `id`'s lock (0: free). */
  users(id: string): number {
    return this.#lines.get(id)?.users ?? 0;
  }
}

const byStore = new WeakMap<BlobStore, BlobLocks>();

/** The locks of a blob store: one set for everything in the process that uses that store. */
export function blobLocks(blobs: BlobStore): BlobLocks {
  let locks = byStore.get(blobs);
  if (!locks) byStore.set(blobs, (locks = new BlobLocks()));
  return locks;
}
