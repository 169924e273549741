// The national platform is down for 60 s while 1,000 mixed items arrive from several mines: all
// are delivered after it recovers, in order per camera, and the dead platform costs next to nothing
// while it is down (the circuit opens and only probes are made).
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { tempDir } from '../helpers/relay.ts';

const OUTAGE_MS = Number(process.env['ESEAL_TEST_OUTAGE_SECONDS'] ?? 60) * 1000;
const MINES = ['140421007866', '140421007867', '140421007868', '140421007869'];
const ITEMS = 1000;
const VIDEOS = 40;

t.test('60 s outage with 1,000 items arriving: all delivered after, in order per camera', async (t) => {
  const dir = await tempDir(t);
  const base = await readFile(await makeVideo(dir, { seconds: 1, width: 160, height: 120 }));
  const { sim, relay, mine } = await forwardingSetup(t);
  await sim.setFaults({ down: true });
  const started = Date.now();
  const sentVideos = new Map<string, string>();
  let n = 0;
  // spread the arrivals over the first part of the outage
  const pace = Math.max(1, Math.floor((OUTAGE_MS * 0.6) / ITEMS));
  while (n < ITEMS) {
    const i = n++;
    const mineId = MINES[i % MINES.length]!;
    if (i % Math.floor(ITEMS / VIDEOS) === 0) {
      const bytes = Buffer.concat([base, box('free', [randomBytes(2000)])]);
      const path = join(dir, `v${i}.mp4`);
      await writeFile(path, bytes);
      const name = formatEvidenceFileName('count', { mineId, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() - (ITEMS - i) * 1000 });
      const a = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, path, { fileName: name });
      t.equal(a.status, 200, 'videos accepted while the platform is down');
      sentVideos.set(name, sm3Hex(bytes));
    } else {
      const camera = ['10', '20'][i % 2]!;
      const body = { mineId, cameraId: camera, aiTypeCode: '01', inWellNumber: String(i).padStart(4, '0'), time: formatJsonTime() };
      const a = await mine.record(RECORD_ENDPOINTS.person, body);
      if (a.status !== 200) t.fail(`record ${i}: ${JSON.stringify(a.body)}`);
    }
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, pace * 50));
  }
  t.equal(relay.ctx.queue.stats().byState.done, 0, 'nothing delivered while down');
  const status = relay.ctx.forwarder!.status();
  t.equal(status.upstream.state, 'open', 'the circuit is open');
  const rest = OUTAGE_MS - (Date.now() - started);
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  const metrics = await relay.ctx.metrics.registry.metrics();
  const retries = [...metrics.matchAll(/eseal_forward_total\{[^}]*outcome="retry"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  t.ok(retries <= 20, `a dead platform costs little: ${retries} failed sends in ${Math.round(OUTAGE_MS / 1000)} s`);

  await sim.setFaults({ down: false });
  await waitFor(() => relay.ctx.queue.stats().byState.done === ITEMS, 60_000, `all ${ITEMS} delivered`);
  const received = sim.received().filter((r) => !r.duplicate);
  t.equal(received.length, ITEMS, 'each once');
  // order per camera: the inWellNumber (arrival index) increases along every (mine, camera) stream
  const last = new Map<string, number>();
  let disorder = 0;
  for (const r of received) {
    if (!r.record) continue;
    const key = `${r.mineId}/${r.cameraId}`;
    const idx = Number(r.record['inWellNumber']);
    if ((last.get(key) ?? -1) > idx) disorder++;
    last.set(key, idx);
  }
  t.equal(disorder, 0, 'FIFO per camera kept');
  for (const [name, hash] of sentVideos) {
    t.equal(sim.received().find((r) => r.file?.fileName === name)?.file?.sm3, hash, `${name} intact`);
  }
});
