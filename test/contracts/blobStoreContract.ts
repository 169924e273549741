// The contract every BlobStore implementation passes: content addressing by SM3, sizes, the
// byte limit (exactly max passes, max+1 fails with nothing left behind), broken sources leave
// nothing, identical content kept once, ranged reads, delete, list, reopen, backpressure.

import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Test } from 'tap';
import type { BlobStore } from '../../src/store/BlobStoreTypes.ts';

export interface BlobStoreHarness {
  /** Opens the store; after the last one was closed, opens it again over the same data. */
  open(): Promise<BlobStore>;
  /** What staging may have left outside committed blobs (temp files); empty when clean. */
  leftovers(): Promise<string[]>;
  /** Bytes written so far to the one temp file being staged, if the store can tell. */
  tempBytes?(): Promise<number | undefined>;
  /** Removes everything the harness made. Called once, after the last store was closed. */
  cleanup(): Promise<void>;
}

export type BlobStoreFactory = () => Promise<BlobStoreHarness>;

const sm3 = (bytes: Buffer) => createHash('sm3').update(bytes).digest('hex');

/** A source that hands out `bytes` in chunks of `chunk` bytes, as the consumer asks. */
function chunked(bytes: Buffer, chunk = 16 * 1024): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= bytes.length) {
        this.push(null);
        return;
      }
      this.push(bytes.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(store: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.list()) ids.push(id);
  return ids.sort();
}

async function fixture(t: Test, factory: BlobStoreFactory) {
  const harness = await factory();
  const f = {
    harness,
    store: await harness.open(),
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

export async function blobStoreContract(t: Test, name: string, factory: BlobStoreFactory): Promise<void> {
  await t.test(`${name} passes the BlobStore contract`, async (t) => {
    t.test('stage computes SM3 and size; nothing is visible before commit', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const bytes = randomBytes(300_000);
      const staged = await store.stage(chunked(bytes), { maxBytes: 10_000_000 });
      t.equal(staged.id, sm3(bytes), 'id is the SM3 of the bytes, lower-case hex');
      t.match(staged.id, /^[0-9a-f]{64}$/);
      t.equal(staged.size, bytes.length);
      t.equal(await store.has(staged.id), false, 'not visible before commit');
      t.strictSame(await listAll(store), []);
      t.equal((await harness.leftovers()).length, 1, 'one temp file while staged');
      const ref = await staged.commit();
      t.strictSame(ref, { id: staged.id, size: bytes.length });
      t.equal(await store.has(staged.id), true);
      t.equal(await store.size(staged.id), bytes.length);
      t.strictSame(await readAll(store.read(staged.id)), bytes, 'reads back the same bytes');
      t.strictSame(await listAll(store), [staged.id]);
      t.strictSame(await harness.leftovers(), [], 'no temp file after commit');
      t.strictSame(await staged.commit(), ref, 'a second commit() answers the same');
    });

    t.test('the id is the SM3 of the bytes at every size around internal block edges', async (t) => {
      const { store } = await fixture(t, factory);
      const MiB = 1024 * 1024;
      for (const size of [MiB - 1, MiB, MiB + 1, MiB + MiB / 2, 3 * MiB - 7]) {
        const bytes = randomBytes(size);
        const staged = await store.stage(chunked(bytes, 65_536 + 13), { maxBytes: 10 * MiB });
        t.equal(staged.id, sm3(bytes), `${size} bytes`);
        await staged.discard();
      }
    });

    t.test('empty content and the size limit: exactly max passes, max+1 fails leaving nothing', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const empty = await store.stage(Readable.from([]), { maxBytes: 0 });
      t.strictSame([empty.id, empty.size], [sm3(Buffer.alloc(0)), 0], 'empty blob, max 0');
      await empty.commit();
      const max = 100_000;
      const exact = randomBytes(max);
      const ok = await store.stage(chunked(exact, 7000), { maxBytes: max });
      t.equal(ok.size, max, 'exactly maxBytes passes');
      await ok.commit();
      await t.rejects(store.stage(chunked(randomBytes(max + 1), 7000), { maxBytes: max }), { code: 'ESEAL_ERR_STORE_TOO_LARGE' }, 'max+1 fails');
      t.strictSame(await harness.leftovers(), [], 'the refused stream left no temp file');
      // one byte over inside a single big chunk, and far over: refused as soon as it is over
      let pulled = 0;
      const endless = new Readable({
        read() {
          pulled += 64 * 1024;
          this.push(Buffer.alloc(64 * 1024, 1));
        },
      });
      await t.rejects(store.stage(endless, { maxBytes: max }), { code: 'ESEAL_ERR_STORE_TOO_LARGE' }, 'an endless stream is refused');
      t.ok(pulled < 4 * 1024 * 1024, `stopped reading soon after the limit (${pulled} bytes pulled)`);
      t.strictSame(await harness.leftovers(), []);
      t.strictSame(await listAll(store), [empty.id, ok.id].sort(), 'only the two committed blobs');
      await t.rejects(store.stage(Readable.from([]), { maxBytes: -1 }), { code: 'ESEAL_ERR_STORE_INVALID' }, 'negative max');
    });

    t.test('a source that errors or is destroyed mid-stream leaves nothing behind', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const failing = (how: 'error' | 'destroy') => {
        let sent = 0;
        const source: Readable = new Readable({
          read() {
            if (sent >= 5) {
              setImmediate(() => (how === 'error' ? source.destroy(new Error('connection reset by the mine')) : source.destroy()));
              return;
            }
            sent++;
            this.push(randomBytes(32 * 1024));
          },
        });
        return source;
      };
      await t.rejects(store.stage(failing('error'), { maxBytes: 10_000_000 }), { code: 'ESEAL_ERR_STORE_SOURCE' }, 'source error');
      t.strictSame(await harness.leftovers(), [], 'no temp file after a source error');
      await t.rejects(store.stage(failing('destroy'), { maxBytes: 10_000_000 }), { code: 'ESEAL_ERR_STORE_SOURCE' }, 'source destroyed');
      t.strictSame(await harness.leftovers(), [], 'no temp file after an aborted source');
      const gone = Readable.from([Buffer.from('x')]);
      gone.destroy();
      await t.rejects(store.stage(gone, { maxBytes: 10 }), { code: 'ESEAL_ERR_STORE_SOURCE' }, 'a source destroyed before stage');
      t.strictSame(await harness.leftovers(), []);
      t.strictSame(await listAll(store), []);
    });

    t.test('discard removes a staged blob; commit after discard is refused', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const staged = await store.stage(Readable.from([Buffer.from('draft')]), { maxBytes: 100 });
      await staged.discard();
      await staged.discard();
      t.strictSame(await harness.leftovers(), []);
      t.equal(await store.has(staged.id), false);
      await t.rejects(staged.commit(), { code: 'ESEAL_ERR_STORE_STATE' });
    });

    t.test('identical content twice is kept once; both commits succeed', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const bytes = randomBytes(50_000);
      const a = await store.stage(chunked(bytes), { maxBytes: 1e6 });
      const b = await store.stage(chunked(bytes, 999), { maxBytes: 1e6 });
      t.equal(a.id, b.id);
      t.strictSame(await a.commit(), { id: a.id, size: bytes.length });
      t.strictSame(await b.commit(), { id: a.id, size: bytes.length });
      // and two at once
      const [c, d] = await Promise.all([store.stage(chunked(bytes), { maxBytes: 1e6 }), store.stage(chunked(bytes), { maxBytes: 1e6 })]);
      await Promise.all([c!.commit(), d!.commit()]);
      t.strictSame(await listAll(store), [a.id], 'one blob');
      t.strictSame(await harness.leftovers(), [], 'no temp files');
      t.strictSame(await readAll(store.read(a.id)), bytes);
    });

    t.test('ranged reads, absent blobs, delete and bad ids', async (t) => {
      const { store } = await fixture(t, factory);
      const bytes = randomBytes(200_000);
      const { id } = await (await store.stage(chunked(bytes), { maxBytes: 1e6 })).commit();
      t.strictSame(await readAll(store.read(id, { start: 0, end: 0 })), bytes.subarray(0, 1), 'first byte (end inclusive)');
      t.strictSame(await readAll(store.read(id, { start: 1000, end: 150_000 })), bytes.subarray(1000, 150_001), 'a middle range');
      t.strictSame(await readAll(store.read(id, { start: 199_000 })), bytes.subarray(199_000), 'to the end');
      t.strictSame(await readAll(store.read(id, { start: 190_000, end: 10_000_000 })), bytes.subarray(190_000), 'end past the size is cut');
      t.strictSame(await readAll(store.read(id, { start: 300_000 })), Buffer.alloc(0), 'start past the end: nothing');
      const absent = sm3(Buffer.from('never stored'));
      t.equal(await store.has(absent), false);
      t.equal(await store.size(absent), undefined);
      await t.rejects(readAll(store.read(absent)), { code: 'ESEAL_ERR_STORE_NOT_FOUND' }, 'reading an absent blob fails the stream');
      t.throws(() => store.read('../../etc/passwd'), { code: 'ESEAL_ERR_STORE_INVALID' }, 'a path is not an id');
      t.throws(() => store.read(id, { start: 10, end: 5 }), { code: 'ESEAL_ERR_STORE_INVALID' }, 'end before start');
      await t.rejects(store.has('ABC'), { code: 'ESEAL_ERR_STORE_INVALID' });
      await store.delete(id);
      t.equal(await store.has(id), false, 'deleted');
      t.strictSame(await listAll(store), []);
      await store.delete(id); // absent: nothing to do
      await t.rejects(readAll(store.read(id)), { code: 'ESEAL_ERR_STORE_NOT_FOUND' });
    });

    t.test('list names every committed blob; all survive a reopen', async (t) => {
      const f = await fixture(t, factory);
      const blobs = new Map<string, Buffer>();
      for (let i = 0; i < 20; i++) {
        const bytes = randomBytes(1 + i * 100);
        const { id } = await (await f.store.stage(Readable.from([bytes]), { maxBytes: 1e6 })).commit();
        blobs.set(id, bytes);
      }
      t.strictSame(await listAll(f.store), [...blobs.keys()].sort());
      const store = await f.reopen();
      t.strictSame(await listAll(store), [...blobs.keys()].sort(), 'after reopen');
      for (const [id, bytes] of blobs) t.strictSame(await readAll(store.read(id)), bytes, `blob ${id.slice(0, 8)} intact`);
    });

    t.test('a staged blob neither committed nor discarded is gone after close; commit is then refused', async (t) => {
      const f = await fixture(t, factory);
      const first = f.store;
      const staged = await first.stage(Readable.from([Buffer.from('left behind')]), { maxBytes: 100 });
      t.equal((await f.harness.leftovers()).length, 1);
      await f.reopen();
      t.strictSame(await f.harness.leftovers(), [], 'close() removed it');
      await t.rejects(staged.commit(), { code: 'ESEAL_ERR_STORE_CLOSED' }, 'commit after close');
      t.equal(await f.store.has(staged.id), false);
    });

    t.test('backpressure: reads follow the consumer, stage follows the disk', async (t) => {
      const { store, harness } = await fixture(t, factory);
      const size = 8 * 1024 * 1024;
      // stage: the source is asked for data only as fast as it is written out
      let produced = 0;
      let worstAhead = 0;
      const source = new Readable({
        highWaterMark: 64 * 1024,
        read() {
          if (produced >= size) {
            this.push(null);
            return;
          }
          produced += 64 * 1024;
          this.push(Buffer.alloc(64 * 1024, produced & 0xff));
        },
      });
      let probes = 0;
      const probe = setInterval(() => {
        void harness.tempBytes?.().then((written) => {
          if (written === undefined) return;
          probes++;
          worstAhead = Math.max(worstAhead, produced - written);
        });
      }, 2);
      const staged = await store.stage(source, { maxBytes: size });
      clearInterval(probe);
      if (harness.tempBytes) {
        t.ok(worstAhead < 4 * 1024 * 1024, `the source was at most ${worstAhead} bytes ahead of the file (${probes} probes)`);
      }
      const { id } = await staged.commit();
      // read: a paused consumer holds the reader back
      const reader = store.read(id);
      await new Promise<void>((resolve) => reader.once('readable', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.ok(reader.readableLength <= 1024 * 1024, `a paused reader buffered only ${reader.readableLength} bytes`);
      reader.destroy();
      t.equal((await readAll(store.read(id))).length, size);
    });

    const probe = await factory();
    const hasStageFile = typeof (await probe.open().then(async (s) => (await s.close(), s))).stageFile === 'function';
    await probe.cleanup();
    t.test('stageFile: a file on disk, copied or moved in, at the SM3 of its bytes', { skip: !hasStageFile && 'no stageFile' }, async (t) => {
      const { store, harness } = await fixture(t, factory);
      const src = await mkdtemp(join(tmpdir(), 'eseal-stagefile-'));
      t.teardown(() => rm(src, { recursive: true, force: true }));
      const present = (p: string) => access(p).then(() => true, () => false);
      const MiB = 1024 * 1024;
      for (const [name, size, move] of [['copy', MiB + 3, false], ['move', 2 * MiB, true], ['small-move', 10, true]] as const) {
        const bytes = randomBytes(size);
        const file = join(src, `${name}.mp4`);
        await writeFile(file, bytes);
        const staged = await store.stageFile!(file, { maxBytes: 10 * MiB, move });
        t.equal(staged.id, sm3(bytes), `${name}: the SM3 of the bytes`);
        t.equal(staged.size, size);
        t.equal(await store.has(staged.id), false, `${name}: not visible before commit`);
        await staged.commit();
        t.strictSame(await readAll(store.read(staged.id)), bytes, `${name}: the same bytes`);
        t.equal(await present(file), !move, move ? `${name}: the source is gone` : `${name}: the source is left`);
      }
      const big = join(src, 'big.mp4');
      await writeFile(big, randomBytes(2000));
      await t.rejects(store.stageFile!(big, { maxBytes: 1999, move: true }), { code: 'ESEAL_ERR_STORE_TOO_LARGE' });
      t.ok(await present(big), 'a refused file is left as it was');
      await t.rejects(store.stageFile!(join(src, 'missing.mp4'), { maxBytes: 10, move: true }), { code: 'ESEAL_ERR_STORE_SOURCE' });
      const moved = await store.stageFile!(big, { maxBytes: 2000, move: true });
      await moved.discard();
      t.strictSame(await harness.leftovers(), [], 'nothing left behind by a discard');
    });

    t.test('a closed store refuses new work', async (t) => {
      const f = await fixture(t, factory);
      await f.store.close();
      await f.store.close();
      await t.rejects(f.store.stage(Readable.from([Buffer.from('x')]), { maxBytes: 10 }), { code: 'ESEAL_ERR_STORE_CLOSED' });
      await f.reopen();
      t.equal(await f.store.has(sm3(Buffer.from('x'))), false);
    });
  });
}
