// Stream selection end to end: the viewer's ?stream=sub asks the device for its sub stream
// (a=streamnumber / streamprofile / streamMode in the INVITE), the sim device serves its half-size
// clip and says so, and ffmpeg decodes a smaller picture than from the main stream. The main and
// the sub stream of one channel are two INVITEs; two viewers of the same stream share one.
import t from 'tap';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { catalogCollected, httpStream, startGbBridge, startSimDevice } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

/** The size of the first picture ffmpeg decodes from `url` (read from a PPM header). */
async function pictureSize(url: string): Promise<{ width: number; height: number }> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', url, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'ppm', 'pipe:1'], { timeoutMs: 40_000 });
  const m = /^P6\s+(\d+)\s+(\d+)\s/.exec(stdout.subarray(0, 40).toString('latin1'));
  if (!m) throw new Error('ffmpeg did not write a PPM picture');
  return { width: Number(m[1]), height: Number(m[2]) };
}

t.test('main and sub stream of one channel', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000071';
  const d = await startSimDevice(t, bridge, id, { channelCount: 1 });
  await catalogCollected(bridge, id, 1);
  await Promise.all([d.prepareMedia(0), d.prepareMedia(1)]);
  const ch = d.channels[0]!.id;
  const invites: { stream: number; offered: number }[] = [];
  d.on('invite', (e) => invites.push({ stream: e.stream, offered: e.offer.stream }));

  const mainViewer = httpStream(bridge.url(id, ch));
  const subViewer = httpStream(bridge.url(id, ch, 'mp4', 1));
  t.equal(await mainViewer.status, 200, 'the main stream answers');
  t.equal(await subViewer.status, 200, 'the sub stream answers');
  await Promise.all([mainViewer.firstFragmentAt, subViewer.firstFragmentAt]);

  const [main, sub, subAgain] = await Promise.all([pictureSize(bridge.url(id, ch)), pictureSize(bridge.url(id, ch, 'mp4', 1)), pictureSize(bridge.url(id, ch).replace(/$/, '&stream=1'))]);
  t.same(main, { width: 640, height: 360 }, 'the main stream is the full-size picture');
  t.same(sub, { width: 320, height: 180 }, 'the sub stream is the half-size picture');
  t.same(subAgain, sub, '?stream=1 is the same as ?stream=sub');

  t.equal(d.counters.invites, 2, 'main and sub: two INVITEs, however many viewers');
  t.same(invites.map((i) => [i.offered, i.stream]).sort(), [[0, 0], [1, 1]], 'the device read the stream asked for and served it');
  const sessions = bridge.service.context.live.describe();
  t.same(sessions.map((s) => s.stream).sort(), [0, 1], 'two live sessions: main and sub');
  t.equal(bridge.viewer.viewers(id, ch, 1), 1, 'the sub viewer counted on its own stream');

  // a second sub viewer joins the sub stream's INVITE
  const subViewer2 = httpStream(bridge.url(id, ch, 'mp4', 1));
  t.equal(await subViewer2.status, 200);
  await subViewer2.firstFragmentAt;
  t.equal(d.counters.invites, 2, 'two viewers of the sub stream share its INVITE');
  t.equal(bridge.viewer.viewers(id, ch, 1), 2, 'the sub stream has two viewers');
  t.equal(bridge.viewer.viewers(id, ch), 1, 'the main stream still one');

  // the sub stream ends when its last viewer leaves; the main stream goes on
  const byes: string[] = [];
  d.on('bye', (e) => byes.push(e.callId));
  subViewer.close();
  subViewer2.close();
  await waitFor(() => byes.length === 1, 10_000, 'the BYE of the sub stream');
  t.same(bridge.service.context.live.describe().map((s) => s.stream), [0], 'the main stream still plays');
  mainViewer.close();
  await waitFor(() => byes.length === 2 && bridge.service.context.live.active === 0, 10_000, 'the BYE of the main stream');
});

t.test('a bad ?stream= is a 400, and no INVITE', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000072';
  const d = await startSimDevice(t, bridge, id, { channelCount: 1 });
  await catalogCollected(bridge, id, 1);
  const ch = d.channels[0]!.id;
  for (const bad of ['third', '4', '-1', 'main2']) {
    const s = httpStream(bridge.url(id, ch) + `&stream=${bad}`);
    t.equal(await s.status, 400, `stream=${bad}`);
    const body = JSON.parse((await s.ended, s.body().toString())) as { code: string };
    t.equal(body.code, 'ESEAL_ERR_GBVIEW_NOT_FOUND');
  }
  t.equal(d.counters.invites, 0, 'nothing was played');
});
