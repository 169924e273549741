// Run by FsBlobStore.test.ts inside a private mount namespace with a 2 MiB tmpfs at argv[2]:
// fills the disk through the blob store and through the queue, and prints what happened as JSON.
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../../../src/store/lmdb/open.ts';

const dir = process.argv[2]!;
const report: Record<string, unknown> = {};
const describe = (err: unknown) => ({ code: (err as { code?: unknown }).code, message: (err as Error).message });

// blobs: a small one fits, a 4 MiB one cannot
const blobs = await FsBlobStore.open(join(dir, 'blobs'));
const small = randomBytes(1000);
const kept = await (await blobs.stage(Readable.from([small]), { maxBytes: 1e7 })).commit();
try {
  await blobs.stage(Readable.from((function* () { for (let i = 0; i < 64; i++) yield randomBytes(64 * 1024); })()), { maxBytes: 1e7 });
  report.blobError = null;
} catch (err) {
  report.blobError = describe(err);
}
report.tempLeft = await readdir(join(dir, 'blobs', 'tmp'));
const chunks: Buffer[] = [];
for await (const c of blobs.read(kept.id)) chunks.push(c as Buffer);
report.smallIntact = createHash('sm3').update(Buffer.concat(chunks)).digest('hex') === kept.id;
await blobs.close();

// queue: append until the disk is full; what was acknowledged must all be there after a reopen
const payloads: string[] = [];
const root = openLmdb(join(dir, 'db'), { mapSize: 64 * 1024 });
let queue = new LmdbQueueStore<string>(root, { name: 'queue' });
try {
  for (let n = 0; n < 100_000; n++) {
    const payload = randomBytes(1500).toString('hex');
    await queue.append({ key: `k${n % 10}`, lane: 'record', payload });
    payloads.push(payload);
  }
  report.queueError = null;
} catch (err) {
  report.queueError = describe(err);
}
report.appended = payloads.length;
// a plain write to another table fails too, and (like the queue's) must not end the process
// through a promise lmdb-js rejects behind it: give Node a few turns to notice one
try {
  await root.openDB<string, string>({ name: 'accounts' }).put('someone', 'x'.repeat(200_000));
  report.plainPutError = null;
} catch (err) {
  report.plainPutError = describe(err);
}
await new Promise((resolve) => setTimeout(resolve, 100));
await queue.close();
await root.close();
queue = LmdbQueueStore.open<string>(join(dir, 'db'));
const items = queue.range();
report.afterReopen = items.length;
report.queueIntact = items.length === payloads.length && items.every((item, i) => item.seq === i + 1 && item.payload === payloads[i]);
await queue.close();
process.stdout.write(JSON.stringify(report) + '\n');
