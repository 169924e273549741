// The aggregates' rules on a real LMDB: the Beijing day, outcomes counted once, a change that
// reached the queue without its counts (a split commit) counted at the next start.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { createLogger } from '../../../src/log.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../../../src/store/lmdb/open.ts';
import { queueKey, type RelayItem } from '../../../relay/ingest/RelayItem.ts';
import { beijingDay, beijingDayStart } from '../../../relay/stats/beijingDay.ts';
import { StatsQueue } from '../../../relay/stats/StatsQueue.ts';
import { StatsStore } from '../../../relay/stats/StatsStore.ts';
import { tempDir } from '../../helpers/relay.ts';

const log = createLogger({ level: 'silent' });
const MINE = '140421007866';

function person(receivedAt: number, n: string, seqTag: string): RelayItem {
  return {
    v: 1,
    endpoint: 'infoReport/person',
    account: 'a',
    mineId: MINE,
    cameraId: '20',
    receivedAt,
    requestId: seqTag,
    from: '127.0.0.1',
    flags: n === '0009' ? ['value.normalised:inWellNumber'] : [],
    record: { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: n, time: seqTag },
  };
}

async function open(t: Test, dir: string) {
  const root = openLmdb(join(dir, 'db'));
  const inner = new LmdbQueueStore<RelayItem>(root, { name: 'queue' });
  const stats = new StatsStore(root, inner);
  await stats.open(log);
  const queue = new StatsQueue(inner, root, stats, log);
  t.teardown(() => root.close());
  return { root, inner, stats, queue };
}

const append = (q: { append: LmdbQueueStore<RelayItem>['append'] }, item: RelayItem) =>
  q.append({ key: queueKey(item), lane: 'record', payload: item, dedupeKey: item.requestId });

t.test('the Beijing day: UTC+8 whatever the TZ', async (t) => {
  t.equal(beijingDay(Date.UTC(2026, 0, 1, 15, 59, 59)), '2026-01-01');
  t.equal(beijingDay(Date.UTC(2026, 0, 1, 16, 0, 0)), '2026-01-02', '16:00 UTC is midnight in Beijing');
  t.equal(beijingDayStart('2026-01-02'), Date.UTC(2026, 0, 1, 16));
  t.equal(beijingDayStart('2026-02-30'), undefined, 'not a real date');
});

t.test('counts by Beijing day, duplicates once, outcomes once, purge keeps counts', async (t) => {
  const dir = await tempDir(t);
  const { queue, stats } = await open(t, dir);
  const late = Date.UTC(2026, 0, 1, 16, 30); // 2026-01-02 00:30 in Beijing
  const a = await append(queue, person(late, '0004', 'a'));
  const again = await append(queue, person(late, '0004', 'a'));
  t.ok(again.duplicate);
  await append(queue, person(late + 1000, '0009', 'b'));
  let rows = [...stats.dailyOf('2026-01-02')];
  t.match(rows, [{ day: '2026-01-02', mineId: MINE, endpoint: 'infoReport/person', count: 2, sum: 13, flagged: 1 }]);
  t.same([...stats.dailyOf('2026-01-01')], [], 'nothing on the UTC day');
  const [leased] = await queue.lease({ max: 1, leaseMs: 10_000 });
  t.equal(leased!.seq, a.item.seq);
  await queue.ack(a.item.seq);
  await queue.ack(a.item.seq); // a second ack changes nothing
  const [b] = await queue.lease({ max: 1, leaseMs: 10_000 });
  await queue.deadLetter(b!.seq, 'no');
  await queue.replay(b!.seq);
  await queue.lease({ max: 1, leaseMs: 10_000 });
  await queue.deadLetter(b!.seq, 'no again');
  rows = [...stats.dailyOf('2026-01-02')];
  // received in 2026 and delivered now: years late
  t.match(rows, [{ count: 2, delivered: 1, late: 1, dead: 1 }], 'delivered once, dead once per item');
  t.ok(rows[0]!.latencyMaxMs > 86_400_000);
  t.match([...stats.hourlyOf(MINE, beijingDayStart('2026-01-02')!, beijingDayStart('2026-01-03')!)], [{ hour: Date.UTC(2026, 0, 1, 16), count: 2, late: 1 }]);
  await queue.purge(a.item.seq);
  t.equal(stats.receivedAtOf(a.item.seq), undefined, 'the index entry went with the item');
  t.match([...stats.dailyOf('2026-01-02')], [{ count: 2, delivered: 1 }], 'the counts stay');
});

t.test('an item the counts missed (a split commit) is counted at the next start, once', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir);
  await append(first.queue, person(Date.now(), '0001', 'x'));
  // straight into the queue, as if the crash fell between the two commits
  await append(first.inner, person(Date.now(), '0002', 'y'));
  const day = beijingDay(Date.now());
  t.match([...first.stats.dailyOf(day)], [{ count: 1 }]);
  await first.root.close();
  const second = await open(t, dir);
  t.match([...second.stats.dailyOf(day)], [{ count: 2, sum: 3 }], 'counted at start');
  await append(second.queue, person(Date.now(), '0004', 'z'));
  t.match([...second.stats.dailyOf(day)], [{ count: 3, sum: 7 }], 'and not again');
});
