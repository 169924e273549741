// Integrity at rest on the edge (issue 14, item 3): clips staged in the edge's outbox are altered
// on disk while the upstream is down (bytes in the middle, truncation, a zero-length file, a
// deleted file). When the upstream is back none of them reaches it, by tus (a relay) or multipart
// (the national platform); each is set aside as a dead letter marked ESEAL_ERR_STORE_CORRUPT,
// logged at error level with its camera, file name and blob, and counted; the clips behind them
// are delivered.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { TusUpload } from '../../relay/tus/TusStore.ts';
import type { Outbox } from '../../edge/upload/Outbox.ts';
import type { Uploader } from '../../edge/upload/Uploader.ts';
import { NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { MINE, startTestRelay, tempDir } from '../helpers/relay.ts';
import { RELAY_PW, RELAY_USER, capturedLog, openTestOutbox, personClipName, startUploader } from '../edge/upload/uploadSetup.ts';

type Alteration = 'middle' | 'truncated' | 'zero-length' | 'deleted';
const ALTERATIONS: Alteration[] = ['middle', 'truncated', 'zero-length', 'deleted'];

interface Staged {
  name: string;
  sm3: string;
  size: number;
  id: string;
  alteration?: Alteration;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Four clips to be altered, then two intact ones behind them: distinct videos (one encode, each
 * with a `free` box of its own at the end, which players and the relay's probe skip).
 */
async function stageClips(t: Test, dir: string, outbox: Outbox): Promise<Staged[]> {
  // large enough (about 250 kB) to go in several tus chunks and several reads
  const video = await readFile(await makeVideo(dir, { seconds: 10, width: 640, height: 480 }));
  const staged: Staged[] = [];
  const plan: (Alteration | undefined)[] = [...ALTERATIONS, undefined, undefined];
  const start = Date.now() - plan.length * 1000;
  for (const [i, alteration] of plan.entries()) {
    const bytes = Buffer.concat([video, box('free', [randomBytes(16)])]);
    const path = join(dir, `clip${i}.mp4`);
    await writeFile(path, bytes);
    const name = personClipName(start + i * 1000);
    const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, name, path);
    staged.push({ name, sm3: sm3Hex(bytes), size: bytes.length, id, ...(alteration ? { alteration } : {}) });
  }
  t.equal(outbox.stats().pendingByLane.evidence, plan.length, 'all staged');
  return staged;
}

/** What a failing disk or a careless hand does to a clip in the outbox. */
async function alter(outbox: Outbox, clip: Staged): Promise<void> {
  const entry = outbox.get(clip.id);
  if (entry?.kind !== 'evidence') throw new Error(`no clip entry ${clip.id}`);
  switch (clip.alteration) {
    case 'middle': {
      const bytes = await readFile(entry.path);
      randomBytes(64).copy(bytes, Math.floor(bytes.length / 2));
      await writeFile(entry.path, bytes);
      return;
    }
    case 'truncated':
      return truncate(entry.path, Math.floor(clip.size / 3));
    case 'zero-length':
      return truncate(entry.path, 0);
    case 'deleted':
      return rm(entry.path);
  }
}

/** The outbox after the run: the altered clips set aside with the code, counted, logged; the rest gone (delivered). */
function checkSetAside(t: Test, outbox: Outbox, uploader: Uploader, staged: Staged[], lines: Record<string, unknown>[]): void {
  const altered = staged.filter((c) => c.alteration);
  const dead = outbox.deadLetters();
  t.same(dead.map((d) => d.id).sort(), altered.map((c) => c.id).sort(), 'each altered clip is a dead letter, and only those');
  for (const d of dead) {
    const clip = staged.find((c) => c.id === d.id)!;
    t.equal(d.kind === 'evidence' && d.corrupt?.code, 'ESEAL_ERR_STORE_CORRUPT', `${clip.alteration}: marked corrupt`);
    t.match(d.deadReason, /^ESEAL_ERR_STORE_CORRUPT: the stored file .* (does not match its SM3 address|holds \d+ bytes|is missing)/, `${clip.alteration}: the reason says what`);
    t.equal(d.kind === 'evidence' && d.corrupt?.path, d.kind === 'evidence' && d.path, `${clip.alteration}: the path of the bad file`);
    const line = lines.find((l) => l['level'] === 50 && l['fileName'] === clip.name);
    t.ok(line, `${clip.alteration}: an error line names the clip`);
    t.match(line, { mineId: MINE, cameraId: '20', blob: clip.sm3, code: 'ESEAL_ERR_STORE_CORRUPT', msg: /not what the edge recorded/ }, `${clip.alteration}: with its mine, camera and blob`);
  }
  t.equal(uploader.stats().corrupt, altered.length, 'counted by the uploader');
  t.equal(outbox.stats().corrupt, altered.length, 'counted by the outbox (status.json)');
  t.equal(outbox.stats().pending, 0, 'the intact clips behind them were delivered');
}

t.test('to a relay by tus: no altered clip completes an upload; the intact ones arrive', async (t) => {
  const dir = await tempDir(t);
  const outbox = await openTestOutbox(t, dir);
  const staged = await stageClips(t, dir, outbox);
  const port = await freePort();
  const { log, lines } = capturedLog('info');
  // small chunks: the altered clips are part-sent before the end is withheld
  const uploader = startUploader(t, { outbox, url: `http://127.0.0.1:${port}`, username: RELAY_USER, password: RELAY_PW, log, concurrency: 1, tus: { chunkBytes: 16 * 1024 } });
  await waitFor(() => uploader.stats().retried >= 1, 15_000, 'an attempt against the relay that is down');

  for (const clip of staged) if (clip.alteration) await alter(outbox, clip);
  const relay = await startTestRelay(t, { 'relay.listen': `127.0.0.1:${port}` });
  await relay.ctx.accounts.add({ username: RELAY_USER, password: RELAY_PW, mines: [MINE], org: 'XX煤矿' });
  await waitFor(() => outbox.stats().pending === 0, 60_000, 'the outbox to empty');

  const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  const intact = staged.filter((c) => !c.alteration);
  t.same(
    items.map((i) => [i.file?.name, i.file?.blob]).sort(),
    intact.map((c) => [c.name, c.sm3]).sort(),
    'the relay queued the intact clips, with their bytes, and nothing else',
  );
  const stored: string[] = [];
  for await (const id of relay.ctx.blobs.list()) stored.push(id);
  t.same(stored.sort(), intact.map((c) => c.sm3).sort(), 'the relay stores no other video');
  const uploads = [...relay.ctx.root.openDB<TusUpload, string>({ name: 'tus-uploads' }).getRange({})].map((e) => e.value);
  for (const clip of staged.filter((c) => c.alteration)) {
    const upload = uploads.find((u) => u.fileName === clip.name);
    t.ok(upload === undefined || upload.offset < clip.size, `${clip.alteration}: its upload never reached its length`);
  }
  const middle = uploads.find((u) => u.fileName === staged[0]!.name);
  t.ok(middle && middle.offset > 0 && middle.offset < staged[0]!.size, `the clip altered in the middle was part-sent (${middle?.offset} of ${staged[0]!.size} bytes), its end withheld`);
  checkSetAside(t, outbox, uploader, staged, lines);
});

t.test('to the national platform (multipart): no altered clip arrives; the intact ones do', async (t) => {
  const dir = await tempDir(t);
  const outbox = await openTestOutbox(t, dir);
  const staged = await stageClips(t, dir, outbox);
  const sim = await startSim(t);
  await sim.setFaults({ down: true });
  const { log, lines } = capturedLog('info');
  const uploader = startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log, concurrency: 1 });
  await waitFor(() => uploader.stats().retried >= 1, 15_000, 'an attempt against the platform that is down');

  for (const clip of staged) if (clip.alteration) await alter(outbox, clip);
  await sim.setFaults({ down: false });
  await waitFor(() => outbox.stats().pending === 0, 60_000, 'the outbox to empty');

  const received = sim.received({ endpoint: 'fileOperator/personVideo' });
  const intact = staged.filter((c) => !c.alteration);
  t.same(
    received.map((r) => [r.file?.fileName, r.file?.sm3]).sort(),
    intact.map((c) => [c.name, c.sm3]).sort(),
    'the platform received the intact clips, with their bytes, and nothing else',
  );
  checkSetAside(t, outbox, uploader, staged, lines);
});
