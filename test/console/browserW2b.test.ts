// 智能感知管理, 实时视频 and an evidence video in a real browser (headless Debian Chromium): an operator
// binds a model to an edge that heartbeats and pushes it, watches a grid of a marked MJPEG stream
// (the edge's own MjpegServer, straight from the browser) and a GB/T 28181 channel (a sim device
// through a real bridge and the console's proxy), and plays an evidence video in the item's page.
// Screenshots: test-results/console-devices.png, console-live.png, console-item-video.png.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import type { Heartbeat } from '../../src/devices/heartbeat.ts';
import { HeartbeatSender } from '../../edge/heartbeat/HeartbeatSender.ts';
import { MjpegServer } from '../../edge/live/MjpegServer.ts';
import { ModelRegistry } from '../../relay/models/ModelRegistry.ts';
import { browserMissing, launchBrowser, logIn, screenshot, watchedPage } from '../helpers/browser.ts';
import { evidenceName } from '../helpers/evidence.ts';
import { catalogCollected, startGbBridge, startSimDevice } from '../helpers/gbBridge.ts';
import { makeMp4Fixture } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir } from '../helpers/relay.ts';
import { sampleHeartbeat } from '../helpers/heartbeat.ts';
import { waitFor } from '../helpers/wait.ts';
import { solidFrame } from '../edge/evidence/frames.ts';
import { startTestConsole } from './fixture.ts';

const missing = browserMissing();
const PW = 'operator-pass-1';

const beat = (): Heartbeat => sampleHeartbeat({ cameras: [{ cameraId: '20', state: 'running', fps: 5, lastFrameAt: Date.now() }], errors: [] });

t.test('an operator binds and pushes a model, watches a live grid and plays an evidence video in Chromium', { skip: missing ?? false }, async (t) => {
  const { relay, mine } = await relayWithMine(t);
  // an edge that heartbeats, two published models
  const sender = new HeartbeatSender({ baseUrl: relay.url, getToken: async () => mine.token, collect: beat, intervalSeconds: 30 });
  t.teardown(() => sender.close());
  t.equal((await sender.sendNow()).outcome, 'sent');
  const registry = new ModelRegistry(relay.dataDir);
  const src = await tempDir(t);
  await writeFile(join(src, 'night.onnx'), randomBytes(300));
  await writeFile(join(src, 'day.onnx'), randomBytes(200));
  await registry.publish(join(src, 'night.onnx'), { name: 'night', version: '7' });
  await registry.publish(join(src, 'day.onnx'), { name: 'day', version: '2' });
  // an evidence video
  const video = await makeMp4Fixture(src, 'h264', 2);
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: evidenceName(EVIDENCE_ENDPOINTS.personVideo, MINE) })).status, 200);
  // a marked MJPEG stream: the edge's live server, its URL reported by camera/live
  const live = new MjpegServer({ host: '127.0.0.1', port: 0, camera: '20', pathToken: 'browsertokenbrowsertokenbrowser0' });
  await live.listen();
  let seq = 0;
  const frames = setInterval(() => live.publish(solidFrame(seq++, Date.now(), 320, 240, [40, 160, 60]), [], { time: Date.now(), camera: '20' }), 100);
  t.teardown(async () => {
    clearInterval(frames);
    await live.close();
  });
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId: '20', liveUrl: live.url('127.0.0.1'), time: formatJsonTime() })).status, 200);
  // a GB/T 28181 channel
  const bridge = await startGbBridge(t);
  const gbId = '34020000001320000051';
  const device = await startSimDevice(t, bridge, gbId, { channelCount: 1 });
  await catalogCollected(bridge, gbId, 1);
  const ch = device.channels[0]!.id;
  await mkdir(join(relay.dataDir, 'gb28181'), { recursive: true });
  for (const f of ['admin.token', 'view.token']) await copyFile(join(bridge.dataDir, 'gb28181', f), join(relay.dataDir, 'gb28181', f));

  const c = await startTestConsole(t, relay, { set: { 'admin.gb28181.url': `http://127.0.0.1:${bridge.httpPort}` } });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });

  const browser = await launchBrowser(t);
  const { page, errors, refused } = await watchedPage(browser, { viewport: { width: 1400, height: 900 } }, 20_000);

  await page.goto(c.url + '/devices');
  await logIn(page, 'op1', PW, /\/devices$/);
  t.equal(await page.textContent('#dv-edges .v'), '1', 'the edge that heartbeats');
  t.match(await page.textContent('#devices tr[data-device="edge-01"] td.model'), /default/, 'it runs its own model');
  t.match(await page.textContent('#gb'), /在线/, 'the GB/T 28181 device online');

  // bind the model to the edge, then push
  await page.selectOption('#bind-kind', 'device');
  await page.fill('#bind-targets', 'edge-01');
  await page.selectOption('#bind-model', 'night');
  await Promise.all([page.waitForURL(/done=bound$/), page.click('#bind')]);
  t.equal(await page.textContent('[role=status]'), '已绑定并下发');
  t.match(await page.textContent('#bindings tr[data-target="device edge-01"]'), /night/);
  t.same((await registry.current())?.bindings, [{ target: { device: 'edge-01' }, model: 'night' }], "in the relay's signed manifest");
  const issued = (await registry.current())!.issuedAt;
  await Promise.all([page.waitForURL(/done=pushed$/), page.click('#push')]);
  t.equal(await page.textContent('[role=status]'), '已下发');
  t.ok((await registry.current())!.issuedAt >= issued, 'pushed again');
  await sender.sendNow();
  await page.reload();
  t.match(await page.textContent('#devices tr[data-device="edge-01"] td.bound'), /night/, 'the edge shows its bound model');
  await screenshot(page, 'console-devices');

  // the live grid: one marked MJPEG stream, one GB/T 28181 channel
  await page.click('a[data-nav="/live"]');
  await page.waitForSelector('#live-empty');
  await page.check(`input[value="m:${MINE}:20"]`);
  await page.check(`input[value="g:${gbId}:${ch}"]`);
  await Promise.all([page.waitForURL(/show=/), page.click('#live-show')]);
  await page.waitForSelector('#live-grid');
  const drawn = async (kind: string) =>
    page.$eval(`#live-grid img[data-kind="${kind}"]`, (img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth);
  await waitFor(async () => (await drawn('mjpeg')) > 0, 20_000, 'the MJPEG stream drawn');
  await waitFor(async () => (await drawn('gb')) > 0, 40_000, 'the GB/T 28181 channel drawn');
  t.equal(await drawn('mjpeg'), 320, "the edge's frames, straight from its server");
  t.ok((await drawn('gb')) > 0, 'the channel, through the console');
  t.equal(bridge.viewer.viewers(gbId, ch), 1, 'one viewer at the bridge: the console');
  await screenshot(page, 'console-live');
  await page.goto(c.url + '/items?lane=evidence');
  await waitFor(() => bridge.viewer.viewers(gbId, ch) === 0, 10_000, 'the page left, the upstream closed');

  // the evidence video plays in the item's page
  await page.click('#items tbody tr[data-seq] a');
  await page.waitForSelector('#video');
  const played = await page.$eval('#video', async (el) => {
    const v = el as unknown as { play(): Promise<void>; muted: boolean; currentTime: number; videoWidth: number; readyState: number; error: { code: number } | null; addEventListener(e: string, f: () => void): void };
    v.muted = true;
    await v.play().catch(() => undefined);
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      v.addEventListener('timeupdate', () => v.currentTime > 0.2 && done());
      v.addEventListener('error', done);
      if (v.currentTime > 0.2) done();
    });
    return { width: v.videoWidth, time: v.currentTime, error: v.error?.code ?? 0 };
  });
  t.same({ width: played.width, error: played.error }, { width: 320, error: 0 }, 'the video decodes');
  t.ok(played.time > 0.2, `it plays (${played.time.toFixed(2)} s)`);
  await screenshot(page, 'console-item-video');

  t.same(errors, [], 'no script errors, no CSP violations');
  t.same(refused, [], 'nothing refused (assets, streams, the video)');
  for (const name of ['console-devices', 'console-live', 'console-item-video']) {
    t.ok((await stat(new URL(`../../test-results/${name}.png`, import.meta.url))).size > 5000, `${name}.png`);
  }
  t.match(c.ctx.store.audit.list({ limit: 5 }).map((e) => `${e.action} ${e.target}`), ['push models model manifest', 'bind models device edge-01 -> night', 'login op1']);
});
