// The edge's persistent outbox: what the analyses produced and the uplink has not taken yet. A mine
// site's link goes down for hours; a power cut can come at any moment. So every record and every
// evidence clip is on disk, fsynced, before add…() resolves, and stays there until the upstream
// answered code 0 (or it became a dead letter an operator can see and requeue).
//
// It is an application of the shared stores, not a queue of its own: the entries are items of an
// LmdbQueueStore (so the QueueStore contract test covers them) and the clips are blobs of an
// FsBlobStore. Layout, in `dir`:
//   queue/   the LMDB environment, queue `outbox` (payload: endpoint, body or fileName + blob id,
//            the tus upload URL); entry id = the item's seq
//   blobs/   the clips, content-addressed (SM3); a clip the evidence stage wrote is renamed in,
//            not copied, when it is on the same file system
// An outbox of the pre-release format (db/ and clips/ in `dir`) is not read or migrated: its
// entries are not sent. open() says so at error level and leaves it for an operator to remove.
//
// Order: status calls (camera/live, camera/online-offine) first, then records, then evidence
// (LANES in src/contract/endpoints.ts), each lane leased on its own in that order; oldest first
// within a lane; an entry waiting for its retry time is skipped, not waited for.
// Keys (the queue's FIFO unit): a status call is keyed by endpoint, mine and camera, so a camera's
// later state is never overtaken by an earlier one being retried (offline, then online, must not
// land as online, then offline). Records and clips each have a key of their own: each carries its
// own time, the platform orders nothing by arrival, the relay dedupes a repeat and keeps its own
// FIFO per camera upstream; so one that fails waits for its retry alone and the others, of the
// same camera too, go on (and go in parallel when the uploader has several workers).
//
// Bounds: at most maxItems entries and maxBytes bytes (pending and dead together). To stay within
// them the oldest evidence goes first, dead letters before pending clips, never one being sent,
// each drop logged at error level and counted; the drops and the add are one commit
// (QueueStore.appendBounded). Records are never dropped: when only records are left the add is
// refused (OutboxFull) and the caller sees the error.
//
// Corrupt clips: the uploader checks each clip against its SM3 address as it sends it
// (src/store/verifiedRead.ts); one that is not what was staged is set aside (markCorrupt): a dead letter
// marked ESEAL_ERR_STORE_CORRUPT with the path of the bad file, kept, counted in stats().corrupt,
// never sent again unless requeued. `eseal edge verify` (verifyOutbox.ts) checks them all at rest.
//
// One process per outbox directory: hand-outs (next()) are the queue's in-memory leases; after a
// restart every pending entry is handed out again (at least once; the relay's dedupe makes a
// repeat harmless). Clips are shared by identical entries; the count of entries per clip is kept
// in memory, and a clip no entry names (a crash between a commit and a file delete) is removed at
// open.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LANES,
  checkEvidenceFileName,
  endpointById,
  type EvidenceEndpoint,
  type Lane,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { Full } from '../../src/store/errors.ts';
import { FsBlobStore } from '../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import type { QueueAppend, QueueItem } from '../../src/store/QueueStoreTypes.ts';
import type { BlobStore, StagedBlob } from '../../src/store/BlobStoreTypes.ts';
import type { EsealError } from '../../src/errors.ts';
import { OutboxClosed, OutboxFull, OutboxInput, OutboxNotFound, OutboxState } from './errors.ts';
import type { AddEvidenceOptions, CorruptMark, OutboxEntry, OutboxOptions, OutboxStats } from './OutboxTypes.ts';

export type * from './OutboxTypes.ts';

export const DEFAULT_MAX_ITEMS = 200_000;
export const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;
/** a hand-out lasts until its verdict or release(); the lease only needs to outlive any send */
const HAND_OUT_MS = 10 * 365 * 24 * 3600 * 1000;
const EVICTABLE: readonly Lane[] = ['evidence'];
/** lanes in the order they are served */
const LANE_NAMES = (Object.keys(LANES) as Lane[]).sort((a, b) => LANES[a].priority - LANES[b].priority);

/** The layout in the outbox's directory (verifyOutbox.ts opens the same). */
export const OUTBOX_LAYOUT = Object.freeze({ queue: 'queue', queueName: 'outbox', blobs: 'blobs', quarantine: 'quarantine' });

/** What the queue item of an entry holds. */
export interface OutboxPayload {
  /** endpoint id (src/contract/endpoints.ts) */
  endpoint: string;
  body?: Record<string, string | number>;
  fileName?: string;
  /** the clip's blob id */
  blob?: string;
  uploadUrl?: string;
  /** the clip was set aside as corrupt */
  corrupt?: CorruptMark;
}
type Payload = OutboxPayload;

/**
 * Sets an entry aside as corrupt: marked (the tus upload forgotten: a requeue starts afresh), then
 * a dead letter whose reason starts with the code. Two commits; a crash between them leaves a
 * pending entry whose next send finds the clip corrupt again.
 */
export async function setAsideCorrupt(queue: LmdbQueueStore<OutboxPayload>, item: QueueItem<OutboxPayload>, mark: CorruptMark): Promise<void> {
  const { uploadUrl: _u, ...rest } = item.payload;
  await queue.update(item.seq, { ...rest, corrupt: mark });
  if (item.state !== 'dead') await queue.deadLetter(item.seq, `${mark.code}: ${mark.reason}`);
}

/** A dead letter set aside because of its clip (a requeued one keeps no mark). */
export function isCorrupt(item: QueueItem<OutboxPayload>): boolean {
  return item.state === 'dead' && item.payload.corrupt !== undefined;
}

function seqOf(id: string): number {
  const n = /^\d{1,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw OutboxNotFound(`id: no outbox entry ${JSON.stringify(id)} (ids are whole numbers)`, { field: 'id' });
  return n;
}

/** The FIFO key of a record: per camera for status calls, one of its own otherwise (see the top). */
function keyOf(endpoint: RecordEndpoint, body: Record<string, string | number>): string {
  if (endpoint.lane !== 'status') return `${endpoint.lane}/${randomBytes(8).toString('hex')}`;
  const key = `${endpoint.id}/${encodeURIComponent(String(body['mineId'] ?? ''))}/${encodeURIComponent(String(body['cameraId'] ?? ''))}`;
  return key.length <= 256 ? key : `${endpoint.id}/${createHash('sha256').update(key).digest('hex')}`;
}

export async function openOutbox(options: OutboxOptions): Promise<Outbox> {
  return Outbox.open(options);
}

export class Outbox {
  readonly dir: string;
  /** where the clips are (a content-addressed blob store) */
  readonly clipsDir: string;
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly #queue: LmdbQueueStore<Payload>;
  readonly #blobs: FsBlobStore;

  /** the clips, content-addressed (SM3): read them to send through src/store/verifiedRead.ts */
  get blobs(): BlobStore {
    return this.#blobs;
  }
  readonly #log: Logger;
  readonly #clock: () => number;
  /** blob id -> entries naming it (plus adds under way) */
  readonly #refs = new Map<string, number>();
  /** seqs of the dead letters set aside as corrupt */
  readonly #corrupt = new Set<number>();
  #dropped = 0;
  /** the counts at close (stats() still answers once the queue is closed) */
  #final: OutboxStats | undefined;
  /** changes run one after another: a clip is never deleted while an identical one is committed */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(queue: LmdbQueueStore<Payload>, blobs: FsBlobStore, options: OutboxOptions, log: Logger, clock: () => number) {
    this.dir = options.dir;
    this.clipsDir = blobs.dir;
    this.maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#queue = queue;
    this.#blobs = blobs;
    this.#log = log;
    this.#clock = clock;
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxItems) || maxItems < 1) throw OutboxInput(`maxItems: must be a whole number >= 1, got ${maxItems}`, { field: 'maxItems' });
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw OutboxInput(`maxBytes: must be a whole number >= 1, got ${maxBytes}`, { field: 'maxBytes' });
    const log = options.log ?? createLogger({ level: 'silent' });
    const clock = options.clock ?? Date.now;
    const queue = LmdbQueueStore.open<Payload>(join(options.dir, OUTBOX_LAYOUT.queue), { name: OUTBOX_LAYOUT.queueName, clock });
    let blobs: FsBlobStore | undefined;
    try {
      blobs = await FsBlobStore.open(join(options.dir, OUTBOX_LAYOUT.blobs));
      const outbox = new Outbox(queue, blobs, options, log, clock);
      await outbox.#load();
      return outbox;
    } catch (err) {
      await blobs?.close();
      await queue.close();
      throw err;
    }
  }

  /** Counts the entries of each clip; removes clips no entry names (a crash between commit and delete). */
  async #load(): Promise<void> {
    for (const item of this.#queue.range()) {
      const blob = item.payload.blob;
      if (blob) this.#refs.set(blob, (this.#refs.get(blob) ?? 0) + 1);
      if (isCorrupt(item)) this.#corrupt.add(item.seq);
    }
    const stray: string[] = [];
    for await (const id of this.#blobs.list()) if (!this.#refs.has(id)) stray.push(id);
    for (const id of stray) await this.#blobs.delete(id);
    const old = ['db', 'clips'].filter((name) => existsSync(join(this.dir, name)));
    if (old.length > 0) {
      this.#log.error(
        { dir: this.dir, old },
        'an edge outbox of the pre-release format is in this folder (db/, clips/); it is not read and its entries are not sent; remove it once you no longer need it',
      );
    }
  }

  #check(): void {
    if (this.#closed) throw OutboxClosed('the edge outbox is closed');
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work, work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #view(item: QueueItem<Payload>): OutboxEntry {
    const p = item.payload;
    const base = {
      id: String(item.seq),
      lane: item.lane as Lane,
      addedAt: item.enqueuedAt,
      bytes: item.bytes ?? 0,
      // the queue counts the hand-out under way as an attempt; the outbox counts those that ended
      attempts: item.state === 'leased' ? item.attempts - 1 : item.attempts,
      retryAt: item.notBefore ?? 0,
      state: item.state === 'dead' ? ('dead' as const) : ('pending' as const),
      ...(item.lastError !== undefined ? { lastError: item.lastError } : {}),
      ...(item.deadReason !== undefined ? { deadReason: item.deadReason } : {}),
      ...(item.deadAt !== undefined ? { deadAt: item.deadAt } : {}),
    };
    if (p.blob === undefined) return { ...base, kind: 'record', endpoint: endpointById(p.endpoint) as RecordEndpoint, body: p.body ?? {} };
    return {
      ...base,
      kind: 'evidence',
      endpoint: endpointById(p.endpoint) as EvidenceEndpoint,
      fileName: p.fileName ?? '',
      path: this.#blobs.pathOf(p.blob),
      blob: p.blob,
      ...(p.uploadUrl ? { uploadUrl: p.uploadUrl } : {}),
      ...(p.corrupt ? { corrupt: { ...p.corrupt } } : {}),
    };
  }

  #item(id: string): QueueItem<Payload> {
    const item = this.#queue.get(seqOf(id));
    if (!item) throw OutboxNotFound(`id: no outbox entry ${id} (delivered, dropped, or never added)`, { field: 'id' });
    return item;
  }

  /** Appends within the bounds, dropping the oldest evidence if it must (one commit), and reports the drops. */
  async #append(input: QueueAppend<Payload>, what: string): Promise<string> {
    let result;
    try {
      result = await this.#queue.appendBounded(input, { maxItems: this.maxItems, maxBytes: this.maxBytes, evictLanes: EVICTABLE });
    } catch (err) {
      if (!Full.is(err)) throw err;
      const s = this.#queue.stats();
      const count = s.byState.ready + s.byState.leased + s.byState.dead;
      throw OutboxFull(
        `${what} refused: the outbox holds ${count} entries / ${s.bytes ?? 0} bytes (limits ${this.maxItems} / ${this.maxBytes}) and no evidence is left to drop; the upstream has not taken records for a long time`,
        { cause: err },
      );
    }
    for (const gone of result.evicted) {
      this.#dropped++;
      this.#corrupt.delete(gone.seq);
      this.#log.error(
        {
          id: String(gone.seq),
          endpoint: gone.payload.endpoint,
          fileName: gone.payload.fileName,
          state: gone.state === 'dead' ? 'dead' : 'pending',
          addedAt: gone.enqueuedAt,
          bytes: gone.bytes ?? 0,
        },
        'edge outbox full: the oldest evidence clip was dropped unsent to make room',
      );
      this.#unref(gone.payload.blob);
    }
    return String(result.item.seq);
  }

  /**
   * One entry fewer names the clip; the last one takes the file with it. The delete is queued
   * behind the change under way (the entry is gone already, so the caller need not wait for the
   * file); a file left by a crash or a failure here is removed at the next open.
   */
  #unref(blob: string | undefined): void {
    if (blob === undefined) return;
    const left = (this.#refs.get(blob) ?? 1) - 1;
    if (left > 0) {
      this.#refs.set(blob, left);
      return;
    }
    this.#refs.delete(blob);
    void this.#serial(async () => {
      // an identical clip added since then names it again
      if (!this.#refs.has(blob)) await this.#blobs.delete(blob);
    }).catch((err: unknown) => this.#log.warn({ blob, err: (err as Error).message }, 'cannot delete a clip no entry names; it goes at the next open'));
  }

  /** Queues a JSON record (infoReport/*, camera/live, camera/online-offine); durable once it resolves. */
  async addRecord(endpoint: RecordEndpoint, body: Record<string, string | number>): Promise<string> {
    this.#check();
    if (endpointById(endpoint?.id)?.kind !== 'record') throw OutboxInput(`endpoint: not a record endpoint of the contract (${JSON.stringify(endpoint?.id)})`, { field: 'endpoint' });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw OutboxInput("body: must be an object of the guide's fields", { field: 'body' });
    for (const [k, v] of Object.entries(body)) {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw OutboxInput(`body.${k}: must be a string or a number`, { field: k });
    }
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const what = `record ${endpoint.id}`;
    if (bytes > this.maxBytes) throw OutboxFull(`${what} of ${bytes} bytes is larger than the whole outbox (maxBytes ${this.maxBytes})`);
    const input: QueueAppend<Payload> = { key: keyOf(endpoint, body), lane: endpoint.lane, payload: { endpoint: endpoint.id, body: { ...body } }, bytes };
    return this.#serial(async () => {
      this.#check();
      return this.#append(input, what);
    });
  }

  /**
   * Queues an evidence clip: moved (or copied) into the outbox's blob store, fsynced, then the
   * entry committed. Once it resolves a kill -9 or a power cut loses nothing.
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
    const what = `evidence ${fileName}`;
    // refused before the clip is touched: the caller still has it
    if (size > this.maxBytes) throw OutboxFull(`${what} of ${size} bytes is larger than the whole outbox (maxBytes ${this.maxBytes})`);
    let staged: StagedBlob;
    try {
      staged = await this.#blobs.stageFile(sourcePath, { maxBytes: this.maxBytes, move: !(options.keepSource ?? false) });
    } catch (err) {
      throw OutboxInput(`sourcePath: cannot take the clip ${sourcePath} into the outbox: ${(err as Error).message}`, { field: 'sourcePath', cause: err });
    }
    return this.#serial(async () => {
      if (this.#closed) {
        await staged.discard();
        this.#check();
      }
      const blob = staged.id;
      this.#refs.set(blob, (this.#refs.get(blob) ?? 0) + 1);
      try {
        await staged.commit();
        return await this.#append(
          { key: `evidence/${randomBytes(8).toString('hex')}`, lane: endpoint.lane, payload: { endpoint: endpoint.id, fileName, blob }, bytes: staged.size },
          what,
        );
      } catch (err) {
        await staged.discard();
        this.#unref(blob);
        throw err;
      }
    });
  }

  /**
   * The next entry to send, in lane order and oldest first, whose retry time has come and that is
   * not already handed out; it stays handed out until markDelivered/markFailed/deadLetter/release.
   * `lanes` limits the search (a worker kept for status calls and records).
   */
  next(options: { now?: number; lanes?: readonly Lane[] } = {}): OutboxEntry | undefined {
    this.#check();
    const now = options.now ?? this.#clock();
    for (const lane of this.#lanes(options.lanes)) {
      const [item] = this.#queue.leaseNow({ lane, max: 1, leaseMs: HAND_OUT_MS, now });
      if (item) return this.#view(item);
    }
    return undefined;
  }

  /** When the earliest waiting entry (not handed out) becomes due; undefined when there is none. */
  nextDueAt(lanes?: readonly Lane[]): number | undefined {
    this.#check();
    let at: number | undefined;
    for (const lane of this.#lanes(lanes)) {
      const due = this.#queue.dueAt(lane);
      if (due !== undefined && (at === undefined || due < at)) at = due;
    }
    return at;
  }

  #lanes(lanes: readonly Lane[] | undefined): Lane[] {
    return lanes ? LANE_NAMES.filter((l) => lanes.includes(l)) : LANE_NAMES;
  }

  /** Pending entries in send order (handed-out ones included), without handing them out. */
  *entries(): IterableIterator<OutboxEntry> {
    this.#check();
    for (const lane of LANE_NAMES) {
      for (const item of this.#queue.range({ lane })) if (item.state === 'ready' || item.state === 'leased') yield this.#view(item);
    }
  }

  [Symbol.iterator](): IterableIterator<OutboxEntry> {
    return this.entries();
  }

  /** Dead letters, oldest first, with the reason each was refused. */
  deadLetters(): OutboxEntry[] {
    this.#check();
    return this.#queue.range({ state: 'dead' }).map((item) => this.#view(item));
  }

  get(id: string): OutboxEntry | undefined {
    this.#check();
    const item = this.#queue.get(seqOf(id));
    return item && this.#view(item);
  }

  /** The upstream answered code 0: the entry and its clip are deleted. */
  async markDelivered(id: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.state === 'dead') throw OutboxState(`id: entry ${id} is a dead letter; requeue it first`, { field: 'id' });
      await this.#queue.remove(item.seq);
      this.#unref(item.payload.blob);
    });
  }

  /** The attempt failed and is worth another at `retryAt` (ms since epoch). */
  async markFailed(id: string, reason: string, retryAt: number): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.state === 'dead') throw OutboxState(`id: entry ${id} is a dead letter`, { field: 'id' });
      await this.#queue.nack(item.seq, String(reason), Math.max(0, Math.round(retryAt)));
    });
  }

  /** The upstream refused it for good: kept as a dead letter, listed by deadLetters(), never sent again unless requeued. */
  async deadLetter(id: string, reason: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.state === 'dead') return;
      await this.#queue.deadLetter(item.seq, String(reason));
    });
  }

  /**
   * The clip of a handed-out entry is not what was staged (ESEAL_ERR_STORE_CORRUPT, from
   * checkedBlob): the entry becomes a dead letter marked corrupt, its clip is kept where it is.
   */
  async markCorrupt(id: string, error: EsealError): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.payload.blob === undefined) throw OutboxState(`id: entry ${id} is a record, not a clip`, { field: 'id' });
      const path = typeof error.detail?.['path'] === 'string' ? error.detail['path'] : this.#blobs.pathOf(item.payload.blob);
      await setAsideCorrupt(this.#queue, item, { code: error.code, reason: error.message, path, at: this.#clock() });
      this.#corrupt.add(item.seq);
    });
  }

  /** A dead letter is pending again, in its lane at its place by age (an operator fixed the cause). */
  async requeue(id: string): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.state !== 'dead') throw OutboxState(`id: entry ${id} is not a dead letter`, { field: 'id' });
      if (item.payload.corrupt) {
        const { corrupt: _c, ...rest } = item.payload;
        await this.#queue.update(item.seq, rest);
      }
      await this.#queue.replay(item.seq);
      this.#corrupt.delete(item.seq);
    });
  }

  /** Remembers the resumable upload of a clip, so that the next attempt (after a restart too) resumes it. */
  async setUploadUrl(id: string, uploadUrl: string | undefined): Promise<void> {
    this.#check();
    return this.#serial(async () => {
      const item = this.#item(id);
      if (item.payload.blob === undefined) throw OutboxState(`id: entry ${id} is a record, not a clip`, { field: 'id' });
      if (item.payload.uploadUrl === uploadUrl) return;
      const { uploadUrl: _u, ...rest } = item.payload;
      await this.#queue.update(item.seq, uploadUrl ? { ...rest, uploadUrl } : rest);
    });
  }

  /** Hands an entry back without a verdict (the uploader stops): next() may hand it out again. */
  release(id: string): void {
    const seq = seqOf(id);
    if (!this.#closed) this.#queue.release(seq);
  }

  stats(): OutboxStats {
    if (this.#final) return { ...this.#final, pendingByLane: { ...this.#final.pendingByLane } };
    const s = this.#queue.stats();
    const pendingByLane = Object.fromEntries(LANE_NAMES.map((l) => [l, s.pendingByLane[l] ?? 0])) as Record<Lane, number>;
    return {
      pending: s.byState.ready + s.byState.leased,
      pendingByLane,
      inFlight: s.byState.leased,
      dead: s.byState.dead,
      bytes: s.bytes ?? 0,
      dropped: this.#dropped,
      corrupt: this.#corrupt.size,
      maxItems: this.maxItems,
      maxBytes: this.maxBytes,
    };
  }

  /** Waits for the changes under way, then closes the queue and the blob store. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = (async () => {
        // changes under way, and the clip deletes they queued in turn
        for (let seen; seen !== this.#chain; ) {
          seen = this.#chain;
          await seen;
        }
        this.#final = { ...this.stats(), inFlight: 0 };
        await this.#queue.close();
        await this.#blobs.close();
      })();
    }
    return this.#closing;
  }
}
