// 断点续传 from the edge: a clip going to a relay by tus over a slow link, its uploader killed
// (kill -9 of its process, or closed) half-way. After a restart nothing is lost and the upload goes
// on from the offset the relay holds: the same upload, not a new one from byte 0.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS } from '../../../src/contract/index.ts';
import { TUS_PATH } from '../../../src/contract/tus.ts';
import { sm3Hex } from '../../../src/crypto/sm3.ts';
import { openOutbox } from '../../../edge/upload/Outbox.ts';
import { Uploader } from '../../../edge/upload/Uploader.ts';
import type { RelayItem } from '../../../relay/ingest/RelayItem.ts';
import type { TusUpload } from '../../../relay/tus/TusStore.ts';
import { waitFor } from '../../helpers/forwarding.ts';
import { makeVideo } from '../../helpers/media.ts';
import { MINE, startTestRelay, tempDir, type TestRelay } from '../../helpers/relay.ts';
import { slowLink } from './slowLink.ts';
import { RELAY_PW, RELAY_USER, capturedLog, personClipName } from './uploadSetup.ts';

const CHUNK = 16 * 1024;
/** bytes per second towards the relay: the 245 kB clip takes about 6 s */
const RATE = 40 * 1024;

function uploads(relay: TestRelay): TusUpload[] {
  return [...relay.ctx.root.openDB<TusUpload, string>({ name: 'tus-uploads' }).getRange({})].map((e) => e.value);
}

async function setup(t: Test) {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 10, width: 640, height: 480 });
  const bytes = await readFile(video);
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: RELAY_USER, password: RELAY_PW, mines: [MINE], org: 'XX煤矿' });
  const link = await slowLink(t, relay.url, RATE);
  const box = join(dir, 'outbox');
  const outbox = await openOutbox({ dir: box });
  const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, personClipName(), video, { keepSource: true });
  await outbox.close();
  return { relay, link, box, id, bytes };
}

/** Finishes the upload in this process and checks it continued the first one. */
async function finish(t: Test, s: Awaited<ReturnType<typeof setup>>, heldBefore: number) {
  const { relay, box, id, bytes } = s;
  const first = uploads(relay);
  t.equal(first.length, 1, 'one upload at the relay, unfinished');
  t.equal(first[0]?.state, 'receiving');
  const outbox = await openOutbox({ dir: box });
  t.teardown(() => outbox.close());
  const entry = outbox.get(id);
  t.equal(entry?.state, 'pending', 'the clip is still in the outbox');
  t.equal(entry?.kind === 'evidence' && entry.uploadUrl, `${TUS_PATH}${first[0]?.id}`, 'with the path of the upload the relay holds');

  const { log, lines } = capturedLog();
  const uploader = new Uploader({ outbox, url: relay.url, username: RELAY_USER, password: RELAY_PW, concurrency: 1, retry: { baseSeconds: 1, maxSeconds: 1 }, tus: { chunkBytes: CHUNK }, log });
  t.teardown(() => uploader.close());
  uploader.start();
  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the clip to be delivered');

  const resumed = lines.find((l) => l['msg'] === 'resuming the clip at the offset the server holds');
  const from = Number(resumed?.['offset']);
  t.ok(from >= heldBefore && from > 0 && from < bytes.length, `resumed at byte ${from} (the relay held ${heldBefore} before the stop), not at 0`);
  const after = uploads(relay);
  t.equal(after.length, 1, 'no second upload was made');
  t.equal(after[0]?.id, first[0]?.id);
  t.equal(after[0]?.state, 'done');
  const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  t.equal(items.length, 1);
  t.equal(items[0]?.file?.blob, sm3Hex(bytes), 'the relay holds the whole clip, byte for byte');
}

t.test('kill -9 of the uploader process mid-upload: the restart resumes at the offset the relay holds', async (t) => {
  const s = await setup(t);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/edge/upload/uploaderChild.ts', s.box, s.link.url, RELAY_USER, RELAY_PW, String(CHUNK)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(() => (uploads(s.relay)[0]?.offset ?? 0) >= 2 * CHUNK, 20_000, 'two chunks at the relay');
  const held = uploads(s.relay)[0]!.offset;
  t.ok(held < s.bytes.length, 'killed half-way');
  child.kill('SIGKILL');
  await exited;
  await finish(t, s, held);
});

t.test('the uploader closed mid-upload (and the outbox with it): the next run resumes', async (t) => {
  const s = await setup(t);
  const outbox = await openOutbox({ dir: s.box });
  const { log } = capturedLog();
  const uploader = new Uploader({ outbox, url: s.link.url, username: RELAY_USER, password: RELAY_PW, concurrency: 1, retry: { baseSeconds: 1, maxSeconds: 1 }, tus: { chunkBytes: CHUNK }, drainSeconds: 0, log });
  uploader.start();
  await waitFor(() => (uploader.stats().inFlight[0]?.offset ?? 0) >= 2 * CHUNK, 20_000, 'two chunks sent');
  t.match(uploader.stats().inFlight, [{ id: s.id, endpoint: 'fileOperator/personVideo' }], 'stats show the clip under way');
  await uploader.close();
  await outbox.close();
  const held = uploads(s.relay)[0]!.offset;
  t.ok(held >= 2 * CHUNK && held < s.bytes.length, 'stopped half-way');
  await finish(t, s, held);
});
