// The durable queue between accepting an item from a mine and delivering it upstream.
//
// Ordering: items with the same `key` (mine/camera/kind) are delivered strictly in append order:
// `lease` hands out at most one item per key at a time, and only the oldest unfinished one. Items of
// different keys are independent.
//
// Durability: every method that changes state resolves only once the change is on disk (fsynced),
// so an answer given after it survives kill -9 and power loss.
//
// Capabilities (in the manner of tus-node-server's DataStore extensions): the methods marked
// optional below are what a store may offer beyond the core; the contract test
// (test/contracts/queueStoreContract.ts) runs the checks of each one a store has. The edge's outbox
// needs all of them: a size bound that evicts old evidence (`appendBounded`), a payload that changes
// (`update`: the tus upload URL of a clip), delivered items gone at once (`remove`), hand-outs given
// back without a verdict (`release`) and the time the next item is due (`dueAt`). The relay needs
// `rekey` once, when it changed how it forms keys (FIFO per account as well as per mine/camera/kind).

export type QueueItemState = 'ready' | 'leased' | 'dead' | 'done';

export interface QueueAppend<P> {
  /** FIFO key: items of one key are delivered in append order */
  key: string;
  /** priority lane (the contract's lanes are LANES in src/contract/endpoints.ts) */
  lane: string;
  payload: P;
  /**
   * What the item weighs against a byte bound (`appendBounded`): a clip's size, say. Kept with the
   * item and summed in `stats().bytes` over pending and dead items; default 0.
   */
  bytes?: number;
  /**
   * Idempotency key. If an item with the same dedupeKey was appended before (and not purged),
   * nothing is written and the existing item is returned with `duplicate: true`.
   */
  dedupeKey?: string;
}

export interface QueueItem<P = unknown> {
  /** global, strictly increasing append sequence number (starts at 1) */
  seq: number;
  key: string;
  lane: string;
  payload: P;
  dedupeKey?: string;
  /** as appended (absent: 0) */
  bytes?: number;
  state: QueueItemState;
  /** ms since epoch */
  enqueuedAt: number;
  /** delivery attempts started so far */
  attempts: number;
  /** while leased: ms since epoch when the lease lapses and the item is ready again */
  leaseUntil?: number;
  /** while ready after a failure: not to be leased before this time (ms) */
  notBefore?: number;
  lastError?: string;
  /** when dead: why (the upstream's answer) */
  deadReason?: string;
  /** when dead: since when (ms since epoch) */
  deadAt?: number;
  /** when done: ms since epoch */
  doneAt?: number;
}

export interface AppendResult<P> {
  item: QueueItem<P>;
  duplicate: boolean;
}

export interface LeaseOptions {
  /** only items of this lane (default: any) */
  lane?: string;
  /** most items to return */
  max: number;
  /** how long the lease holds before the item becomes ready again */
  leaseMs: number;
  /** clock for tests (ms since epoch); default Date.now() */
  now?: number;
}

export interface RangeOptions {
  /** first seq to return (inclusive); default 1 */
  fromSeq?: number;
  limit?: number;
  state?: QueueItemState;
  lane?: string;
  key?: string;
}

export interface QueueStats {
  /** count per state */
  byState: Record<QueueItemState, number>;
  /** count of unfinished (ready + leased) items per lane */
  pendingByLane: Record<string, number>;
  /** enqueuedAt of the oldest unfinished item, if any */
  oldestPendingAt?: number;
  /** enqueuedAt of the oldest unfinished item of each lane that has one */
  oldestPendingByLane?: Record<string, number>;
  lastSeq: number;
  /** sum of `bytes` over pending and dead items (done items no longer count) */
  bytes?: number;
}

/**
 * A bound on what a queue holds, kept by `appendBounded`. Pending and dead items count; done items
 * do not (their owner purges them).
 */
export interface QueueBound {
  /** most items after the append */
  maxItems: number;
  /** most bytes (sum of `bytes`) after the append */
  maxBytes: number;
  /**
   * Lanes whose items may be evicted to make room. The oldest go first: dead items of these lanes,
   * then pending ones that are not leased (taken from the head of their key, so a key loses its
   * oldest items first). Items of other lanes are never evicted.
   */
  evictLanes: readonly string[];
  /** clock for telling live leases from lapsed ones (ms since epoch); default the store's clock */
  now?: number;
}

export interface BoundedAppendResult<P> extends AppendResult<P> {
  /** the items removed for good to make room, in the order they went (empty for a duplicate) */
  evicted: QueueItem<P>[];
}

/** One item moved to another key (`rekey`). */
export interface QueueRekey {
  seq: number;
  key: string;
}

export interface QueueStore<P = unknown> {
  append(input: QueueAppend<P>): Promise<AppendResult<P>>;
  /** Like append for many items, all in one durable commit. */
  appendMany(inputs: QueueAppend<P>[]): Promise<AppendResult<P>[]>;
  /** Lease heads of keys that are ready (not leased, notBefore passed), oldest first. */
  lease(options: LeaseOptions): Promise<QueueItem<P>[]>;
  /** Delivered: the item becomes `done`; the next item of its key becomes leasable. */
  ack(seq: number): Promise<void>;
  /** Not delivered this time: back to ready, not before `retryAt`, with the error recorded. */
  nack(seq: number, error: string, retryAt: number): Promise<void>;
  /** Definitely rejected: the item becomes `dead` with the reason; its key moves on. */
  deadLetter(seq: number, reason: string): Promise<void>;
  /** A dead item becomes ready again, ahead of later items of its key. */
  replay(seq: number): Promise<void>;
  /** Removes a done or dead item for good (never a pending one). */
  purge(seq: number): Promise<void>;
  get(seq: number): QueueItem<P> | undefined;
  findByDedupeKey(dedupeKey: string): QueueItem<P> | undefined;
  range(options?: RangeOptions): QueueItem<P>[];
  stats(): QueueStats;
  close(): Promise<void>;

  // ---- capabilities (optional; the contract test exercises each one a store has) ----

  /**
   * Append within a bound, evicting as `bound.evictLanes` says, all in one durable commit: after a
   * crash either the item is there and the evicted ones are gone, or nothing changed. When even
   * evicting everything it may leaves no room (or the item alone is over maxBytes) it rejects with
   * ESEAL_ERR_STORE_FULL and evicts nothing. A duplicate (dedupeKey) evicts nothing.
   */
  appendBounded?(input: QueueAppend<P>, bound: QueueBound): Promise<BoundedAppendResult<P>>;
  /** Replaces the payload of a pending or dead item, durably (state, lease and order stay). */
  update?(seq: number, payload: P): Promise<QueueItem<P>>;
  /**
   * Deletes an item for good whatever its state (ack and purge in one commit for a delivered item
   * whose history nobody wants; a dropped one); its key moves on. Resolves with what was removed.
   */
  remove?(seq: number): Promise<QueueItem<P>>;
  /**
   * Hands a leased item back with no verdict (the sender stops): ready at once, the attempt not
   * counted. Leases belong to the store object that gave them, so this is local and synchronous.
   */
  release?(seq: number): void;
  /**
   * When `lease` would next find something in `lane` (default any): the earliest `notBefore` of a
   * ready, unleased head (0: due at once), or undefined when every pending item is leased or none is.
   */
  dueAt?(lane?: string): number | undefined;
  /**
   * Moves items to other keys, all in one durable commit (after a crash: all moved or none). Each
   * keeps its seq, state, attempts and retry time, so among the pending items of its new key it
   * takes its place by append order, and the key it left moves on. For an owner that changes how it
   * forms keys (an upgrade), before it leases: an item whose key, old or new, holds a live lease is
   * refused (ESEAL_ERR_STORE_STATE) and nothing changes. Resolves with how many items changed key.
   */
  rekey?(changes: readonly QueueRekey[]): Promise<number>;
}
