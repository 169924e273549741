// The one LMDB environment of a data directory. The queue and every other table of the relay
// (accounts, tokens, mines, ...) are named sub-databases of it (`root.openDB({ name })`), so a
// single transaction can span them and there is one file to back up.
//
// Options, and why:
//
// - overlappingSync: false. lmdb-js turns it on by default on Linux; then a write's promise
//   resolves when the transaction is committed (visible) but before it is flushed, and a power
//   loss can take back what a mine was told is stored. With it off, LMDB fdatasyncs the data
//   pages and writes the meta page through an O_DSYNC descriptor before the commit returns, so
//   the promise of `put` / `transaction` / `childTransaction` resolves only once the commit is
//   on disk. The alternative (overlappingSync on, then awaiting `db.flushed`) is no faster for
//   many small concurrent writes: lmdb-js gathers every write queued while a commit is under way
//   into the next transaction either way, so the fsyncs per write are the same. Measured with
//   LmdbQueueStore.append (300-byte payloads; 1 writer / 64 concurrent writers, appends per s):
//     this disk (fdatasync ~0.1 ms):   off 2,500-2,800 / 36,000-36,700;  on+flushed 2,400 / 34,500-36,600
//     fdatasync slowed to 2 ms:        off 384 / 16,700;                  on+flushed 374 / 16,300
//     fdatasync slowed to 8 ms:        off 112 / 6,100;                   on+flushed 105 / 5,700
//   so off it is: simpler to reason about (committed == durable) and never slower.
// - noSync / noMetaSync / useWritemap: left off (durability, and no stray-pointer corruption).
// - mapSize: a starting size only. lmdb-js 3 grows the map by itself when a write transaction
//   runs out of pages, and every process picks up a map grown by another one when it starts its
//   next transaction, so a full map is never an error; only a full disk is (ENOSPC -> NoSpace).
// - maxDbs: 64, room for the queue's five tables and the relay's own (the default 12 is tight).
// - Several processes (the relay and an `eseal` CLI command) may open the same directory at once:
//   LMDB serialises writers across processes with the lock file, readers never block, and stale
//   reader slots left by a killed process are cleared on open (lmdb-js runs readerCheck). Within
//   one process lmdb-js shares one native environment among all opens of the same path.
// - A failed commit (disk full) must refuse the writes, not end the process: see
//   guardBatchPromises below (tested in test/src/store/FsBlobStore.test.ts on a 2 MiB tmpfs).

import { mkdirSync } from 'node:fs';
import { open, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';
import { OpenFailed, errnoOf } from '../errors.ts';

export interface OpenLmdbOptions {
  /** starting map size in bytes (default 256 MiB); the map grows on demand */
  mapSize?: number;
  /** most named sub-databases (default 64) */
  maxDbs?: number;
  /** open for reading only (tools that inspect a data directory) */
  readOnly?: boolean;
}

export const DEFAULT_MAP_SIZE = 256 * 1024 * 1024;
export const DEFAULT_MAX_DBS = 64;

/** The lmdb-js options `openLmdb` uses, for tools and tests that need to see them. */
export function lmdbOptions(options: OpenLmdbOptions = {}): RootDatabaseOptionsWithPath {
  return {
    overlappingSync: false,
    noSync: false,
    noMetaSync: false,
    useWritemap: false,
    mapSize: options.mapSize ?? DEFAULT_MAP_SIZE,
    maxDbs: options.maxDbs ?? DEFAULT_MAX_DBS,
    readOnly: options.readOnly ?? false,
  };
}

/** Opens (creating it if needed) the LMDB environment in directory `path`. */
export function openLmdb(path: string, options: OpenLmdbOptions = {}): RootDatabase {
  if (typeof path !== 'string' || path === '') {
    throw OpenFailed('openLmdb: the path of the database directory is empty');
  }
  let root: RootDatabase;
  try {
    if (!options.readOnly) mkdirSync(path, { recursive: true, mode: 0o700 });
    root = open(path, lmdbOptions(options));
  } catch (err) {
    const code = errnoOf(err);
    const text = err instanceof Error ? err.message : String(err);
    const hint =
      code === 'EACCES' || code === 'EPERM' || /ermission/.test(text)
        ? 'the service user cannot write there; fix the owner and permissions of the data directory'
        : code === 'ENOSPC' || /No space/.test(text)
          ? 'the disk is full; free space first'
          : /MDB_INVALID|MDB_VERSION_MISMATCH/.test(text)
            ? 'the files there are not an LMDB database of this version; check the configured data directory'
            : 'check the configured data directory';
    throw OpenFailed(`cannot open the database at ${path}: ${text}; ${hint}`, { cause: err, detail: { path } });
  }
  if (!options.readOnly) guardBatchPromises(root);
  return root;
}

const ignore = () => {};

/**
 * When a commit fails (a full disk), lmdb-js 3.1 rejects two promises that nobody holds: the one
 * it makes per batch of writes (an event turn's), and `commitError`, which carries the real cause
 * and hangs on the "Commit failed" error each write gets. Unhandled, either ends the process
 * although every write was refused properly and the database is intact. The batch promise is
 * made right after the 'beforecommit' callbacks; a microtask queued there finds it as
 * `committed`, and its rejection leads to `commitError`.
 */
function guardBatchPromises(root: RootDatabase): void {
  root.on('beforecommit', () => {
    queueMicrotask(() => {
      root.committed.then(ignore, (err: unknown) => {
        const cause = (err as { commitError?: Promise<unknown> } | undefined)?.commitError;
        if (cause && typeof cause.then === 'function') cause.then(ignore, ignore);
      });
    });
  });
}
