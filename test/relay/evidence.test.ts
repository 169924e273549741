import t from 'tap';
import { createReadStream } from 'node:fs';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { makeMp4Fixture, makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { MINE, OTHER_MINE, relayWithMine, tempDir } from '../helpers/relay.ts';
import { blobFiles, evidenceName, readAll, uploadEveryKind } from '../helpers/evidence.ts';
import { waitFor } from '../helpers/wait.ts';

/** Files in the blob store (committed and temporary). */
t.test('all five evidence uploads succeed; bytes, names and facts are kept', async (t) => {
  const dir = await tempDir(t);
  const video = await makeMp4Fixture(dir, 'h264', 2);
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const names = await uploadEveryKind(t, mine, video, MINE);
  const items = relay.ctx.queue.range();
  t.equal(items.length, 5);
  for (const [i, item] of items.entries()) {
    const p = item.payload as RelayItem;
    t.equal(item.lane, 'evidence');
    t.equal(p.file!.name, names[i]);
    t.equal(p.file!.size, bytes.length);
    t.equal(p.file!.blob, sm3Hex(bytes));
    t.equal(p.file!.codec, 'avc1');
    t.equal(p.file!.width, 320);
    t.ok(Math.abs(p.file!.durationMs - 2000) <= 100, `duration ${p.file!.durationMs}`);
    t.same(p.flags, []);
    t.same(await readAll(relay.ctx.blobs.read(p.file!.blob)), bytes, 'the stored bytes are the sent bytes');
  }
  t.equal((await blobFiles(relay.dataDir)).length, 1, 'one content-addressed copy of identical bytes');
});

t.test('size limit: exactly 10 MiB passes, one byte more is 413 and leaves nothing', async (t) => {
  const dir = await tempDir(t);
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const exact = join(dir, 'exact.mp4');
  const over = join(dir, 'over.mp4');
  await padMp4ToSize(video, exact, 10 * 1024 * 1024);
  await padMp4ToSize(video, over, 10 * 1024 * 1024 + 1);
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const ok = await mine.upload(e, exact, { fileName: evidenceName(e, MINE) });
  t.equal(ok.status, 200);
  t.equal((relay.ctx.queue.range()[0]!.payload as RelayItem).file!.size, 10 * 1024 * 1024);
  const tooBig = await mine.upload(e, over, { fileName: evidenceName(e, MINE, Date.now() - 1000) });
  t.equal(tooBig.status, 413);
  t.equal(tooBig.body.code, 1);
  t.match(tooBig.body.msg, /^personVideo: larger than 10485760 bytes/);
  t.equal(relay.ctx.queue.range().length, 1);
  t.equal((await blobFiles(relay.dataDir)).length, 1, 'no temp file, no second blob');
});

t.test('what is not an H.264 MP4 is refused naming what it is', async (t) => {
  const dir = await tempDir(t);
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.truckVideo;
  const cases: [string, RegExp][] = [
    [await makeMp4Fixture(dir, 'h265', 1), /^truckVideo: .*H\.265/],
    [await makeMp4Fixture(dir, 'mpegts', 1), /^truckVideo: .*MPEG-TS/],
    [await makeMp4Fixture(dir, 'aac-only', 1), /^truckVideo: .*no video track/i],
  ];
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'this is not a video\n');
  cases.push([text, /^truckVideo: /]);
  for (const [path, re] of cases) {
    const a = await mine.upload(e, path, { fileName: evidenceName(e, MINE) });
    t.equal(a.status, 400, path);
    t.match(a.body.msg, re);
  }
  t.equal(relay.ctx.queue.range().length, 0);
  t.equal((await blobFiles(relay.dataDir)).length, 0, 'nothing left behind');
});

t.test('multipart mistakes', async (t) => {
  const dir = await tempDir(t);
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.cameraCoverVideo;
  const wrongPart = await mine.upload(e, video, { fileName: evidenceName(e, MINE), partName: 'file' });
  t.equal(wrongPart.status, 400);
  t.match(wrongPart.body.msg, /^cameraCoverVideo: the file part must be named "cameraCoverVideo" .* got "file"/);
  const badName = await mine.upload(e, video, { fileName: 'video.mp4' });
  t.equal(badName.status, 400);
  t.match(badName.body.msg, /^cameraCoverVideo filename: must be 30 digits/);
  const otherMine = await mine.upload(e, video, { fileName: evidenceName(e, OTHER_MINE) });
  t.equal(otherMine.status, 403);
  t.match(otherMine.body.msg, /140421009999 is not a mine of account mine001/);
  const json = await mine.record({ ...(e as unknown as Parameters<typeof mine.record>[0]), path: e.path }, { mineId: MINE });
  t.equal(json.status, 415);
  t.match(json.body.msg, /must be multipart\/form-data/);
  const form = new FormData();
  form.append('note', 'hello');
  const noFile = await fetch(relay.url + e.path, { method: 'POST', headers: { authorization: `Bearer ${mine.token}` }, body: form });
  t.equal(noFile.status, 400);
  t.match(((await noFile.json()) as { msg: string }).msg, /^cameraCoverVideo: missing/);
  t.equal(relay.ctx.queue.range().length, 0);
  t.equal((await blobFiles(relay.dataDir)).length, 0);
});

t.test('idempotent re-sends; same name with other bytes is a new, flagged item', async (t) => {
  const dir = await tempDir(t);
  const a = await makeVideo(dir, { seconds: 1 });
  const b = await makeVideo(dir, { seconds: 1, width: 160, height: 120 });
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.beltVideo;
  const name = evidenceName(e, MINE);
  t.equal((await mine.upload(e, a, { fileName: name })).status, 200);
  t.equal((await mine.upload(e, a, { fileName: name })).status, 200);
  t.equal(relay.ctx.queue.range().length, 1, 'same name, same bytes: one item');
  t.equal((await mine.upload(e, b, { fileName: name })).status, 200);
  const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  t.equal(items.length, 2);
  t.match(items[1]!.flags, [/^file\.sameNameDifferentBytes/]);
  // a lower-case extension and an odd content type are accepted and flagged
  const lower = await mine.upload(e, a, { fileName: evidenceName(e, MINE, Date.now() - 5000).replace('.MP4', '.mp4'), contentType: 'application/octet-stream' });
  t.equal(lower.status, 200);
  const last = relay.ctx.queue.range().at(-1)!.payload as RelayItem;
  t.same(last.flags.sort(), ['file.contentType:application/octet-stream', 'fileName.extensionCase']);
});

t.test('a connection broken mid-upload leaves nothing behind', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 4, width: 640, height: 480 });
  const size = (await stat(video)).size;
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const url = new URL(relay.url);
  for (const cut of [0.1, 0.5, 0.95]) {
    const boundary = '----eseal' + Math.random().toString(16).slice(2);
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="personVideo"; filename="${evidenceName(e, MINE)}"\r\nContent-Type: application/mp4\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const total = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
    await new Promise<void>((resolve) => {
      const sock = connect(Number(url.port), url.hostname, () => {
        sock.write(
          `POST ${e.path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${mine.token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n\r\n${head}`,
        );
        const limit = Math.floor(size * cut);
        let sent = 0;
        const file = createReadStream(video, { highWaterMark: 16 * 1024 });
        file.on('data', (chunk) => {
          const c = chunk as Buffer;
          const take = Math.min(c.length, limit - sent);
          if (take > 0) sock.write(c.subarray(0, take));
          sent += take;
          if (sent >= limit) {
            file.destroy();
            setTimeout(() => sock.destroy(), 50);
          }
        });
      });
      sock.on('close', () => resolve());
      sock.on('error', () => {});
    });
  }
  // wait for the server to notice the resets and clean up (the assertion below shows what is left)
  await waitFor(async () => (await blobFiles(relay.dataDir)).length === 0, 30_000, 'temporary files to be removed').catch(() => {});
  t.equal(relay.ctx.queue.range().length, 0, 'no item');
  t.same(await blobFiles(relay.dataDir), [], 'no blob, no temp file');
  // and the relay still works
  const copy = join(dir, 'copy.mp4');
  await copyFile(video, copy);
  t.equal((await mine.upload(e, copy, { fileName: evidenceName(e, MINE) })).status, 200);
});
