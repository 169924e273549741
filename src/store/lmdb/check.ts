// Checks an LMDB environment's files before LMDB maps them. LMDB trusts its file: a truncated
// data.mdb ends the process with SIGBUS, an overwritten header or a garbage page with SIGSEGV or an
// abort in the middle of a read, and a zero-length or missing data.mdb is silently taken for a new,
// empty database. So the relay reads the file itself first (plain reads, never a mapping) and refuses
// what LMDB would crash on or quietly start empty over.
//
// What is checked, for the data file format of the LMDB that lmdb-js 3 bundles (mdb.master3, data
// version 2; 64-bit page numbers; a 24-byte page header: pgno, txnid, pad, flags, lower, upper):
//   - both meta pages: magic, data version, page size, the roots and last page of the snapshot;
//   - the file holds every page the newest snapshot refers to (a truncated file does not);
//   - the B-trees of the free list, the main database and every named database in it, page by
//     page: each page says it is the page it is read as (a page overwritten with anything else does
//     not), its kind fits where it is, its node table and nodes lie inside it, overflow pages are
//     where their node says, no page is reached twice, and each tree holds the entries and depth
//     its record says.
// What cannot be checked without checksums (LMDB keeps none): a value's bytes altered in place.
import { closeSync, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** 0xBEEFC0DE, the first word of an LMDB meta page */
const MAGIC = 0xbeefc0de;
/** the data version this LMDB build writes (MDB_DATA_VERSION) */
const DATA_VERSION = 2;
const PAGE_HEADER = 24;
const NODE_HEADER = 8;
const DB_RECORD = 48;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const P_INVALID = 0xffff_ffff_ffff_ffffn;
/** the page sizes LMDB may choose (the OS page size, 4 KiB to 64 KiB) */
const PAGE_SIZES = new Set([4096, 8192, 16384, 32768, 65536]);

export interface LmdbCheckOptions {
  /**
   * Most pages to read while walking the trees (default: all). Past it the walk stops and
   * `complete` is false: a start-up check stays fast on a large database, `eseal verify` reads all.
   */
  maxPages?: number;
}

export interface LmdbCheck {
  /** absent: no data.mdb; empty: a data.mdb of zero bytes; damaged: see problems; ok: none found */
  state: 'absent' | 'empty' | 'damaged' | 'ok';
  /** the data file checked */
  path: string;
  /** what is wrong, each naming where (empty unless damaged) */
  problems: string[];
  /** what is wrong with lock.mdb (LMDB crashes on a lock file that is not a file); the data may be intact */
  lockProblem?: string;
  /** the named databases found (tables of the application), when the main tree could be read */
  names: string[];
  /** pages read; false when maxPages stopped the walk before its end */
  pagesRead: number;
  complete: boolean;
  /** the newest snapshot's transaction id (to tell whether a writer changed the file meanwhile) */
  txnid?: bigint;
}

interface DbRecord {
  flags: number;
  depth: number;
  entries: bigint;
  root: bigint;
}

interface Meta {
  version: number;
  pageSize: number;
  free: DbRecord;
  main: DbRecord;
  lastPage: bigint;
  txnid: bigint;
}

function readDb(b: Buffer, at: number): DbRecord {
  return { flags: b.readUInt16LE(at + 4), depth: b.readUInt16LE(at + 6), entries: b.readBigUInt64LE(at + 32), root: b.readBigUInt64LE(at + 40) };
}

/** The meta page at `b` (a whole page), or why it is not one. */
function readMeta(b: Buffer, pgno: number): Meta | string {
  if (b.length < PAGE_HEADER + 136) return `meta page ${pgno} is cut short`;
  const flags = b.readUInt16LE(18);
  const magic = b.readUInt32LE(PAGE_HEADER);
  if (magic !== MAGIC || (flags & P_META) === 0) return `meta page ${pgno} is not an LMDB meta page (magic 0x${magic.toString(16)}, flags 0x${flags.toString(16)}): the header of the file was overwritten, or it is not an LMDB data file`;
  const version = b.readUInt32LE(PAGE_HEADER + 4);
  if (version !== DATA_VERSION) return `meta page ${pgno} has data version ${version}; this relay's LMDB reads version ${DATA_VERSION} (written by another LMDB build?)`;
  const m = PAGE_HEADER + 24;
  const free = readDb(b, m);
  const pageSize = b.readUInt32LE(m); // md_pad of the free list's record
  if (!PAGE_SIZES.has(pageSize)) return `meta page ${pgno} gives a page size of ${pageSize} bytes, which LMDB never uses`;
  return { version, pageSize, free, main: readDb(b, m + DB_RECORD), lastPage: b.readBigUInt64LE(m + 2 * DB_RECORD), txnid: b.readBigUInt64LE(m + 2 * DB_RECORD + 8) };
}

class PageReader {
  readonly pages: number;
  #read = 0;
  constructor(
    readonly fd: number,
    readonly pageSize: number,
    fileSize: number,
  ) {
    this.pages = Math.floor(fileSize / pageSize);
  }
  get read(): number {
    return this.#read;
  }
  page(pgno: number): Buffer {
    const b = Buffer.allocUnsafe(this.pageSize);
    const n = readSync(this.fd, b, 0, this.pageSize, pgno * this.pageSize);
    this.#read++;
    return n === this.pageSize ? b : b.subarray(0, n);
  }
}

class StopWalk extends Error {}

/** Walks one B-tree; problems go to `problems`, named databases found in it to `names`. */
function walkTree(
  r: PageReader,
  what: string,
  db: DbRecord,
  txnid: bigint,
  seen: Set<number>,
  problems: string[],
  budget: { left: number },
  names?: { name: string; db: DbRecord }[],
): void {
  if (db.root === P_INVALID) {
    if (db.entries !== 0n) problems.push(`${what}: no root page, yet ${db.entries} entries`);
    return;
  }
  let entries = 0n;
  const visit = (pgno: bigint, level: number): void => {
    const where = `${what}, page ${pgno}`;
    if (pgno < 2n || pgno >= BigInt(r.pages)) {
      problems.push(`${where}: beyond the end of the file (${r.pages} pages): data.mdb was truncated`);
      return;
    }
    const n = Number(pgno);
    if (seen.has(n)) {
      problems.push(`${where}: reached twice (a loop or a page shared by two trees)`);
      return;
    }
    seen.add(n);
    if (--budget.left < 0) throw new StopWalk();
    const p = r.page(n);
    if (p.length < r.pageSize) {
      problems.push(`${where}: cut short: data.mdb was truncated`);
      return;
    }
    const own = p.readBigUInt64LE(0);
    if (own !== pgno) {
      problems.push(`${where}: holds something else (it says it is page ${own}): overwritten`);
      return;
    }
    if (p.readBigUInt64LE(8) > txnid) problems.push(`${where}: written by transaction ${p.readBigUInt64LE(8)}, after the newest snapshot ${txnid}`);
    const flags = p.readUInt16LE(18);
    const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2);
    const leaf = level === db.depth;
    if (kind !== (leaf ? P_LEAF : P_BRANCH)) {
      problems.push(`${where}: a ${kind === P_LEAF ? 'leaf' : kind === P_BRANCH ? 'branch' : `0x${kind.toString(16)}`} page where the tree (depth ${db.depth}) has a ${leaf ? 'leaf' : 'branch'} page`);
      return;
    }
    const lower = p.readUInt16LE(20);
    const upper = p.readUInt16LE(22);
    // the node table's bounds and offsets count from the end of the header (PAGEBASE)
    if (lower > upper || upper > r.pageSize - PAGE_HEADER || lower % 2 !== 0) {
      problems.push(`${where}: its free-space bounds (${lower}, ${upper}) are impossible`);
      return;
    }
    const count = lower / 2;
    if (count === 0) problems.push(`${where}: an empty page inside a tree`);
    for (let i = 0; i < count; i++) {
      const ptr = p.readUInt16LE(PAGE_HEADER + 2 * i);
      const at = PAGE_HEADER + ptr;
      if (ptr < upper || at + NODE_HEADER > r.pageSize) {
        problems.push(`${where}: node ${i} lies outside the page's node area`);
        return;
      }
      const lo = p.readUInt16LE(at);
      const hi = p.readUInt16LE(at + 2);
      const nflags = p.readUInt16LE(at + 4);
      const ksize = p.readUInt16LE(at + 6);
      if (!leaf) {
        if (at + NODE_HEADER + ksize > r.pageSize) {
          problems.push(`${where}: node ${i}'s key runs past the page`);
          return;
        }
        visit(BigInt(lo) | (BigInt(hi) << 16n) | (BigInt(nflags) << 32n), level + 1);
        continue;
      }
      entries++;
      const dsize = lo | (hi << 16);
      const data = at + NODE_HEADER + ksize;
      const inPage = nflags & F_BIGDATA ? 8 : dsize;
      if (data + inPage > r.pageSize) {
        problems.push(`${where}: node ${i}'s data runs past the page`);
        return;
      }
      if (nflags & F_BIGDATA) {
        const ov = p.readBigUInt64LE(data);
        checkOverflow(r, `${what}, overflow page ${ov}`, ov, dsize, txnid, seen, problems, budget);
      } else if (nflags & F_SUBDATA && !(nflags & F_DUPDATA)) {
        if (dsize !== DB_RECORD) {
          problems.push(`${where}: node ${i} is a named database whose record has ${dsize} bytes, not ${DB_RECORD}`);
          continue;
        }
        const name = p.toString('utf8', at + NODE_HEADER, at + NODE_HEADER + ksize).replace(/\0+$/, '');
        names?.push({ name, db: readDb(p, data) });
      }
    }
  };
  visit(db.root, 1);
  if (entries !== db.entries) problems.push(`${what}: ${entries} entries found, its record says ${db.entries}`);
}

function checkOverflow(r: PageReader, where: string, pgno: bigint, size: number, txnid: bigint, seen: Set<number>, problems: string[], budget: { left: number }): void {
  if (pgno < 2n || pgno >= BigInt(r.pages)) {
    problems.push(`${where}: beyond the end of the file (${r.pages} pages): data.mdb was truncated`);
    return;
  }
  const n = Number(pgno);
  if (seen.has(n)) {
    problems.push(`${where}: reached twice`);
    return;
  }
  seen.add(n);
  if (--budget.left < 0) throw new StopWalk();
  const p = r.page(n);
  if (p.length < PAGE_HEADER || p.readBigUInt64LE(0) !== pgno || (p.readUInt16LE(18) & P_OVERFLOW) === 0) {
    problems.push(`${where}: not the overflow page its node points to: overwritten`);
    return;
  }
  if (p.readBigUInt64LE(8) > txnid) problems.push(`${where}: written after the newest snapshot`);
  const pages = p.readUInt32LE(20);
  const needed = Math.floor((PAGE_HEADER - 1 + size) / r.pageSize) + 1;
  if (pages !== needed) problems.push(`${where}: spans ${pages} pages, its value needs ${needed}`);
  if (n + pages > r.pages) problems.push(`${where}: runs past the end of the file: data.mdb was truncated`);
  for (let i = 1; i < pages; i++) seen.add(n + i);
}

/**
 * Checks the environment in directory `dir` (its data.mdb) without mapping it. Another process may
 * be writing it (a running relay, while `eseal verify` checks): a commit can reuse pages of the
 * snapshot being walked, so damage found while the newest snapshot changed is looked at again, and
 * a file that keeps changing is reported as not checked through (`complete: false`), not damaged.
 */
export function checkLmdbFiles(dir: string, options: LmdbCheckOptions = {}): LmdbCheck {
  let last: LmdbCheck | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = checkOnce(dir, options);
    if (result.state !== 'damaged' || result.txnid === undefined) return result;
    const now = newestTxnid(result.path);
    if (now === result.txnid) return result;
    last = result;
  }
  return { ...last!, state: 'ok', problems: [], complete: false };
}

/** The newest snapshot's transaction id, as the meta pages say now. */
function newestTxnid(path: string): bigint | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const first = Buffer.alloc(65536 * 2);
    const n = readSync(fd, first, 0, first.length, 0);
    const m0 = readMeta(first.subarray(0, n), 0);
    if (typeof m0 === 'string') return undefined;
    const m1 = readMeta(first.subarray(m0.pageSize, Math.min(n, 2 * m0.pageSize)), 1);
    return typeof m1 === 'string' ? m0.txnid : m1.txnid > m0.txnid ? m1.txnid : m0.txnid;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** lock.mdb holds no data (readers' slots, the writer's mutex), but LMDB crashes on one that is not a file. */
function checkLockFile(dir: string): string | undefined {
  const lock = join(dir, 'lock.mdb');
  try {
    const st = lstatSync(lock);
    if (!st.isFile()) return `${lock} is not a regular file (${st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'a special file'})`;
    const fd = openSync(lock, 'r');
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `${lock} cannot be opened: ${(err as Error).message}`;
  }
  return undefined;
}

function checkOnce(dir: string, options: LmdbCheckOptions): LmdbCheck {
  const path = join(dir, 'data.mdb');
  const result: LmdbCheck = { state: 'ok', path, problems: [], names: [], pagesRead: 0, complete: true };
  const lockProblem = checkLockFile(dir);
  if (lockProblem) {
    result.lockProblem = lockProblem;
    result.state = 'damaged';
    result.problems.push(lockProblem);
  }
  const damaged = (problem: string): LmdbCheck => ({ ...result, state: 'damaged', problems: [...result.problems, problem] });
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return damaged(`${path} is not a regular file`);
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...result, state: result.lockProblem ? 'damaged' : 'absent' };
    return damaged(`${path} cannot be read: ${(err as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { ...result, state: result.lockProblem ? 'damaged' : 'empty' };
    const first = Buffer.alloc(Math.min(size, 65536 * 2));
    readSync(fd, first, 0, first.length, 0);
    const m0 = readMeta(first, 0);
    if (typeof m0 === 'string') return damaged(m0);
    if (size < 2 * m0.pageSize) return damaged(`the file is ${size} bytes, less than its two meta pages of ${m0.pageSize} bytes: data.mdb was truncated`);
    const m1 = readMeta(first.subarray(m0.pageSize, 2 * m0.pageSize), 1);
    if (typeof m1 === 'string') return damaged(m1);
    if (m1.pageSize !== m0.pageSize) return damaged(`the meta pages disagree on the page size (${m0.pageSize}, ${m1.pageSize})`);
    const meta = m1.txnid > m0.txnid ? m1 : m0;
    result.txnid = meta.txnid;
    const r = new PageReader(fd, meta.pageSize, size);
    if (meta.lastPage >= BigInt(r.pages)) {
      // LMDB may leave freed pages at the end unwritten; the trees below tell for sure
      result.problems.push(
        `the file has ${r.pages} pages, the newest snapshot (transaction ${meta.txnid}) counts ${meta.lastPage + 1n}: data.mdb is probably truncated`,
      );
    }
    const seen = new Set<number>();
    const budget = { left: options.maxPages ?? Number.MAX_SAFE_INTEGER };
    const named: { name: string; db: DbRecord }[] = [];
    const problems: string[] = [];
    try {
      walkTree(r, 'the free-page list', meta.free, meta.txnid, seen, problems, budget);
      walkTree(r, 'the main database', meta.main, meta.txnid, seen, problems, budget, named);
      result.names = named.map((n) => n.name);
      for (const { name, db } of named) walkTree(r, `table ${JSON.stringify(name)}`, db, meta.txnid, seen, problems, budget);
    } catch (err) {
      if (!(err instanceof StopWalk)) throw err;
      result.complete = false;
    }
    if (named.length && !result.names.length) result.names = named.map((n) => n.name);
    result.pagesRead = r.read;
    // a short file with every tree intact lost only free pages: LMDB rewrites those
    if (!problems.length) result.problems = result.problems.filter((p) => !/probably truncated/.test(p));
    result.problems.push(...problems);
    if (result.problems.length) result.state = 'damaged';
    return result;
  } catch (err) {
    return damaged(`${path} cannot be read: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
