// The console's aggregates, kept beside the queue in the relay's LMDB environment so that the admin
// API answers from a few hundred rows, never from a scan of a month of items:
//
//   stats.meta    'state'                              -> { version, through }
//   stats.daily   day \0 mineId \0 endpoint            -> DailyTuple    (Beijing day of receivedAt)
//   stats.hourly  mineId \0 hour(13 digits) \0 endpoint -> [count, late]
//   stats.mines   mineId                               -> { lastSeenAt, cameras: {id: CameraAgg} }
//   stats.bySeq   seq                                  -> [mineId, receivedAt, counted]  (counted: 1 delivered, 2 dead)
//   stats.byMine  utf8(mineId) 0x00 receivedAt(8 BE) seq(8 BE) -> empty   (item search per mine)
//   stats.byTime  receivedAt(8 BE) seq(8 BE)           -> empty             (item search, all mines)
//
// `through`: every queue item with seq <= through is counted. Counting an accepted item means
// "count every item after `through`, then move it": the same code runs right after each append (in
// the same LMDB commit, see StatsQueue.ts), after a crash that split them, and once over a whole
// queue when the aggregates are new (an upgraded relay) or of another version. An item's outcome is
// counted once (the bits of `counted`), so an ack or dead letter seen twice counts once.
// The aggregates are history: purging an item removes its index entries, never its counts.
import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import { EVIDENCE_ENDPOINTS, LANES, endpointById, type Lane } from '../../src/contract/index.ts';
import type { Logger } from '../../src/log.ts';
import type { QueueItem, QueueStore } from '../../src/store/QueueStoreTypes.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { beijingDay, hourStart } from './beijingDay.ts';
import type { CameraRow, DailyRow } from './StatsTypes.ts';

export const STATS_VERSION = 1;
/** most cameras kept per mine (a mine has tens; a broken device inventing ids must not grow a row for ever) */
export const MAX_CAMERAS_PER_MINE = 256;
/** items counted per commit when catching up (an upgrade: the whole queue) */
const CATCH_UP_BATCH = 5000;

type DailyAgg = Omit<DailyRow, 'day' | 'mineId' | 'endpoint'>;
/**
 * A daily row as stored: an array, and the two tallies as flat [code, calls, …] lists, because a
 * day of a province is 10,000 rows read at once and msgpack decodes arrays several times faster
 * than maps.
 */
type DailyTuple = [
  count: number,
  sum: number,
  flagged: number,
  delivered: number,
  late: number,
  latencySumMs: number,
  latencyMaxMs: number,
  dead: number,
  rejected: number,
  firstAt: number,
  lastAt: number,
  beltStatus: (string | number)[],
  aiTypes: (string | number)[],
];

function tally(flat: (string | number)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as number;
  return out;
}

function flatten(t: Record<string, number>): (string | number)[] {
  const out: (string | number)[] = [];
  for (const k in t) out.push(k, t[k]!);
  return out;
}

function fromTuple(t: DailyTuple): DailyAgg {
  return {
    count: t[0],
    sum: t[1],
    beltStatus: tally(t[11]),
    aiTypes: tally(t[12]),
    flagged: t[2],
    delivered: t[3],
    late: t[4],
    latencySumMs: t[5],
    latencyMaxMs: t[6],
    dead: t[7],
    rejected: t[8],
    firstAt: t[9],
    lastAt: t[10],
  };
}

function toTuple(a: DailyAgg): DailyTuple {
  return [a.count, a.sum, a.flagged, a.delivered, a.late, a.latencySumMs, a.latencyMaxMs, a.dead, a.rejected, a.firstAt, a.lastAt, flatten(a.beltStatus), flatten(a.aiTypes)];
}
type HourlyAgg = [count: number, late: number];
interface CameraAgg {
  lastSeenAt: number;
  online?: boolean;
  onlineChangedAt?: number;
  liveUrl?: string;
  liveUrlAt?: number;
}
export interface MineAgg {
  lastSeenAt: number;
  cameras: Record<string, CameraAgg>;
}
type SeqEntry = [mineId: string, receivedAt: number, counted: number];
interface StatsMeta {
  version: number;
  through: number;
}

const DELIVERED = 1;
const DEAD = 2;
const EMPTY = Buffer.alloc(0);
const EVIDENCE_FORMS = new Map<string, string>(Object.values(EVIDENCE_ENDPOINTS).map((e) => [e.id, e.fileForm]));

export function emptyDaily(at: number): DailyAgg {
  return { count: 0, sum: 0, beltStatus: {}, aiTypes: {}, flagged: 0, delivered: 0, late: 0, latencySumMs: 0, latencyMaxMs: 0, dead: 0, rejected: 0, firstAt: at, lastAt: at };
}

/** What an item says for the aggregates: its sum, belt status and analysis type. */
function itemFacts(item: RelayItem): { sum: number; beltStatus?: string; aiType?: string } {
  const r = item.record;
  if (r) {
    const n = r['inWellNumber'] ?? r['outMineNumber'];
    const out: { sum: number; beltStatus?: string; aiType?: string } = { sum: n === undefined ? 0 : Number(n) || 0 };
    if (typeof r['beltStatus'] === 'string') out.beltStatus = r['beltStatus'];
    if (typeof r['aiTypeCode'] === 'string') out.aiType = r['aiTypeCode'];
    return out;
  }
  const name = item.file?.name ?? '';
  const form = EVIDENCE_FORMS.get(item.endpoint);
  // mine(12) camera(2) aiType(2) [count(4) | beltStatus(4)] time(14) .MP4 (table 5-25)
  const aiType = /^\d{16}/.test(name) ? name.slice(14, 16) : undefined;
  const four = /^\d{20}/.test(name) ? name.slice(16, 20) : undefined;
  return {
    sum: form === 'count' && four !== undefined ? Number(four) : 0,
    ...(form === 'belt' && four !== undefined ? { beltStatus: four } : {}),
    ...(aiType !== undefined ? { aiType } : {}),
  };
}

/** utf8(prefix) 0x00 a(8 BE) b(8 BE); with no prefix, a(8 BE) b(8 BE) */
export function indexKey(prefix: string | undefined, a: number, b: number): Buffer {
  const p = prefix === undefined ? EMPTY : Buffer.from(prefix + '\u0000', 'utf8');
  const out = Buffer.allocUnsafe(p.length + 16);
  p.copy(out, 0);
  writeU64(out, p.length, a);
  writeU64(out, p.length + 8, b);
  return out;
}

function writeU64(b: Buffer, at: number, n: number): void {
  const v = Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
  b.writeUInt32BE(Math.floor(v / 0x1_0000_0000), at);
  b.writeUInt32BE(v >>> 0, at + 4);
}

export function readU64(b: Uint8Array, at: number): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
}

export const dailyKey = (day: string, mineId: string, endpoint: string) => `${day}\u0000${mineId}\u0000${endpoint}`;
export const hourlyKey = (mineId: string, hour: number, endpoint: string) => `${mineId}\u0000${String(hour).padStart(13, '0')}\u0000${endpoint}`;

/**
 * Changes gathered for one commit: rows read once, changed in memory, written once. Used inside a
 * write transaction only.
 */
class Batch {
  readonly daily = new Map<string, DailyAgg>();
  readonly hourly = new Map<string, HourlyAgg>();
  readonly mines = new Map<string, MineAgg>();
  constructor(readonly s: StatsStore) {}

  day(day: string, mineId: string, endpoint: string, at: number): DailyAgg {
    const k = dailyKey(day, mineId, endpoint);
    let row = this.daily.get(k);
    if (!row) {
      const stored = this.s.tables.daily.get(k);
      row = stored ? fromTuple(stored) : emptyDaily(at);
      this.daily.set(k, row);
    }
    return row;
  }

  hour(mineId: string, hour: number, endpoint: string): HourlyAgg {
    const k = hourlyKey(mineId, hour, endpoint);
    let row = this.hourly.get(k);
    if (!row) {
      const stored = this.s.tables.hourly.get(k);
      row = stored ? [stored[0], stored[1]] : [0, 0];
      this.hourly.set(k, row);
    }
    return row;
  }

  mine(mineId: string): MineAgg {
    let row = this.mines.get(mineId);
    if (!row) {
      row = this.s.tables.mines.get(mineId) ?? { lastSeenAt: 0, cameras: {} };
      this.mines.set(mineId, row);
    }
    return row;
  }

  write(): void {
    const t = this.s.tables;
    for (const [k, v] of this.daily) t.daily.put(k, toTuple(v));
    for (const [k, v] of this.hourly) t.hourly.put(k, v);
    for (const [k, v] of this.mines) t.mines.put(k, v);
  }
}

export class StatsStore {
  readonly tables: {
    meta: Database<StatsMeta, string>;
    daily: Database<DailyTuple, string>;
    hourly: Database<HourlyAgg, string>;
    mines: Database<MineAgg, string>;
    bySeq: Database<SeqEntry, number>;
    byMine: Database<Buffer, Buffer>;
    byTime: Database<Buffer, Buffer>;
  };
  readonly #root: RootDatabase;
  readonly #queue: QueueStore<RelayItem>;

  constructor(root: RootDatabase, queue: QueueStore<RelayItem>) {
    this.#root = root;
    this.#queue = queue;
    const msgpack = { encoding: 'msgpack', useRecords: false } as DatabaseOptions;
    const binary: DatabaseOptions = { keyEncoding: 'binary', encoding: 'binary' };
    this.tables = {
      meta: root.openDB<StatsMeta, string>({ ...msgpack, name: 'stats.meta' }),
      daily: root.openDB<DailyTuple, string>({ ...msgpack, name: 'stats.daily' }),
      hourly: root.openDB<HourlyAgg, string>({ ...msgpack, name: 'stats.hourly' }),
      mines: root.openDB<MineAgg, string>({ ...msgpack, name: 'stats.mines' }),
      bySeq: root.openDB<SeqEntry, number>({ ...msgpack, name: 'stats.bySeq' }),
      byMine: root.openDB<Buffer, Buffer>({ ...binary, name: 'stats.byMine' }),
      byTime: root.openDB<Buffer, Buffer>({ ...binary, name: 'stats.byTime' }),
    };
  }

  /** every queue item with seq <= this is counted */
  get through(): number {
    return this.tables.meta.get('state')?.through ?? 0;
  }

  /**
   * At start: aggregates of another version (or none: a relay upgraded to this one) are built again
   * from the queue in one pass; items a crash left uncounted are counted. Logged when it counts any.
   */
  async open(log: Logger): Promise<number> {
    const meta = this.tables.meta.get('state');
    const started = Date.now();
    if (!meta || meta.version !== STATS_VERSION) {
      await this.#root.childTransaction(() => {
        // another version's rows are dropped (none when the aggregates are new)
        if (meta) for (const db of Object.values(this.tables) as Database<unknown, string>[]) for (const k of db.getKeys({})) db.remove(k);
        this.tables.meta.put('state', { version: STATS_VERSION, through: 0 });
      });
    }
    let counted = 0;
    for (;;) {
      const n = await this.#root.childTransaction(() => this.countNew(CATCH_UP_BATCH));
      counted += n;
      if (n < CATCH_UP_BATCH) break;
    }
    if (counted > 0 || !meta) {
      log.info(
        { counted, ms: Date.now() - started, rebuilt: !meta || meta.version !== STATS_VERSION, version: STATS_VERSION },
        'console aggregates: counted the queue items not counted yet (a first start with this version counts the whole queue once)',
      );
    }
    return counted;
  }

  // ---- inside a write transaction (StatsQueue queues these in the commit of the queue change) ----

  /** Counts up to `max` items after `through` (with their outcome when already known); returns how many it looked at. */
  countNew(max = Number.MAX_SAFE_INTEGER): number {
    const meta = this.tables.meta.get('state') ?? { version: STATS_VERSION, through: 0 };
    const items = this.#queue.range({ fromSeq: meta.through + 1, limit: Math.min(max, CATCH_UP_BATCH) });
    if (items.length === 0) return 0;
    const batch = new Batch(this);
    for (const item of items) {
      if (this.tables.bySeq.get(item.seq) !== undefined) continue;
      this.#countAccepted(batch, item);
      if (item.state === 'done') this.#countOutcome(batch, item, DELIVERED);
      else if (item.state === 'dead') this.#countOutcome(batch, item, DEAD);
    }
    batch.write();
    this.tables.meta.put('state', { version: STATS_VERSION, through: items[items.length - 1]!.seq });
    return items.length;
  }

  /** Item `seq` was delivered (counted once). */
  delivered(seq: number): void {
    this.#outcome(seq, DELIVERED);
  }

  /** Item `seq` became a dead letter (counted once per item). */
  dead(seq: number): void {
    this.#outcome(seq, DEAD);
  }

  /** Item `seq` is gone from the queue: its index entries go too. */
  forget(seq: number): void {
    const e = this.tables.bySeq.get(seq);
    if (!e) return;
    this.tables.byMine.remove(indexKey(e[0], e[1], seq));
    this.tables.byTime.remove(indexKey(undefined, e[1], seq));
    this.tables.bySeq.remove(seq);
  }

  /** A call for `mineId` refused at the door (its own commit: no queue change goes with it). */
  rejected(mineId: string, endpoint: string, at: number): Promise<unknown> {
    return this.#root.childTransaction(() => {
      const batch = new Batch(this);
      const row = batch.day(beijingDay(at), mineId, endpoint, at);
      row.rejected++;
      row.firstAt = Math.min(row.firstAt, at);
      row.lastAt = Math.max(row.lastAt, at);
      batch.write();
    });
  }

  /** whether the relay has heard of this mine (counts of refusals are kept only for those) */
  knowsMine(mineId: string): boolean {
    return this.tables.mines.get(mineId) !== undefined;
  }

  #outcome(seq: number, bit: number): void {
    const entry = this.tables.bySeq.get(seq);
    if (!entry || entry[2] & bit) return; // not counted yet (countNew will count it with its outcome), or counted
    const item = this.#queue.get(seq);
    if (!item) return;
    const batch = new Batch(this);
    this.#countOutcome(batch, item, bit);
    batch.write();
  }

  #countAccepted(batch: Batch, q: QueueItem<RelayItem>): void {
    const item = q.payload;
    const at = item.receivedAt;
    const facts = itemFacts(item);
    const row = batch.day(beijingDay(at), item.mineId, item.endpoint, at);
    row.count++;
    row.sum += facts.sum;
    if (facts.beltStatus !== undefined) row.beltStatus[facts.beltStatus] = (row.beltStatus[facts.beltStatus] ?? 0) + 1;
    if (facts.aiType !== undefined) row.aiTypes[facts.aiType] = (row.aiTypes[facts.aiType] ?? 0) + 1;
    if (item.flags.length > 0) row.flagged++;
    row.firstAt = Math.min(row.firstAt, at);
    row.lastAt = Math.max(row.lastAt, at);
    batch.hour(item.mineId, hourStart(at), item.endpoint)[0]++;

    const mine = batch.mine(item.mineId);
    mine.lastSeenAt = Math.max(mine.lastSeenAt, at);
    let cam = mine.cameras[item.cameraId];
    if (!cam && Object.keys(mine.cameras).length < MAX_CAMERAS_PER_MINE) cam = mine.cameras[item.cameraId] = { lastSeenAt: 0 };
    if (cam) {
      cam.lastSeenAt = Math.max(cam.lastSeenAt, at);
      const r = item.record;
      if (r && item.endpoint === 'camera/online-offine' && at >= (cam.onlineChangedAt ?? 0)) {
        cam.online = r['alarm'] === 1;
        cam.onlineChangedAt = at;
      }
      if (r && item.endpoint === 'camera/live' && typeof r['liveUrl'] === 'string' && at >= (cam.liveUrlAt ?? 0)) {
        cam.liveUrl = r['liveUrl'];
        cam.liveUrlAt = at;
      }
    }
    this.tables.bySeq.put(q.seq, [item.mineId, at, 0]);
    this.tables.byMine.put(indexKey(item.mineId, at, q.seq), EMPTY);
    this.tables.byTime.put(indexKey(undefined, at, q.seq), EMPTY);
  }

  #countOutcome(batch: Batch, q: QueueItem<RelayItem>, bit: number): void {
    const item = q.payload;
    const entry = this.tables.bySeq.get(q.seq) ?? [item.mineId, item.receivedAt, 0];
    if (entry[2] & bit) return;
    const row = batch.day(beijingDay(item.receivedAt), item.mineId, item.endpoint, item.receivedAt);
    if (bit === DELIVERED) {
      const latency = Math.max(0, (q.doneAt ?? Date.now()) - item.receivedAt);
      row.delivered++;
      row.latencySumMs += latency;
      row.latencyMaxMs = Math.max(row.latencyMaxMs, latency);
      const lane = (endpointById(item.endpoint) as { lane?: Lane } | undefined)?.lane ?? (q.lane as Lane);
      const budget = LANES[lane]?.budgetSeconds;
      if (budget !== undefined && latency > budget * 1000) {
        row.late++;
        batch.hour(item.mineId, hourStart(item.receivedAt), item.endpoint)[1]++;
      }
    } else {
      row.dead++;
    }
    this.tables.bySeq.put(q.seq, [entry[0], entry[1], entry[2] | bit]);
  }

  // ---- reads ----

  mine(mineId: string): MineAgg | undefined {
    return this.tables.mines.get(mineId);
  }

  allMines(): [string, MineAgg][] {
    return [...this.tables.mines.getRange({}).map(({ key, value }) => [key, value] as [string, MineAgg])];
  }

  static cameraRows(agg: MineAgg): CameraRow[] {
    return Object.entries(agg.cameras)
      .map(([cameraId, c]) => ({
        cameraId,
        lastSeenAt: c.lastSeenAt,
        ...(c.online !== undefined ? { online: c.online, onlineChangedAt: c.onlineChangedAt! } : {}),
        ...(c.liveUrl !== undefined ? { liveUrl: c.liveUrl } : {}),
      }))
      .sort((a, b) => (a.cameraId < b.cameraId ? -1 : 1));
  }

  /** Daily rows of `day` (one mine, or all). */
  *dailyOf(day: string, mineId?: string): Generator<DailyRow> {
    const prefix = mineId === undefined ? `${day}\u0000` : `${day}\u0000${mineId}\u0000`;
    for (const { key, value } of this.tables.daily.getRange({ start: prefix, end: prefix + '\uffff' })) {
      const [d, m, e] = key.split('\u0000') as [string, string, string];
      yield { day: d, mineId: m, endpoint: e, ...fromTuple(value) };
    }
  }

  /** Hourly rows of a mine from `fromMs` (inclusive) to `toMs` (exclusive). */
  *hourlyOf(mineId: string, fromMs: number, toMs: number): Generator<{ hour: number; endpoint: string; count: number; late: number }> {
    const start = `${mineId}\u0000${String(fromMs).padStart(13, '0')}`;
    const end = `${mineId}\u0000${String(toMs).padStart(13, '0')}`;
    for (const { key, value } of this.tables.hourly.getRange({ start, end })) {
      const [, h, e] = key.split('\u0000') as [string, string, string];
      yield { hour: Number(h), endpoint: e, count: value[0], late: value[1] };
    }
  }

  /** receivedAt of item `seq` while it is indexed */
  receivedAtOf(seq: number): number | undefined {
    return this.tables.bySeq.get(seq)?.[1];
  }
}
