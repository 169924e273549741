// The relay never starts over a database it cannot trust, and never starts empty over one it lost.
// Before LMDB maps <dataDir>/db (which it would crash on, or quietly recreate empty), its files are
// checked (src/store/lmdb/check.ts); once open, its schema mark is read. Every command that opens
// the data directory goes through here, so `eseal status` cannot recreate an empty database that
// `eseal start` would then accept.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import type { RelayConfig } from '../config.ts';
import { Damaged } from '../../src/store/errors.ts';
import { checkLmdbFiles, type LmdbCheck } from '../../src/store/lmdb/check.ts';

/** The schema of the relay's tables this version reads and writes. */
export const RELAY_SCHEMA = 1;
const SCHEMA_TABLE = 'relay-schema';
const SCHEMA_KEY = 'version';
/** pages read at each open (256 MiB of 4 KiB pages); `eseal verify` reads them all */
export const OPEN_CHECK_PAGES = 65_536;
/** tables of the relay: a database holding tables but none of these is someone else's */
const RELAY_TABLES = /^(queue(\..*)?|accounts|login-state|tokens.*|mines|evidence-names|tus-uploads|forward-inflight|relay-upgrades|relay-schema|relay-scrub)$/;

export function advice(dataDir: string): string {
  const db = join(dataDir, 'db');
  return (
    `What to do: stop every eseal process using ${dataDir}; keep a copy of ${db} as it is (for analysis); ` +
    `restore ${db} from the last backup; then run "eseal verify" to compare the queue with the stored videos ` +
    `(videos received since the backup are reported as orphan blobs, none is deleted)`
  );
}

/** How much evidence the data directory holds outside the database (committed videos, tus uploads). */
export async function evidenceOnDisk(dataDir: string, enough = 1): Promise<{ blobs: number; tusFiles: number }> {
  const found = { blobs: 0, tusFiles: 0 };
  const blobs = join(dataDir, 'blobs');
  outer: for (const a of await readdir(blobs).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of await readdir(join(blobs, a)).catch(() => [] as string[])) {
      for (const name of await readdir(join(blobs, a, b)).catch(() => [] as string[])) {
        if (/^[0-9a-f]{64}$/.test(name) && ++found.blobs >= enough) break outer;
      }
    }
  }
  found.tusFiles = (await readdir(join(dataDir, 'tus')).catch(() => [] as string[])).length;
  return found;
}

/**
 * Checks <dataDir>/db before it is opened: throws ESEAL_ERR_STORE_DAMAGED when it is damaged, or
 * missing (or empty) while videos or uploads are on disk and `database.allowFresh` is not yes.
 */
export async function guardDatabaseFiles(config: RelayConfig, maxPages = OPEN_CHECK_PAGES): Promise<LmdbCheck> {
  const dir = join(config.dataDir, 'db');
  const check = checkLmdbFiles(dir, { maxPages });
  if (check.state === 'damaged' && check.lockProblem && check.problems.length === 1) {
    throw Damaged(
      `the database's lock file is unusable: ${check.lockProblem}; LMDB would crash on it. What to do: stop every eseal process using ${config.dataDir}, ` +
        `move ${join(dir, 'lock.mdb')} aside (it holds no data; LMDB makes a new one), start again, then run "eseal verify"`,
      { detail: { path: join(dir, 'lock.mdb') } },
    );
  }
  if (check.state === 'damaged') {
    const shown = check.problems.slice(0, 5);
    const more = check.problems.length > shown.length ? ` (and ${check.problems.length - shown.length} more)` : '';
    throw Damaged(`the database ${check.path} is damaged: ${shown.join('; ')}${more}. The relay does not start over it. ${advice(config.dataDir)}`, {
      detail: { path: check.path, problems: check.problems },
    });
  }
  if (check.state === 'absent' || check.state === 'empty') {
    const found = await evidenceOnDisk(config.dataDir);
    if ((found.blobs || found.tusFiles) && config.database.allowFresh !== 'yes') {
      const what = check.state === 'absent' ? 'is missing' : 'is empty (0 bytes)';
      throw Damaged(
        `the database ${check.path} ${what}, yet ${config.dataDir} holds ${found.blobs ? 'stored videos' : ''}${found.blobs && found.tusFiles ? ' and ' : ''}${found.tusFiles ? 'resumable uploads' : ''}: ` +
          `the queue that refers to them is lost, and the relay does not start empty over it. ${advice(config.dataDir)}. ` +
          `Only if the database is lost for good: start once with ESEAL_DATABASE_ALLOW_FRESH=yes (database.allowFresh) to begin an empty queue; the videos stay on disk and eseal verify lists them`,
        { detail: { path: check.path } },
      );
    }
  }
  return check;
}

/**
 * Reads (or, on a new or older database, writes) the schema mark once the database is open; throws
 * ESEAL_ERR_STORE_DAMAGED for a schema this version does not know or a database of something else.
 */
export async function guardSchema(root: RootDatabase, check: LmdbCheck, dataDir: string): Promise<void> {
  const path = join(dataDir, 'db');
  const marks = root.openDB<unknown, string>({ name: SCHEMA_TABLE });
  const mark = marks.get(SCHEMA_KEY);
  if (mark === undefined) {
    const foreign = check.names.filter((n) => !RELAY_TABLES.test(n));
    if (foreign.length && foreign.length === check.names.length) {
      throw Damaged(
        `the database ${path} is not a relay's: it holds the tables ${foreign.slice(0, 8).join(', ')} and none of the relay's. ` +
          `Check dataDir (is it another role's data directory?), or ${advice(dataDir)}`,
        { detail: { path, tables: foreign } },
      );
    }
    // a new database, or one of a relay from before the mark: this version's schema
    await marks.put(SCHEMA_KEY, RELAY_SCHEMA);
    return;
  }
  if (typeof mark !== 'number' || !Number.isInteger(mark) || mark < 1) {
    throw Damaged(`the database ${path} has an unreadable schema mark (${JSON.stringify(mark)?.slice(0, 40)}). ${advice(dataDir)}`, { detail: { path } });
  }
  if (mark > RELAY_SCHEMA) {
    throw Damaged(
      `the database ${path} has schema ${mark}, written by a newer eseal; this one knows schema ${RELAY_SCHEMA} and would misread it. ` +
        `Run the newer version again, or ${advice(dataDir)}`,
      { detail: { path, schema: mark } },
    );
  }
}
