// kill -9 at random moments while mines upload records and videos: everything the relay answered
// "success" for must be there after a restart, byte for byte.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { FsBlobStore } from '../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, tempDir, testConfig } from '../helpers/relay.ts';
import { startRelayChild } from '../helpers/relayChild.ts';

const CYCLES = 5;
const PW = 'pw-crash';

t.test('SIGKILL never loses an item answered success', async (t) => {
  const dataDir = await tempDir(t);
  const work = await tempDir(t);
  const base = await readFile(await makeVideo(work, { seconds: 1, width: 160, height: 120 }));
  const config = await testConfig(dataDir);
  const stores = await openRelayStores(config);
  await stores.accounts.add({ username: 'crash', password: PW, mines: [MINE] });
  await stores.close();

  const okRecords: Record<string, unknown>[] = [];
  const okFiles = new Map<string, string>(); // file name → sm3 of the bytes sent
  let counter = 0;
  let kills = 0;

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const { child, url, exited } = await startRelayChild(t, { dataDir });
    const mine = new GuideMine(url, 'crash', PW);
    t.equal((await mine.login()).status, 200, `cycle ${cycle}: logged in`);
    let alive = true;
    const recordSender = async () => {
      while (alive) {
        const n = ++counter;
        const body = { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: String(n % 10000).padStart(4, '0'), time: formatJsonTime(Date.now() - n * 1000) };
        try {
          const a = await mine.record(RECORD_ENDPOINTS.person, body);
          if (a.status === 200 && a.body.code === 0) okRecords.push(body);
        } catch {
          return; // connection refused or reset: the relay is gone
        }
      }
    };
    const fileSender = async () => {
      while (alive) {
        const n = ++counter;
        const bytes = Buffer.concat([base, box('free', [randomBytes(50_000 + (n % 7) * 30_000)])]);
        const path = join(work, `v${n}.mp4`);
        await writeFile(path, bytes);
        const e = EVIDENCE_ENDPOINTS.personVideo;
        const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() - n * 1000 });
        try {
          const a = await mine.upload(e, path, { fileName: name });
          if (a.status === 200 && a.body.code === 0) okFiles.set(name, sm3Hex(bytes));
        } catch {
          return;
        }
      }
    };
    const senders = [...Array.from({ length: 6 }, recordSender), ...Array.from({ length: 2 }, fileSender)];
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    child.kill('SIGKILL');
    kills++;
    alive = false;
    await exited;
    await Promise.all(senders);
  }
  t.equal(kills, CYCLES);
  t.ok(okRecords.length > 50, `${okRecords.length} records answered success`);
  t.ok(okFiles.size > 3, `${okFiles.size} videos answered success`);

  // Open the data dir as the relay would and look for every acknowledged item.
  const after = await openRelayStores(config);
  t.teardown(() => after.close());
  const queue = new LmdbQueueStore<RelayItem>(after.root, { name: 'queue' });
  const blobs = await FsBlobStore.open(join(dataDir, 'blobs'));
  t.teardown(() => blobs.close());
  const items = queue.range({ limit: 1_000_000 }).map((i) => i.payload);
  const storedRecords = new Set(items.filter((p) => p.record).map((p) => JSON.stringify(p.record)));
  const missingRecords = okRecords.filter((r) => !storedRecords.has(JSON.stringify(r)));
  t.same(missingRecords, [], 'every acknowledged record is stored');
  const storedFiles = new Map(items.filter((p) => p.file).map((p) => [p.file!.name, p.file!.blob]));
  for (const [name, hash] of okFiles) {
    t.equal(storedFiles.get(name), hash, `${name} stored with the bytes sent`);
    const chunks: Buffer[] = [];
    for await (const c of blobs.read(hash)) chunks.push(c as Buffer);
    t.equal(sm3Hex(Buffer.concat(chunks)), hash, `${name} reads back intact`);
  }
  const seqs = queue.range({ limit: 1_000_000 }).map((i) => i.seq);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'sequence numbers increase');
  t.equal(new Set(seqs).size, seqs.length, 'no sequence number reused across crashes');
});
