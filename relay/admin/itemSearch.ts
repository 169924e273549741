// Item search for the console: newest first by receivedAt, through the stats index (per mine, or
// all mines by time), reading only the items it returns or filters. An index entry whose item is
// gone (purged by a CLI while the relay was down) is passed over.
import type { ItemSummary } from '../../src/contract/admin.ts';
import { InvalidField } from '../../src/contract/index.ts';
import type { QueueItem, QueueItemState } from '../../src/store/QueueStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { indexKey, readU64 } from '../stats/StatsStore.ts';

/** index entries looked at per call at most: a rare filter answers in parts (nextBefore), never slowly */
export const MAX_SCAN = 20_000;

export interface ItemQuery {
  mine?: string;
  camera?: string;
  endpoint?: string;
  lane?: string;
  state?: QueueItemState;
  /** receivedAt >= from (ms) */
  from?: number;
  /** receivedAt < to (ms) */
  to?: number;
  /** items after this one in the order (older) */
  before?: number;
  limit: number;
}

export type { ItemSummary };

export function summaryOf(q: QueueItem<RelayItem>): ItemSummary {
  const p = q.payload;
  const out: ItemSummary = {
    seq: q.seq,
    state: q.state,
    lane: q.lane,
    endpoint: p.endpoint,
    mineId: p.mineId,
    cameraId: p.cameraId,
    account: p.account,
    receivedAt: p.receivedAt,
    attempts: q.attempts,
    flags: p.flags,
  };
  if (q.doneAt !== undefined) out.deliveredAt = q.doneAt;
  // a dead letter's reason is its last error (the upstream's refusal)
  const lastError = q.deadReason ?? q.lastError;
  if (lastError !== undefined) out.lastError = lastError;
  if (p.record) out.record = p.record;
  if (p.file) {
    const f = p.file;
    out.file = { name: f.name, size: f.size, durationMs: f.durationMs, codec: f.codec, width: f.width, height: f.height };
  }
  return out;
}

/** The summary, then everything else the queue holds of the item (its payload whole). */
export function detailOf(q: QueueItem<RelayItem>): ItemSummary & Omit<QueueItem<RelayItem>, 'payload'> & { payload: RelayItem } {
  return { ...q, ...summaryOf(q), payload: q.payload };
}

const MAX_U64 = Number.MAX_SAFE_INTEGER;

export function searchItems(ctx: RelayContext, query: ItemQuery): { items: ItemSummary[]; nextBefore?: number } {
  const { stats } = ctx;
  const prefix = query.mine;
  const db = prefix === undefined ? stats.tables.byTime : stats.tables.byMine;
  let upper = indexKey(prefix, query.to === undefined ? MAX_U64 : query.to, 0);
  if (query.before !== undefined) {
    const at = stats.receivedAtOf(query.before) ?? ctx.queue.get(query.before)?.payload.receivedAt;
    if (at === undefined) throw InvalidField(`before: item ${query.before} is not kept any more; search again without before`, { field: 'before' });
    const cursor = indexKey(prefix, at, query.before);
    if (Buffer.compare(cursor, upper) < 0) upper = cursor;
  }
  const lower = indexKey(prefix, query.from ?? 0, 0);
  const items: ItemSummary[] = [];
  let examined = 0;
  let last: number | undefined;
  for (const key of db.getKeys({ start: upper, end: lower, reverse: true, exclusiveStart: true } as never)) {
    const k = key as Buffer;
    const seq = readU64(k, k.length - 8);
    examined++;
    last = seq;
    const item = ctx.queue.get(seq);
    if (item && matches(item, query)) {
      items.push(summaryOf(item));
      if (items.length >= query.limit) return { items, nextBefore: seq };
    }
    if (examined >= MAX_SCAN) return { items, nextBefore: last };
  }
  return { items };
}

function matches(q: QueueItem<RelayItem>, f: ItemQuery): boolean {
  const p = q.payload;
  return (
    (f.camera === undefined || p.cameraId === f.camera) &&
    (f.endpoint === undefined || p.endpoint === f.endpoint) &&
    (f.lane === undefined || q.lane === f.lane) &&
    (f.state === undefined || q.state === f.state) &&
    (f.mine === undefined || p.mineId === f.mine)
  );
}
