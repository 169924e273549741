// One pass over what the relay holds at rest: the queue's evidence items, every stored video
// (re-hashed: the SM3 of its bytes must be its name), and the resumable uploads. Shared by
// `eseal verify` (relay/cliVerify.ts) and the background scrub (Scrub.ts).
//
// What it reports (AuditReport, the stable shape `eseal verify --json` prints):
//   mismatch              a video whose bytes are not those its SM3 address names (altered, truncated, emptied)
//   missingBlob           a video an item refers to is not there (one entry per video, `items` the items)
//   itemWithoutBlob       an item whose video is gone (one entry per item)
//   orphanBlob            a video no item refers to (evidence all the same: never deleted)
//   tusFileWithoutRecord  a file under tus/ without a live upload record
//   tusRecordWithoutFile  an upload record still receiving whose file is gone
//
// A pass runs while uploads and retention go on. A video committed after the scan of the queue is
// seen with its item by looking again at the items appended since (as Retention does), and a video
// younger than the grace period is never called an orphan (an upload commits its video a moment
// before its item). In the relay's own process, changes take the video's lock (BlobLocks).
//
// Repairs (`repair: true`, eseal verify --repair) never delete evidence: a corrupt or orphan video is
// moved to <dataDir>/quarantine/<date>/ with a note of what was found; undelivered items whose video
// is corrupt or gone become dead letters (ESEAL_ERR_STORE_CORRUPT); tus files without a record and
// records without a file, older than the grace period, are removed (an incomplete upload is not
// evidence: the mine resumes or sends it again). `markCorrupt` (the background scrub) only sets the
// items aside, moving nothing.
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { Sm3Job } from '../../src/crypto/sm3Offload.ts';
import { formatJsonTime } from '../../src/contract/index.ts';
import type { Logger } from '../../src/log.ts';
import { Corrupt } from '../../src/store/errors.ts';
import type { FsBlobStore } from '../../src/store/fs/FsBlobStore.ts';
import { fsyncDir, removeDurable, writeFileDurable } from '../../src/store/fsync.ts';
import type { QueueItem, QueueStore } from '../../src/store/QueueStoreTypes.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { blobLocks } from '../keep/BlobLocks.ts';
import type { TusUpload } from '../tus/TusStore.ts';

export const DAMAGE_KINDS = ['mismatch', 'missingBlob', 'itemWithoutBlob', 'orphanBlob', 'tusFileWithoutRecord', 'tusRecordWithoutFile'] as const;
export type DamageKind = (typeof DAMAGE_KINDS)[number] | 'database';

/** one finding; `item` is the (first) queue item concerned, null when none */
export interface Damage {
  kind: DamageKind;
  /** the video's SM3 address (its file name) */
  sm3?: string;
  /** the file concerned (the database file for kind database) */
  path: string;
  item: number | null;
  /** every item that refers to the video */
  items?: number[];
  /** of the (first) item: its mine, file name and state */
  mineId?: string;
  fileName?: string;
  state?: string;
  size?: number;
  /** mismatch: the SM3 of the bytes found */
  actualSm3?: string;
  /** tus: the upload id */
  upload?: string;
  detail?: string;
  /** what --repair (or the background scrub) did about it */
  action?: string;
}

export interface AuditSummary {
  database: number;
  mismatches: number;
  missingBlobs: number;
  itemsWithoutBlob: number;
  orphanBlobs: number;
  tusFilesWithoutRecord: number;
  tusRecordsWithoutFile: number;
}

export interface AuditReport {
  v: 1;
  /** when the pass began and how long it took (ms) */
  at: number;
  durationMs: number;
  dataDir: string;
  repair: boolean;
  /** false when the pass was stopped before its end (the relay shut down) */
  complete: boolean;
  scanned: { items: number; blobs: number; bytes: number; tusFiles: number; tusRecords: number; dbPages?: number };
  summary: AuditSummary;
  damage: Damage[];
}

export function emptySummary(): AuditSummary {
  return { database: 0, mismatches: 0, missingBlobs: 0, itemsWithoutBlob: 0, orphanBlobs: 0, tusFilesWithoutRecord: 0, tusRecordsWithoutFile: 0 };
}

export function damageCount(s: AuditSummary): number {
  return s.database + s.mismatches + s.missingBlobs + s.itemsWithoutBlob + s.orphanBlobs + s.tusFilesWithoutRecord + s.tusRecordsWithoutFile;
}

export interface AuditStores {
  dataDir: string;
  root: RootDatabase;
  queue: QueueStore<RelayItem>;
  blobs: FsBlobStore;
  log?: Logger;
}

export interface AuditOptions {
  /** eseal verify --repair */
  repair?: boolean;
  /** the background scrub: undelivered items of a corrupt or missing video become dead letters */
  markCorrupt?: boolean;
  /** in the relay's process: changes take BlobLocks, leased items are left to the forwarder */
  inProcess?: boolean;
  /** read rate while hashing (0 or absent: as fast as the disk goes) */
  bytesPerSecond?: number;
  /** videos and tus files younger than this are not called orphans (default 10 min) */
  graceMs?: number;
  /** after each video hashed */
  onProgress?: (done: number, total: number) => void;
  /** stops the pass between videos (the report says complete: false) */
  signal?: AbortSignal;
  now?: () => number;
}

const PAGE = 5000;
const BLOCK = 1024 * 1024;
export const DEFAULT_GRACE_MS = 10 * 60_000;

interface ItemRef {
  seq: number;
  state: string;
  mineId: string;
  fileName: string;
}

/** The SM3 of a file's bytes, read a block at a time at no more than `rate` bytes/s; the inode read. */
async function hashFile(path: string, pace: (bytes: number) => Promise<void>, signal?: AbortSignal): Promise<{ sm3: string; size: number; ino: number }> {
  const fh = await open(path, 'r');
  const job = new Sm3Job();
  try {
    const { ino } = await fh.stat();
    let size = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      // a block of its own each time: a full one is handed to the SM3 worker, not copied
      const block = Buffer.allocUnsafeSlow(BLOCK);
      const { bytesRead } = await fh.read(block, 0, BLOCK, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      await job.update(bytesRead === BLOCK ? block : block.subarray(0, bytesRead), BLOCK);
      await pace(bytesRead);
    }
    return { sm3: await job.digest(), size, ino };
  } catch (err) {
    job.abort();
    throw err;
  } finally {
    await fh.close();
  }
}

/** A token bucket per pass: sleeps so that the bytes read keep to `rate` per second. */
function pacer(rate: number | undefined, signal?: AbortSignal): (bytes: number) => Promise<void> {
  if (!rate) return async () => {};
  const started = Date.now();
  let total = 0;
  return async (bytes) => {
    total += bytes;
    const due = started + (total / rate) * 1000 - Date.now();
    if (due > 5 && !signal?.aborted) await new Promise((r) => setTimeout(r, due));
  };
}

export class StoreAudit {
  readonly #s: AuditStores;
  readonly #o: AuditOptions;
  readonly #now: () => number;
  readonly #grace: number;

  constructor(stores: AuditStores, options: AuditOptions = {}) {
    this.#s = stores;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#grace = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  *#items(fromSeq = 1): Generator<QueueItem<RelayItem>> {
    let from = fromSeq;
    for (;;) {
      const page = this.#s.queue.range({ fromSeq: from, limit: PAGE });
      yield* page;
      if (page.length < PAGE) return;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  #referencedAfter(id: string, seq: number): boolean {
    for (const item of this.#items(seq + 1)) if (item.payload.file?.blob === id) return true;
    return false;
  }

  #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#o.inProcess ? blobLocks(this.#s.blobs).run(id, fn) : fn();
  }

  async run(): Promise<AuditReport> {
    const { dataDir } = this.#s;
    const at = this.#now();
    const report: AuditReport = {
      v: 1,
      at,
      durationMs: 0,
      dataDir,
      repair: !!this.#o.repair,
      complete: true,
      scanned: { items: 0, blobs: 0, bytes: 0, tusFiles: 0, tusRecords: 0 },
      summary: emptySummary(),
      damage: [],
    };
    try {
      await this.#audit(report);
    } catch (err) {
      if (!this.#o.signal?.aborted) throw err;
      report.complete = false;
    }
    report.durationMs = this.#now() - at;
    return report;
  }

  async #audit(report: AuditReport): Promise<void> {
    const { blobs, signal } = { blobs: this.#s.blobs, signal: this.#o.signal };
    // 1. the queue: which items refer to which video
    const refs = new Map<string, ItemRef[]>();
    let scanned = 0;
    for (const item of this.#items()) {
      report.scanned.items++;
      scanned = Math.max(scanned, item.seq);
      const f = item.payload.file;
      if (!f?.blob) continue;
      let list = refs.get(f.blob);
      if (!list) refs.set(f.blob, (list = []));
      list.push({ seq: item.seq, state: item.state, mineId: item.payload.mineId, fileName: f.name });
    }
    // 2. every video, re-hashed
    const ids: string[] = [];
    for await (const id of blobs.list()) ids.push(id);
    const listed = new Set(ids);
    const pace = pacer(this.#o.bytesPerSecond, signal);
    for (const id of ids) {
      if (signal?.aborted) throw signal.reason;
      const path = blobs.pathOf(id);
      let found = await hashFile(path, pace, signal).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // deleted since the listing (retention)
        throw err;
      });
      if (found && found.sm3 !== id) {
        // replaced meanwhile by an upload of the right bytes (a commit over a damaged file)? look again
        const now = await stat(path).catch(() => undefined);
        if (now && now.ino !== found.ino) found = await hashFile(path, pace, signal).catch(() => found);
      }
      report.scanned.blobs++;
      if (found) report.scanned.bytes += found.size;
      this.#o.onProgress?.(report.scanned.blobs, ids.length);
      if (!found) {
        listed.delete(id);
        continue;
      }
      if (found.sm3 !== id) {
        await this.#mismatch(report, id, path, found, refs.get(id) ?? []);
        continue;
      }
      if (!refs.has(id)) await this.#orphan(report, id, path, scanned);
    }
    // 3. videos items refer to that are not there (and were not moved to quarantine by a repair)
    const quarantined = await this.#quarantined();
    for (const [id, list] of refs) {
      if (listed.has(id) || quarantined.has(id)) continue;
      await this.#missing(report, id, list);
    }
    // 4. resumable uploads
    await this.#tus(report);
  }

  #first(list: ItemRef[]): Pick<Damage, 'item' | 'items' | 'mineId' | 'fileName' | 'state'> {
    const f = list[0];
    return f ? { item: f.seq, items: list.map((r) => r.seq), mineId: f.mineId, fileName: f.fileName, state: f.state } : { item: null, items: [] };
  }

  async #mismatch(report: AuditReport, id: string, path: string, found: { sm3: string; size: number }, list: ItemRef[]): Promise<void> {
    report.summary.mismatches++;
    const d: Damage = { kind: 'mismatch', sm3: id, path, ...this.#first(list), size: found.size, actualSm3: found.sm3 };
    const why = `the stored video ${path} does not match its SM3 address (${found.size} bytes whose SM3 is ${found.sm3})`;
    for (const r of list) {
      this.#s.log?.error(
        { mineId: r.mineId, file: r.fileName, blob: id, seq: r.seq, state: r.state, path, actualSm3: found.sm3, size: found.size, code: Corrupt.code },
        'a stored video does not match its SM3 address (altered or damaged on disk)',
      );
    }
    if (this.#o.repair) {
      const moved = await this.#locked(id, () => this.#quarantine(id, path, 'mismatch', { actualSm3: found.sm3, size: found.size, items: list }));
      const marked = await this.#markItems(list, `${Corrupt.code}: ${why}; moved to ${moved}`);
      d.action = `quarantined to ${moved}${marked.length ? `; items ${marked.join(', ')} set aside (dead, ${Corrupt.code})` : ''}`;
    } else if (this.#o.markCorrupt) {
      const marked = await this.#markItems(list, `${Corrupt.code}: ${why}`);
      if (marked.length) d.action = `items ${marked.join(', ')} set aside (dead, ${Corrupt.code})`;
    }
    report.damage.push(d);
  }

  async #missing(report: AuditReport, id: string, listed: ItemRef[]): Promise<void> {
    if (await this.#s.blobs.has(id)) return; // committed since the listing
    // items purged meanwhile (retention deletes the item, then its video) no longer count
    // and items set aside for it already (dead, ESEAL_ERR_STORE_CORRUPT) are an operator's matter now
    const list = listed.flatMap((r) => {
      const now = this.#s.queue.get(r.seq);
      if (!now || now.payload.file?.blob !== id) return [];
      if (now.state === 'dead' && now.deadReason?.startsWith(Corrupt.code)) return [];
      return [{ ...r, state: now.state }];
    });
    if (!list.length) return;
    const path = this.#s.blobs.pathOf(id);
    report.summary.missingBlobs++;
    const d: Damage = { kind: 'missingBlob', sm3: id, path, ...this.#first(list) };
    if (this.#o.repair || this.#o.markCorrupt) {
      const marked = await this.#markItems(list, `${Corrupt.code}: the stored video ${path} is missing`);
      if (marked.length) d.action = `items ${marked.join(', ')} set aside (dead, ${Corrupt.code})`;
    }
    report.damage.push(d);
    for (const r of list) {
      report.summary.itemsWithoutBlob++;
      this.#s.log?.error({ mineId: r.mineId, file: r.fileName, blob: id, seq: r.seq, state: r.state, path, code: Corrupt.code }, 'the stored video of an item is missing');
      report.damage.push({ kind: 'itemWithoutBlob', sm3: id, path, item: r.seq, mineId: r.mineId, fileName: r.fileName, state: r.state });
    }
  }

  async #orphan(report: AuditReport, id: string, path: string, scanned: number): Promise<void> {
    await this.#locked(id, async () => {
      if (this.#referencedAfter(id, scanned)) return; // its item came after the scan
      const st = await stat(path).catch(() => undefined);
      if (!st || this.#now() - Math.max(st.ctimeMs, st.mtimeMs) < this.#grace) return; // an upload's item may follow
      report.summary.orphanBlobs++;
      const d: Damage = { kind: 'orphanBlob', sm3: id, path, item: null, size: st.size };
      if (this.#o.repair) {
        const moved = await this.#quarantine(id, path, 'orphan', { size: st.size });
        // an upload of the same bytes may have taken it in the meantime (another process): put it back
        if (this.#referencedAfter(id, scanned)) {
          await rename(moved, path).catch(() => {});
          d.action = 'an item referred to it meanwhile: left in place';
        } else {
          d.action = `quarantined to ${moved}`;
        }
      }
      report.damage.push(d);
    });
  }

  /** Undelivered items become dead letters with `reason`; those leased in this process are the forwarder's. */
  async #markItems(list: ItemRef[], reason: string): Promise<number[]> {
    const marked: number[] = [];
    for (const r of list) {
      const now = this.#s.queue.get(r.seq);
      if (!now || now.state === 'done' || now.state === 'dead') continue;
      if (now.state === 'leased' && this.#o.inProcess) continue;
      await this.#s.queue.deadLetter(r.seq, reason);
      marked.push(r.seq);
    }
    return marked;
  }

  /** The addresses of the videos a repair moved to quarantine/ (their items were set aside then). */
  async #quarantined(): Promise<Set<string>> {
    const out = new Set<string>();
    const root = join(this.#s.dataDir, 'quarantine');
    for (const day of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, day)).catch(() => [] as string[])) {
        const m = /^([0-9a-f]{64})(\.\d+)?$/.exec(name);
        if (m) out.add(m[1]!);
      }
    }
    return out;
  }

  /** Moves a video to <dataDir>/quarantine/<date>/<sm3> beside a note of what was found; returns where. */
  async #quarantine(id: string, path: string, kind: string, note: Record<string, unknown>): Promise<string> {
    const day = formatJsonTime(this.#now()).slice(0, 10);
    const dir = join(this.#s.dataDir, 'quarantine', day);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let target = join(dir, id);
    for (let n = 1; await stat(target).then(() => true, () => false); n++) target = join(dir, `${id}.${n}`);
    await writeFileDurable(`${target}.json`, JSON.stringify({ kind, sm3: id, from: path, at: formatJsonTime(this.#now()), ...note }, null, 2) + '\n', { mode: 0o600 });
    await rename(path, target);
    await fsyncDir(dir);
    await fsyncDir(join(path, '..'));
    return target;
  }

  async #tus(report: AuditReport): Promise<void> {
    const dir = join(this.#s.dataDir, 'tus');
    const db = this.#s.root.openDB<TusUpload, string>({ name: 'tus-uploads' });
    const records = new Map<string, TusUpload>();
    for (const { key, value } of db.getRange({})) records.set(key, value);
    report.scanned.tusRecords = records.size;
    const files = await readdir(dir).catch(() => [] as string[]);
    report.scanned.tusFiles = files.length;
    const now = this.#now();
    for (const name of files) {
      const record = records.get(name);
      if (record?.state === 'receiving') continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      // a file is created a moment before its record
      if (!st || now - st.mtimeMs < this.#grace || db.get(name)?.state === 'receiving') continue;
      report.summary.tusFilesWithoutRecord++;
      const d: Damage = { kind: 'tusFileWithoutRecord', path, item: null, upload: name, size: st.size, ...(record ? { detail: `its record is ${record.state}` } : {}) };
      if (this.#o.repair) d.action = (await removeDurable(path).catch(() => false)) ? 'removed' : 'could not be removed';
      report.damage.push(d);
    }
    const present = new Set(files);
    for (const [id, record] of records) {
      if (record.state !== 'receiving' || present.has(id)) continue;
      const path = join(dir, id);
      if (await stat(path).then(() => true, () => false)) continue;
      report.summary.tusRecordsWithoutFile++;
      const d: Damage = { kind: 'tusRecordWithoutFile', path, item: null, upload: id, fileName: record.fileName, state: record.state, detail: `${record.offset} of ${record.length} bytes received` };
      if (this.#o.repair && now - record.createdAt >= this.#grace) {
        // the upload can never complete; its client gets 404 and starts a new one
        await db.remove(id);
        d.action = 'record removed';
      }
      report.damage.push(d);
    }
  }
}
