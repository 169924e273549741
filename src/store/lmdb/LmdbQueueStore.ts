// The durable queue in LMDB. Layout, for a queue named `q` (all in the shared environment):
//
//   q         seq (number)                    -> item record (msgpack map: key, lane, payload, state, ...)
//   q.dedupe  dedupeKey (string)              -> seq                       (unpurged items only)
//   q.byKey   utf8(key) 0x00 seq (8 bytes BE) -> empty                     (pending items only)
//   q.heads   utf8(lane) 0x00 seq (8 bytes BE)-> [key, notBefore]          (one per key with pending items:
//                                                                           its oldest pending item)
//   q.dead    utf8(lane) 0x00 seq (8 bytes BE)-> empty                     (dead items only: the oldest
//                                                                           dead of a lane, for eviction)
//   q.meta    'state'                         -> { lastSeq, pending, dead, done, pendingByLane, bytes,
//                                                  deadIndex }
//
// Every change is one LMDB child transaction that updates the record, the indexes and the
// counters together, so the indexes can never disagree with the records, across processes too
// (seq and counters are read and written inside the write transaction, which LMDB serialises).
// `byKey` gives a key's next item in O(log n) however long its backlog; `heads` lists the leasable
// candidates of a lane in seq order, so a lease looks at one entry per key, never at all items.
//
// Leases live in this object's memory only (one forwarding process per data directory): after a
// restart every unfinished item is ready again and will be delivered again (at least once).
// `attempts` counts leases handed out; it is written to disk with the next nack, ack or deadLetter.
//
// Capabilities beyond the core (QueueStoreTypes.ts): appendBounded, update, remove, release, dueAt,
// rekey.
// None of them adds work to append: an item's `bytes` is one more field and one more counter in
// the meta record written anyway. `q.dead` is kept by the calls that make or unmake dead items;
// a store written before it existed (meta without `deadIndex`) gets it built by its first bounded
// append, the only reader of it.

import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import type {
  AppendResult,
  BoundedAppendResult,
  LeaseOptions,
  QueueAppend,
  QueueBound,
  QueueItem,
  QueueItemState,
  QueueRekey,
  QueueStats,
  QueueStore,
  RangeOptions,
} from '../QueueStoreTypes.ts';
import { Closed, Full, InvalidInput, NotFound, StillPending, WrongState, errnoOf, wrapStoreError } from '../errors.ts';
import { openLmdb, type OpenLmdbOptions } from './open.ts';

export interface LmdbQueueStoreOptions {
  /** name of the queue's tables in the environment (default 'queue') */
  name?: string;
  /** clock (ms since epoch) for enqueuedAt, doneAt and for telling live leases from lapsed ones */
  clock?: () => number;
}

/** What is stored per item; `leased` is never stored (leases are in memory). */
interface StoredItem<P> {
  key: string;
  lane: string;
  payload: P;
  dedupeKey?: string;
  /** absent: 0 */
  bytes?: number;
  state: 'ready' | 'dead' | 'done';
  enqueuedAt: number;
  attempts: number;
  notBefore?: number;
  lastError?: string;
  deadReason?: string;
  deadAt?: number;
  doneAt?: number;
}

interface QueueMeta {
  lastSeq: number;
  pending: number;
  dead: number;
  done: number;
  pendingByLane: Record<string, number>;
  /** sum of `bytes` of pending and dead items; absent: 0 */
  bytes?: number;
  /** 1 once `q.dead` lists every dead item (a fresh store, or built by a bounded append) */
  deadIndex?: 1;
}

type HeadValue = [key: string, notBefore: number];

interface Lease {
  seq: number;
  leaseUntil: number;
  /** attempts started, this lease included */
  attempts: number;
}

const META_KEY = 'state';
const EMPTY = Buffer.alloc(0);
/** key, lane and dedupeKey end up inside LMDB keys (at most 1978 bytes with 4 KiB pages) */
const MAX_KEY_BYTES = 1024;
const MAX_LANE_BYTES = 128;
/** lastError and deadReason are kept for people to read, not whole upstream bodies */
const MAX_REASON_CHARS = 2000;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export class LmdbQueueStore<P = unknown> implements QueueStore<P> {
  readonly name: string;
  readonly #root: RootDatabase;
  readonly #ownsRoot: boolean;
  readonly #clock: () => number;
  readonly #items: Database<StoredItem<P>, number>;
  readonly #dedupe: Database<number, string>;
  readonly #byKey: Database<Buffer, Buffer>;
  readonly #heads: Database<HeadValue, Buffer>;
  readonly #dead: Database<Buffer, Buffer>;
  readonly #meta: Database<QueueMeta, string>;
  /** key -> its lease (at most one per key); a lapsed lease stays until replaced, for `attempts` */
  readonly #leases = new Map<string, Lease>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Opens the environment at `path` and the queue in it; close() closes both. */
  static open<P = unknown>(path: string, options: LmdbQueueStoreOptions & OpenLmdbOptions = {}): LmdbQueueStore<P> {
    const root = openLmdb(path, options);
    try {
      return new LmdbQueueStore<P>(root, options, true);
    } catch (err) {
      void root.close();
      throw err;
    }
  }

  /**
   * A queue in an environment opened with `openLmdb`. The environment stays the caller's: close()
   * of the queue leaves it open (unless `ownsRoot`, as with `LmdbQueueStore.open`).
   */
  constructor(root: RootDatabase, options: LmdbQueueStoreOptions = {}, ownsRoot = false) {
    const name = options.name ?? 'queue';
    if (!name || CONTROL_CHARS.test(name)) throw InvalidInput(`queue name: must be a non-empty printable string, got ${JSON.stringify(name)}`);
    this.name = name;
    this.#root = root;
    this.#ownsRoot = ownsRoot;
    this.#clock = options.clock ?? Date.now;
    // plain msgpack maps (no msgpackr records): any msgpack reader can decode them, and there are
    // no shared structures to keep in step between processes
    const msgpack = { encoding: 'msgpack', useRecords: false } as DatabaseOptions;
    const binary: DatabaseOptions = { keyEncoding: 'binary' };
    this.#items = root.openDB<StoredItem<P>, number>({ ...msgpack, name });
    this.#dedupe = root.openDB<number, string>({ ...msgpack, name: `${name}.dedupe` });
    this.#byKey = root.openDB<Buffer, Buffer>({ ...binary, encoding: 'binary', name: `${name}.byKey` });
    this.#heads = root.openDB<HeadValue, Buffer>({ ...msgpack, ...binary, name: `${name}.heads` });
    this.#dead = root.openDB<Buffer, Buffer>({ ...binary, encoding: 'binary', name: `${name}.dead` });
    this.#meta = root.openDB<QueueMeta, string>({ ...msgpack, name: `${name}.meta` });
  }

  // ---- writes: each one LMDB child transaction, resolved once committed to disk ----

  async append(input: QueueAppend<P>): Promise<AppendResult<P>> {
    checkAppend(input, 'append');
    const [result] = await this.#write('appending to the queue', () => {
      const meta = this.#readMeta();
      const now = this.#clock();
      const out = this.#appendOne(input, meta, now);
      this.#meta.put(META_KEY, meta);
      return [out];
    });
    return result!;
  }

  async appendMany(inputs: QueueAppend<P>[]): Promise<AppendResult<P>[]> {
    if (!Array.isArray(inputs)) throw InvalidInput('appendMany: inputs must be an array');
    inputs.forEach((input, i) => checkAppend(input, `appendMany[${i}]`));
    if (inputs.length === 0) {
      this.#assertOpen();
      return [];
    }
    // one child transaction: a throw anywhere (say, a payload that cannot be encoded) aborts all
    return this.#write('appending to the queue', () => {
      const meta = this.#readMeta();
      const now = this.#clock();
      const out = inputs.map((input) => this.#appendOne(input, meta, now));
      this.#meta.put(META_KEY, meta);
      return out;
    });
  }

  async lease(options: LeaseOptions): Promise<QueueItem<P>[]> {
    return this.leaseNow(options);
  }

  /**
   * `lease`, synchronously: leases are in this object's memory and the reads are LMDB's, so nothing
   * waits. For embedded callers whose hand-out is synchronous (the edge outbox's next()).
   */
  leaseNow(options: LeaseOptions): QueueItem<P>[] {
    this.#assertOpen();
    const { max, leaseMs } = options;
    if (!Number.isInteger(max) || max < 0) throw InvalidInput(`lease: max must be a whole number >= 0, got ${max}`);
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw InvalidInput(`lease: leaseMs must be > 0, got ${leaseMs}`);
    if (options.lane !== undefined && typeof options.lane !== 'string') throw InvalidInput('lease: lane must be a string');
    const now = options.now ?? this.#clock();
    if (max === 0) return [];
    const lanes = options.lane !== undefined ? [options.lane] : Object.keys(this.#readMeta().pendingByLane);
    // The best `max` candidates of each lane, merged, are the best `max` overall.
    const candidates: { seq: number; key: string }[] = [];
    for (const lane of lanes) candidates.push(...this.#leasableHeads(lane, now, max));
    candidates.sort((a, b) => a.seq - b.seq);
    const out: QueueItem<P>[] = [];
    for (const { seq, key } of candidates) {
      if (out.length >= max) break;
      const stored = this.#items.get(seq);
      if (!stored || stored.state !== 'ready' || stored.key !== key) continue; // indexes lag a concurrent write: skip
      const previous = this.#leases.get(key);
      const attempts = (previous && previous.seq === seq ? Math.max(previous.attempts, stored.attempts) : stored.attempts) + 1;
      const lease: Lease = { seq, leaseUntil: now + leaseMs, attempts };
      this.#leases.set(key, lease);
      out.push(toItem(seq, stored, lease, now));
    }
    return out;
  }

  async ack(seq: number): Promise<void> {
    checkSeq(seq, 'ack');
    const key = await this.#write('acknowledging a queue item', () => {
      const stored = this.#mustGet(seq, 'ack');
      if (stored.state === 'done') return stored.key; // a second ack of a delivered item changes nothing
      if (stored.state === 'dead') {
        throw WrongState(`ack: queue item ${seq} is dead (${stored.deadReason ?? 'no reason'}); replay it before delivering it again`);
      }
      const meta = this.#readMeta();
      this.#removePending(seq, stored, meta);
      meta.done++;
      if (stored.bytes) meta.bytes = (meta.bytes ?? 0) - stored.bytes; // done items no longer count
      const next: StoredItem<P> = { ...stored, state: 'done', doneAt: this.#clock(), attempts: this.#attemptsOf(seq, stored) };
      delete next.notBefore;
      this.#items.put(seq, next);
      this.#meta.put(META_KEY, meta);
      return stored.key;
    });
    this.#release(key, seq);
  }

  async nack(seq: number, error: string, retryAt: number): Promise<void> {
    checkSeq(seq, 'nack');
    if (!Number.isFinite(retryAt)) throw InvalidInput(`nack: retryAt must be a time in ms, got ${retryAt}`);
    const key = await this.#write('recording a failed delivery', () => {
      const stored = this.#mustGet(seq, 'nack');
      if (stored.state !== 'ready') {
        throw WrongState(`nack: queue item ${seq} is ${stored.state}, only a pending item can be retried`);
      }
      const next: StoredItem<P> = {
        ...stored,
        attempts: this.#attemptsOf(seq, stored),
        notBefore: retryAt,
        lastError: clip(String(error)),
      };
      this.#items.put(seq, next);
      if (this.#firstPending(stored.key) === seq) this.#heads.put(compositeKey(stored.lane, seq), [stored.key, retryAt]);
      return stored.key;
    });
    this.#release(key, seq);
  }

  async deadLetter(seq: number, reason: string): Promise<void> {
    checkSeq(seq, 'deadLetter');
    const key = await this.#write('moving a queue item to the dead letters', () => {
      const stored = this.#mustGet(seq, 'deadLetter');
      if (stored.state === 'dead') return stored.key;
      if (stored.state === 'done') {
        throw WrongState(`deadLetter: queue item ${seq} was delivered already (done); it cannot be dead`);
      }
      const meta = this.#readMeta();
      this.#removePending(seq, stored, meta);
      meta.dead++;
      const next: StoredItem<P> = {
        ...stored,
        state: 'dead',
        deadReason: clip(String(reason)),
        deadAt: this.#clock(),
        attempts: this.#attemptsOf(seq, stored),
      };
      delete next.notBefore;
      this.#items.put(seq, next);
      this.#dead.put(compositeKey(stored.lane, seq), EMPTY);
      this.#meta.put(META_KEY, meta);
      return stored.key;
    });
    this.#release(key, seq);
  }

  async replay(seq: number): Promise<void> {
    checkSeq(seq, 'replay');
    await this.#write('replaying a dead queue item', () => {
      const stored = this.#mustGet(seq, 'replay');
      if (stored.state === 'ready') return; // pending already
      if (stored.state === 'done') {
        throw WrongState(`replay: queue item ${seq} was delivered already (done); only dead items are replayed`);
      }
      const meta = this.#readMeta();
      const next: StoredItem<P> = { ...stored, state: 'ready' };
      delete next.deadReason;
      delete next.deadAt;
      delete next.notBefore;
      this.#items.put(seq, next);
      this.#dead.remove(compositeKey(stored.lane, seq));
      this.#addPending(seq, next, meta);
      meta.dead--;
      this.#meta.put(META_KEY, meta);
    });
  }

  async purge(seq: number): Promise<void> {
    checkSeq(seq, 'purge');
    await this.#write('purging a queue item', () => {
      const stored = this.#mustGet(seq, 'purge');
      if (stored.state === 'ready') {
        throw StillPending(`purge: queue item ${seq} is not delivered yet; only done or dead items can be purged`);
      }
      const meta = this.#readMeta();
      this.#drop(seq, stored, meta);
      this.#meta.put(META_KEY, meta);
    });
  }

  // ---- capabilities ----

  async appendBounded(input: QueueAppend<P>, bound: QueueBound): Promise<BoundedAppendResult<P>> {
    checkAppend(input, 'appendBounded');
    checkBound(bound);
    const bytes = input.bytes ?? 0;
    if (bytes > bound.maxBytes) {
      throw Full(`appendBounded: an item of ${bytes} bytes is larger than the whole bound (maxBytes ${bound.maxBytes})`, {
        field: 'bytes',
        detail: { bytes, maxBytes: bound.maxBytes },
      });
    }
    const lanes = [...new Set(bound.evictLanes)];
    const result = await this.#write('appending to the bounded queue', (): BoundedAppendResult<P> => {
      const meta = this.#readMeta();
      const now = this.#clock();
      if (input.dedupeKey !== undefined) {
        const seq = this.#dedupe.get(input.dedupeKey);
        const existing = seq === undefined ? undefined : this.#items.get(seq);
        if (seq !== undefined && existing) return { item: this.#view(seq, existing, now), duplicate: true, evicted: [] };
      }
      this.#ensureDeadIndex(meta);
      const leaseNow = bound.now ?? now;
      const evicted: QueueItem<P>[] = [];
      while (meta.pending + meta.dead + 1 > bound.maxItems || (meta.bytes ?? 0) + bytes > bound.maxBytes) {
        const victim = this.#oldestDead(lanes) ?? this.#oldestUnleasedHead(lanes, leaseNow);
        if (!victim) {
          throw Full(
            `appendBounded: the queue holds ${meta.pending + meta.dead} items / ${meta.bytes ?? 0} bytes (bound ${bound.maxItems} / ${bound.maxBytes}) and nothing it may evict (lanes ${lanes.join(', ') || 'none'}: none dead, none pending unleased); nothing was changed`,
            { detail: { items: meta.pending + meta.dead, bytes: meta.bytes ?? 0, maxItems: bound.maxItems, maxBytes: bound.maxBytes } },
          );
        }
        const [seq, stored] = victim;
        evicted.push(this.#view(seq, stored, now));
        this.#drop(seq, stored, meta);
      }
      const out = this.#appendOne(input, meta, now);
      this.#meta.put(META_KEY, meta);
      return { ...out, evicted };
    });
    for (const item of result.evicted) this.#release(item.key, item.seq); // a lapsed lease of it
    return result;
  }

  async update(seq: number, payload: P): Promise<QueueItem<P>> {
    checkSeq(seq, 'update');
    return this.#write('updating a queue item', () => {
      const stored = this.#mustGet(seq, 'update');
      if (stored.state === 'done') throw WrongState(`update: queue item ${seq} was delivered already (done); its payload is final`);
      const next: StoredItem<P> = { ...stored, payload };
      this.#putItem(seq, next, 'update');
      return this.#view(seq, next, this.#clock());
    });
  }

  async remove(seq: number): Promise<QueueItem<P>> {
    checkSeq(seq, 'remove');
    const removed = await this.#write('removing a queue item', () => {
      const stored = this.#mustGet(seq, 'remove');
      const item = this.#view(seq, stored, this.#clock());
      const meta = this.#readMeta();
      this.#drop(seq, stored, meta);
      this.#meta.put(META_KEY, meta);
      return item;
    });
    this.#release(removed.key, seq);
    return removed;
  }

  async rekey(changes: readonly QueueRekey[]): Promise<number> {
    if (!Array.isArray(changes)) throw InvalidInput('rekey: changes must be an array of {seq, key}');
    changes.forEach((c, i) => {
      if (typeof c !== 'object' || c === null) throw InvalidInput(`rekey[${i}]: must be {seq, key}`);
      checkSeq(c.seq, `rekey[${i}]`);
      checkName(c.key, 'key', MAX_KEY_BYTES, `rekey[${i}]`);
    });
    if (changes.length === 0) {
      this.#assertOpen();
      return 0;
    }
    const now = this.#clock();
    const leasedKey = (key: string) => {
      const lease = this.#leases.get(key);
      return lease !== undefined && lease.leaseUntil > now;
    };
    return this.#write('moving queue items to other keys', () => {
      const meta = this.#readMeta();
      let moved = 0;
      for (const { seq, key } of changes) {
        const stored = this.#mustGet(seq, 'rekey');
        if (stored.key === key) continue;
        if (leasedKey(stored.key) || leasedKey(key)) {
          throw WrongState(`rekey: queue item ${seq} (key ${JSON.stringify(stored.key)} -> ${JSON.stringify(key)}): a key is leased; rekey before leasing`);
        }
        const next: StoredItem<P> = { ...stored, key };
        if (stored.state === 'ready') {
          this.#removePending(seq, stored, meta);
          this.#items.put(seq, next);
          this.#addPending(seq, next, meta);
        } else {
          this.#items.put(seq, next);
        }
        moved++;
      }
      this.#meta.put(META_KEY, meta);
      return moved;
    });
  }

  release(seq: number): void {
    this.#assertOpen();
    checkSeq(seq, 'release');
    const stored = this.#items.get(seq);
    if (stored) this.#release(stored.key, seq);
  }

  dueAt(lane?: string): number | undefined {
    this.#assertOpen();
    const now = this.#clock();
    const lanes = lane !== undefined ? [lane] : Object.keys(this.#readMeta().pendingByLane);
    let at: number | undefined;
    for (const l of lanes) {
      for (const { value } of this.#heads.getRange(prefixRange(l))) {
        const [key, notBefore] = value;
        const lease = this.#leases.get(key);
        if (lease && lease.leaseUntil > now) continue;
        if (at === undefined || notBefore < at) at = notBefore;
        if (at === 0) return at;
      }
    }
    return at;
  }

  // ---- synchronous reads of the last committed state ----

  get(seq: number): QueueItem<P> | undefined {
    this.#assertOpen();
    if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
    const stored = this.#items.get(seq);
    return stored && this.#view(seq, stored, this.#clock());
  }

  findByDedupeKey(dedupeKey: string): QueueItem<P> | undefined {
    this.#assertOpen();
    if (typeof dedupeKey !== 'string' || dedupeKey === '' || Buffer.byteLength(dedupeKey) > MAX_KEY_BYTES) return undefined;
    const seq = this.#dedupe.get(dedupeKey);
    return seq === undefined ? undefined : this.get(seq);
  }

  /** Items in seq order, filtered. Without a `limit` it returns them all: pass one on big queues. */
  range(options: RangeOptions = {}): QueueItem<P>[] {
    this.#assertOpen();
    const from = options.fromSeq ?? 1;
    const limit = options.limit ?? Infinity;
    if (!Number.isFinite(from)) throw InvalidInput(`range: fromSeq must be a number, got ${from}`);
    if (!(limit >= 0)) throw InvalidInput(`range: limit must be >= 0, got ${limit}`);
    const out: QueueItem<P>[] = [];
    if (limit === 0) return out;
    const now = this.#clock();
    for (const { key: seq, value: stored } of this.#items.getRange({ start: from })) {
      if (options.lane !== undefined && stored.lane !== options.lane) continue;
      if (options.key !== undefined && stored.key !== options.key) continue;
      const item = this.#view(seq, stored, now);
      if (options.state !== undefined && item.state !== options.state) continue;
      out.push(item);
      if (out.length >= limit) break;
    }
    return out;
  }

  stats(): QueueStats {
    this.#assertOpen();
    const meta = this.#readMeta();
    const now = this.#clock();
    let leased = 0;
    for (const lease of this.#leases.values()) if (lease.leaseUntil > now) leased++;
    leased = Math.min(leased, meta.pending);
    const stats: QueueStats = {
      byState: { ready: meta.pending - leased, leased, dead: meta.dead, done: meta.done },
      pendingByLane: { ...meta.pendingByLane },
      lastSeq: meta.lastSeq,
      bytes: meta.bytes ?? 0,
    };
    // the oldest pending item is the head of some key, and heads are ordered by seq in each lane
    let oldest: number | undefined;
    for (const lane of Object.keys(meta.pendingByLane)) {
      for (const k of this.#heads.getKeys({ ...prefixRange(lane), limit: 1 })) {
        const seq = seqOf(k);
        const stored = this.#items.get(seq);
        if (stored) (stats.oldestPendingByLane ??= {})[lane] = stored.enqueuedAt;
        if (oldest === undefined || seq < oldest) oldest = seq;
      }
    }
    if (oldest !== undefined) {
      const stored = this.#items.get(oldest);
      if (stored) stats.oldestPendingAt = stored.enqueuedAt;
    }
    return stats;
  }

  /** Waits for the writes under way, then refuses new calls; closes the environment if it owns it. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = (async () => {
        await Promise.allSettled([...this.#inFlight]);
        this.#leases.clear();
        if (this.#ownsRoot) await this.#root.close();
      })();
    }
    return this.#closing;
  }

  // ---- inside a write transaction ----

  #appendOne(input: QueueAppend<P>, meta: QueueMeta, now: number): AppendResult<P> {
    if (input.dedupeKey !== undefined) {
      const seq = this.#dedupe.get(input.dedupeKey);
      const existing = seq === undefined ? undefined : this.#items.get(seq);
      if (seq !== undefined && existing) return { item: this.#view(seq, existing, now), duplicate: true };
    }
    const seq = meta.lastSeq + 1;
    const stored: StoredItem<P> = {
      key: input.key,
      lane: input.lane,
      payload: input.payload,
      state: 'ready',
      enqueuedAt: now,
      attempts: 0,
    };
    if (input.dedupeKey !== undefined) stored.dedupeKey = input.dedupeKey;
    if (input.bytes) {
      stored.bytes = input.bytes;
      meta.bytes = (meta.bytes ?? 0) + input.bytes;
    }
    this.#putItem(seq, stored, 'append');
    if (input.dedupeKey !== undefined) this.#dedupe.put(input.dedupeKey, seq);
    this.#addPending(seq, stored, meta);
    meta.lastSeq = seq;
    return { item: toItem(seq, stored, undefined, now), duplicate: false };
  }

  #putItem(seq: number, stored: StoredItem<P>, op: string): void {
    try {
      this.#items.put(seq, stored);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (errnoOf(err) !== undefined || /MDB_/.test(text)) throw err;
      // the encoder refused the payload (a BigInt beyond 64 bits, say); the transaction is aborted
      throw InvalidInput(`${op}: the payload of the item with key ${JSON.stringify(stored.key)} cannot be stored: ${text}`, {
        field: 'payload',
        cause: err,
      });
    }
  }

  /** Deletes an item and every trace of it from the indexes and counters, whatever its state. */
  #drop(seq: number, stored: StoredItem<P>, meta: QueueMeta): void {
    if (stored.state === 'ready') this.#removePending(seq, stored, meta);
    else if (stored.state === 'dead') {
      meta.dead--;
      this.#dead.remove(compositeKey(stored.lane, seq));
    } else meta.done--;
    if (stored.bytes && stored.state !== 'done') meta.bytes = (meta.bytes ?? 0) - stored.bytes;
    this.#items.remove(seq);
    if (stored.dedupeKey !== undefined && this.#dedupe.get(stored.dedupeKey) === seq) this.#dedupe.remove(stored.dedupeKey);
  }

  /** A store from before `q.dead`: list its dead items once (a full scan, at most once per store). */
  #ensureDeadIndex(meta: QueueMeta): void {
    if (meta.deadIndex === 1) return;
    for (const { key: seq, value } of this.#items.getRange({})) {
      if (value.state === 'dead') this.#dead.put(compositeKey(value.lane, seq), EMPTY);
    }
    meta.deadIndex = 1;
  }

  /** the oldest dead item of `lanes` */
  #oldestDead(lanes: string[]): [number, StoredItem<P>] | undefined {
    let best: number | undefined;
    for (const lane of lanes) {
      for (const k of this.#dead.getKeys({ ...prefixRange(lane), limit: 1 })) {
        const seq = seqOf(k);
        if (best === undefined || seq < best) best = seq;
      }
    }
    const stored = best === undefined ? undefined : this.#items.get(best);
    return stored && [best!, stored];
  }

  /** the oldest head of a key in `lanes` that is not leased (waiting for a retry counts) */
  #oldestUnleasedHead(lanes: string[], now: number): [number, StoredItem<P>] | undefined {
    let best: number | undefined;
    for (const lane of lanes) {
      for (const { key: k, value } of this.#heads.getRange(prefixRange(lane))) {
        const lease = this.#leases.get(value[0]);
        if (lease && lease.leaseUntil > now) continue;
        const seq = seqOf(k);
        if (best === undefined || seq < best) best = seq;
        break;
      }
    }
    const stored = best === undefined ? undefined : this.#items.get(best);
    return stored && [best!, stored];
  }

  /** Puts a ready item into the per-key index; it becomes its key's head if it is the oldest. */
  #addPending(seq: number, stored: StoredItem<P>, meta: QueueMeta): void {
    const head = this.#firstPending(stored.key);
    this.#byKey.put(compositeKey(stored.key, seq), EMPTY);
    if (head === undefined || seq < head) {
      if (head !== undefined) {
        const old = this.#items.get(head);
        if (old) this.#heads.remove(compositeKey(old.lane, head));
      }
      this.#heads.put(compositeKey(stored.lane, seq), [stored.key, stored.notBefore ?? 0]);
    }
    meta.pending++;
    meta.pendingByLane[stored.lane] = (meta.pendingByLane[stored.lane] ?? 0) + 1;
  }

  /** Takes a pending item out of the per-key index; the next one of its key becomes the head. */
  #removePending(seq: number, stored: StoredItem<P>, meta: QueueMeta): void {
    const head = this.#firstPending(stored.key);
    this.#byKey.remove(compositeKey(stored.key, seq));
    if (head === seq) {
      this.#heads.remove(compositeKey(stored.lane, seq));
      const next = this.#firstPending(stored.key);
      if (next !== undefined) {
        const nextItem = this.#items.get(next);
        if (nextItem) this.#heads.put(compositeKey(nextItem.lane, next), [stored.key, nextItem.notBefore ?? 0]);
      }
    }
    meta.pending--;
    const left = (meta.pendingByLane[stored.lane] ?? 0) - 1;
    if (left > 0) meta.pendingByLane[stored.lane] = left;
    else delete meta.pendingByLane[stored.lane];
  }

  #firstPending(key: string): number | undefined {
    for (const k of this.#byKey.getKeys({ ...prefixRange(key), limit: 1 })) return seqOf(k);
    return undefined;
  }

  #mustGet(seq: number, op: string): StoredItem<P> {
    const stored = this.#items.get(seq);
    if (!stored) throw NotFound(`${op}: no queue item ${seq} in queue "${this.name}" (never appended, or purged)`);
    return stored;
  }

  #attemptsOf(seq: number, stored: StoredItem<P>): number {
    const lease = this.#leases.get(stored.key);
    return lease && lease.seq === seq ? Math.max(lease.attempts, stored.attempts) : stored.attempts;
  }

  // ---- plumbing ----

  #leasableHeads(lane: string, now: number, max: number): { seq: number; key: string }[] {
    const out: { seq: number; key: string }[] = [];
    for (const { key: k, value } of this.#heads.getRange(prefixRange(lane))) {
      const [key, notBefore] = value;
      if (notBefore > now) continue;
      const lease = this.#leases.get(key);
      if (lease && lease.leaseUntil > now) continue;
      out.push({ seq: seqOf(k), key });
      if (out.length >= max) break;
    }
    return out;
  }

  #readMeta(): QueueMeta {
    const meta = this.#meta.get(META_KEY);
    return meta
      ? { ...meta, pendingByLane: { ...meta.pendingByLane } }
      : { lastSeq: 0, pending: 0, dead: 0, done: 0, pendingByLane: {}, deadIndex: 1 };
  }

  #view(seq: number, stored: StoredItem<P>, now: number): QueueItem<P> {
    const lease = this.#leases.get(stored.key);
    return toItem(seq, stored, lease && lease.seq === seq ? lease : undefined, now);
  }

  /** the item's delivery attempt is over: its key may be leased again */
  #release(key: string, seq: number): void {
    if (this.#leases.get(key)?.seq === seq) this.#leases.delete(key);
  }

  #assertOpen(): void {
    if (this.#closed) throw Closed(`queue "${this.name}" is closed; the call was not carried out`);
  }

  async #write<T>(doing: string, body: () => T): Promise<T> {
    this.#assertOpen();
    const done = this.#root.childTransaction(body);
    this.#inFlight.add(done);
    try {
      return await done;
    } catch (err) {
      throw wrapStoreError(await commitCause(err), doing, (this.#root as { path?: string }).path ?? this.name);
    } finally {
      this.#inFlight.delete(done);
    }
  }
}

// ---- helpers ----

/**
 * lmdb-js rejects every write of a failed commit with "Commit failed (see commitError for
 * details)" and puts the real error (ENOSPC, say) in a promise, `commitError`, that rejects
 * with it. Awaiting it both finds the cause and keeps it from being an unhandled rejection.
 */
async function commitCause(err: unknown): Promise<unknown> {
  const pending = (err as { commitError?: Promise<unknown> } | undefined)?.commitError;
  if (!pending || typeof pending.then !== 'function') return err;
  let timer: NodeJS.Timeout | undefined;
  const cause = await Promise.race([
    pending.then(
      () => err,
      (real: unknown) => real,
    ),
    new Promise<unknown>((resolve) => {
      timer = setTimeout(() => resolve(err), 1000);
    }),
  ]);
  clearTimeout(timer);
  return cause;
}

function toItem<P>(seq: number, stored: StoredItem<P>, lease: Lease | undefined, now: number): QueueItem<P> {
  const leased = stored.state === 'ready' && lease !== undefined && lease.leaseUntil > now;
  const item: QueueItem<P> = {
    seq,
    key: stored.key,
    lane: stored.lane,
    payload: stored.payload,
    state: leased ? 'leased' : (stored.state as QueueItemState),
    enqueuedAt: stored.enqueuedAt,
    attempts: lease && stored.state === 'ready' ? Math.max(lease.attempts, stored.attempts) : stored.attempts,
  };
  if (stored.dedupeKey !== undefined) item.dedupeKey = stored.dedupeKey;
  if (leased) item.leaseUntil = lease!.leaseUntil;
  if (stored.notBefore !== undefined) item.notBefore = stored.notBefore;
  if (stored.lastError !== undefined) item.lastError = stored.lastError;
  if (stored.bytes !== undefined) item.bytes = stored.bytes;
  if (stored.deadReason !== undefined) item.deadReason = stored.deadReason;
  if (stored.deadAt !== undefined) item.deadAt = stored.deadAt;
  if (stored.doneAt !== undefined) item.doneAt = stored.doneAt;
  return item;
}

/** utf8(prefix) 0x00 seq as 8 bytes big-endian: sorts by prefix, then by seq */
function compositeKey(prefix: string, seq: number): Buffer {
  const p = Buffer.from(prefix, 'utf8');
  const b = Buffer.allocUnsafe(p.length + 9);
  p.copy(b, 0);
  b[p.length] = 0;
  b.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), p.length + 1);
  b.writeUInt32BE(seq >>> 0, p.length + 5);
  return b;
}

/** every composite key of `prefix` (prefixes hold no control characters, so no 0x00 or 0x01) */
function prefixRange(prefix: string): { start: Buffer; end: Buffer } {
  const p = Buffer.from(prefix, 'utf8');
  return { start: Buffer.concat([p, Buffer.from([0])]), end: Buffer.concat([p, Buffer.from([1])]) };
}

function seqOf(key: Uint8Array): number {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.readUInt32BE(b.length - 8) * 0x1_0000_0000 + b.readUInt32BE(b.length - 4);
}

function clip(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

function checkSeq(seq: number, op: string): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw InvalidInput(`${op}: seq must be a whole number >= 1, got ${seq}`);
}

function checkName(value: unknown, what: string, maxBytes: number, op: string): void {
  if (typeof value !== 'string' || value === '') throw InvalidInput(`${op}: ${what} must be a non-empty string`, { field: what });
  if (CONTROL_CHARS.test(value)) throw InvalidInput(`${op}: ${what} must not contain control characters`, { field: what });
  if (Buffer.byteLength(value) > maxBytes) {
    throw InvalidInput(`${op}: ${what} must be at most ${maxBytes} bytes of UTF-8`, { field: what });
  }
}

function checkAppend(input: QueueAppend<unknown>, op: string): void {
  if (typeof input !== 'object' || input === null) throw InvalidInput(`${op}: the item must be an object`);
  checkName(input.key, 'key', MAX_KEY_BYTES, op);
  checkName(input.lane, 'lane', MAX_LANE_BYTES, op);
  if (input.bytes !== undefined && !(Number.isSafeInteger(input.bytes) && input.bytes >= 0)) {
    throw InvalidInput(`${op}: bytes must be a whole number >= 0 when given, got ${input.bytes}`, { field: 'bytes' });
  }
  if (input.dedupeKey !== undefined) {
    if (typeof input.dedupeKey !== 'string' || input.dedupeKey === '') {
      throw InvalidInput(`${op}: dedupeKey must be a non-empty string when given`, { field: 'dedupeKey' });
    }
    if (Buffer.byteLength(input.dedupeKey) > MAX_KEY_BYTES) {
      throw InvalidInput(`${op}: dedupeKey must be at most ${MAX_KEY_BYTES} bytes of UTF-8`, { field: 'dedupeKey' });
    }
  }
}

function checkBound(bound: QueueBound): void {
  if (typeof bound !== 'object' || bound === null) throw InvalidInput('appendBounded: the bound must be an object');
  for (const field of ['maxItems', 'maxBytes'] as const) {
    const v = bound[field];
    if (!Number.isSafeInteger(v) || v < 1) throw InvalidInput(`appendBounded: ${field} must be a whole number >= 1, got ${v}`, { field });
  }
  if (!Array.isArray(bound.evictLanes) || !bound.evictLanes.every((l) => typeof l === 'string')) {
    throw InvalidInput('appendBounded: evictLanes must be a list of lane names', { field: 'evictLanes' });
  }
  if (bound.now !== undefined && !Number.isFinite(bound.now)) throw InvalidInput(`appendBounded: now must be a time in ms, got ${bound.now}`, { field: 'now' });
}
