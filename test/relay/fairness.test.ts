// One mine with 500 queued videos must not hold up another mine: its records go in their own lane
// (30 s budget) and its videos take turns with the backlog (round-robin across mines).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { tempDir } from '../helpers/relay.ts';

const BUSY = '140421000001';
const QUIET = '140421000002';
const BACKLOG = 500;

t.test('a 500-video backlog of one mine does not delay another mine', async (t) => {
  const dir = await tempDir(t);
  const base = await readFile(await makeVideo(dir, { seconds: 1, width: 160, height: 120 }));
  // videos of ~20 KB at 400 KB/s upstream: the backlog takes about 25 s to drain
  const { sim, relay, mine } = await forwardingSetup(t);
  await sim.setFaults({ down: true });
  const e = EVIDENCE_ENDPOINTS.personVideo;
  for (let i = 0; i < BACKLOG; i++) {
    const path = join(dir, `b${i}.mp4`);
    await writeFile(path, Buffer.concat([base, box('free', [randomBytes(20_000 - base.length)])]));
    const name = formatEvidenceFileName('count', { mineId: BUSY, cameraId: `2${i % 4}`, aiTypeCode: '01', count: '0001', time: Date.now() - (BACKLOG - i) * 1000 });
    const a = await mine.upload(e, path, { fileName: name });
    if (a.status !== 200) t.fail(`backlog upload ${i}: ${JSON.stringify(a.body)}`);
  }
  t.equal(relay.ctx.queue.stats().pendingByLane['evidence'], BACKLOG, 'the backlog is queued');
  await sim.setFaults({ down: false, bandwidthBytesPerSec: 400_000 });
  await waitFor(() => sim.received({ mineId: BUSY }).length >= 5, 20_000, 'the backlog starts draining');

  const t0 = Date.now();
  const record = { mineId: QUIET, cameraId: '20', aiTypeCode: '01', inWellNumber: '0001', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.person, record)).status, 200);
  const quietVideo = join(dir, 'quiet.mp4');
  await writeFile(quietVideo, Buffer.concat([base, box('free', [randomBytes(1000)])]));
  const quietName = formatEvidenceFileName('count', { mineId: QUIET, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() });
  t.equal((await mine.upload(e, quietVideo, { fileName: quietName })).status, 200);

  await waitFor(() => sim.received({ mineId: QUIET, endpoint: 'infoReport/person' }).length === 1, 30_000, 'the quiet mine’s record');
  const recordMs = Date.now() - t0;
  t.ok(recordMs < 5000, `the record arrived in ${recordMs} ms (budget 30 s) with ${BACKLOG} videos queued ahead`);
  await waitFor(() => sim.received({ mineId: QUIET, endpoint: 'fileOperator/personVideo' }).length === 1, 30_000, 'the quiet mine’s video');
  const videoMs = Date.now() - t0;
  const busyLeft = relay.ctx.queue.stats().pendingByLane['evidence'] ?? 0;
  t.ok(busyLeft > BACKLOG / 2, `its video took its turn (${videoMs} ms) while ${busyLeft} backlog videos were still waiting`);
});
