// Resumable uploads (tus 1.0) against a real relay on loopback: the protocol's headers, a chunked
// upload that becomes the same queue item as a multipart one, connections cut mid-chunk, a restart
// between chunks, checksums, offsets, refusals at creation and at completion, termination, expiry,
// ownership, limits.
import t from 'tap';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { request } from 'undici';
import { EVIDENCE_ENDPOINTS, failure } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { EsealError } from '../../src/errors.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { TusUpload } from '../../relay/tus/TusStore.ts';
import { TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';
import { tusRoutes } from '../../relay/tus/tusRoutes.ts';
import { BodyStopped, bodyPieces } from '../../relay/tus/bodyPieces.ts';
import { makeMp4Fixture, makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, OTHER_MINE, relayWithMine, startTestRelay, tempDir, type TestRelay } from '../helpers/relay.ts';
import { blobFiles, evidenceName, readAll } from '../helpers/evidence.ts';
import { Tus, type Answer } from '../helpers/tus.ts';


function uploadsDb(relay: TestRelay) {
  return relay.ctx.root.openDB<TusUpload, string>({ name: 'tus-uploads' });
}

function idOf(path: string): string {
  return path.slice(TUS_PATH.length);
}

async function tusFiles(relay: TestRelay): Promise<string[]> {
  return readdir(join(relay.dataDir, 'tus')).catch(() => []);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A PATCH on a raw socket that announces all of `chunk` but sends only its first `send` bytes and
 * then drops the connection (after the bytes reached the kernel, so they do arrive).
 */
function cutPatch(relay: TestRelay, token: string, path: string, offset: number, chunk: Buffer, send: number): Promise<void> {
  const url = new URL(relay.url);
  return new Promise<void>((resolve) => {
    const sock = connect(Number(url.port), url.hostname, () => {
      sock.write(
        `PATCH ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\n` +
          `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${chunk.length}\r\n\r\n`,
      );
      sock.write(chunk.subarray(0, send), () => setTimeout(() => sock.destroy(), 5));
    });
    sock.on('close', () => resolve());
    sock.on('error', () => {});
  });
}

/** Seeded, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function withoutCallFacts(item: RelayItem): Omit<RelayItem, 'receivedAt' | 'requestId' | 'from'> {
  const { receivedAt: _r, requestId: _q, from: _f, ...rest } = item;
  return rest;
}

t.test('OPTIONS, creation and HEAD answer the tus headers; calls without the tus version or a token are refused', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const options = await tus.call('OPTIONS', TUS_PATH);
  t.equal(options.status, 204);
  t.equal(options.headers['tus-resumable'], '1.0.0');
  t.equal(options.headers['tus-version'], '1.0.0');
  t.same(String(options.headers['tus-extension']).split(','), ['creation', 'checksum', 'termination', 'expiration']);
  t.equal(options.headers['tus-max-size'], String(10 * 1024 * 1024));
  t.same(String(options.headers['tus-checksum-algorithm']).split(','), ['sha1', 'md5', 'sm3']);

  const e = EVIDENCE_ENDPOINTS.personVideo;
  const name = evidenceName(e, MINE);
  const before = Date.now();
  const created = await tus.create('personVideo', name, 1234);
  t.equal(created.status, 201);
  t.equal(created.headers['tus-resumable'], '1.0.0');
  const location = String(created.headers['location']);
  t.match(location, /^\/jy-essa\/electronicSeal\/fileOperator\/resumable\/[0-9a-f]{32}$/);
  const expires = Date.parse(String(created.headers['upload-expires']));
  t.ok(expires >= before + 24 * 3600_000 - 2000 && expires <= Date.now() + 24 * 3600_000 + 1000, `Upload-Expires ${created.headers['upload-expires']}`);
  t.match(String(created.headers['upload-expires']), /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);

  const head = await tus.head(location);
  t.equal(head.status, 200);
  t.equal(head.headers['upload-offset'], '0');
  t.equal(head.headers['upload-length'], '1234');
  t.equal(head.headers['cache-control'], 'no-store');
  t.equal(head.headers['tus-resumable'], '1.0.0');
  t.equal(head.headers['upload-expires'], created.headers['upload-expires']);
  t.match(String(head.headers['upload-metadata']), `filename ${Buffer.from(name).toString('base64')}`);

  const noVersion = await request(relay.url + location, { method: 'HEAD', headers: { authorization: `Bearer ${mine.token}` } });
  await noVersion.body.dump();
  t.equal(noVersion.statusCode, 412);
  t.equal(noVersion.headers['tus-version'], '1.0.0');
  t.equal(noVersion.headers['tus-resumable'], '1.0.0');
  const oldVersion = await tus.call('POST', TUS_PATH, { 'tus-resumable': '0.2.2', 'upload-length': '10' });
  t.equal(oldVersion.status, 412);
  t.match(oldVersion.body, { code: 1, msg: /^Tus-Resumable: must be 1\.0\.0/ });

  const anonymous = await new Tus(relay.url, '').call('OPTIONS', TUS_PATH);
  t.equal(anonymous.status, 424, 'authenticated like every data call');
  t.equal(anonymous.headers['tus-resumable'], '1.0.0');
  t.match(anonymous.body, { code: 1, msg: /^token expire/ });

  const wrongType = await tus.call('PATCH', location, { 'content-type': 'application/octet-stream', 'upload-offset': '0' }, Buffer.alloc(10));
  t.equal(wrongType.status, 415);
  t.match(wrongType.body.msg, /^Content-Type: a chunk must be sent as application\/offset\+octet-stream/);
  const noOffset = await tus.call('PATCH', location, { 'content-type': 'application/offset+octet-stream' }, Buffer.alloc(10));
  t.equal(noOffset.status, 400);
  t.match(noOffset.body.msg, /^Upload-Offset: required/);
  t.equal((await tus.head(location)).headers['upload-offset'], '0', 'nothing of the refused chunks was kept');
  t.equal((await tus.head(TUS_PATH + '0'.repeat(32))).status, 404);
});

t.test('a chunked upload becomes the same queue item as a multipart one; re-sends of the file are one item', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 4, width: 640, height: 480 });
  const bytes = await readFile(video);
  const e = EVIDENCE_ENDPOINTS.beltVideo;
  const name = evidenceName(e, MINE);

  const multipart = await relayWithMine(t);
  t.equal((await multipart.mine.upload(e, video, { fileName: name })).status, 200);
  const [reference] = multipart.relay.ctx.queue.range();

  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const { path, last } = await tus.upload('beltVideo', name, bytes, 4);
  t.equal(last.status, 204, 'the last chunk is answered once the item is committed');
  t.equal(last.headers['upload-offset'], String(bytes.length));
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1, 'exactly one queue item');
  const item = items[0]!;
  t.equal(item.lane, reference!.lane);
  t.equal(item.key, reference!.key);
  t.same(withoutCallFacts(item.payload as RelayItem), withoutCallFacts(reference!.payload as RelayItem), 'same fields, same flags, same blob');
  t.equal((item.payload as RelayItem).file!.blob, sm3Hex(bytes));
  t.same(await readAll(relay.ctx.blobs.read(sm3Hex(bytes))), bytes, 'the stored bytes are the sent bytes');
  t.same(await tusFiles(relay), [], 'the partial file is gone once the item is committed');

  const head = await tus.head(path);
  t.equal(head.status, 200, 'a completed upload still answers HEAD');
  t.equal(head.headers['upload-offset'], String(bytes.length));
  const again = await tus.patch(path, bytes.length, Buffer.alloc(0));
  t.equal(again.status, 204, 'an empty PATCH at the end of a completed upload is success (a lost last answer)');
  t.equal((await tus.patch(path, 0, bytes.subarray(0, 100))).status, 409);

  const resent = await tus.upload('fileOperator/beltVideo', name, bytes, 2);
  t.equal(resent.last.status, 204);
  t.equal((await mine.upload(e, video, { fileName: name })).status, 200);
  t.equal(relay.ctx.queue.range().length, 1, 'the same name and bytes again, by tus or multipart: still one item');
  t.equal((await blobFiles(relay.dataDir)).length, 1);
});

t.test('connections cut or stalled mid-chunk at random offsets keep what arrived; the upload resumes to one intact item', async (t) => {
  const dir = await tempDir(t);
  const video = join(dir, 'padded.mp4');
  await padMp4ToSize(await makeVideo(dir, { seconds: 6, width: 640, height: 480, fps: 25 }), video, 1024 * 1024);
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const created = await tus.create(e.partName, evidenceName(e, MINE), bytes.length);
  const path = String(created.headers['location']);
  const db = uploadsDb(relay);
  const seed = Number(process.env['TUS_TEST_SEED']) || Date.now() % 100000;
  const random = prng(seed);
  t.comment(`seed ${seed}`);

  let offset = 0;
  const chunk = 48 * 1024;
  // 0 bytes, a whole chunk without its answer, and random cuts inside chunks
  const plan: ((len: number) => number)[] = [() => 0, (len) => len, ...Array.from({ length: 5 }, () => (len: number) => 1 + Math.floor(random() * (len - 1)))];
  for (const sendOf of plan) {
    const piece = bytes.subarray(offset, Math.min(offset + chunk, bytes.length - 1));
    const send = sendOf(piece.length);
    await cutPatch(relay, mine.token, path, offset, piece, send);
    const expected = offset + send;
    await until(`offset ${expected} committed`, () => db.get(idOf(path))?.offset === expected);
    const head = await tus.head(path);
    t.equal(head.headers['upload-offset'], String(expected), `cut after ${send} of ${piece.length} bytes at ${offset}: HEAD says ${expected}`);
    offset = Number(head.headers['upload-offset']);
    // a normal chunk in between
    const next = await tus.patch(path, offset, bytes.subarray(offset, Math.min(offset + 10_000, bytes.length - 1)));
    t.equal(next.status, 204);
    offset = Number(next.headers['upload-offset']);
  }
  // a connection that stays open but stalls mid-chunk (half-open: the relay cannot tell) is taken
  // over by the resuming client's HEAD at once, and what it delivered is kept
  const piece = bytes.subarray(offset, offset + chunk);
  const send = 1 + Math.floor(random() * (piece.length - 1));
  const url = new URL(relay.url);
  const stalled = connect(Number(url.port), url.hostname);
  stalled.on('error', () => {});
  const stalledClosed = new Promise((resolve) => stalled.on('close', resolve));
  stalled.write(
    `PATCH ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${mine.token}\r\nTus-Resumable: 1.0.0\r\n` +
      `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${piece.length}\r\n\r\n`,
  );
  stalled.write(piece.subarray(0, send));
  await until('the stalled bytes reached the file', async () => (await stat(join(relay.dataDir, 'tus', idOf(path)))).size === offset + send);
  const started = Date.now();
  const takeover = await tus.head(path);
  t.equal(takeover.headers['upload-offset'], String(offset + send), `stalled after ${send} bytes at ${offset}: kept`);
  t.ok(Date.now() - started < 2000, 'without waiting for a timeout');
  await stalledClosed;
  t.pass('the stalled connection was closed by the relay');
  offset += send;

  t.equal(relay.ctx.queue.range().length, 0, 'nothing queued before the last byte');
  const rest = await tus.patch(path, offset, bytes.subarray(offset));
  t.equal(rest.status, 204);
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1);
  const blob = (items[0]!.payload as RelayItem).file!.blob;
  t.equal(blob, sm3Hex(bytes), 'the blob is the file');
  t.equal(sm3Hex(await readAll(relay.ctx.blobs.read(blob))), sm3Hex(bytes), 'SM3 of the stored blob = SM3 of the file');
});

t.test('a body that breaks off or is taken over still hands over every byte it had buffered', async (t) => {
  const collect = async (pieces: AsyncIterable<Buffer>) => {
    const got: Buffer[] = [];
    try {
      for await (const p of pieces) got.push(p);
    } catch (err) {
      return { got: Buffer.concat(got).toString(), err };
    }
    return { got: Buffer.concat(got).toString(), err: undefined };
  };
  const broken = new Readable({ read() {} });
  broken.push('abc');
  broken.push('def');
  broken.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  const a = await collect(bodyPieces(broken).pieces);
  t.equal(a.got, 'abcdef', 'what the stream held when the connection broke');
  t.match(a.err, { code: 'ECONNRESET' });

  const live = new Readable({ read() {} });
  live.push('12345');
  const body = bodyPieces(live);
  body.stop();
  live.push('67890'); // arrives after the takeover: not waited for
  const b = await collect(body.pieces);
  t.equal(b.got.slice(0, 5), '12345');
  t.ok(b.err instanceof BodyStopped, 'then it stops, without waiting for the end');

  const whole = new Readable({ read() {} });
  whole.push('all');
  whole.push(null);
  t.same(await collect(bodyPieces(whole).pieces), { got: 'all', err: undefined });
});

t.test('a partial upload survives a relay restart on the same data dir', async (t) => {
  const dir = await tempDir(t);
  const bytes = await readFile(await makeVideo(dir, { seconds: 4, width: 640, height: 480 }));
  const first = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.truckVideo;
  const tus1 = new Tus(first.relay.url, first.mine.token);
  const created = await tus1.create(e.partName, evidenceName(e, MINE), bytes.length);
  const path = String(created.headers['location']);
  const half = Math.floor(bytes.length / 2);
  t.equal((await tus1.patch(path, 0, bytes.subarray(0, half))).status, 204);
  await first.relay.close();

  const second = await startTestRelay(t, {}, first.relay.dataDir);
  const tus2 = new Tus(second.url, first.mine.token);
  const head = await tus2.head(path);
  t.equal(head.status, 200);
  t.equal(head.headers['upload-offset'], String(half), 'the offset survived');
  const done = await tus2.patch(path, half, bytes.subarray(half));
  t.equal(done.status, 204);
  const items = second.ctx.queue.range();
  t.equal(items.length, 1);
  t.equal((items[0]!.payload as RelayItem).file!.blob, sm3Hex(bytes));
});

t.test('checksums and offsets: a bad checksum is 460 and moves nothing; an unknown algorithm is 400; a wrong offset is 409', async (t) => {
  const dir = await tempDir(t);
  const bytes = await readFile(await makeVideo(dir, { seconds: 2 }));
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.dispatchingRoomVideo;
  const path = String((await tus.create(e.partName, evidenceName(e, MINE), bytes.length)).headers['location']);
  const digest = (algorithm: string, b: Buffer) => createHash(algorithm).update(b).digest('base64');
  const [a, b, c] = [bytes.subarray(0, 10_000), bytes.subarray(10_000, 20_000), bytes.subarray(20_000)];

  const bad = await tus.patch(path, 0, a, { 'upload-checksum': `sha1 ${digest('sha1', b)}` });
  t.equal(bad.status, 460);
  t.match(bad.body, { code: 1, msg: /^Upload-Checksum: the 10000 bytes received do not match the sha1 checksum/ });
  t.equal((await tus.head(path)).headers['upload-offset'], '0', 'the offset did not move');
  t.equal(uploadsDb(relay).get(idOf(path))!.offset, 0);

  const unknown = await tus.patch(path, 0, a, { 'upload-checksum': `crc32 ${digest('md5', a)}` });
  t.equal(unknown.status, 400);
  t.match(unknown.body.msg, /^Upload-Checksum: algorithm "crc32" is not supported; use one of sha1, md5, sm3/);
  const malformed = await tus.patch(path, 0, a, { 'upload-checksum': 'sha1' });
  t.equal(malformed.status, 400);

  t.equal((await tus.patch(path, 0, a, { 'upload-checksum': `sha1 ${digest('sha1', a)}` })).status, 204);
  const wrong = await tus.patch(path, 0, b, { 'upload-checksum': `md5 ${digest('md5', b)}` });
  t.equal(wrong.status, 409);
  t.equal(wrong.headers['upload-offset'], '10000', 'the 409 says where the relay is');
  t.match(wrong.body.msg, /^Upload-Offset: 0, but the relay holds 10000 bytes/);
  t.equal((await tus.patch(path, 10_000, b, { 'upload-checksum': `md5 ${digest('md5', b)}` })).status, 204);
  const last = await tus.patch(path, 20_000, c, { 'upload-checksum': `sm3 ${digest('sm3', c)}` });
  t.equal(last.status, 204);
  t.equal(relay.ctx.queue.range().length, 1);
});

t.test('a body longer than what is left of the upload is 413 and keeps nothing', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const path = String((await tus.create(e.partName, evidenceName(e, MINE), 1000)).headers['location']);
  t.equal((await tus.patch(path, 0, Buffer.alloc(600))).status, 204);
  const over = await tus.patch(path, 600, Buffer.alloc(401));
  t.equal(over.status, 413);
  t.match(over.body.msg, /^body: more than the 400 bytes left of this upload/);
  t.equal((await tus.head(path)).headers['upload-offset'], '600');
});

t.test('creation refuses bad metadata and sizes before a byte is sent, naming the field and the rule', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const cases: [string, Promise<Answer>, number, RegExp][] = [
    ['no filename', tus.create('personVideo', undefined, 1000), 400, /^Upload-Metadata filename: required/],
    ['no kind', tus.create(undefined, evidenceName(e, MINE), 1000), 400, /^Upload-Metadata kind: required: the evidence part name, one of personVideo, truckVideo/],
    ['unknown kind', tus.create('infoReport/person', evidenceName(e, MINE), 1000), 400, /^Upload-Metadata kind: "infoReport\/person" is not an evidence upload/],
    ['bad file name', tus.create('personVideo', 'video.mp4', 1000), 400, /^personVideo filename: must be 34 digits/],
    ['file name too long', tus.create('personVideo', '1'.repeat(70) + '.MP4', 1000), 400, /^personVideo filename: too long/],
    ['other account\'s mine', tus.create('personVideo', evidenceName(e, OTHER_MINE), 1000), 403, /140421009999 is not a mine of account mine001/],
    ['too long', tus.create('personVideo', evidenceName(e, MINE), 10 * 1024 * 1024 + 1), 413, /^Upload-Length: 10485761 bytes is larger than 10485760 bytes/],
    ['empty', tus.create('personVideo', evidenceName(e, MINE), 0), 400, /^Upload-Length: must be at least 1/],
    ['no length', tus.call('POST', TUS_PATH, { 'upload-metadata': formatMetadata({ kind: 'personVideo', filename: evidenceName(e, MINE) }) }), 400, /^Upload-Length: required/],
    ['deferred length', tus.call('POST', TUS_PATH, { 'upload-defer-length': '1' }), 400, /^Upload-Length: required; Upload-Defer-Length is not supported/],
    ['metadata not base64', tus.call('POST', TUS_PATH, { 'upload-length': '10', 'upload-metadata': 'kind personVideo!' }), 400, /^Upload-Metadata kind: the value must be base64/],
  ];
  for (const [what, answer, status, msg] of cases) {
    const a = await answer;
    t.equal(a.status, status, what);
    t.match(a.body, { code: 1, msg, data: null }, what);
  }
  t.same(await tusFiles(relay), [], 'no upload was made');
  t.equal([...uploadsDb(relay).getKeys({})].length, 0);
  // the endpoint id is a kind too, and the exact limit passes
  t.equal((await tus.create('fileOperator/occlusion-movAngleVideo', evidenceName(EVIDENCE_ENDPOINTS.cameraCoverVideo, MINE), 10 * 1024 * 1024)).status, 201);
});

t.test('what is not an H.264 MP4 is refused at completion; the upload is removed and nothing queued', async (t) => {
  const dir = await tempDir(t);
  const h265 = await readFile(await makeMp4Fixture(dir, 'h265', 1));
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'this is not a video\n'.repeat(100));
  const { relay, mine } = await relayWithMine(t);
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.truckVideo;
  for (const [bytes, msg] of [
    [h265, /^truckVideo: .*H\.265/],
    [await readFile(text), /^truckVideo: /],
  ] as const) {
    const { path, last } = await tus.upload(e.partName, evidenceName(e, MINE), bytes, 2);
    t.equal(last.status, 400);
    t.match(last.body, { code: 1, msg, data: null });
    t.equal((await tus.head(path)).status, 404, 'the upload is gone');
  }
  t.equal(relay.ctx.queue.range().length, 0, 'nothing queued');
  t.same(await tusFiles(relay), []);
  t.same(await blobFiles(relay.dataDir), []);
});

t.test('DELETE terminates an upload and removes its bytes; another account sees no upload', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  await relay.ctx.accounts.add({ username: 'mine002', password: 'An0ther+pass/word=', mines: [MINE] });
  const other = new GuideMine(relay.url, 'mine002', 'An0ther+pass/word=');
  t.equal((await other.login()).status, 200);
  const tus = new Tus(relay.url, mine.token);
  const stranger = new Tus(relay.url, other.token);
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const path = String((await tus.create(e.partName, evidenceName(e, MINE), 5000)).headers['location']);
  t.equal((await tus.patch(path, 0, Buffer.alloc(2000, 7))).status, 204);

  t.equal((await stranger.head(path)).status, 404, 'HEAD by another account');
  const patch = await stranger.patch(path, 2000, Buffer.alloc(100));
  t.equal(patch.status, 404, 'PATCH by another account');
  t.match(patch.body.msg, /no such upload of account mine002/);
  t.equal((await stranger.call('DELETE', path)).status, 404, 'DELETE by another account');
  t.equal((await tus.head(path)).headers['upload-offset'], '2000', 'the owner\'s upload is untouched');

  t.same(await tusFiles(relay), [idOf(path)]);
  const del = await tus.call('DELETE', path);
  t.equal(del.status, 204);
  t.equal(del.headers['tus-resumable'], '1.0.0');
  t.same(await tusFiles(relay), [], 'the partial data is removed');
  t.equal((await tus.head(path)).status, 404);
  t.equal((await tus.patch(path, 2000, Buffer.alloc(10))).status, 404);
  t.equal((await tus.call('DELETE', path)).status, 404);
});

t.test('expiry: 410 and the bytes removed, by the sweeper (short expiry option) or at the first access; PATCHes are limited', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  // the relay's own plugin, mounted again on the same context with short times and a limit of one
  const app = Fastify();
  app.setErrorHandler(async (err: EsealError, _request, reply) => {
    reply.status(err.statusCode ?? 500);
    return failure(err.message);
  });
  await app.register((scope) => tusRoutes(scope, relay.ctx, { expireAfterMs: 600, sweepIntervalMs: 100, maxPatches: 1 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  try {
    const tus = new Tus(url, mine.token);
    const e = EVIDENCE_ENDPOINTS.personVideo;
    const created = await tus.create(e.partName, evidenceName(e, MINE), 5000);
    t.ok(Date.parse(String(created.headers['upload-expires'])) <= Date.now() + 1000, 'Upload-Expires follows the option');
    const swept = String(created.headers['location']);
    const accessed = String((await tus.create(e.partName, evidenceName(e, MINE, Date.now() - 1000), 5000)).headers['location']);
    const patched = await tus.patch(swept, 0, Buffer.alloc(1000));
    t.equal(patched.status, 204);
    t.ok(patched.headers['upload-expires'], 'PATCH answers carry Upload-Expires');

    // limits: one PATCH at a time here; a second one is 503 with Retry-After
    const stalled = connect(address.port, '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write(
      `PATCH ${accessed} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${mine.token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
        `Content-Type: application/offset+octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`,
    );
    try {
      // (a wrong offset: 409 while a slot is free, so that probing changes nothing)
      await until('the stalled PATCH holds its slot', async () => (await tus.patch(swept, 999, Buffer.alloc(10))).status === 503);
      const busy = await tus.patch(swept, 1000, Buffer.alloc(10));
      t.equal(busy.status, 503);
      t.equal(busy.headers['retry-after'], '5');
      t.match(busy.body.msg, /^relay busy: 1 resumable-upload chunks are being received \(the limit\); retry in 5 s/);
    } finally {
      stalled.destroy();
    }

    // the sweeper removes the first without any request
    await until('the sweeper removed the expired file', async () => !(await tusFiles(relay)).includes(idOf(swept)), 5000);
    const gone = await tus.head(swept);
    t.equal(gone.status, 410);
    t.equal(gone.headers['tus-resumable'], '1.0.0');
    const late = await tus.patch(swept, 1000, Buffer.alloc(10));
    t.equal(late.status, 410);
    t.match(late.body.msg, /expired on .* with 1000 of 5000 bytes; start a new upload/);
    t.equal((await tus.head(accessed)).status, 410);
    t.same(await tusFiles(relay), [], 'no bytes left of either');
    t.equal(relay.ctx.queue.range().length, 0);
  } finally {
    await app.close();
  }

  // on access, before any sweep: the relay's own plugin (24 h) with a record whose time is up
  const tus = new Tus(relay.url, mine.token);
  const e = EVIDENCE_ENDPOINTS.beltVideo;
  const path = String((await tus.create(e.partName, evidenceName(e, MINE), 5000)).headers['location']);
  t.equal((await tus.patch(path, 0, Buffer.alloc(100))).status, 204);
  const db = uploadsDb(relay);
  await db.put(idOf(path), { ...db.get(idOf(path))!, expiresAt: Date.now() - 1 });
  t.equal((await tus.patch(path, 100, Buffer.alloc(100))).status, 410);
  t.same(await tusFiles(relay), [], 'the bytes went at the first access after expiry');
  t.equal((await tus.head(path)).status, 410, 'and it stays gone');
});
