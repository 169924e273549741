// Integrity at rest, tus between relays (issue 14, item 1): mine → city relay → provincial relay →
// national platform. A video damaged on disk at the city relay never completes its resumable upload
// at the province (so never reaches the platform), also when the upload is resumed at an offset whose
// prefix (bytes the province already holds, never sent again) is what was altered: the PATCH that
// would complete it hashes the whole stored file first. Each is a dead letter at the city with
// ESEAL_ERR_STORE_CORRUPT; the upload is terminated at the province; intact videos are delivered.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { open, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { TusUpload } from '../../relay/tus/TusStore.ts';
import { FAST_FORWARD, NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, startTestRelay, tempDir, type TestRelay } from '../helpers/relay.ts';
import type { Test } from 'tap';

const CHUNK = 2 * 1024 * 1024; // the forwarder's tus chunk (src/client/TusClient.ts DEFAULT_CHUNK_BYTES)

/**
 * A TCP proxy on 127.0.0.1 in front of `target` that can be down (connections cut on arrival), or
 * pass a budget of client bytes and then go down by itself. It notes each request's head.
 */
async function startProxy(t: Test, target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let down = false;
  let budget = Infinity;
  const heads: string[] = [];
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (down) return drop();
      if (/^(GET|POST|PATCH|HEAD|DELETE|OPTIONS) /.test(chunk.subarray(0, 8).toString('latin1'))) {
        heads.push(chunk.subarray(0, Math.max(0, chunk.indexOf('\r\n\r\n'))).toString('latin1'));
      }
      if (chunk.length > budget) {
        upstream.write(chunk.subarray(0, budget));
        budget = Infinity;
        proxy.down();
        return;
      }
      budget -= chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    heads,
    get isDown() {
      return down;
    },
    down() {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    up() {
      down = false;
    },
    /** pass `bytes` more client bytes, then go down */
    cutAfter(bytes: number) {
      budget = bytes;
    },
  };
  t.teardown(() => {
    proxy.down();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return proxy;
}

/** sim ← province ← proxy ← city, and a mine logged in at the city (passthrough all the way up). */
async function chain(t: Test) {
  const sim = await startSim(t);
  const province = await startTestRelay(t, { 'upstream.url': sim.url, ...FAST_FORWARD });
  const proxy = await startProxy(t, province.url);
  const city = await startTestRelay(t, { 'upstream.url': proxy.url, 'upstream.kind': 'eseal', ...FAST_FORWARD });
  const mine = new GuideMine(city.url, NATIONAL_USER, NATIONAL_PW);
  t.equal((await mine.login()).status, 200, 'logged in through both relays');
  return { sim, province, proxy, city, mine };
}

function videoName(i: number): string {
  return formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: String(i).padStart(4, '0'), time: Date.now() - (20 - i) * 1000 });
}

function fileItems(relay: TestRelay): { seq: number; payload: RelayItem; deadReason?: string; state: string }[] {
  return relay.ctx.queue.range({}).filter((i) => (i.payload as RelayItem).file) as never;
}

function tusRecords(relay: TestRelay): TusUpload[] {
  return [...relay.ctx.root.openDB<TusUpload, string>({ name: 'tus-uploads' }).getRange({})].map((e) => e.value);
}

async function overwrite(path: string, at: number, bytes = 64): Promise<void> {
  const h = await open(path, 'r+');
  await h.write(randomBytes(bytes), 0, bytes, at);
  await h.close();
}

t.test('damaged videos at the city relay never complete their upload at the province; the intact one is delivered', async (t) => {
  const dir = await tempDir(t);
  const base = await readFile(await makeVideo(dir, { seconds: 1, width: 160, height: 120 }));
  const { sim, province, proxy, city, mine } = await chain(t);
  proxy.down();
  const damages: Record<string, (path: string, size: number) => Promise<void>> = {
    middle: (path, size) => overwrite(path, Math.floor(size / 2)),
    truncated: (path, size) => truncate(path, Math.floor(size / 2)),
    // a video of two chunks cut inside the first: the chunk before the last already finds it short
    truncatedInFirstChunk: (path) => truncate(path, 1_000_000),
    empty: (path) => writeFile(path, ''),
    deleted: (path) => unlink(path),
  };
  const kinds = [...Object.keys(damages), 'intact'];
  const byName = new Map<string, { kind: string; bytes: Buffer }>();
  for (const [i, kind] of kinds.entries()) {
    const bytes = Buffer.concat([base, box('free', [randomBytes(kind === 'truncatedInFirstChunk' ? 3_000_000 : 600_000)])]);
    const path = join(dir, `v${i}.mp4`);
    await writeFile(path, bytes);
    const name = videoName(i);
    t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, path, { fileName: name })).status, 200, `${kind}: accepted by the city while the province is unreachable`);
    byName.set(name, { kind, bytes });
  }
  for (const item of fileItems(city)) {
    const file = item.payload.file!;
    const damage = damages[byName.get(file.name)!.kind];
    if (damage) await damage(city.ctx.blobs.pathOf!(file.blob), file.size);
  }
  proxy.up();
  await waitFor(
    () => city.ctx.queue.stats().byState.dead === 5 && city.ctx.queue.stats().byState.done === 1,
    30_000,
    '5 dead letters and 1 delivered at the city',
  ).catch((err) => {
    console.error(JSON.stringify(fileItems(city).map((i) => [byName.get(i.payload.file!.name)?.kind, i.state, i.deadReason ?? (i as { lastError?: string }).lastError])));
    throw err;
  });
  const intact = [...byName].find(([, v]) => v.kind === 'intact')!;
  await waitFor(() => sim.received().some((r) => r.file?.fileName === intact[0]), 15_000, 'the intact video at the platform');
  t.equal(sim.received().find((r) => r.file?.fileName === intact[0])?.file?.sm3, sm3Hex(intact[1].bytes), 'the intact video arrives byte for byte');
  const atProvince = new Set(fileItems(province).map((i) => i.payload.file!.name));
  for (const item of fileItems(city).filter((i) => i.state === 'dead')) {
    const { name, blob } = item.payload.file!;
    const kind = byName.get(name)!.kind;
    t.match(item.deadReason, /^ESEAL_ERR_STORE_CORRUPT: /, `${kind}: a dead letter with its own code`);
    t.ok(item.deadReason?.includes(city.ctx.blobs.pathOf!(blob)), `${kind}: naming the bad file`);
    t.notOk(atProvince.has(name), `${kind}: no upload completed at the province`);
    t.notOk(sim.received().some((r) => r.file?.fileName === name), `${kind}: nothing at the platform`);
  }
  t.notOk(tusRecords(province).some((u) => u.state === 'receiving'), 'the unfinished uploads were terminated at the province');
  t.match(await city.ctx.metrics.registry.metrics(), /eseal_forward_corrupt_total\{endpoint="fileOperator\/personVideo"\} 5\b/);
});

t.test('a resumed upload (offset > 0) whose prefix was altered after it was sent never completes', async (t) => {
  const dir = await tempDir(t);
  const base = await readFile(await makeVideo(dir, { seconds: 1, width: 160, height: 120 }));
  const { sim, province, proxy, city, mine } = await chain(t);
  // two chunks: the first reaches the province, the connection is cut early in the second
  const bytes = Buffer.concat([base, box('free', [randomBytes(CHUNK + 1_000_000 - base.length)])]);
  const path = join(dir, 'resumed.mp4');
  await writeFile(path, bytes);
  const name = videoName(1);
  proxy.cutAfter(CHUNK + 16 * 1024);
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, path, { fileName: name })).status, 200, 'accepted by the city');
  await waitFor(() => proxy.isDown && tusRecords(province).some((u) => u.fileName === name && u.offset === CHUNK), 20_000, 'the province holding the first chunk');
  const seen = proxy.heads.length;
  const held = tusRecords(province).find((u) => u.fileName === name)!;
  const [item] = fileItems(city);
  await overwrite(city.ctx.blobs.pathOf!(item!.payload.file!.blob), 1000, 64); // in the bytes the province holds
  proxy.up();
  await waitFor(() => city.ctx.queue.stats().byState.dead === 1, 60_000, 'a dead letter at the city');
  const after = proxy.heads.slice(seen);
  t.notOk(after.some((h) => h.startsWith('POST ')), `resumed, not made again: ${after.map((h) => h.split(' ')[0]).join(', ')}`);
  t.ok(after.some((h) => h.startsWith('HEAD ') && h.split(' ')[1]!.endsWith(`/${held.id}`)), 'the city asked the province for the offset of the upload it held');
  const patches = after.filter((h) => h.startsWith('PATCH '));
  t.ok(patches.every((h) => /\r\nupload-offset: 2097152\r\n/i.test(h)), `any PATCH since goes on at the offset held (${patches.length}; the check of the whole file fails before one is sent)`);
  t.ok(after.some((h) => h.startsWith('DELETE ')), 'and the upload was terminated');
  t.match(city.ctx.queue.get(item!.seq)?.deadReason, /^ESEAL_ERR_STORE_CORRUPT: .*does not match its SM3 address/);
  t.notOk(fileItems(province).some((i) => i.payload.file!.name === name), 'no upload completed at the province');
  t.notOk(sim.received().some((r) => r.file?.fileName === name), 'nothing at the platform');
  t.notOk(tusRecords(province).some((u) => u.fileName === name && u.state === 'receiving'), 'nothing left open at the province');
});
