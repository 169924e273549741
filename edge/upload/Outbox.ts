// The edge's persistent outbox: what the analyses produced and the uplink has not taken yet. A mine
// site's link goes down for hours; a power cut can come at any moment. So every record and every
// evidence clip is on disk, fsynced, before add…() resolves, and stays there until the upstream
// answered code 0 (or it became a dead letter an operator can see and requeue).
//
// Layout, in `dir`:
//   db/      one LMDB environment (openLmdb: a commit that resolved is on disk), tables
//            outbox        seq -> entry
//            outbox.order  [lane priority, seq] -> retryAt     (pending entries: the send order)
//            outbox.dead   seq -> 0                           (dead letters)
//            outbox.meta   'lastSeq' -> number
//   clips/   <seq>.mp4 per evidence entry; staging files while a clip is being added
//
// Order: status calls (camera/live, camera/online-offine) first, then records, then evidence
// (LANES in src/contract/endpoints.ts); oldest first within a lane; an entry waiting for its retry
// time is skipped, not waited for.
//
// Bounds: at most maxItems entries and maxBytes bytes (pending and dead together). To stay within
// them the oldest evidence goes first, dead letters before pending clips, each drop logged at error
// level. Records are never dropped: when only records are left the add is refused (OutboxFull)
// and the caller sees the error. A clip being sent is never dropped.
//
// One process per outbox directory: hand-outs (next()) are kept in memory; after a restart every
// pending entry is handed out again (at least once; the relay's dedupe makes a repeat harmless).
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import {
  LANES,
  checkEvidenceFileName,
  endpointById,
  type EvidenceEndpoint,
  type Lane,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { openLmdb } from '../../src/store/lmdb/open.ts';
import { fsyncDir } from '../../src/store/fsync.ts';
import { wrapStoreError } from '../../src/store/errors.ts';
import { OutboxClosed, OutboxFull, OutboxInput, OutboxNotFound, OutboxState } from './errors.ts';
import type { AddEvidenceOptions, OutboxEntry, OutboxOptions, OutboxStats } from './OutboxTypes.ts';

export type * from './OutboxTypes.ts';

export const DEFAULT_MAX_ITEMS = 200_000;
export const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;
/** lastError and deadReason are for people to read, not whole bodies */
const MAX_REASON_CHARS = 2000;

interface Stored {
  v: 1;
  seq: number;
  kind: 'record' | 'evidence';
  /** endpoint id (src/contract/endpoints.ts) */
  endpoint: string;
  lane: Lane;
  addedAt: number;
  bytes: number;
  body?: Record<string, string | number>;
  fileName?: string;
  /** file name inside clips/ */
  clip?: string;
  uploadUrl?: string;
  attempts: number;
  notBefore: number;
  lastError?: string;
  state: 'pending' | 'dead';
  deadReason?: string;
  deadAt?: number;
}

type OrderKey = [priority: number, seq: number];

const LANE_NAMES = Object.keys(LANES) as Lane[];

function orderKey(s: Stored): OrderKey {
  return [LANES[s.lane].priority, s.seq];
}

function cut(reason: string): string {
  return reason.length > MAX_REASON_CHARS ? reason.slice(0, MAX_REASON_CHARS - 1) + '…' : reason;
}

function seqOf(id: string): number {
  const n = /^\d{1,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw OutboxNotFound(`id: no outbox entry ${JSON.stringify(id)} (ids are whole numbers)`, { field: 'id' });
  return n;
}

export async function openOutbox(options: OutboxOptions): Promise<Outbox> {
  return Outbox.open(options);
}

export class Outbox {
  readonly dir: string;
  readonly clipsDir: string;
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly #root: RootDatabase;
  readonly #items: Database<Stored, number>;
  readonly #order: Database<number, OrderKey>;
  readonly #deadIndex: Database<number, number>;
  readonly #meta: Database<number, string>;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #inFlight = new Set<number>();
  #lastSeq = 0;
  #pendingByLane: Record<Lane, number> = { status: 0, record: 0, evidence: 0 };
  #deadCount = 0;
  #bytes = 0;
  #dropped = 0;
  /** changes run one after another: the counters and the choice of what to drop stay exact */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(root: RootDatabase, options: OutboxOptions) {
    this.dir = options.dir;
    this.clipsDir = join(options.dir, 'clips');
    this.maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxItems) || this.maxItems < 1) throw OutboxInput(`maxItems: must be a whole number >= 1, got ${this.maxItems}`, { field: 'maxItems' });
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1) throw OutboxInput(`maxBytes: must be a whole number >= 1, got ${this.maxBytes}`, { field: 'maxBytes' });
    this.#root = root;
    this.#log = options.log ?? createLogger({ level: 'silent' });
    this.#clock = options.clock ?? Date.now;
    this.#items = root.openDB<Stored, number>({ name: 'outbox' });
    this.#order = root.openDB<number, OrderKey>({ name: 'outbox.order' });
    this.#deadIndex = root.openDB<number, number>({ name: 'outbox.dead' });
    this.#meta = root.openDB<number, string>({ name: 'outbox.meta' });
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const root = openLmdb(join(options.dir, 'db'));
    let outbox: Outbox;
    try {
      outbox = new Outbox(root, options);
      await mkdir(outbox.clipsDir, { recursive: true, mode: 0o700 });
      await outbox.#load();
    } catch (err) {
      await root.close();
      throw err;
    }
    return outbox;
  }

  /** Counters from the tables, and clips no entry names (a crash between file and commit) removed. */
  async #load(): Promise<void> {
    this.#lastSeq = this.#meta.get('lastSeq') ?? 0;
    const clips = new Set<string>();
    for (const { value: s } of this.#items.getRange({})) {
      this.#lastSeq = Math.max(this.#lastSeq, s.seq);
      this.#bytes += s.bytes;
      if (s.state === 'dead') this.#deadCount++;
      else this.#pendingByLane[s.lane]++;
      if (s.clip) clips.add(s.clip);
    }
    for (const name of await readdir(this.clipsDir)) {
      if (!clips.has(name)) await rm(join(this.clipsDir, name), { force: true, recursive: true });
    }
  }

  #check(): void {
    if (this.#closed) throw OutboxClosed('the edge outbox is closed');
  }

  /** One LMDB child transaction: all of it or none, on disk once it resolves. */
  async #write(body: () => void): Promise<void> {
    try {
      await this.#root.childTransaction(body);
    } catch (err) {
      throw wrapStoreError(err, 'writing the edge outbox', this.dir);
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work, work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #view(s: Stored): OutboxEntry {
    const base = {
      id: String(s.seq),
      lane: s.lane,
      addedAt: s.addedAt,
      bytes: s.bytes,
      attempts: s.attempts,
      retryAt: s.notBefore,
      state: s.state,
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      ...(s.deadReason !== undefined ? { deadReason: s.deadReason } : {}),
      ...(s.deadAt !== undefined ? { deadAt: s.deadAt } : {}),
    };
    if (s.kind === 'record') return { ...base, kind: 'record', endpoint: endpointById(s.endpoint) as RecordEndpoint, body: s.body ?? {} };
    return {
      ...base,
      kind: 'evidence',
      endpoint: endpointById(s.endpoint) as EvidenceEndpoint,
      fileName: s.fileName ?? '',
      path: join(this.clipsDir, s.clip ?? ''),
      ...(s.uploadUrl ? { uploadUrl: s.uploadUrl } : {}),
    };
  }

  #stored(id: string): Stored {
    const s = this.#items.get(seqOf(id));
    if (!s) throw OutboxNotFound(`id: no outbox entry ${id} (delivered, dropped, or never added)`, { field: 'id' });
    return s;
  }

  /** Makes room for one more entry of `bytes`, dropping the oldest evidence if it must. */
  async #makeRoom(bytes: number, what: string): Promise<void> {
    if (bytes > this.maxBytes) throw OutboxFull(`${what} of ${bytes} bytes is larger than the whole outbox (maxBytes ${this.maxBytes})`);
    while (this.#count() + 1 > this.maxItems || this.#bytes + bytes > this.maxBytes) {
      const victim = this.#oldestDroppable();
      if (!victim) {
        throw OutboxFull(
          `${what} refused: the outbox holds ${this.#count()} entries / ${this.#bytes} bytes (limits ${this.maxItems} / ${this.maxBytes}) and no evidence is left to drop; the upstream has not taken records for a long time`,
        );
      }
      await this.#remove(victim);
      this.#dropped++;
      this.#log.error(
        { id: String(victim.seq), endpoint: victim.endpoint, fileName: victim.fileName, state: victim.state, addedAt: victim.addedAt, bytes: victim.bytes },
        'edge outbox full: the oldest evidence clip was dropped unsent to make room',
      );
    }
  }

  #count(): number {
    return this.#deadCount + LANE_NAMES.reduce((n, l) => n + this.#pendingByLane[l], 0);
  }

  #oldestDroppable(): Stored | undefined {
    for (const seq of this.#deadIndex.getKeys({})) {
      const s = this.#items.get(seq);
      if (s?.kind === 'evidence') return s;
    }
    const p = LANES.evidence.priority;
    for (const [, seq] of this.#order.getKeys({ start: [p, 0], end: [p + 1, 0] })) {
      if (this.#inFlight.has(seq)) continue;
      const s = this.#items.get(seq);
      if (s) return s;
    }
    return undefined;
  }

  /** Deletes the entry durably, then its clip (a clip left by a crash is removed at the next open). */
  async #remove(s: Stored): Promise<void> {
    await this.#write(() => {
      this.#items.remove(s.seq);
      if (s.state === 'dead') this.#deadIndex.remove(s.seq);
      else this.#order.remove(orderKey(s));
    });
    this.#bytes -= s.bytes;
    if (s.state === 'dead') this.#deadCount--;
    else this.#pendingByLane[s.lane]--;
    this.#inFlight.delete(s.seq);
    if (s.clip) await unlink(join(this.clipsDir, s.clip)).catch(() => undefined);
  }

  async #insert(s: Omit<Stored, 'seq'>): Promise<string> {
    const stored: Stored = { ...s, seq: this.#lastSeq + 1 };
    await this.#write(() => {
      this.#items.put(stored.seq, stored);
      this.#order.put(orderKey(stored), stored.notBefore);
      this.#meta.put('lastSeq', stored.seq);
    });
    this.#lastSeq = stored.seq;
    this.#pendingByLane[stored.lane]++;
    this.#bytes += stored.bytes;
    return String(stored.seq);
  }

  /** Queues a JSON record (infoReport/*, camera/live, camera/online-offine); durable once it resolves. */
  async addRecord(endpoint: RecordEndpoint, body: Record<string, string | number>): Promise<string> {
    this.#check();
    if (endpointById(endpoint?.id)?.kind !== 'record') throw OutboxInput(`endpoint: not a record endpoint of the contract (${JSON.stringify(endpoint?.id)})`, { field: 'endpoint' });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw OutboxInput('body: must be an object of the guide\'s fields', { field: 'body' });
    for (const [k, v] of Object.entries(body)) {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw OutboxInput(`body.${k}: must be a string or a number`, { field: k });
    }
    const bytes = Buffer.byteLength(JSON.stringify(body));
    return this.#serial(async () => {
      this.#check();
      await this.#makeRoom(bytes, `record ${endpoint.id}`);
      return this.#insert({ v: 1, kind: 'record', endpoint: endpoint.id, lane: endpoint.lane, addedAt: this.#clock(), bytes, body: { ...body }, attempts: 0, notBefore: 0, state: 'pending' });
    });
  }

  /**
   * Queues an evidence clip: moved (or copied) into the outbox folder, file and folder fsynced, then
   * the entry committed. Once it resolves a kill -9 or a power cut loses nothing.
   */
  async addEvidence(endpoint: EvidenceEndpoint, fileName: string, sourcePath: string, options: AddEvidenceOptions = {}): Promise<string> {
    this.#check();
    if (endpointById(endpoint?.id)?.kind !== 'evidence') throw OutboxInput(`endpoint: not an evidence endpoint of the contract (${JSON.stringify(endpoint?.id)})`, { field: 'endpoint' });
    // a name the platform would refuse is the evidence stage's bug: say so now, not after an upload
    checkEvidenceFileName(endpoint, fileName, { now: this.#clock(), maxSkewMs: Infinity });
    let size: number;
    try {
      const st = await stat(sourcePath);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw OutboxInput(`sourcePath: cannot read the clip ${sourcePath}: ${(err as Error).message}`, { field: 'sourcePath', cause: err });
    }
    if (size < 1) throw OutboxInput(`sourcePath: the clip ${sourcePath} is empty`, { field: 'sourcePath' });
    const staged = join(this.clipsDir, `.stage-${randomBytes(8).toString('hex')}`);
    await this.#stage(sourcePath, staged, options.keepSource ?? false);
    try {
      return await this.#serial(async () => {
        this.#check();
        await this.#makeRoom(size, `evidence ${fileName}`);
        // the clip takes the entry's seq as its name, so the entry is committed whole, once
        const clip = `${this.#lastSeq + 1}.mp4`;
        await rename(staged, join(this.clipsDir, clip));
        await fsyncDir(this.clipsDir);
        return this.#insert({ v: 1, kind: 'evidence', endpoint: endpoint.id, lane: endpoint.lane, addedAt: this.#clock(), bytes: size, fileName, clip, attempts: 0, notBefore: 0, state: 'pending' });
      });
    } catch (err) {
      await rm(staged, { force: true });
      throw err;
    }
  }

  /** The clip, at `staged`, with its bytes on disk. */
  async #stage(source: string, staged: string, keepSource: boolean): Promise<void> {
    let moved = false;
    if (!keepSource) {
      try {
        await rename(source, staged);
        moved = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw OutboxInput(`sourcePath: cannot move the clip ${source}: ${(err as Error).message}`, { field: 'sourcePath', cause: err });
      }
    }
    try {
      if (!moved) await copyFile(source, staged);
      const handle = await open(staged, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await rm(staged, { force: true });
      throw OutboxInput(`sourcePath: cannot copy the clip ${source} into the outbox: ${(err as Error).message}`, { field: 'sourcePath', cause: err });
    }
    if (!keepSource && !moved) await unlink(source).catch(() => undefined);
    if (!keepSource) await fsyncDir(dirname(source)).catch(() => undefined);
  }

  async #update(seq: number, change: (s: Stored) => Stored): Promise<Stored> {
    const s = this.#items.get(seq);
    if (!s) throw OutboxNotFound(`id: no outbox entry ${seq}`, { field: 'id' });
    const next = change(s);
    await this.#write(() => {
      this.#items.put(seq, next);
      if (next.state === 'pending') this.#order.put(orderKey(next), next.notBefore);
    });
    return next;
  }

  /**
   * The next entry to send, in lane order and oldest first, whose retry time has come and that is
   * not already handed out; it stays handed out until markDelivered/markFailed/deadLetter/release.
   * `lanes` limits the search (a worker kept for status calls and records).
   */
  next(options: { now?: number; lanes?: readonly Lane[] } = {}): OutboxEntry | undefined {
    this.#check();
    const now = options.now ?? this.#clock();
    for (const [start, end] of this.#spans(options.lanes)) {
      for (const { key, value: notBefore } of this.#order.getRange({ start, end })) {
        const seq = key[1];
        if (notBefore > now || this.#inFlight.has(seq)) continue;
        const s = this.#items.get(seq);
        if (!s) continue;
        this.#inFlight.add(seq);
        return this.#view(s);
      }
    }
    return undefined;
  }

  /** When the earliest waiting entry (not handed out) becomes due; undefined when there is none. */
  nextDueAt(lanes?: readonly Lane[]): number | undefined {
    this.#check();
    let at: number | undefined;
    for (const [start, end] of this.#spans(lanes)) {
      for (const { key, value: notBefore } of this.#order.getRange({ start, end })) {
        if (this.#inFlight.has(key[1])) continue;
        if (at === undefined || notBefore < at) at = notBefore;
        if (at === 0) return at;
      }
    }
    return at;
  }

  /** Key ranges of the order table for `lanes` (all of it by default), in priority order. */
  #spans(lanes: readonly Lane[] | undefined): [OrderKey, OrderKey][] {
    const priorities = (lanes ?? LANE_NAMES).map((l) => LANES[l].priority).sort((a, b) => a - b);
    return [...new Set(priorities)].map((p) => [
      [p, 0],
      [p + 1, 0],
    ]);
  }

  /** Pending entries in send order (handed-out ones included), without handing them out. */
  *entries(): IterableIterator<OutboxEntry> {
    this.#check();
    for (const [, seq] of this.#order.getKeys({})) {
      const s = this.#items.get(seq);
      if (s) yield this.#view(s);
    }
  }

  [Symbol.iterator](): IterableIterator<OutboxEntry> {
    return this.entries();
  }

  /** Dead letters, oldest first, with the reason each was refused. */
  deadLetters(): OutboxEntry[] {
    this.#check();
    const out: OutboxEntry[] = [];
    for (const seq of this.#deadIndex.getKeys({})) {
      const s = this.#items.get(seq);
      if (s) out.push(this.#view(s));
    }
    return out;
  }

  get(id: string): OutboxEntry | undefined {
    this.#check();
    const s = this.#items.get(seqOf(id));
    return s && this.#view(s);
  }

  /** The upstream answered code 0: the entry and its clip are deleted. */
  async markDelivered(id: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const s = this.#stored(id);
      if (s.state !== 'pending') throw OutboxState(`id: entry ${id} is a dead letter; requeue it first`, { field: 'id' });
      await this.#remove(s);
    });
  }

  /** The attempt failed and is worth another at `retryAt` (ms since epoch). */
  async markFailed(id: string, reason: string, retryAt: number): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const s = this.#stored(id);
      if (s.state !== 'pending') throw OutboxState(`id: entry ${id} is a dead letter`, { field: 'id' });
      await this.#update(s.seq, (x) => ({ ...x, attempts: x.attempts + 1, lastError: cut(reason), notBefore: Math.max(0, Math.round(retryAt)) }));
      this.#inFlight.delete(s.seq);
    });
  }

  /** The upstream refused it for good: kept as a dead letter, listed by deadLetters(), never sent again unless requeued. */
  async deadLetter(id: string, reason: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const s = this.#stored(id);
      if (s.state === 'dead') return;
      const dead: Stored = { ...s, state: 'dead', deadReason: cut(reason), deadAt: this.#clock() };
      await this.#write(() => {
        this.#items.put(s.seq, dead);
        this.#order.remove(orderKey(s));
        this.#deadIndex.put(s.seq, 0);
      });
      this.#pendingByLane[s.lane]--;
      this.#deadCount++;
      this.#inFlight.delete(s.seq);
    });
  }

  /** A dead letter goes back to the end of its lane (an operator fixed the cause). */
  async requeue(id: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const s = this.#stored(id);
      if (s.state !== 'dead') throw OutboxState(`id: entry ${id} is not a dead letter`, { field: 'id' });
      const { deadReason: _r, deadAt: _a, ...rest } = s;
      const again: Stored = { ...rest, state: 'pending', attempts: 0, notBefore: 0 };
      await this.#write(() => {
        this.#items.put(s.seq, again);
        this.#deadIndex.remove(s.seq);
        this.#order.put(orderKey(again), 0);
      });
      this.#deadCount--;
      this.#pendingByLane[s.lane]++;
    });
  }

  /** Remembers the resumable upload of a clip, so that the next attempt (after a restart too) resumes it. */
  async setUploadUrl(id: string, uploadUrl: string | undefined): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const s = this.#stored(id);
      if (s.kind !== 'evidence') throw OutboxState(`id: entry ${id} is a record, not a clip`, { field: 'id' });
      if (s.uploadUrl === uploadUrl) return;
      await this.#update(s.seq, (x) => {
        const { uploadUrl: _u, ...rest } = x;
        return uploadUrl ? { ...rest, uploadUrl } : rest;
      });
    });
  }

  /** Hands an entry back without a verdict (the uploader stops): next() may hand it out again. */
  release(id: string): void {
    this.#inFlight.delete(seqOf(id));
  }

  stats(): OutboxStats {
    return {
      pending: LANE_NAMES.reduce((n, l) => n + this.#pendingByLane[l], 0),
      pendingByLane: { ...this.#pendingByLane },
      inFlight: this.#inFlight.size,
      dead: this.#deadCount,
      bytes: this.#bytes,
      dropped: this.#dropped,
      maxItems: this.maxItems,
      maxBytes: this.maxBytes,
    };
  }

  /** Waits for the changes under way, then closes the database. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#chain.then(async () => {
        this.#inFlight.clear();
        await this.#root.close();
      });
    }
    return this.#closing;
  }
}
