// uploadWithTus against a real relay: a full upload, a link that drops the connection after some
// bytes (a TCP proxy on loopback written here), resuming a known upload, refusals, giving up.
import t, { type Test } from 'tap';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName, type EvidenceEndpoint } from '../../../src/contract/index.ts';
import { sm3Hex } from '../../../src/crypto/sm3.ts';
import { TusClientGaveUp } from '../../../src/client/errors.ts';
import type { RelayItem } from '../../../relay/ingest/RelayItem.ts';
import { terminateUpload, uploadWithTus, type TusUploadOptions } from '../../../src/client/TusClient.ts';
import { TUS_PATH, formatMetadata } from '../../../src/contract/tus.ts';
import { makeMp4Fixture, makeVideo, padMp4ToSize } from '../../helpers/media.ts';
import { MINE, relayWithMine, tempDir, type TestRelay } from '../../helpers/relay.ts';

function nameFor(endpoint: EvidenceEndpoint, at = Date.now()): string {
  return formatEvidenceFileName(endpoint.fileForm, { mineId: MINE, cameraId: '20', aiTypeCode: endpoint.aiTypes[0]!, count: '0002', beltStatus: '0001', time: at });
}

function fileSource(path: string): (start: number) => ReturnType<typeof createReadStream> {
  return (start) => createReadStream(path, { start });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function itemBlobs(relay: TestRelay): string[] {
  return relay.ctx.queue.range().map((i) => (i.payload as RelayItem).file!.blob);
}

/**
 * A TCP proxy to `target` whose n-th connection is cut (both ends destroyed) once `cuts[n]` bytes
 * went from the client towards the relay; connections past the list pass everything.
 */
async function flakyProxy(t: Test, target: string, cuts: number[]): Promise<{ url: string; connections: () => number; bytesUp: () => number }> {
  const { hostname, port } = new URL(target);
  let connections = 0;
  let bytesUp = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const limit = cuts[connections++];
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let seen = 0;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data: Buffer) => {
      if (limit !== undefined && seen + data.length >= limit) {
        const part = data.subarray(0, limit - seen);
        seen = limit;
        bytesUp += part.length;
        upstream.write(part, cut);
        client.pause();
        return;
      }
      seen += data.length;
      bytesUp += data.length;
      upstream.write(data);
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', () => {
        sockets.delete(s);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, bytesUp: () => bytesUp };
}

t.test('a full upload: created, sent in checksummed chunks, one item with the file\'s SM3', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 4, width: 640, height: 480 });
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const progress: number[] = [];
  const result = await uploadWithTus({
    baseUrl: relay.url,
    token: mine.token,
    kind: 'personVideo',
    fileName: nameFor(EVIDENCE_ENDPOINTS.personVideo),
    size: bytes.length,
    open: fileSource(video),
    chunkBytes: 32 * 1024,
    checksum: 'sm3',
    onProgress: (o) => progress.push(o),
  });
  t.equal(result.completed, true);
  t.equal(result.offset, bytes.length);
  t.same(result.answer, { code: 0, msg: 'success', data: true });
  t.equal(result.status, 204);
  t.match(result.uploadUrl, new RegExp(`^${relay.url}${TUS_PATH}[0-9a-f]{32}$`));
  t.equal(progress.length, Math.ceil(bytes.length / (32 * 1024)), 'one progress report per chunk');
  t.same(progress, [...progress].sort((a, b) => a - b), 'progress only grows');
  t.equal(progress.at(-1), bytes.length);
  t.same(itemBlobs(relay), [sm3Hex(bytes)]);
});

t.test('a link that drops the connection mid-chunk: the client resumes at the byte offset and completes', async (t) => {
  const dir = await tempDir(t);
  const video = join(dir, 'padded.mp4');
  await padMp4ToSize(await makeVideo(dir, { seconds: 4, width: 640, height: 480 }), video, 2 * 1024 * 1024);
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  for (const checksum of [undefined, 'sm3'] as const) {
    // cuts inside chunks, inside headers (40 bytes) and after a little more than a chunk
    const proxy = await flakyProxy(t, relay.url, [200_000, 40, 333_333, 700_001, 90_000]);
    const name = nameFor(EVIDENCE_ENDPOINTS.personVideo, Date.now() - (checksum ? 1000 : 0));
    const result = await uploadWithTus({
      baseUrl: proxy.url,
      token: mine.token,
      kind: 'personVideo',
      fileName: name,
      size: bytes.length,
      open: fileSource(video),
      chunkBytes: 256 * 1024,
      ...(checksum ? { checksum } : {}),
      retryDelayMs: 5,
    });
    t.equal(result.completed, true, `checksum ${checksum ?? 'none'}: completed`);
    t.ok(proxy.connections() >= 6, `checksum ${checksum ?? 'none'}: ${proxy.connections()} connections, 5 of them cut`);
    const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem).filter((p) => p.file!.name === name);
    t.equal(items.length, 1);
    t.equal(items[0]!.file!.blob, sm3Hex(bytes), 'the stored video has the file\'s SM3');
    t.equal(sm3Hex(await readAll(relay.ctx.blobs.read(items[0]!.file!.blob))), sm3Hex(bytes), 'SM3 of the stored blob');
    if (!checksum) {
      // resumed where the bytes stopped: far less than starting over after each of the 5 cuts
      t.ok(proxy.bytesUp() < bytes.length * 1.1, `${proxy.bytesUp()} bytes sent for a ${bytes.length}-byte file`);
    }
  }
});

t.test('resuming a known upload URL sends only what the relay lacks; a gone one is made again', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 4, width: 640, height: 480 });
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const e = EVIDENCE_ENDPOINTS.truckVideo;
  const auth = { authorization: `Bearer ${mine.token}`, 'tus-resumable': '1.0.0' };
  const create = async (name: string) => {
    const res = await request(relay.url + TUS_PATH, {
      method: 'POST',
      headers: { ...auth, 'upload-length': String(bytes.length), 'upload-metadata': formatMetadata({ kind: e.partName, filename: name }) },
    });
    await res.body.dump();
    return String(res.headers['location']);
  };
  const name = nameFor(e);
  const path = await create(name);
  const half = 40_000;
  const first = await request(relay.url + path, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    body: bytes.subarray(0, half),
  });
  await first.body.dump();
  t.equal(first.statusCode, 204);

  const starts: number[] = [];
  const base: TusUploadOptions = {
    baseUrl: relay.url,
    token: mine.token,
    kind: e.partName,
    fileName: name,
    size: bytes.length,
    open: (start) => {
      starts.push(start);
      return createReadStream(video, { start });
    },
  };
  const resumed = await uploadWithTus({ ...base, uploadUrl: path });
  t.equal(resumed.completed, true);
  t.equal(resumed.uploadUrl, relay.url + path, 'the same upload');
  t.same(starts, [half], 'read (and sent) from the offset the relay held, once');
  t.same(itemBlobs(relay), [sm3Hex(bytes)]);

  // completed already: nothing is sent
  starts.length = 0;
  const again = await uploadWithTus({ ...base, uploadUrl: relay.url + path });
  t.equal(again.completed, true);
  t.same(starts, [], 'a completed upload is recognised by its offset');

  // deleted: a new upload is made; the relay's dedupe keeps one item
  // (a name a minute older: never the first one's, however long the steps above took)
  const otherName = nameFor(e, Date.now() - 60_000);
  const gone = await create(otherName);
  const del = await request(relay.url + gone, { method: 'DELETE', headers: auth });
  await del.body.dump();
  const remade = await uploadWithTus({ ...base, fileName: otherName, uploadUrl: gone, retryDelayMs: 1 });
  t.equal(remade.completed, true);
  t.not(remade.uploadUrl, relay.url + gone);
  t.equal(relay.ctx.queue.range().length, 2);
});

t.test('refusals come back as answers; an unreachable upstream makes it give up; a signal aborts', async (t) => {
  const dir = await tempDir(t);
  const h265 = await makeMp4Fixture(dir, 'h265', 1);
  const size = (await stat(h265)).size;
  const { relay, mine } = await relayWithMine(t);
  const base = { baseUrl: relay.url, token: mine.token, kind: 'beltVideo', size, open: fileSource(h265) };
  const refused = await uploadWithTus({ ...base, fileName: nameFor(EVIDENCE_ENDPOINTS.beltVideo) });
  t.equal(refused.completed, false);
  t.equal(refused.status, 400);
  t.match(refused.answer, { code: 1, msg: /^beltVideo: .*H\.265/ });

  const badName = await uploadWithTus({ ...base, fileName: 'clip.mp4' });
  t.equal(badName.completed, false);
  t.equal(badName.uploadUrl, '', 'refused at creation');
  t.match(badName.answer, { code: 1, msg: /^beltVideo filename: / });

  const expired = await uploadWithTus({ ...base, token: 'not-a-token', fileName: nameFor(EVIDENCE_ENDPOINTS.beltVideo) });
  t.equal(expired.status, 424);
  t.match(expired.answer, { msg: 'token expire' });

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const err = await uploadWithTus({ ...base, baseUrl: `http://127.0.0.1:${port}`, fileName: nameFor(EVIDENCE_ENDPOINTS.beltVideo), retries: 2, retryDelayMs: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(TusClientGaveUp.is(err), 'TusClientGaveUp');
  t.match((err as Error).message, /gave up after 3 failures in a row/);

  const controller = new AbortController();
  controller.abort();
  await t.rejects(uploadWithTus({ ...base, fileName: nameFor(EVIDENCE_ENDPOINTS.beltVideo), signal: controller.signal }), { name: 'AbortError' });
  t.equal(relay.ctx.queue.range().length, 0);
});

t.test('openLast reads the chunk that completes the upload; when it fails the upload stays open and terminateUpload removes it', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 2, width: 320, height: 240 });
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const chunkBytes = 16 * 1024;
  const base = { baseUrl: relay.url, token: mine.token, kind: 'personVideo', size: bytes.length, open: fileSource(video), chunkBytes };
  const lastFrom: number[] = [];
  const ok = await uploadWithTus({
    ...base,
    fileName: nameFor(EVIDENCE_ENDPOINTS.personVideo),
    checksum: 'sm3',
    openLast: (start) => (lastFrom.push(start), createReadStream(video, { start })),
  });
  t.equal(ok.completed, true);
  const lastStart = Math.floor((bytes.length - 1) / chunkBytes) * chunkBytes;
  t.same([...new Set(lastFrom)], [lastStart], 'openLast serves the last chunk only (its checksum and its body)');

  const urls: string[] = [];
  const refusal = new Error('the source is not what it should be');
  const failed = uploadWithTus({
    ...base,
    fileName: nameFor(EVIDENCE_ENDPOINTS.personVideo, Date.now() - 60_000),
    openLast: (start) =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(start, start + 100);
          throw refusal;
        })(),
      ),
    onUploadUrl: (url) => urls.push(url),
  });
  await t.rejects(failed, refusal, 'the source failure ends the upload, not retried');
  t.equal(urls.length, 1, 'the upload URL was told');
  const head = await request(urls[0]!, { method: 'HEAD', headers: { authorization: `Bearer ${mine.token}`, 'tus-resumable': '1.0.0' } });
  await head.body.dump();
  t.ok(Number(head.headers['upload-offset']) < bytes.length, `incomplete at the relay (${head.headers['upload-offset']} of ${bytes.length})`);
  t.equal(relay.ctx.queue.range().length, 1, 'no item for it');
  t.equal(await terminateUpload({ baseUrl: relay.url, token: mine.token, uploadUrl: urls[0]! }), 204, 'terminated');
  const gone = await request(urls[0]!, { method: 'HEAD', headers: { authorization: `Bearer ${mine.token}`, 'tus-resumable': '1.0.0' } });
  await gone.body.dump();
  t.ok(gone.statusCode === 404 || gone.statusCode === 410, `gone (${gone.statusCode})`);
});
