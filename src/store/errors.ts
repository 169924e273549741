// Error kinds of the storage area (the durable queue in LMDB, the blob files, fsync helpers).
// Messages say what an operator can do about it: free disk space, fix permissions, replay first.

import { EsealError, defineError, type EsealErrorOptions } from '../errors.ts';

/** A blob stream longer than the caller allowed; nothing of it is kept. */
export const TooLarge = defineError('ESEAL_ERR_STORE_TOO_LARGE', 413, 'a stream is larger than the limit given for it');

/** The disk (or the LMDB map) is full: new data is refused, what is stored stays intact. */
export const NoSpace = defineError(
  'ESEAL_ERR_STORE_NO_SPACE',
  507,
  'the data directory is out of disk space; free space or move old evidence elsewhere',
);

/** A bounded append found no room, even after evicting all it may; nothing was changed. */
export const Full = defineError(
  'ESEAL_ERR_STORE_FULL',
  507,
  'the queue is at its bound and holds nothing it may evict; the append was refused and nothing changed',
);

/** No queue item with this seq, no blob with this id. */
export const NotFound = defineError('ESEAL_ERR_STORE_NOT_FOUND', 404, 'no stored item or blob with this id');

/** An item that is still to be delivered cannot be purged. */
export const StillPending = defineError(
  'ESEAL_ERR_STORE_PENDING',
  409,
  'the queue item is not delivered yet (ready or leased) and cannot be purged',
);

/** The operation does not apply to the item's current state (replay of a delivered item, ack of a dead one). */
export const WrongState = defineError(
  'ESEAL_ERR_STORE_STATE',
  409,
  'the queue item or staged blob is not in a state that allows this operation',
);

/** A caller passed something the store cannot take (empty key, bad blob id, negative limit). */
export const InvalidInput = defineError('ESEAL_ERR_STORE_INVALID', 400, 'an argument given to a store breaks its rule');

/** The store was closed; the call was not carried out. */
export const Closed = defineError('ESEAL_ERR_STORE_CLOSED', 503, 'the store is closed (the service is shutting down)');

/** The stream being stored failed or ended early (a broken upload); nothing of it is kept. */
export const SourceFailed = defineError(
  'ESEAL_ERR_STORE_SOURCE',
  400,
  'the stream being stored broke off before its end; nothing of it was kept',
);

/** The storage could not be opened (permissions, a file that is not LMDB, an incompatible version). */
export const OpenFailed = defineError(
  'ESEAL_ERR_STORE_OPEN',
  500,
  'the data directory cannot be opened; check its path, owner and permissions',
);

/**
 * A stored blob's bytes are not those of its address (altered, truncated or emptied on disk) or its
 * file is gone: it is never sent on, its item is set aside (a dead letter) and the file kept.
 */
export const Corrupt = defineError('ESEAL_ERR_STORE_CORRUPT', 500, 'a stored blob does not match its SM3 address');

/**
 * The database is damaged (truncated, overwritten, garbage), missing while the data directory holds
 * evidence, or of a schema this version does not know: nothing is started over it.
 */
export const Damaged = defineError(
  'ESEAL_ERR_STORE_DAMAGED',
  500,
  'the database is damaged, missing or of an unknown schema; restore it from a backup, then run eseal verify',
);

/** Any other failure of the disk or of LMDB, with the original error as cause. */
export const IoFailed = defineError('ESEAL_ERR_STORE_IO', 500, 'a read or write of the data directory failed');

const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** The errno code of a Node file-system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Wraps an error of the file system (or of LMDB) at the store boundary: out of space becomes
 * NoSpace, anything else IoFailed, both naming what was being done and where. Our own errors pass.
 */
export function wrapStoreError(err: unknown, doing: string, path: string, options: EsealErrorOptions = {}): EsealError {
  if (err instanceof EsealError) return err;
  const code = errnoOf(err);
  const text = err instanceof Error ? err.message : String(err);
  if ((code !== undefined && NO_SPACE_CODES.has(code)) || /MDB_MAP_FULL|No space left|ENOSPC|EDQUOT/.test(text)) {
    return NoSpace(
      `${doing}: no space left on the device holding ${path}; free disk space (or move old evidence) — what was stored before is intact`,
      { ...options, cause: err, detail: { path, ...options.detail } },
    );
  }
  const hint =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? '; check the owner and permissions of the data directory (and that its file system is writable)'
      : '';
  return IoFailed(`${doing}: ${code ?? 'error'} on ${path}: ${text}${hint}`, {
    ...options,
    cause: err,
    detail: { path, ...options.detail },
  });
}
