// The verified read: a blob streamed for sending is checked against its SM3 address, and a blob
// that is not what its address says never gives its last bytes (the reader cannot complete a
// request with them): altered in the middle, cut short, emptied, longer, or missing.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { open, truncate, unlink, writeFile, appendFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../../src/store/fs/FsBlobStore.ts';
import { Corrupt } from '../../../src/store/errors.ts';
import { checkedBlob, verifiedBlobStream } from '../../../src/store/verifiedRead.ts';
import { tempDir } from '../../helpers/tempDir.ts';

const SIZE = 1_000_000;

async function storeWithBlob(t: Test): Promise<{ store: FsBlobStore; id: string; bytes: Buffer }> {
  const store = await FsBlobStore.open(await tempDir(t));
  t.teardown(() => store.close());
  const bytes = randomBytes(SIZE);
  const { id } = await (await store.stage(Readable.from([bytes]), { maxBytes: SIZE })).commit();
  return { store, id, bytes };
}

/** What a sender got before the stream ended or failed, and how it ended. */
async function drain(stream: Readable): Promise<{ got: Buffer; error: unknown }> {
  const pieces: Buffer[] = [];
  try {
    for await (const piece of stream) pieces.push(piece as Buffer);
    return { got: Buffer.concat(pieces), error: undefined };
  } catch (error) {
    return { got: Buffer.concat(pieces), error };
  }
}

t.test('an intact blob streams whole, or from an offset', async (t) => {
  const { store, id, bytes } = await storeWithBlob(t);
  t.strictSame((await drain(verifiedBlobStream(store, id, { size: SIZE }))).got, bytes);
  const { got, error } = await drain(verifiedBlobStream(store, id, { from: 300_000, size: SIZE }));
  t.equal(error, undefined);
  t.strictSame(got, bytes.subarray(300_000), 'the bytes before the offset are hashed, not given');
  t.strictSame((await drain(verifiedBlobStream(store, id, { from: SIZE, size: SIZE }))).got.length, 0, 'from the end: nothing, verified');
});

const damages: [string, (path: string) => Promise<void>, string][] = [
  [
    '64 bytes overwritten in the middle',
    async (path) => {
      const h = await open(path, 'r+');
      await h.write(Buffer.alloc(64, 0x5a), 0, 64, SIZE / 2);
      await h.close();
    },
    'mismatch',
  ],
  ['truncated', (path) => truncate(path, SIZE - 1000), 'short'],
  ['zero-length', (path) => writeFile(path, ''), 'empty'],
  ['a byte appended', (path) => appendFile(path, 'x'), 'long'],
  ['deleted', (path) => unlink(path), 'missing'],
];

for (const [what, damage, reason] of damages) {
  t.test(`${what}: the stream fails with ESEAL_ERR_STORE_CORRUPT before giving all the bytes`, async (t) => {
    const { store, id } = await storeWithBlob(t);
    const path = store.pathOf(id);
    await damage(path);
    for (const from of [0, 400_000]) {
      const { got, error } = await drain(verifiedBlobStream(store, id, { from, size: SIZE }));
      t.ok(Corrupt.is(error), `${from}: fails with ESEAL_ERR_STORE_CORRUPT (${(error as Error)?.message})`);
      t.ok(got.length < SIZE - from, `${from}: gave ${got.length} of the ${SIZE - from} bytes: never all of them`);
      const detail = (error as { detail?: Record<string, unknown> }).detail;
      t.equal(detail?.['path'], path, 'names the file');
      t.equal(detail?.['blob'], id);
      t.equal(detail?.['reason'], reason);
      t.match((error as Error).message, path);
    }
  });
}

t.test('without a size, a blob that changed is still caught by its hash', async (t) => {
  const { store, id } = await storeWithBlob(t);
  await truncate(store.pathOf(id), 10);
  const { got, error } = await drain(verifiedBlobStream(store, id));
  t.ok(Corrupt.is(error));
  t.equal(got.length, 0, 'a file of one piece gives nothing');
});

t.test('a stream destroyed early closes the file', async (t) => {
  const { store, id } = await storeWithBlob(t);
  const s = verifiedBlobStream(store, id, { size: SIZE });
  await new Promise<void>((resolve) => s.once('readable', () => resolve()));
  s.destroy();
  await new Promise<void>((resolve) => s.once('close', () => resolve()));
  await store.close(); // would wait for, or fail on, a file left open
  t.pass();
});

t.test('checkedBlob: chunks read plain, the completing read verified, the first corruption kept', async (t) => {
  const { store, id, bytes } = await storeWithBlob(t);
  const intact = checkedBlob(store, id, SIZE);
  t.strictSame((await drain(intact.open(100))).got, bytes.subarray(100), 'a chunk read from an offset');
  t.strictSame((await drain(intact.openLast(500_000))).got, bytes.subarray(500_000), 'the completing read, checked whole');
  t.equal(intact.failure, undefined);

  // altered in the middle: plain chunks cannot tell, the completing read can
  const h = await open(store.pathOf(id), 'r+');
  await h.write(Buffer.alloc(64, 0xaa), 0, 64, SIZE / 2);
  await h.close();
  const altered = checkedBlob(store, id, SIZE);
  t.equal((await drain(altered.open(0))).got.length, SIZE, 'a plain read gives what is on disk');
  const last = await drain(altered.openLast(SIZE - 1000));
  t.ok(Corrupt.is(last.error) && last.got.length === 0, 'the completing read gives nothing of it');
  t.match(altered.failure, { code: 'ESEAL_ERR_STORE_CORRUPT', detail: { reason: 'mismatch', path: store.pathOf(id) } });

  // cut short or gone: even a plain chunk fails as corrupt, never as a retryable read error
  await truncate(store.pathOf(id), 1000);
  const short = checkedBlob(store, id, SIZE);
  t.ok(Corrupt.is((await drain(short.open(0))).error));
  t.match(short.failure, { detail: { reason: 'short', bytes: 1000 } });
  await unlink(store.pathOf(id));
  const gone = checkedBlob(store, id, SIZE);
  t.ok(Corrupt.is((await drain(gone.open(0))).error));
  t.match(gone.failure, { detail: { reason: 'missing' } });
});
