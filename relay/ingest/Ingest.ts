// Accepting an item: the single place where a validated call becomes a durable queue item. Both
// the JSON records and the evidence uploads (and later resumable uploads) end here, so the
// idempotency rules hold for all of them:
//   - the same account re-sending the same record, or the same file name with the same bytes,
//     gets success again and creates no second item;
//   - the same file name with different bytes is a new item, flagged.
import type { Database, RootDatabase } from 'lmdb';
import { flag } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { QueueStore } from '../../src/store/QueueStoreTypes.ts';
import type { RelayMetrics } from '../metrics.ts';
import { queueKey, type RelayItem } from './RelayItem.ts';
import { LANES } from '../../src/contract/index.ts';

export interface Accepted {
  seq: number;
  duplicate: boolean;
}

export class Ingest {
  readonly #queue: QueueStore<RelayItem>;
  readonly #names: Database<string, string>;
  readonly #metrics: RelayMetrics;
  readonly #listeners: ((seq: number, item: RelayItem) => void)[] = [];
  /** when each mine was last heard from (since this start), for `eseal status` */
  readonly lastSeen = new Map<string, number>();

  /** Called after every new item is durable (the forwarder wakes up on it). */
  onAccepted(listener: (seq: number, item: RelayItem) => void): void {
    this.#listeners.push(listener);
  }

  constructor(queue: QueueStore<RelayItem>, root: RootDatabase, metrics: RelayMetrics) {
    this.#queue = queue;
    this.#names = root.openDB<string, string>({ name: 'evidence-names' });
    this.#metrics = metrics;
  }

  /** Stores the item durably (or finds its earlier copy). Resolves only once it is on disk. */
  async accept(item: RelayItem, lane: keyof typeof LANES): Promise<Accepted> {
    let dedupeKey: string;
    let nameKey: string | undefined;
    if (item.file) {
      nameKey = `${item.account}\u0000${item.endpoint}\u0000${item.file.name}`;
      dedupeKey = `e\u0000${nameKey}\u0000${item.file.blob}`;
      const before = this.#names.get(nameKey);
      if (before !== undefined && before !== item.file.blob) item.flags.push(flag('file.sameNameDifferentBytes', before.slice(0, 16)));
    } else {
      dedupeKey = `r\u0000${item.account}\u0000${item.endpoint}\u0000${sm3Hex(JSON.stringify(item.record ?? null))}`;
    }
    const { item: stored, duplicate } = await this.#queue.append({ key: queueKey(item), lane, payload: item, dedupeKey });
    this.lastSeen.set(item.mineId, item.receivedAt);
    if (duplicate) {
      this.#metrics.duplicates.inc({ endpoint: item.endpoint });
    } else {
      this.#metrics.accepted.inc({ endpoint: item.endpoint });
      this.#metrics.countFlags(item.endpoint, item.flags);
      if (item.file) this.#metrics.bytes.inc({ endpoint: item.endpoint }, item.file.size);
      // Only feeds the "same name, different bytes" flag: losing it in a crash costs a flag, no data.
      if (nameKey !== undefined && item.file) {
        this.#names.put(nameKey, item.file.blob).catch(() => {
          // a full disk refuses the next upload anyway; a missing name entry only costs the flag
        });
      }
      for (const l of this.#listeners) l(stored.seq, item);
    }
    return { seq: stored.seq, duplicate };
  }
}
