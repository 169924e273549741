// Issue 9, finding 7 (retention): an upload of bytes a delivered item already holds ends in the
// same content-addressed blob. If retention deletes that blob between the upload's commit and its
// queue item, the new item refers to nothing. The race is made deterministic by holding the
// upload at the seam between the two (Ingest.accept) while retention runs: retention must wait
// for the blob's lock, see the new item and keep the blob.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { RetentionReport } from '../../relay/keep/Retention.ts';
import { blobLocks } from '../../relay/keep/BlobLocks.ts';
import { evidenceName, readAll } from '../helpers/evidence.ts';
import { makeVideo } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir, type TestRelay } from '../helpers/relay.ts';
import { Tus } from '../helpers/tus.ts';

const e = EVIDENCE_ENDPOINTS.personVideo;
const DAY_MS = 86_400_000;

/** Holds every Ingest.accept (called once the blob is committed) until released. */
function holdAccepts(relay: TestRelay): { reached: Promise<void>; release: () => void } {
  const ingest = relay.ctx.ingest;
  const accept = ingest.accept.bind(ingest);
  let reached!: () => void;
  let release!: () => void;
  const atAccept = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  ingest.accept = async (item, lane) => {
    reached();
    await gate;
    return accept(item, lane);
  };
  return { reached: atAccept, release };
}

/** Waits until retention finished, or waits for the blob's lock (held by the upload). */
async function retentionFinishedOrWaiting(relay: TestRelay, pass: Promise<RetentionReport>, blob: string): Promise<void> {
  let settled = false;
  pass.then(
    () => (settled = true),
    () => (settled = true),
  );
  const locks = blobLocks(relay.ctx.blobs);
  const end = Date.now() + 10_000;
  while (!settled && locks.users(blob) < 2) {
    if (Date.now() > end) throw new Error('retention neither finished nor waited for the blob');
    await new Promise((r) => setImmediate(r));
  }
}

async function tusUpload(relay: TestRelay, token: string, name: string, bytes: Buffer): Promise<number> {
  return (await new Tus(relay.url, token).upload(e.partName, name, bytes, 1)).last.status;
}

/** A relay holding one delivered item of `video`. */
async function deliveredVideo(t: Test) {
  const dir = await tempDir(t);
  const path = await makeVideo(dir, { seconds: 1 });
  const bytes = await readFile(path);
  const { relay, mine } = await relayWithMine(t);
  t.equal((await mine.upload(e, path, { fileName: evidenceName(e, MINE, Date.now() - 60_000) })).status, 200);
  const [first] = relay.ctx.queue.range();
  await relay.ctx.queue.lease({ max: 10, leaseMs: 60_000 });
  await relay.ctx.queue.ack(first!.seq);
  return { relay, mine, path, bytes, blob: sm3Hex(bytes), first: first! };
}

async function assertKept(t: Test, relay: TestRelay, blob: string, bytes: Buffer, report: RetentionReport): Promise<void> {
  t.equal(report.deletedBlobs, 0, 'retention deleted no blob');
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1, 'the new item is queued');
  t.equal(items[0]!.state, 'ready');
  t.equal((items[0]!.payload as RelayItem).file!.blob, blob);
  t.ok(await relay.ctx.blobs.has(blob), 'its blob is there');
  t.equal(sm3Hex(await readAll(relay.ctx.blobs.read(blob))), blob, 'whole');
}

t.test('under disk pressure: a delivered video is purged while a resumable upload of the same bytes commits; the upload keeps its blob', async (t) => {
  const { relay, mine, bytes, blob, first } = await deliveredVideo(t);
  const held = holdAccepts(relay);
  const upload = tusUpload(relay, mine.token, evidenceName(e, MINE), bytes);
  await held.reached;
  t.ok(await relay.ctx.blobs.has(blob), 'the upload committed its blob (the one the delivered item holds)');

  relay.ctx.config.disk.lowWatermarkPercent = 0; // purge every delivered video
  const pass = relay.retention.run(Date.now(), true);
  await retentionFinishedOrWaiting(relay, pass, blob);
  held.release();
  t.equal(await upload, 204, 'the upload is answered success');
  const report = await pass;
  t.equal(report.purgedItems, 1, 'the delivered item was purged');
  t.notOk(relay.ctx.queue.get(first.seq));
  await assertKept(t, relay, blob, bytes, report);
});

t.test('an orphan sweep: a blob unreferenced at two sweeps is kept when an upload of the same bytes commits between them', async (t) => {
  const { relay, mine, path, bytes, blob } = await deliveredVideo(t);
  const later = Date.now() + 31 * DAY_MS;
  const firstPass = await relay.retention.run(later);
  t.equal(firstPass.purgedItems, 1, 'the delivered item is past its retention');
  t.equal(firstPass.deletedBlobs, 0, 'its blob is an orphan candidate, not deleted yet');

  const held = holdAccepts(relay);
  const upload = mine.upload(e, path, { fileName: evidenceName(e, MINE) });
  await held.reached;
  const pass = relay.retention.run(later);
  await retentionFinishedOrWaiting(relay, pass, blob);
  held.release();
  t.equal((await upload).status, 200, 'the multipart upload is answered success');
  await assertKept(t, relay, blob, bytes, await pass);
  const next = await relay.retention.run(later);
  t.equal(next.deletedBlobs, 0, 'and it is referenced from now on');
  t.ok(await relay.ctx.blobs.has(blob));
});
