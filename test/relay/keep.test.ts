// What the relay keeps: disk high-water refusals that lose nothing, retention of delivered items.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { makeVideo } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir } from '../helpers/relay.ts';

const name = (i: number) => formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() - i * 1000 });

async function blobCount(dataDir: string): Promise<number> {
  let n = 0;
  for (const a of await readdir(join(dataDir, 'blobs'))) {
    if (a === 'tmp') continue;
    for (const b of await readdir(join(dataDir, 'blobs', a))) n += (await readdir(join(dataDir, 'blobs', a, b))).length;
  }
  return n;
}

t.test('above the high-water mark videos get 507; records still come in; what is held is still forwarded', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const { sim, relay, mine } = await forwardingSetup(t);
  await sim.setFaults({ down: true });
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const held = name(1);
  t.equal((await mine.upload(e, video, { fileName: held })).status, 200, 'accepted below the mark');
  // the disk "fills": a mark below what is in use now
  relay.ctx.config.disk.lowWatermarkPercent = 0;
  relay.ctx.config.disk.highWatermarkPercent = 1;
  await relay.disk.check();
  t.ok(relay.ctx.disk.full);
  const refused = await mine.upload(e, video, { fileName: name(2) });
  t.equal(refused.status, 507);
  t.match(refused.body.msg, /above its high-water mark .* nothing of this upload was stored/);
  const rec = await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() });
  t.equal(rec.status, 200, 'records (a few hundred bytes) are still taken');
  await sim.setFaults({ down: false });
  await waitFor(() => sim.stats().received === 2, 15_000, 'the held video and record delivered');
  t.equal(sim.received({ endpoint: 'fileOperator/personVideo' })[0]?.file?.fileName, held);
  await waitFor(() => relay.ctx.queue.stats().byState.done === 2, 5000, 'both acknowledged');
});

t.test('retention purges delivered items and their videos after the period, never undelivered ones', async (t) => {
  const dir = await tempDir(t);
  const a = await makeVideo(dir, { seconds: 1 });
  const b = await makeVideo(dir, { seconds: 1, width: 160, height: 120 });
  const { relay, mine } = await relayWithMine(t, { 'retention.deliveredDays': 30 });
  const e = EVIDENCE_ENDPOINTS.personVideo;
  t.equal((await mine.upload(e, a, { fileName: name(1) })).status, 200);
  t.equal((await mine.upload(e, b, { fileName: name(2) })).status, 200);
  t.equal((await mine.upload(e, a, { fileName: name(3) })).status, 200, 'same bytes under another name: one blob, two items');
  const [first, second, third] = relay.ctx.queue.range();
  // the first and third (sharing a blob) are delivered; the second is still pending
  await relay.ctx.queue.lease({ max: 10, leaseMs: 60_000 });
  await relay.ctx.queue.ack(first!.seq);
  await relay.ctx.queue.ack(third!.seq);
  t.equal(await blobCount(relay.dataDir), 2);

  const soon = await relay.retention.run(Date.now() + 29 * 86_400_000);
  t.equal(soon.purgedItems, 0, 'within the retention period nothing goes');
  const later = await relay.retention.run(Date.now() + 31 * 86_400_000);
  t.equal(later.purgedItems, 2, 'both delivered items purged after 30 days');
  t.equal(relay.ctx.queue.get(second!.seq)?.state, 'ready', 'the undelivered one stays');
  t.equal(later.deletedBlobs, 0, 'an unreferenced blob survives its first sweep');
  const sweep = await relay.retention.run(Date.now() + 31 * 86_400_000);
  t.equal(sweep.deletedBlobs, 1, 'and is deleted at the next');
  t.equal(await blobCount(relay.dataDir), 1, 'the pending item’s video is kept');
  t.ok(await relay.ctx.blobs.has((second!.payload as { file: { blob: string } }).file.blob));
});

t.test('under disk pressure delivered videos go at once, oldest first; a blob still referenced stays', async (t) => {
  const dir = await tempDir(t);
  const a = await makeVideo(dir, { seconds: 1 });
  const b = await makeVideo(dir, { seconds: 1, width: 160, height: 120 });
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  t.equal((await mine.upload(e, a, { fileName: name(1) })).status, 200);
  t.equal((await mine.upload(e, a, { fileName: name(2) })).status, 200, 'same bytes, pending below');
  t.equal((await mine.upload(e, b, { fileName: name(3) })).status, 200);
  const [first, second, third] = relay.ctx.queue.range();
  await relay.ctx.queue.lease({ max: 10, leaseMs: 60_000 });
  await relay.ctx.queue.ack(first!.seq);
  await relay.ctx.queue.ack(third!.seq);
  relay.ctx.config.disk.lowWatermarkPercent = 0; // never reached: purge every delivered video
  const report = await relay.retention.run(Date.now(), true);
  t.equal(report.purgedItems, 2, 'both delivered videos purged within the retention period');
  t.equal(report.deletedBlobs, 1, 'the blob only they used is deleted at once');
  t.equal(await blobCount(relay.dataDir), 1);
  t.ok(await relay.ctx.blobs.has((second!.payload as { file: { blob: string } }).file.blob), 'the pending item’s (shared) blob stays');
  t.equal(relay.ctx.queue.get(second!.seq)?.state, 'ready');
});
