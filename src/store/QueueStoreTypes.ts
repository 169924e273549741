// The durable queue between accepting an item from a mine and delivering it upstream.
//
// Ordering: items with the same `key` (mine/camera/kind) are delivered strictly in append order:
// `lease` hands out at most one item per key at a time, and only the oldest unfinished one. Items of
// different keys are independent.
//
// Durability: every method that changes state resolves only once the change is on disk (fsynced),
// so an answer given after it survives kill -9 and power loss.

export type QueueItemState = 'ready' | 'leased' | 'dead' | 'done';

export interface QueueAppend<P> {
  /** FIFO key: items of one key are delivered in append order */
  key: string;
  /** priority lane (see src/contract/lanes.ts) */
  lane: string;
  payload: P;
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
}
