// The upgrade to per-account FIFO keys (RelayItem.ts queueKey). A relay before it queued items
// under mine/camera/kind alone; those keep that key on disk. Left so, an account's old items and its
// new ones would be two FIFOs sent side by side, out of order, and one account's stuck head would go
// on blocking the other accounts' old items. So, once per data dir, before anything is leased or
// appended, every undelivered item (pending or dead) is moved to its per-account key, keeping its
// seq: within an account the order stays the order of arrival, old items first.
import type { RootDatabase } from 'lmdb';
import type { Logger } from '../../src/log.ts';
import type { QueueRekey, QueueStore } from '../../src/store/QueueStoreTypes.ts';
import { queueKey, type RelayItem } from '../ingest/RelayItem.ts';

const MARK = 'queueKey.perAccount';
/** items read (and moved) per commit: bounds memory on a large backlog */
const BATCH = 10_000;

function keyOf(payload: RelayItem): string | undefined {
  const p = payload as Partial<RelayItem> | undefined;
  // an item some other version wrote without these stays as it is: the forwarder dead-letters it
  if (typeof p?.account !== 'string' || typeof p.mineId !== 'string' || typeof p.cameraId !== 'string' || typeof p.endpoint !== 'string') return undefined;
  return queueKey(p as RelayItem);
}

/** Moves the items an older relay queued to their per-account keys; resolves with how many moved. */
export async function upgradeQueueKeys(queue: QueueStore<RelayItem>, root: RootDatabase, log: Logger): Promise<number> {
  const marks = root.openDB<number, string>({ name: 'relay-upgrades' });
  if (marks.get(MARK) === 1) return 0;
  let moved = 0;
  if (queue.rekey) {
    let fromSeq = 1;
    for (;;) {
      const items = queue.range({ fromSeq, limit: BATCH });
      if (!items.length) break;
      const changes: QueueRekey[] = [];
      for (const item of items) {
        if (item.state === 'done') continue; // history: its key no longer orders anything
        const key = keyOf(item.payload);
        if (key !== undefined && key !== item.key) changes.push({ seq: item.seq, key });
      }
      if (changes.length) moved += await queue.rekey(changes);
      fromSeq = items[items.length - 1]!.seq + 1;
    }
  } else {
    log.warn('the queue store cannot move items to other keys: items queued before per-account FIFO keep their mine/camera/kind order');
  }
  await marks.put(MARK, 1);
  if (moved) log.info({ moved }, 'queued items moved to per-account FIFO keys (upgrade)');
  return moved;
}
