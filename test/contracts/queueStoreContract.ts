// The contract every QueueStore implementation passes (in the manner of tus-node-server's
// DataStore tests): one factory in, the same behaviour checked for LMDB today and for a
// distributed queue later. It covers per-key FIFO, heads-only leasing, lease expiry, notBefore,
// ack/nack/dead/replay/purge, dedupe, atomic appendMany, stats after each step, what survives a
// reopen, and a fast-check run of random operations against a small model of the queue.
// The optional capabilities (appendBounded, update, remove, release, dueAt, rekey) are checked for every
// store that has them, each in its own test (the model run covers the core only).

import fc from 'fast-check';
import type { Test } from 'tap';
import type { QueueAppend, QueueItem, QueueItemState, QueueStats, QueueStore } from '../../src/store/QueueStoreTypes.ts';

export interface QueueStoreHarness {
  /** Opens the store; after the last one was closed, opens it again over the same data. */
  open(): Promise<QueueStore<unknown>>;
  /** Removes everything the harness made. Called once, after the last store was closed. */
  cleanup(): Promise<void>;
}

export interface QueueStoreFactoryOptions {
  /** the store's clock (ms since epoch): enqueuedAt, doneAt, and live vs lapsed leases */
  clock: () => number;
}

/** Makes a fresh, empty store (on its own data) each time it is called. */
export type QueueStoreFactory = (options: QueueStoreFactoryOptions) => Promise<QueueStoreHarness>;

interface Fixture {
  store: QueueStore<unknown>;
  /** closes the store and opens it again over the same data */
  reopen(): Promise<QueueStore<unknown>>;
  clock: { now: number };
}

type Code =
  | 'ESEAL_ERR_STORE_NOT_FOUND'
  | 'ESEAL_ERR_STORE_PENDING'
  | 'ESEAL_ERR_STORE_STATE'
  | 'ESEAL_ERR_STORE_INVALID'
  | 'ESEAL_ERR_STORE_CLOSED'
  | 'ESEAL_ERR_STORE_FULL';

const LEASE = 60_000;
const T0 = 1_700_000_000_000;

async function fixture(t: Test, factory: QueueStoreFactory): Promise<Fixture> {
  const clock = { now: T0 };
  const harness = await factory({ clock: () => clock.now });
  const f: Fixture = {
    store: await harness.open(),
    clock,
    async reopen() {
      await f.store.close();
      f.store = await harness.open();
      return f.store;
    },
  };
  t.teardown(async () => {
    await f.store.close();
    await harness.cleanup();
  });
  return f;
}

const item = (key: string, n: number, extra: Partial<QueueAppend<unknown>> = {}): QueueAppend<unknown> => ({
  key,
  lane: 'record',
  payload: { key, n },
  ...extra,
});

const seqs = (items: QueueItem<unknown>[]) => items.map((i) => i.seq);

function expectStats(
  t: Test,
  store: QueueStore<unknown>,
  want: Partial<Record<QueueItemState, number>> & { lastSeq: number; pendingByLane?: Record<string, number> },
  msg: string,
): QueueStats {
  const stats = store.stats();
  t.strictSame(
    stats.byState,
    { ready: want.ready ?? 0, leased: want.leased ?? 0, dead: want.dead ?? 0, done: want.done ?? 0 },
    `${msg}: counts by state`,
  );
  t.equal(stats.lastSeq, want.lastSeq, `${msg}: lastSeq`);
  if (want.pendingByLane) t.strictSame(stats.pendingByLane, want.pendingByLane, `${msg}: pending by lane`);
  return stats;
}

async function rejectsWith(t: Test, promise: Promise<unknown>, code: Code, msg: string): Promise<void> {
  await t.rejects(promise, { code }, msg);
}

export async function queueStoreContract(t: Test, name: string, factory: QueueStoreFactory): Promise<void> {
  await t.test(`${name} passes the QueueStore contract`, async (t) => {
    t.test('append numbers items from 1 and keeps what it was given', async (t) => {
      const { store, clock } = await fixture(t, factory);
      expectStats(t, store, { lastSeq: 0, pendingByLane: {} }, 'empty');
      t.equal(store.stats().oldestPendingAt, undefined, 'no oldest pending when empty');
      const a = await store.append({ key: 'm1/c1/record', lane: 'record', payload: { text: '封条', n: 1, nested: { list: [1, 'two', null] } } });
      t.strictSame(a.duplicate, false);
      t.match(a.item, { seq: 1, key: 'm1/c1/record', lane: 'record', state: 'ready', attempts: 0, enqueuedAt: T0 });
      t.strictSame(a.item.payload, { text: '封条', n: 1, nested: { list: [1, 'two', null] } });
      expectStats(t, store, { ready: 1, lastSeq: 1, pendingByLane: { record: 1 } }, 'after one append');
      clock.now += 10;
      const b = await store.append({ key: 'm1/c2/video', lane: 'video', payload: 'just a string' });
      t.equal(b.item.seq, 2);
      t.equal(b.item.enqueuedAt, T0 + 10);
      t.strictSame(store.get(1), a.item, 'get returns what append returned');
      t.strictSame(store.get(2)?.payload, 'just a string');
      t.equal(store.get(3), undefined, 'no item 3');
      const stats = expectStats(t, store, { ready: 2, lastSeq: 2, pendingByLane: { record: 1, video: 1 } }, 'after two appends');
      t.equal(stats.oldestPendingAt, T0, 'oldest pending is the first');
    });

    t.test('lease hands out only the head of each key, oldest first, FIFO per key with interleaved keys', async (t) => {
      const { store } = await fixture(t, factory);
      // A1 B1 A2 C1 B2 A3 -> heads A1 B1 C1
      for (const [key, n] of [['A', 1], ['B', 1], ['A', 2], ['C', 1], ['B', 2], ['A', 3]] as const) await store.append(item(key, n));
      const first = await store.lease({ max: 10, leaseMs: LEASE });
      t.strictSame(seqs(first), [1, 2, 4], 'the three heads, in seq order');
      t.ok(first.every((i) => i.state === 'leased' && i.leaseUntil === T0 + LEASE && i.attempts === 1), 'leased, with lease end and attempt 1');
      expectStats(t, store, { ready: 3, leased: 3, lastSeq: 6 }, 'three leased');
      t.strictSame(await store.lease({ max: 10, leaseMs: LEASE }), [], 'no second item of a key while its head is leased');
      t.equal(store.get(1)?.state, 'leased');
      t.equal(store.get(3)?.state, 'ready');
      await store.ack(1);
      expectStats(t, store, { ready: 3, leased: 2, done: 1, lastSeq: 6 }, 'after ack of A1');
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [3], 'A2 follows A1');
      await store.ack(2);
      await store.ack(4);
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [5], 'B2 follows B1; C is empty');
      await store.ack(3);
      await store.ack(5);
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [6], 'A3 last');
      await store.ack(6);
      t.strictSame(await store.lease({ max: 10, leaseMs: LEASE }), []);
      const stats = expectStats(t, store, { done: 6, lastSeq: 6, pendingByLane: {} }, 'all delivered');
      t.equal(stats.oldestPendingAt, undefined);
      t.equal(store.get(6)?.doneAt, T0, 'doneAt from the clock');
    });

    t.test('lease honours max and lane, and a head in another lane blocks its key', async (t) => {
      const { store } = await fixture(t, factory);
      for (let k = 0; k < 5; k++) await store.append(item(`k${k}`, 1));
      await store.append({ key: 'cam', lane: 'video', payload: 1 }); // 6
      await store.append({ key: 'cam', lane: 'record', payload: 2 }); // 7, behind 6 on the same key
      t.strictSame(seqs(await store.lease({ max: 2, leaseMs: LEASE })), [1, 2], 'the two oldest heads');
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE, lane: 'record' })), [3, 4, 5], 'record lane only; 7 waits for 6');
      t.strictSame(seqs(await store.lease({ max: 0, leaseMs: LEASE })), [], 'max 0');
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE, lane: 'nothing-here' })), []);
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE, lane: 'video' })), [6]);
      await store.ack(6);
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE, lane: 'video' })), [], '7 is in the record lane');
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE, lane: 'record' })), [7]);
      expectStats(t, store, { leased: 6, done: 1, lastSeq: 7, pendingByLane: { record: 6 } }, 'after lane leases');
    });

    t.test('a lease lapses after leaseMs and the item is handed out again', async (t) => {
      const { store, clock } = await fixture(t, factory);
      await store.append(item('A', 1));
      await store.append(item('A', 2));
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: 1000 })), [1]);
      clock.now = T0 + 999;
      t.strictSame(await store.lease({ max: 5, leaseMs: 1000 }), [], 'still leased 1 ms before it lapses');
      t.equal(store.get(1)?.state, 'leased');
      expectStats(t, store, { ready: 1, leased: 1, lastSeq: 2 }, 'leased');
      clock.now = T0 + 1000;
      t.equal(store.get(1)?.state, 'ready', 'lapsed: ready again');
      expectStats(t, store, { ready: 2, lastSeq: 2 }, 'lapsed');
      const again = await store.lease({ max: 5, leaseMs: 1000 });
      t.strictSame(seqs(again), [1], 'the same head again, not the next item');
      t.equal(again[0]?.attempts, 2, 'a second attempt');
      // `now` in the options overrides the clock
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: 1000, now: T0 + 5000 })), [1], 'lease with an explicit now');
    });

    t.test('nack keeps the head, records the error and holds it until retryAt', async (t) => {
      const { store, clock } = await fixture(t, factory);
      await store.append(item('A', 1));
      await store.append(item('A', 2));
      await store.append(item('B', 1));
      await store.lease({ max: 5, leaseMs: LEASE });
      await store.nack(1, 'upstream 502', T0 + 5000);
      t.match(store.get(1), { state: 'ready', attempts: 1, lastError: 'upstream 502', notBefore: T0 + 5000 });
      expectStats(t, store, { ready: 2, leased: 1, lastSeq: 3 }, 'after nack');
      clock.now = T0 + 4999;
      t.strictSame(await store.lease({ max: 5, leaseMs: LEASE }), [], 'not before retryAt, and 2 waits behind 1');
      clock.now = T0 + 5000;
      const again = await store.lease({ max: 5, leaseMs: LEASE });
      t.strictSame(seqs(again), [1], 'retried at retryAt');
      t.equal(again[0]?.attempts, 2);
      await store.nack(1, 'timeout', T0 + 6000);
      t.match(store.get(1), { attempts: 2, lastError: 'timeout', notBefore: T0 + 6000 });
      clock.now = T0 + 6000;
      await store.lease({ max: 5, leaseMs: LEASE });
      await store.ack(1);
      t.match(store.get(1), { state: 'done', attempts: 3, doneAt: T0 + 6000 });
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [2]);
    });

    t.test('dead items do not block their key; replay makes them the head again', async (t) => {
      const { store } = await fixture(t, factory);
      for (let n = 1; n <= 3; n++) await store.append(item('A', n));
      await store.lease({ max: 5, leaseMs: LEASE });
      await store.deadLetter(1, 'code 1: bad mineId');
      t.match(store.get(1), { state: 'dead', deadReason: 'code 1: bad mineId', attempts: 1 });
      expectStats(t, store, { ready: 2, dead: 1, lastSeq: 3, pendingByLane: { record: 2 } }, 'after deadLetter');
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [2], 'the key moved on');
      await store.replay(1);
      t.match(store.get(1), { state: 'ready', attempts: 1 });
      t.equal(store.get(1)?.deadReason, undefined, 'the dead reason is gone');
      expectStats(t, store, { ready: 2, leased: 1, lastSeq: 3, pendingByLane: { record: 3 } }, 'after replay');
      t.strictSame(await store.lease({ max: 5, leaseMs: LEASE }), [], 'still one leased item per key (2 is out)');
      await store.ack(2);
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [1], 'the replayed item, older, before 3');
      await store.ack(1);
      t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [3]);
      // replay while nothing of the key is out: it is simply the head
      await store.deadLetter(3, 'gone');
      await store.replay(3);
      await store.lease({ max: 5, leaseMs: LEASE });
      t.equal(store.get(3)?.state, 'leased');
    });

    t.test('wrong states and unknown items are refused with typed errors', async (t) => {
      const { store } = await fixture(t, factory);
      await store.append(item('A', 1));
      await store.append(item('A', 2));
      for (const op of ['ack', 'nack', 'deadLetter', 'replay', 'purge'] as const) {
        const call = op === 'nack' ? store.nack(99, 'x', T0) : op === 'deadLetter' ? store.deadLetter(99, 'x') : store[op](99);
        await rejectsWith(t, call, 'ESEAL_ERR_STORE_NOT_FOUND', `${op} of an unknown seq`);
      }
      await rejectsWith(t, store.purge(1), 'ESEAL_ERR_STORE_PENDING', 'purge of a ready item');
      await store.lease({ max: 1, leaseMs: LEASE });
      await rejectsWith(t, store.purge(1), 'ESEAL_ERR_STORE_PENDING', 'purge of a leased item');
      await rejectsWith(t, store.purge(2), 'ESEAL_ERR_STORE_PENDING', 'purge of a waiting item');
      await store.ack(1);
      await store.ack(1);
      t.equal(store.get(1)?.state, 'done', 'a second ack changes nothing');
      await rejectsWith(t, store.replay(1), 'ESEAL_ERR_STORE_STATE', 'replay of a done item');
      await rejectsWith(t, store.nack(1, 'x', T0), 'ESEAL_ERR_STORE_STATE', 'nack of a done item');
      await rejectsWith(t, store.deadLetter(1, 'x'), 'ESEAL_ERR_STORE_STATE', 'deadLetter of a done item');
      await store.deadLetter(2, 'no');
      await store.deadLetter(2, 'no again');
      t.equal(store.get(2)?.deadReason, 'no', 'a second deadLetter changes nothing');
      await rejectsWith(t, store.ack(2), 'ESEAL_ERR_STORE_STATE', 'ack of a dead item');
      await rejectsWith(t, store.nack(2, 'x', T0), 'ESEAL_ERR_STORE_STATE', 'nack of a dead item');
      await rejectsWith(t, store.ack(0), 'ESEAL_ERR_STORE_INVALID', 'seq 0');
      await rejectsWith(t, store.append({ key: '', lane: 'record', payload: 1 }), 'ESEAL_ERR_STORE_INVALID', 'empty key');
      await rejectsWith(t, store.append({ key: 'k', lane: '', payload: 1 }), 'ESEAL_ERR_STORE_INVALID', 'empty lane');
      await rejectsWith(t, store.lease({ max: -1, leaseMs: 1 }), 'ESEAL_ERR_STORE_INVALID', 'negative max');
      expectStats(t, store, { done: 1, dead: 1, lastSeq: 2 }, 'nothing changed by the refusals');
    });

    t.test('purge removes done and dead items for good; seq is never reused', async (t) => {
      const { store } = await fixture(t, factory);
      await store.append(item('A', 1, { dedupeKey: 'd1' }));
      await store.append(item('A', 2));
      await store.append(item('B', 1));
      await store.ack(1);
      await store.deadLetter(3, 'bad');
      await store.purge(1);
      t.equal(store.get(1), undefined);
      expectStats(t, store, { ready: 1, dead: 1, lastSeq: 3 }, 'after purge of a done item');
      await store.purge(3);
      expectStats(t, store, { ready: 1, lastSeq: 3 }, 'after purge of a dead item');
      await rejectsWith(t, store.purge(3), 'ESEAL_ERR_STORE_NOT_FOUND', 'purged already');
      t.equal(store.findByDedupeKey('d1'), undefined, 'the dedupe key went with the item');
      const again = await store.append(item('A', 1, { dedupeKey: 'd1' }));
      t.strictSame([again.item.seq, again.duplicate], [4, false], 'a purged dedupe key can be used again, with a new seq');
      await store.ack(2);
      await store.ack(4);
      await store.purge(4);
      const next = await store.append(item('C', 1));
      t.equal(next.item.seq, 5, 'the seq of the purged last item is not reused');
    });

    t.test('dedupeKey: a second append returns the first item and writes nothing', async (t) => {
      const { store } = await fixture(t, factory);
      const first = await store.append(item('A', 1, { dedupeKey: 'evidence-123' }));
      const second = await store.append({ key: 'other', lane: 'video', payload: 'different', dedupeKey: 'evidence-123' });
      t.equal(second.duplicate, true);
      t.strictSame(second.item, first.item, 'the existing item, unchanged');
      expectStats(t, store, { ready: 1, lastSeq: 1, pendingByLane: { record: 1 } }, 'nothing written');
      t.strictSame(store.findByDedupeKey('evidence-123'), first.item);
      t.equal(store.findByDedupeKey('nope'), undefined);
      // still a duplicate once delivered (until purged)
      await store.ack(1);
      const third = await store.append(item('A', 1, { dedupeKey: 'evidence-123' }));
      t.strictSame([third.duplicate, third.item.seq, third.item.state], [true, 1, 'done']);
      // within one appendMany, and against existing items
      const many = await store.appendMany([
        item('B', 1, { dedupeKey: 'x' }),
        item('B', 2, { dedupeKey: 'x' }),
        item('B', 3, { dedupeKey: 'evidence-123' }),
        item('B', 4),
      ]);
      t.strictSame(
        many.map((r) => [r.item.seq, r.duplicate]),
        [
          [2, false],
          [2, true],
          [1, true],
          [3, false],
        ],
      );
      expectStats(t, store, { ready: 2, done: 1, lastSeq: 3 }, 'two new items');
      // concurrent appends with one dedupeKey: exactly one item
      const racing = await Promise.all(Array.from({ length: 10 }, (_, n) => store.append(item('R', n, { dedupeKey: 'race' }))));
      t.equal(racing.filter((r) => !r.duplicate).length, 1, 'one winner');
      t.equal(new Set(racing.map((r) => r.item.seq)).size, 1, 'all answers name the same item');
    });

    t.test('appendMany is all or nothing, in one go', async (t) => {
      const { store } = await fixture(t, factory);
      await store.append(item('A', 1));
      t.strictSame(await store.appendMany([]), [], 'empty batch');
      await rejectsWith(
        t,
        store.appendMany([item('A', 2), item('B', 1, { dedupeKey: 'b1' }), { key: '', lane: 'record', payload: 'bad' }, item('C', 1)]),
        'ESEAL_ERR_STORE_INVALID',
        'one bad item refuses the batch',
      );
      expectStats(t, store, { ready: 1, lastSeq: 1, pendingByLane: { record: 1 } }, 'nothing of the failed batch');
      t.equal(store.findByDedupeKey('b1'), undefined, 'not even its dedupe keys');
      t.equal(store.range().length, 1);
      const ok = await store.appendMany([item('A', 2), item('B', 1), item('A', 3)]);
      t.strictSame(
        ok.map((r) => r.item.seq),
        [2, 3, 4],
        'consecutive seqs in input order',
      );
      t.ok(ok.every((r) => r.duplicate === false && r.item.state === 'ready'));
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [1, 3], 'FIFO holds across batches');
      expectStats(t, store, { ready: 2, leased: 2, lastSeq: 4 }, 'after the batch');
    });

    t.test('range filters by seq, state, lane and key', async (t) => {
      const { store } = await fixture(t, factory);
      await store.appendMany([
        item('A', 1),
        { key: 'V', lane: 'video', payload: 1 },
        item('A', 2),
        item('B', 1),
        { key: 'V', lane: 'video', payload: 2 },
      ]);
      await store.lease({ max: 1, leaseMs: LEASE }); // 1
      await store.deadLetter(4, 'bad');
      t.strictSame(seqs(store.range()), [1, 2, 3, 4, 5], 'all, in seq order');
      t.strictSame(seqs(store.range({ fromSeq: 3 })), [3, 4, 5]);
      t.strictSame(seqs(store.range({ fromSeq: 2, limit: 2 })), [2, 3]);
      t.strictSame(seqs(store.range({ state: 'leased' })), [1]);
      t.strictSame(seqs(store.range({ state: 'ready' })), [2, 3, 5]);
      t.strictSame(seqs(store.range({ state: 'dead' })), [4]);
      t.strictSame(seqs(store.range({ lane: 'video' })), [2, 5]);
      t.strictSame(seqs(store.range({ key: 'A' })), [1, 3]);
      t.strictSame(seqs(store.range({ key: 'A', state: 'ready' })), [3]);
      t.strictSame(seqs(store.range({ limit: 0 })), []);
    });

    t.test('after a reopen: leases lapse, everything else is kept, seq goes on', async (t) => {
      const f = await fixture(t, factory);
      let store = f.store;
      await store.appendMany([item('A', 1, { dedupeKey: 'a1' }), item('A', 2), item('B', 1), item('C', 1), item('D', 1)]);
      await store.lease({ max: 10, leaseMs: LEASE }); // 1 3 4 5
      await store.ack(1);
      await store.nack(3, 'http 500', T0 + 1000);
      await store.deadLetter(4, 'rejected');
      expectStats(t, store, { ready: 2, leased: 1, dead: 1, done: 1, lastSeq: 5 }, 'before reopen');
      const before = store.range().map((i) => ({ ...i }));
      store = await f.reopen();
      expectStats(t, store, { ready: 3, dead: 1, done: 1, lastSeq: 5, pendingByLane: { record: 3 } }, 'after reopen');
      t.equal(store.get(5)?.state, 'ready', 'the leased item is ready again');
      t.match(store.get(3), { state: 'ready', attempts: 1, lastError: 'http 500', notBefore: T0 + 1000 }, 'nack kept');
      t.match(store.get(4), { state: 'dead', deadReason: 'rejected' });
      t.match(store.get(1), { state: 'done', doneAt: T0 });
      for (const old of before) {
        const now = store.get(old.seq)!;
        t.strictSame(now.payload, old.payload, `payload of ${old.seq} kept`);
        t.equal(now.enqueuedAt, old.enqueuedAt);
      }
      t.equal(store.findByDedupeKey('a1')?.seq, 1, 'dedupe kept');
      t.equal((await store.append(item('A', 1, { dedupeKey: 'a1' }))).duplicate, true);
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [2, 5], 'A2 (A1 done) and D1; B waits for retryAt');
      f.clock.now = T0 + 1000;
      t.strictSame(seqs(await store.lease({ max: 10, leaseMs: LEASE })), [3]);
      const next = await store.append(item('E', 1));
      t.equal(next.item.seq, 6, 'seq continues after the reopen');
      store = await f.reopen();
      t.equal((await store.append(item('E', 2))).item.seq, 7, 'and after another');
      t.equal(store.stats().oldestPendingAt, T0, 'oldest pending from the stored items');
    });

    t.test('concurrent appends get distinct, consecutive seqs and all persist', async (t) => {
      const f = await fixture(t, factory);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) => f.store.append({ key: `k${n % 7}`, lane: n % 2 ? 'video' : 'record', payload: n })),
      );
      const got = results.map((r) => r.item.seq).sort((a, b) => a - b);
      t.strictSame(got, Array.from({ length: 200 }, (_, i) => i + 1));
      const store = await f.reopen();
      t.equal(store.range().length, 200);
      expectStats(t, store, { ready: 200, lastSeq: 200, pendingByLane: { record: 100, video: 100 } }, 'after reopen');
      // per key, seq order is append order: payloads of one key increase with seq
      for (let k = 0; k < 7; k++) {
        const payloads = store.range({ key: `k${k}` }).map((i) => i.payload as number);
        t.strictSame(payloads, [...payloads].sort((a, b) => a - b), `key k${k} in order`);
      }
    });

    await capabilityTests(t, factory);

    t.test('a closed store refuses calls', async (t) => {
      const f = await fixture(t, factory);
      await f.store.append(item('A', 1));
      await f.store.close();
      await f.store.close(); // twice is fine
      await rejectsWith(t, f.store.append(item('A', 2)), 'ESEAL_ERR_STORE_CLOSED', 'append after close');
      await rejectsWith(t, f.store.lease({ max: 1, leaseMs: 1 }), 'ESEAL_ERR_STORE_CLOSED', 'lease after close');
      const store = await f.reopen();
      t.equal(store.stats().lastSeq, 1);
    });

    t.test('random operations agree with a model of the queue (fast-check)', async (t) => {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 60, size: 'max' }), async (ops) => {
          const clock = { now: T0 };
          const harness = await factory({ clock: () => clock.now });
          let store = await harness.open();
          const model = new QueueModel();
          try {
            for (const op of ops) {
              const what = JSON.stringify(op);
              switch (op.kind) {
                case 'append': {
                  const got = await store.append(op.input);
                  const want = model.append(op.input, clock.now);
                  if (got.item.seq !== want.seq || got.duplicate !== want.duplicate) throw new Error(`${what}: store ${got.item.seq}/${got.duplicate} model ${want.seq}/${want.duplicate}`);
                  break;
                }
                case 'appendMany': {
                  const got = await store.appendMany(op.inputs);
                  const want = op.inputs.map((input) => model.append(input, clock.now));
                  if (JSON.stringify(got.map((r) => [r.item.seq, r.duplicate])) !== JSON.stringify(want.map((r) => [r.seq, r.duplicate]))) {
                    throw new Error(`${what}: appendMany disagrees`);
                  }
                  break;
                }
                case 'lease': {
                  const options = { max: op.max, leaseMs: op.leaseMs, ...(op.lane ? { lane: op.lane } : {}) };
                  const got = seqs(await store.lease(options));
                  const want = model.lease(op.lane, op.max, op.leaseMs, clock.now);
                  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what} at +${clock.now - T0}: store ${got} model ${want}`);
                  break;
                }
                case 'tick':
                  clock.now += op.ms;
                  break;
                case 'reopen':
                  await store.close();
                  store = await harness.open();
                  model.leases.clear();
                  break;
                default: {
                  const seq = model.pick(op.pick);
                  const expected = model.apply(op.kind, seq, clock.now + op.delay);
                  const call =
                    op.kind === 'nack'
                      ? store.nack(seq, 'retry', clock.now + op.delay)
                      : op.kind === 'deadLetter'
                        ? store.deadLetter(seq, 'dead')
                        : store[op.kind](seq);
                  const outcome = await call.then(
                    () => 'ok',
                    (err: { code?: string }) => err.code ?? String(err),
                  );
                  if (outcome !== expected) throw new Error(`${op.kind}(${seq}): store ${outcome}, model ${expected}`);
                }
              }
              model.check(store, clock.now, what);
            }
          } finally {
            await store.close();
            await harness.cleanup();
          }
        }),
        { numRuns: 100 },
      );
      t.pass('store and model agreed on every run');
    });
  });
}

/** The checks of the optional capabilities, each skipped (and said so) for a store without it. */
async function capabilityTests(t: Test, factory: QueueStoreFactory): Promise<void> {
  const probe = await factory({ clock: () => T0 });
  const s = await probe.open();
  const has = {
    appendBounded: typeof s.appendBounded === 'function',
    update: typeof s.update === 'function',
    remove: typeof s.remove === 'function',
    release: typeof s.release === 'function',
    dueAt: typeof s.dueAt === 'function',
    rekey: typeof s.rekey === 'function',
  };
  await s.close();
  await probe.cleanup();
  const video = (n: number, bytes: number, extra: Partial<QueueAppend<unknown>> = {}): QueueAppend<unknown> => ({
    key: `v${n}`,
    lane: 'video',
    payload: { clip: n },
    bytes,
    ...extra,
  });

  t.test('appendBounded: dead first, then the oldest unleased pending of the evictable lanes, atomically', { skip: !has.appendBounded && 'no appendBounded' }, async (t) => {
    const f = await fixture(t, factory);
    const append = (input: QueueAppend<unknown>, bound = { maxItems: 4, maxBytes: 1000, evictLanes: ['video'] }) => f.store.appendBounded!(input, bound);
    for (let n = 1; n <= 3; n++) t.strictSame((await append(video(n, 300))).evicted, [], `v${n} fits`);
    t.strictSame((await append(item('R', 1, { bytes: 10 }))).evicted, []);
    t.equal(f.store.stats().bytes, 910, 'bytes of pending items summed');
    t.equal(f.store.get(1)?.bytes, 300, 'an item keeps its bytes');
    t.equal(f.store.get(4)?.bytes, 10);
    t.strictSame(seqs(await f.store.lease({ lane: 'video', max: 1, leaseMs: LEASE })), [1]);
    await f.store.deadLetter(2, 'refused');
    t.equal(f.store.stats().bytes, 910, 'dead items still count');
    let r = await append(item('R', 2));
    t.strictSame(seqs(r.evicted), [2], 'the dead clip goes first');
    t.match(r.evicted[0], { seq: 2, state: 'dead', bytes: 300, payload: { clip: 2 } }, 'evicted items as they were');
    t.equal(f.store.get(2), undefined, 'gone for good');
    r = await append(item('R', 3));
    t.strictSame(seqs(r.evicted), [3], 'then the oldest pending one that is not leased (1 is)');
    expectStats(t, f.store, { ready: 3, leased: 1, lastSeq: 6, pendingByLane: { video: 1, record: 3 } }, 'after two evictions');
    t.equal(f.store.stats().bytes, 310);
    await rejectsWith(t, append(item('R', 4)), 'ESEAL_ERR_STORE_FULL', 'only a leased clip and records left');
    expectStats(t, f.store, { ready: 3, leased: 1, lastSeq: 6 }, 'a refused append changes nothing');
    await f.store.nack(1, 'busy', T0 + 60_000);
    r = await append(item('R', 4));
    t.strictSame(seqs(r.evicted), [1], 'an item waiting for its retry time may go');
    await rejectsWith(t, append(item('R', 5)), 'ESEAL_ERR_STORE_FULL', 'records are never evicted');
    await rejectsWith(t, append(video(9, 1001), { maxItems: 100, maxBytes: 1000, evictLanes: ['video'] }), 'ESEAL_ERR_STORE_FULL', 'larger than the bound itself');
    const store = await f.reopen();
    t.equal(store.stats().bytes, 10, 'the byte count after a reopen');
    t.equal(store.get(4)?.bytes, 10, 'bytes kept over a reopen');
    // room is made by bytes as well as by count, across the evictable lanes
    const wide = { maxItems: 100, maxBytes: 1000, evictLanes: ['video', 'other'] };
    await store.appendBounded!(video(10, 600), wide); // 8
    await store.appendBounded!({ key: 'o', lane: 'other', payload: 0, bytes: 300 }, wide); // 9
    r = await store.appendBounded!(video(11, 500), wide);
    t.strictSame(seqs(r.evicted), [8], 'by bytes, the oldest of all evictable lanes');
    r = await store.appendBounded!(video(12, 200, { dedupeKey: 'd' }), wide);
    t.strictSame(seqs(r.evicted), [9]);
    const dup = await store.appendBounded!(video(13, 900, { dedupeKey: 'd' }), wide);
    t.strictSame([dup.duplicate, dup.item.seq, dup.evicted], [true, 11, []], 'a duplicate evicts nothing');
    t.equal(store.stats().bytes, 710);
    // a lapsed lease does not protect an item
    await store.lease({ lane: 'video', max: 5, leaseMs: 1000 });
    f.clock.now += 1000;
    r = await store.appendBounded!(item('R', 6), { maxItems: 6, maxBytes: 10_000, evictLanes: ['video'] });
    t.strictSame(seqs(r.evicted), [10], 'lapsed: evictable again');
    await rejectsWith(t, store.appendBounded!(item('R', 7), { maxItems: 0, maxBytes: 1, evictLanes: [] }), 'ESEAL_ERR_STORE_INVALID', 'a bound of nothing');
    await rejectsWith(t, store.appendBounded!(item('R', 7, { bytes: -1 }), wide), 'ESEAL_ERR_STORE_INVALID', 'negative bytes');
  });

  t.test('update replaces the payload durably; state, lease and order stay', { skip: !has.update && 'no update' }, async (t) => {
    const f = await fixture(t, factory);
    await f.store.append(item('A', 1));
    await f.store.append(item('A', 2));
    await f.store.lease({ max: 5, leaseMs: LEASE });
    const got = await f.store.update!(1, { url: '/files/abc' });
    t.match(got, { seq: 1, state: 'leased', payload: { url: '/files/abc' } });
    t.equal(f.store.get(1)?.state, 'leased', 'still leased');
    await f.store.update!(2, 'second');
    const store = await f.reopen();
    t.strictSame(store.get(1)?.payload, { url: '/files/abc' }, 'kept over a reopen');
    t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [1], 'order unchanged');
    await store.deadLetter(2, 'no');
    await store.update!(2, 'dead but changed');
    t.equal(store.get(2)?.payload, 'dead but changed', 'a dead item may change');
    await store.ack(1);
    await rejectsWith(t, store.update!(1, 'x'), 'ESEAL_ERR_STORE_STATE', 'a delivered item is final');
    await rejectsWith(t, store.update!(99, 'x'), 'ESEAL_ERR_STORE_NOT_FOUND', 'unknown seq');
    await rejectsWith(t, store.update!(2, 2n ** 80n), 'ESEAL_ERR_STORE_INVALID', 'a payload that cannot be stored');
    t.equal(store.get(2)?.payload, 'dead but changed', 'and nothing changed');
  });

  t.test('remove deletes an item in any state; its key moves on', { skip: !has.remove && 'no remove' }, async (t) => {
    const f = await fixture(t, factory);
    const store = f.store;
    for (let n = 1; n <= 3; n++) await store.append(item('A', n, { dedupeKey: `a${n}`, bytes: 5 }));
    await store.append(item('B', 1));
    await store.lease({ max: 5, leaseMs: LEASE }); // 1, 4
    const removed = await store.remove!(1);
    t.match(removed, { seq: 1, state: 'leased', payload: { key: 'A', n: 1 } }, 'what was removed, as it was');
    t.equal(store.get(1), undefined);
    t.equal(store.findByDedupeKey('a1'), undefined, 'its dedupe key is free');
    t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [2], 'the key moved on');
    await store.remove!(3); // a waiting item behind the head
    await store.ack(2);
    await store.remove!(2); // done
    await store.deadLetter(4, 'no');
    await store.remove!(4); // dead
    expectStats(t, store, { lastSeq: 4, pendingByLane: {} }, 'nothing left');
    t.equal(store.stats().bytes ?? 0, 0);
    await rejectsWith(t, store.remove!(4), 'ESEAL_ERR_STORE_NOT_FOUND', 'twice');
    const again = await f.reopen();
    t.strictSame(again.range(), [], 'gone after a reopen too');
    t.equal((await again.append(item('A', 1, { dedupeKey: 'a1' }))).duplicate, false);
  });

  t.test('release hands a leased item back at once, its attempt not counted', { skip: !has.release && 'no release' }, async (t) => {
    const f = await fixture(t, factory);
    const store = f.store;
    await store.append(item('A', 1));
    await store.append(item('A', 2));
    await store.lease({ max: 5, leaseMs: LEASE });
    store.release!(1);
    t.match(store.get(1), { state: 'ready', attempts: 0 });
    expectStats(t, store, { ready: 2, lastSeq: 2 }, 'nothing leased');
    const again = await store.lease({ max: 5, leaseMs: LEASE });
    t.strictSame(seqs(again), [1], 'the same head again');
    t.equal(again[0]?.attempts, 1, 'attempt 1, not 2');
    store.release!(2); // not leased: nothing happens
    store.release!(99); // unknown: nothing happens
    t.equal(store.get(1)?.state, 'leased');
    t.throws(() => store.release!(0), { code: 'ESEAL_ERR_STORE_INVALID' });
  });

  t.test('dueAt: when lease would next find something', { skip: !has.dueAt && 'no dueAt' }, async (t) => {
    const f = await fixture(t, factory);
    const store = f.store;
    t.equal(store.dueAt!(), undefined, 'empty');
    await store.append(item('A', 1));
    await store.append({ key: 'V', lane: 'video', payload: 1 });
    t.equal(store.dueAt!(), 0, 'due at once');
    await store.lease({ max: 1, leaseMs: LEASE, lane: 'record' });
    t.equal(store.dueAt!('record'), undefined, 'its only head is leased');
    t.equal(store.dueAt!('video'), 0);
    await store.nack(1, 'busy', T0 + 500);
    t.equal(store.dueAt!('record'), T0 + 500, 'its retry time');
    await store.lease({ max: 1, leaseMs: LEASE, lane: 'video' });
    t.equal(store.dueAt!(), T0 + 500, 'over all lanes');
    t.equal(store.dueAt!('nothing-here'), undefined);
  });

  t.test('rekey moves items to other keys in append order, atomically; leased keys are refused', { skip: !has.rekey && 'no rekey' }, async (t) => {
    const f = await fixture(t, factory);
    const store = f.store;
    // key K holds items of two owners (1, 3 of a; 2 of b); b's item is retried later
    await store.append(item('K', 1));
    await store.append(item('K', 2));
    await store.append(item('K', 3));
    await store.append(item('K/b', 4));
    await store.append(item('K', 5));
    await store.deadLetter(5, 'refused');
    t.equal(await store.rekey!([]), 0, 'nothing to do');
    t.equal(await store.rekey!([{ seq: 2, key: 'K/b' }, { seq: 1, key: 'K/a' }, { seq: 3, key: 'K/a' }, { seq: 5, key: 'K/a' }, { seq: 4, key: 'K/b' }]), 4, 'four moved, one stayed');
    expectStats(t, store, { ready: 4, dead: 1, lastSeq: 5, pendingByLane: { record: 4 } }, 'counters unchanged');
    t.strictSame(seqs(store.range({ key: 'K/b' })), [2, 4]);
    t.strictSame(seqs(store.range({ key: 'K' })), [], 'the old key is empty');
    await rejectsWith(t, store.rekey!([{ seq: 5, key: 'K/c' }, { seq: 99, key: 'X' }]), 'ESEAL_ERR_STORE_NOT_FOUND', 'one change fails');
    t.equal(store.get(5)?.key, 'K/a', 'and nothing changed');
    t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [1, 2], 'the head of each new key, by seq');
    await rejectsWith(t, store.rekey!([{ seq: 3, key: 'K/c' }]), 'ESEAL_ERR_STORE_STATE', 'its old key is leased');
    await rejectsWith(t, store.rekey!([{ seq: 5, key: 'K/b' }]), 'ESEAL_ERR_STORE_STATE', 'its new key is leased');
    await store.ack(1);
    await store.ack(2);
    t.strictSame(seqs(await store.lease({ max: 5, leaseMs: LEASE })), [3, 4], 'each new key moves on');
    await store.nack(3, 'later', T0 + 1000);
    await store.nack(4, 'later', T0 + 1000);
    const again = await f.reopen();
    t.equal(await again.rekey!([{ seq: 3, key: 'K' }, { seq: 4, key: 'K' }]), 2, 'back under one key after a reopen');
    t.strictSame(seqs(await again.lease({ max: 5, leaseMs: LEASE })), [], 'its retry time moved with it');
    f.clock.now = T0 + 1000;
    t.strictSame(seqs(await again.lease({ max: 5, leaseMs: LEASE })), [3], 'then FIFO again');
    await again.replay(5);
    await again.ack(3);
    t.strictSame(seqs(await again.lease({ max: 5, leaseMs: LEASE })), [4, 5], 'a dead item keeps its new key when replayed');
    await rejectsWith(t, again.rekey!([{ seq: 1, key: '' }]), 'ESEAL_ERR_STORE_INVALID', 'an empty key');
  });
}

// ---- the model: plain arrays, obviously right, slow ----

type ItemOp = 'ack' | 'nack' | 'deadLetter' | 'replay' | 'purge';
type Operation =
  | { kind: 'append'; input: QueueAppend<unknown> }
  | { kind: 'appendMany'; inputs: QueueAppend<unknown>[] }
  | { kind: 'lease'; lane: string | undefined; max: number; leaseMs: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'reopen' }
  | { kind: ItemOp; pick: number; delay: number };

const appendInput: fc.Arbitrary<QueueAppend<unknown>> = fc
  .record({
    key: fc.constantFrom('k0', 'k1', 'k2'),
    lane: fc.constantFrom('a', 'b'),
    payload: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null)),
    dedupe: fc.option(fc.constantFrom('d0', 'd1', 'd2', 'd3', 'd4'), { freq: 3 }),
  })
  .map(({ key, lane, payload, dedupe }) => ({ key, lane, payload, ...(dedupe === null ? {} : { dedupeKey: dedupe }) }));

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { arbitrary: appendInput.map((input) => ({ kind: 'append' as const, input })), weight: 5 },
  { arbitrary: fc.array(appendInput, { minLength: 1, maxLength: 3 }).map((inputs) => ({ kind: 'appendMany' as const, inputs })), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('lease' as const),
      lane: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      max: fc.integer({ min: 1, max: 4 }),
      leaseMs: fc.integer({ min: 1, max: 50 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 0, max: 60 }).map((ms) => ({ kind: 'tick' as const, ms })), weight: 2 },
  { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom<ItemOp>('ack', 'ack', 'nack', 'deadLetter', 'deadLetter', 'replay', 'replay', 'purge'),
      pick: fc.nat(),
      delay: fc.integer({ min: 0, max: 40 }),
    }),
    weight: 5,
  },
);

interface ModelItem {
  seq: number;
  key: string;
  lane: string;
  payload: unknown;
  dedupeKey?: string;
  state: 'ready' | 'dead' | 'done';
  notBefore: number;
  enqueuedAt: number;
}

class QueueModel {
  items: ModelItem[] = [];
  lastSeq = 0;
  leases = new Map<string, { seq: number; until: number }>();

  append(input: QueueAppend<unknown>, now: number): { seq: number; duplicate: boolean } {
    const existing = input.dedupeKey === undefined ? undefined : this.items.find((i) => i.dedupeKey === input.dedupeKey);
    if (existing) return { seq: existing.seq, duplicate: true };
    const seq = ++this.lastSeq;
    this.items.push({ seq, key: input.key, lane: input.lane, payload: input.payload, dedupeKey: input.dedupeKey, state: 'ready', notBefore: 0, enqueuedAt: now });
    return { seq, duplicate: false };
  }

  lease(lane: string | undefined, max: number, leaseMs: number, now: number): number[] {
    const heads = new Map<string, ModelItem>();
    for (const i of this.items) if (i.state === 'ready' && !heads.has(i.key)) heads.set(i.key, i); // items are in seq order
    const out = [...heads.values()]
      .filter((h) => (lane === undefined || h.lane === lane) && h.notBefore <= now && !this.leasedKey(h.key, now))
      .slice(0, max);
    for (const h of out) this.leases.set(h.key, { seq: h.seq, until: now + leaseMs });
    return out.map((h) => h.seq);
  }

  /** a seq to act on: most often an existing item, sometimes one that was never there */
  pick(n: number): number {
    return n % 5 === 4 || this.items.length === 0 ? (n % (this.lastSeq + 2)) + 1 : this.items[n % this.items.length]!.seq;
  }

  apply(op: ItemOp, seq: number, retryAt: number): string {
    const i = this.items.find((x) => x.seq === seq);
    if (!i) return 'ESEAL_ERR_STORE_NOT_FOUND';
    const release = () => {
      if (this.leases.get(i.key)?.seq === seq) this.leases.delete(i.key);
    };
    switch (op) {
      case 'ack':
        if (i.state === 'dead') return 'ESEAL_ERR_STORE_STATE';
        i.state = 'done';
        release();
        return 'ok';
      case 'nack':
        if (i.state !== 'ready') return 'ESEAL_ERR_STORE_STATE';
        i.notBefore = retryAt;
        release();
        return 'ok';
      case 'deadLetter':
        if (i.state === 'done') return 'ESEAL_ERR_STORE_STATE';
        i.state = 'dead';
        release();
        return 'ok';
      case 'replay':
        if (i.state === 'done') return 'ESEAL_ERR_STORE_STATE';
        if (i.state === 'dead') {
          i.state = 'ready';
          i.notBefore = 0;
        }
        return 'ok';
      case 'purge':
        if (i.state === 'ready') return 'ESEAL_ERR_STORE_PENDING';
        this.items = this.items.filter((x) => x !== i);
        return 'ok';
    }
  }

  leasedKey(key: string, now: number): boolean {
    const l = this.leases.get(key);
    return l !== undefined && l.until > now;
  }

  stateOf(i: ModelItem, now: number): QueueItemState {
    if (i.state !== 'ready') return i.state;
    const l = this.leases.get(i.key);
    return l && l.seq === i.seq && l.until > now ? 'leased' : 'ready';
  }

  check(store: QueueStore<unknown>, now: number, after: string): void {
    const fail = (what: string) => {
      throw new Error(`after ${after}: ${what}`);
    };
    const byState: Record<QueueItemState, number> = { ready: 0, leased: 0, dead: 0, done: 0 };
    const pendingByLane: Record<string, number> = {};
    for (const i of this.items) {
      const state = this.stateOf(i, now);
      byState[state]++;
      if (i.state === 'ready') pendingByLane[i.lane] = (pendingByLane[i.lane] ?? 0) + 1;
      const got = store.get(i.seq);
      if (!got) fail(`item ${i.seq} missing`);
      if (got!.state !== state) fail(`item ${i.seq} is ${got!.state}, model says ${state}`);
      if (JSON.stringify(got!.payload) !== JSON.stringify(i.payload) || got!.key !== i.key || got!.lane !== i.lane) fail(`item ${i.seq} differs`);
    }
    const all = store.range();
    if (JSON.stringify(all.map((i) => i.seq)) !== JSON.stringify(this.items.map((i) => i.seq))) fail('range() lists other items');
    const stats = store.stats();
    if (JSON.stringify(stats.byState) !== JSON.stringify(byState)) fail(`stats ${JSON.stringify(stats.byState)} model ${JSON.stringify(byState)}`);
    const sorted = (r: Record<string, number>) => JSON.stringify(Object.entries(r).sort());
    if (sorted(stats.pendingByLane) !== sorted(pendingByLane)) fail(`pendingByLane ${JSON.stringify(stats.pendingByLane)}`);
    if (stats.lastSeq !== this.lastSeq) fail(`lastSeq ${stats.lastSeq} model ${this.lastSeq}`);
    const oldest = this.items.find((i) => i.state === 'ready');
    if (stats.oldestPendingAt !== oldest?.enqueuedAt) fail(`oldestPendingAt ${stats.oldestPendingAt}`);
    for (const i of this.items) {
      if (i.dedupeKey !== undefined && store.findByDedupeKey(i.dedupeKey)?.seq !== i.seq) fail(`dedupe ${i.dedupeKey}`);
    }
  }
}
