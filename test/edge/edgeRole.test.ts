// `eseal start --roles edge` as a mine device would run it: four file:// cameras, one per place,
// reporting to a real relay on loopback. The relay must receive each camera's live URL and
// online state, and the marked live stream must answer as mjpg-streamer does.
import t from 'tap';
import { request } from 'node:http';
import jpeg from 'jpeg-js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../app/main.ts';
import { STATUS_FILE } from '../../edge/EdgeService.ts';
import { openOutbox } from '../../edge/upload/Outbox.ts';
import { createLogger } from '../../src/log.ts';
import { role } from '../../edge/role.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { edgeTestConfig, quickClip } from '../helpers/edge.ts';
import { waitFor } from '../helpers/forwarding.ts';
import { makeVideo } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir } from '../helpers/relay.ts';

function get(url: string, maxBytes = 2_000_000): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= maxBytes) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('four file:// cameras report to the relay and stream marked live video', async (t) => {
  const { relay } = await relayWithMine(t);
  const dir = await tempDir(t);
  const clip = await makeVideo(dir, { seconds: 3, width: 352, height: 288 });
  const cfg = await edgeTestConfig(dir, relay.url, [
    { name: 'main', cameraId: '10', url: `file://${clip}`, loop: true, livePort: 0, analyses: { belt: { roi: [[0.1, 0.3], [0.9, 0.3], [0.9, 0.7], [0.1, 0.7]], direction: 'right' } } },
    { name: 'aux', cameraId: '20', url: `file://${clip}`, loop: true, livePort: 0 },
    { name: 'gate', cameraId: '30', url: `file://${clip}`, loop: true, livePort: 0 },
    { name: 'room', cameraId: '40', url: `file://${clip}`, loop: true, livePort: 0 },
  ]);
  cfg.edge.live.publicHost = '127.0.0.1';
  t.same(await role.checkConfig!(cfg), []);

  const running = await (await role.service!()).start(cfg, createLogger({ level: 'silent' }));
  t.teardown(() => running.close());
  const liveUrls = running.summary['cameras'] as string[];
  t.equal(liveUrls.length, 4);

  const items = () => relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  await waitFor(() => items().filter((i) => i.endpoint === 'camera/live').length === 4, 60_000, 'four camera/live records at the relay');
  await waitFor(() => new Set(items().filter((i) => i.endpoint === 'camera/online-offine').map((i) => i.cameraId)).size === 4, 60_000, 'online for every camera');

  const live = items().filter((i) => i.endpoint === 'camera/live');
  t.same(live.map((i) => i.cameraId).sort(), ['10', '20', '30', '40']);
  for (const item of live) {
    t.equal(item.mineId, MINE);
    t.same(item.flags, [], `camera ${item.cameraId}: the relay flags nothing`);
    t.match(item.record?.['liveUrl'], /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/\?action=stream$/, 'the secret path in the liveUrl');
  }
  const online = items().filter((i) => i.endpoint === 'camera/online-offine');
  t.ok(online.every((i) => i.record?.['alarm'] === 1), 'alarm 1 (online) for each');

  // the live stream of the auxiliary-shaft camera, as a browser or mjpg-streamer client reads it
  const streamUrl = String(live.find((i) => i.cameraId === '20')!.record!['liveUrl']);
  let snap = await get(streamUrl.replace('action=stream', 'action=snapshot'));
  // the first frame may still be on its way (ffmpeg starting, the detector model loading)
  await waitFor(async () => (snap = await get(streamUrl.replace('action=stream', 'action=snapshot'))).status === 200, 60_000, 'a snapshot');
  t.equal(snap.headers['content-type'], 'image/jpeg');
  const image = jpeg.decode(snap.body);
  t.equal(image.width, 704, 'the analysis size');
  t.equal(image.height, 576);
  const stream = await get(streamUrl, 400_000);
  t.match(String(stream.headers['content-type']), /multipart\/x-mixed-replace;\s*boundary=boundarydonotcross/);
  t.ok(stream.body.includes('--boundarydonotcross'), 'parts with the boundary');
  t.match(stream.body.toString('latin1'), /X-Timestamp: \d+\.\d+/);
  const page = await get(streamUrl.replace('?action=stream', ''));
  t.match(page.body.toString(), /<img[^>]+action=stream/, 'a page a browser shows');

  // what an operator sees: eseal edge status reads the status the running edge keeps writing
  const out: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), stdin: async () => '' };
  await waitFor(async () => {
    out.length = 0;
    return (await main(['edge', 'status'], io, { ESEAL_DATA_DIR: dir })) === 0 && out.join('\n').includes('online');
  }, 20_000, 'eseal edge status');
  const text = out.join('\n');
  t.match(text, /^edge: +running/m);
  for (const name of ['main', 'aux', 'gate', 'room']) t.match(text, new RegExp(`^${name} +\\d\\d +online`, 'm'), `${name} listed online`);
  t.match(text, /^outbox: +\d+ pending/m);
  t.match(text, /^detector: +centernet-mbv3-512/m);
});

for (const state of ['shutdown', 'producing'] as const) {
  t.test(`a belt camera of a ${state} mine: the event reaches the relay as ${state === 'shutdown' ? 'a marked evidence clip' : 'a record'}`, async (t) => {
    const { relay } = await relayWithMine(t);
    const dir = await tempDir(t);
    const belt = await quickClip('belt-empty-start');
    const cfg = await edgeTestConfig(dir, relay.url, [{ name: 'main', cameraId: '10', url: belt.url, livePort: 0, analyses: { belt: belt.truth.camera.analyses.belt, moved: false } }]);
    cfg.edge.mineStatus = state;
    const running = await (await role.service!()).start(cfg, createLogger({ level: 'silent' }));
    t.teardown(() => running.close());

    const items = () => relay.ctx.queue.range().map((i) => i.payload as RelayItem);
    const endpoint = state === 'shutdown' ? 'fileOperator/beltVideo' : 'infoReport/belt';
    // the clip starts the belt without coal at 6 s (truth: 0002), in real time
    await waitFor(() => items().some((i) => i.endpoint === endpoint), 90_000, `${endpoint} at the relay`);
    const item = items().find((i) => i.endpoint === endpoint)!;
    t.same(item.flags, [], 'the relay flags nothing');
    t.equal(item.cameraId, '10');
    if (state === 'shutdown') {
      t.match(item.file?.name, new RegExp(`^${MINE}10030002\\d{14}\\.MP4$`), 'the guide\'s file name: mine, camera, 03, belt status 0002, time');
      t.equal(item.file?.codec, 'avc1', 'H.264');
      t.ok(item.file!.durationMs >= 8000 && item.file!.durationMs <= 11_000, `a 10 s clip around the event (${item.file!.durationMs} ms)`);
      t.ok(item.file!.size <= 10 * 1024 * 1024, 'at most 10 MiB');
      t.notOk(items().some((i) => i.endpoint === 'infoReport/belt'), 'no record for a shut-down mine');
    } else {
      t.same(item.record?.['beltStatus'], '0002');
      t.equal(item.record?.['aiTypeCode'], '03');
      t.notOk(items().some((i) => i.endpoint === 'fileOperator/beltVideo'), 'no clip for a producing mine');
    }
  });
}

t.test('at shutdown the crossings an analysis still holds are reported into the outbox, not lost', async (t) => {
  const dir = await tempDir(t);
  const persons = await quickClip('persons-basic');
  // no relay listens there: everything stays in the outbox for the check below; and a group that
  // would stay open for 10 minutes: only the shutdown can close it
  const cfg = await edgeTestConfig(dir, 'http://127.0.0.1:9', [
    { name: 'aux', cameraId: '20', url: persons.url, livePort: 0, analyses: { person: { ...persons.truth.camera.analyses.person, groupSeconds: 600 }, occlusion: false, moved: false } },
  ]);
  const running = await (await role.service!()).start(cfg, createLogger({ level: 'silent' }));
  // the first crossing of the clip is at 4.5 s: wait until the analysis got past 6 s of the clip (the
  // status file, rewritten every 5 s, counts the frames analysed and skipped), not a fixed 8 s that
  // a loaded machine may not keep up with
  const statusFile = join(dir, 'edge', STATUS_FILE);
  await waitFor(
    async () => {
      const status = JSON.parse(await readFile(statusFile, 'utf8').catch(() => '{}')) as { cameras?: { frames: number; skipped: number }[] };
      const cam = status.cameras?.[0];
      return cam !== undefined && cam.frames + cam.skipped >= 6 * cfg.edge.analysis.fps;
    },
    120_000,
    '6 s of the clip analysed',
  );
  await running.close();

  const outbox = await openOutbox({ dir: join(dir, 'edge', 'outbox') });
  t.teardown(() => outbox.close());
  const records = [...outbox.entries()].filter((e) => e.endpoint.id === 'infoReport/person');
  t.equal(records.length, 1, 'one record for the group held at shutdown');
  t.ok(records.length === 1 && records[0]!.kind === 'record' && Number(records[0]!.body['inWellNumber']) >= 1, 'with its count');
});
