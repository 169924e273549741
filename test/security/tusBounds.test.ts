// Issue 9, finding 4: resumable uploads are bounded per account. Open uploads and the bytes they
// reserve are limited per account (429) and in all (503), one account cannot take every chunk
// slot, a PATCH above the disk's high-water mark is refused like a POST upload (507) and loses
// nothing already held, and per-account limits must stay below the global ones.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { loadAppConfig } from '../../app/config.ts';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { evidenceName } from '../helpers/evidence.ts';
import { makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, relayWithMine, startTestRelay, tempDir, type TestRelay } from '../helpers/relay.ts';
import { Tus, type Answer } from '../helpers/tus.ts';

const MIB = 1024 * 1024;
const e = EVIDENCE_ENDPOINTS.personVideo;


function tus(relay: TestRelay, token: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  return new Tus(relay.url, token).call(method, path, headers, body);
}

/** Distinct valid file names (a second apart), so that no creation is a re-send of another. */
function nameAt(i: number): string {
  return evidenceName(e, MINE, Date.now() - i * 1000);
}

function create(relay: TestRelay, token: string, length: number, i: number): Promise<Answer> {
  return tus(relay, token, 'POST', TUS_PATH, { 'upload-length': String(length), 'upload-metadata': formatMetadata({ kind: e.partName, filename: nameAt(i) }) });
}

function patch(relay: TestRelay, token: string, path: string, offset: number, bytes: Buffer): Promise<Answer> {
  return tus(relay, token, 'PATCH', path, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, bytes);
}

async function secondAccount(relay: TestRelay): Promise<GuideMine> {
  await relay.ctx.accounts.add({ username: 'mine002', password: 'An0ther+pass/word=', mines: [MINE] });
  const other = new GuideMine(relay.url, 'mine002', 'An0ther+pass/word=');
  if ((await other.login()).status !== 200) throw new Error('login of mine002 failed');
  return other;
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A PATCH whose headers and first bytes are sent and whose body then stalls (it holds a slot). */
function stalledPatch(t: Test, relay: TestRelay, token: string, path: string): Socket {
  const url = new URL(relay.url);
  const sock = connect(Number(url.port), url.hostname);
  sock.on('error', () => {});
  t.teardown(() => sock.destroy());
  sock.write(
    `PATCH ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
      `Content-Type: application/offset+octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`,
  );
  return sock;
}

t.test('with the defaults, one account cannot hold 40 uploads of 10 MiB: 20 (200 MiB) and then 429; another account still creates', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  let accepted = 0;
  let refused: Answer | undefined;
  for (let i = 0; i < 40 && !refused; i++) {
    const a = await create(relay, mine.token, 10 * MIB, i);
    if (a.status === 201) accepted++;
    else refused = a;
  }
  t.equal(accepted, 20, '200 MiB reserved per account by default');
  t.equal(refused?.status, 429);
  t.equal(refused?.headers['retry-after'], '60');
  t.match(refused?.body, {
    code: 1,
    msg: /^Upload-Length: account mine001 holds 209715200 bytes in open resumable uploads, and 10485760 more would pass the limit of 209715200 \(relay\.limits\.resumable\.maxReservedBytesPerAccount\); finish or DELETE one/,
    data: null,
  });
  t.equal(relay.ctx.queue.range().length, 0);
  const other = await secondAccount(relay);
  t.equal((await create(relay, other.token, 10 * MIB, 100)).status, 201, 'another account is not held back by the first');
  t.equal((await create(relay, mine.token, 1024, 101)).status, 429, 'not even a small one while the 200 MiB are held');
});

t.test('open uploads per account: the limit is 429 until one is deleted, completed or expired; it holds across a restart', async (t) => {
  const dir = await tempDir(t);
  const video = await readFile(await makeVideo(dir, { seconds: 1 }));
  const set = { 'relay.limits.resumable.maxOpenPerAccount': 3 };
  const { relay, mine } = await relayWithMine(t, set);
  const paths: string[] = [];
  for (let i = 0; i < 3; i++) {
    const a = await create(relay, mine.token, i === 0 ? video.length : 5000, i);
    t.equal(a.status, 201);
    paths.push(String(a.headers['location']));
  }
  const over = await create(relay, mine.token, 5000, 3);
  t.equal(over.status, 429);
  t.match(over.body.msg, /^Upload-Length: account mine001 holds 3 open resumable uploads \(the limit\) \(relay\.limits\.resumable\.maxOpenPerAccount\)/);

  t.equal((await tus(relay, mine.token, 'DELETE', paths[2]!)).status, 204);
  t.equal((await create(relay, mine.token, 5000, 4)).status, 201, 'a deleted upload makes room');
  t.equal((await create(relay, mine.token, 5000, 5)).status, 429);
  const done = await patch(relay, mine.token, paths[0]!, 0, video);
  t.equal(done.status, 204, 'a completed upload makes room');
  t.equal(relay.ctx.queue.range().length, 1);
  t.equal((await create(relay, mine.token, 5000, 6)).status, 201);
  t.equal((await create(relay, mine.token, 5000, 7)).status, 429);

  // the uploads in the database still count after a restart
  await relay.close();
  const again = await startTestRelay(t, set, relay.dataDir);
  t.equal((await create(again, mine.token, 5000, 8)).status, 429, 'after a restart the 3 open uploads still count');
});

t.test('open uploads and reserved bytes in all: past the global limits every account gets 503', async (t) => {
  const { relay, mine } = await relayWithMine(t, { 'relay.limits.resumable.maxOpen': 3, 'relay.limits.resumable.maxOpenPerAccount': 2 });
  const other = await secondAccount(relay);
  t.equal((await create(relay, mine.token, 5000, 0)).status, 201);
  t.equal((await create(relay, mine.token, 5000, 1)).status, 201);
  t.equal((await create(relay, other.token, 5000, 2)).status, 201);
  const busy = await create(relay, other.token, 5000, 3);
  t.equal(busy.status, 503);
  t.equal(busy.headers['retry-after'], '60');
  t.match(busy.body.msg, /^relay busy: all accounts together hold 3 open resumable uploads \(the limit\) \(relay\.limits\.resumable\.maxOpen\)/);
});

t.test('one account cannot take every chunk slot: its own limit is below the global one, and another account still sends', async (t) => {
  const { relay, mine } = await relayWithMine(t, { 'relay.limits.maxConcurrentUploads': 3 });
  t.equal(relay.config.relay.limits.resumable.maxChunksPerAccount, 2, 'left at its default, the per-account limit follows the global one down');
  const other = await secondAccount(relay);
  const mineUploads: string[] = [];
  for (let i = 0; i < 3; i++) mineUploads.push(String((await create(relay, mine.token, 5000, i)).headers['location']));
  const otherUpload = String((await create(relay, other.token, 5000, 10)).headers['location']);
  stalledPatch(t, relay, mine.token, mineUploads[0]!);
  stalledPatch(t, relay, mine.token, mineUploads[1]!);
  // (a wrong offset: 409 while the account has a slot free, so that probing stores nothing)
  await until('the two stalled chunks hold the account\'s slots', async () => (await patch(relay, mine.token, mineUploads[2]!, 99, Buffer.alloc(10))).status === 503);
  const third = await patch(relay, mine.token, mineUploads[2]!, 0, Buffer.alloc(10));
  t.equal(third.status, 503);
  t.equal(third.headers['retry-after'], '5');
  t.match(third.body.msg, /^relay busy: account mine001 is sending 2 chunks at once \(the limit\)/);
  const theirs = await patch(relay, other.token, otherUpload, 0, Buffer.alloc(10));
  t.equal(theirs.status, 204, 'another account gets the slot left');
  t.equal(theirs.headers['upload-offset'], '10');
});

t.test('the configuration refuses a per-account limit at or above its global one, and one too small for a video', async (t) => {
  const dataDir = await tempDir(t);
  const load = (set: Record<string, string | number>) => loadAppConfig({ env: {}, set: { dataDir, 'log.level': 'silent', ...set } });
  const defaults = await load({});
  t.same(defaults.relay.limits.resumable, {
    maxChunksPerAccount: 8,
    maxOpenPerAccount: 32,
    maxOpen: 4096,
    maxReservedBytesPerAccount: 200 * MIB,
    maxReservedBytes: 8 * 1024 * MIB,
  });
  t.ok(defaults.relay.limits.resumable.maxChunksPerAccount < defaults.relay.limits.maxConcurrentUploads);
  await t.rejects(load({ 'relay.limits.resumable.maxChunksPerAccount': 64 }), {
    code: 'ESEAL_ERR_CONFIG_INVALID',
    message: /relay\.limits\.resumable\.maxChunksPerAccount: must be below relay\.limits\.maxConcurrentUploads \(64\), so that one account cannot take them all; got 64/,
  });
  await t.rejects(load({ 'relay.limits.resumable.maxOpenPerAccount': 10, 'relay.limits.resumable.maxOpen': 10 }), {
    message: /relay\.limits\.resumable\.maxOpenPerAccount: must be below relay\.limits\.resumable\.maxOpen \(10\)/,
  });
  await t.rejects(load({ 'relay.limits.resumable.maxReservedBytesPerAccount': 9 * 1024 * MIB }), {
    message: /relay\.limits\.resumable\.maxReservedBytesPerAccount: must be below relay\.limits\.resumable\.maxReservedBytes/,
  });
  await t.rejects(load({ 'relay.limits.resumable.maxReservedBytesPerAccount': MIB }), {
    message: /maxReservedBytesPerAccount: must be at least relay\.limits\.videoMaxBytes \(10485760\)/,
  });
  const lowered = await load({ 'relay.limits.resumable.maxOpen': 5 });
  t.equal(lowered.relay.limits.resumable.maxOpenPerAccount, 4, 'a default per-account limit follows a lower global one');
});

t.test('above the high-water mark a PATCH is refused with 507 like a POST upload; what the upload held is kept and it resumes after', async (t) => {
  const dir = await tempDir(t);
  const video = await readFile(await makeVideo(dir, { seconds: 2 }));
  const { relay, mine } = await relayWithMine(t);
  const path = String((await create(relay, mine.token, video.length, 0)).headers['location']);
  const half = Math.floor(video.length / 2);
  t.equal((await patch(relay, mine.token, path, 0, video.subarray(0, half))).status, 204);

  const { highWatermarkPercent, lowWatermarkPercent } = relay.ctx.config.disk;
  relay.ctx.config.disk.lowWatermarkPercent = 0;
  relay.ctx.config.disk.highWatermarkPercent = 1;
  await relay.disk.check();
  t.ok(relay.ctx.disk.full, 'the disk is "full"');
  const post = await create(relay, mine.token, 5000, 1);
  t.equal(post.status, 507, 'a creation (as a multipart upload) is refused');
  const refused = await patch(relay, mine.token, path, half, video.subarray(half));
  t.equal(refused.status, 507, 'a chunk is refused the same way');
  t.match(refused.body, { code: 1, msg: /above its high-water mark .* nothing of this chunk was stored; the upload keeps its \d+ bytes/, data: null });
  t.equal(refused.headers['connection'], 'close', 'its body is not read');
  const head = await tus(relay, mine.token, 'HEAD', path);
  t.equal(head.status, 200);
  t.equal(head.headers['upload-offset'], String(half), 'nothing held was lost');
  t.equal(relay.ctx.queue.range().length, 0);

  relay.ctx.config.disk.highWatermarkPercent = highWatermarkPercent;
  relay.ctx.config.disk.lowWatermarkPercent = lowWatermarkPercent;
  await relay.disk.check();
  t.notOk(relay.ctx.disk.full);
  const rest = await patch(relay, mine.token, path, half, video.subarray(half));
  t.equal(rest.status, 204, 'it resumes once there is room');
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1);
  t.equal((items[0]!.payload as RelayItem).file!.blob, sm3Hex(video));
});
