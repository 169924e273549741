// The relay's queue with the console's aggregates kept in step: a QueueStore that wraps the LMDB
// queue (behaviour added by wrapping, not by changing the store) and, right after each change it
// passes on, queues the aggregates' update as a child transaction of the same environment.
//
// Both are queued synchronously, one after the other, so lmdb-js runs them in the same batch: one
// write transaction, one durable commit. Either both are on disk or neither (an accepted item is
// never counted twice nor lost from the counts by kill -9). Should they ever land in two commits,
// nothing is lost either: items are counted by "every seq after `through`" (StatsStore.countNew),
// which the next append and every start run again; outcomes are counted once per item.
// A failure of the aggregates' part never fails the call: the queue's change stands, the error is
// logged, and the next change (or the next start) counts what was missed.
import type { RootDatabase } from 'lmdb';
import type { Logger } from '../../src/log.ts';
import type {
  AppendResult,
  LeaseOptions,
  QueueAppend,
  QueueItem,
  QueueStats,
  QueueStore,
  RangeOptions,
} from '../../src/store/QueueStoreTypes.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import type { StatsStore } from './StatsStore.ts';

type P = RelayItem;

export class StatsQueue implements QueueStore<P> {
  readonly #inner: QueueStore<P>;
  readonly #root: RootDatabase;
  readonly #stats: StatsStore;
  readonly #log: Logger;
  #lastError = 0;

  readonly release?: QueueStore<P>['release'];
  readonly dueAt?: QueueStore<P>['dueAt'];
  readonly rekey?: QueueStore<P>['rekey'];
  readonly update?: QueueStore<P>['update'];
  readonly remove?: QueueStore<P>['remove'];

  constructor(inner: QueueStore<P>, root: RootDatabase, stats: StatsStore, log: Logger) {
    this.#inner = inner;
    this.#root = root;
    this.#stats = stats;
    this.#log = log;
    if (inner.release) this.release = (seq) => inner.release!(seq);
    if (inner.dueAt) this.dueAt = (lane) => inner.dueAt!(lane);
    if (inner.update) this.update = (seq, payload) => inner.update!(seq, payload);
    // moving items between keys changes nothing the aggregates hold
    if (inner.rekey) this.rekey = (changes) => inner.rekey!(changes);
    if (inner.remove) {
      const remove = inner.remove.bind(inner);
      this.remove = (seq) => this.#with(remove(seq), () => stats.forget(seq));
    }
  }

  /** the wrapped store's change, then the aggregates' part in the same commit */
  async #with<T>(change: Promise<T>, part: () => void): Promise<T> {
    const counted = this.#root.childTransaction(part).then(
      () => undefined,
      (err: unknown) => this.#failed(err),
    );
    const result = await change;
    await counted;
    return result;
  }

  #failed(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastError < 60_000) return; // one line a minute at most
    this.#lastError = now;
    this.#log.error({ err }, 'console aggregates: an update failed (the queue change stands; the next change or start counts it)');
  }

  append(input: QueueAppend<P>): Promise<AppendResult<P>> {
    return this.#with(this.#inner.append(input), () => this.#stats.countNew());
  }

  appendMany(inputs: QueueAppend<P>[]): Promise<AppendResult<P>[]> {
    return this.#with(this.#inner.appendMany(inputs), () => this.#stats.countNew());
  }

  ack(seq: number): Promise<void> {
    return this.#with(this.#inner.ack(seq), () => this.#stats.delivered(seq));
  }

  deadLetter(seq: number, reason: string): Promise<void> {
    return this.#with(this.#inner.deadLetter(seq, reason), () => this.#stats.dead(seq));
  }

  purge(seq: number): Promise<void> {
    return this.#with(this.#inner.purge(seq), () => this.#stats.forget(seq));
  }

  lease(options: LeaseOptions): Promise<QueueItem<P>[]> {
    return this.#inner.lease(options);
  }

  nack(seq: number, error: string, retryAt: number): Promise<void> {
    return this.#inner.nack(seq, error, retryAt);
  }

  replay(seq: number): Promise<void> {
    return this.#inner.replay(seq);
  }

  get(seq: number): QueueItem<P> | undefined {
    return this.#inner.get(seq);
  }

  findByDedupeKey(dedupeKey: string): QueueItem<P> | undefined {
    return this.#inner.findByDedupeKey(dedupeKey);
  }

  range(options?: RangeOptions): QueueItem<P>[] {
    return this.#inner.range(options);
  }

  stats(): QueueStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
