// A gb28181:// camera read from a REAL bridge over loopback: the gb28181 service with its media
// engine and viewer (as gb28181/role.ts runs them), a simulated device (sim/) registered and
// streaming PS over RTP, the edge's capture reading the channel through the viewer. Frames must
// reach the edge's pipeline and be analysed; the viewer token must appear in no log line; a bridge
// that is not up yet leaves the camera offline until it starts; an H.265 channel is read as MJPEG.
import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { FfmpegCapture } from '../../../edge/capture/FfmpegCapture.ts';
import { role as edgeRole } from '../../../edge/role.ts';
import { STATUS_FILE } from '../../../edge/EdgeService.ts';
import { startBridge as startGb } from '../../../gb28181/bridge.ts';
import type { GbService } from '../../../gb28181/GbService.ts';
import type { ViewerServer } from '../../../gb28181/view/ViewerServer.ts';
import { makeClipBytes } from '../../../sim/device/clip.ts';
import { SimDevice, defaultChannels } from '../../../sim/device/SimDevice.ts';
import { formatGbAddress, gbViewTokenFile } from '../../../src/contract/gb28181.ts';
import { edgeTestConfig } from '../../helpers/edge.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DEVICE, PASSWORD, gbConfig } from '../../gb28181/fixture.ts';

/** Every log line of the test, bridge and edge alike, to look for the token in. */
class LogLines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  logger(): Logger {
    return pino({ level: 'debug' }, this);
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// the clips live as long as the file's tests (a test's own temp dir goes with it)
let clipDir: string;
t.before(async () => {
  clipDir = await tempDir(t, 'eseal-edgegb-clips-');
});
const clips = new Map<string, Promise<string>>();
function clip(codec: 'h264' | 'h265'): Promise<string> {
  let c = clips.get(codec);
  if (!c) {
    c = makeClipBytes({ codec, seconds: 2, width: 320, height: 240 }).then(async (b) => {
      const path = join(clipDir, `clip.${codec}`);
      await writeFile(path, b);
      return path;
    });
    clips.set(codec, c);
  }
  return c;
}

interface Bridge {
  service: GbService;
  viewer: ViewerServer;
  close(): Promise<void>;
}

let mediaBase = 42000 + 100 * Math.floor(Math.random() * 150);

/** The bridge as gb28181/role.ts starts it: media engine, GbService, and the viewer on gb28181.http.listen. */
async function startBridge(t: Test, dataDir: string, httpPort: number, log: Logger): Promise<Bridge> {
  const ports = { min: mediaBase, max: mediaBase + 40 };
  mediaBase += 50;
  const cfg = await gbConfig(t, { 'gb28181.http.listen': `127.0.0.1:${httpPort}`, 'gb28181.media.ports': `${ports.min}-${ports.max}`, 'gb28181.media.host': '127.0.0.1' }, dataDir);
  const bridge = await startGb(cfg, log);
  t.teardown(bridge.close);
  return bridge;
}

/** A device registered at the bridge, streaming `codec`, whose catalog the bridge has. */
async function startDevice(t: Test, bridge: Bridge, codec: 'h264' | 'h265'): Promise<SimDevice> {
  const g = bridge.service.config.gb28181;
  const dev = await SimDevice.start({
    server: { host: '127.0.0.1', port: bridge.service.context.endpoint.udpPort },
    serverId: g.id,
    domain: g.domain,
    deviceId: DEVICE,
    password: PASSWORD,
    channelCount: 1,
    media: await clip(codec),
    codec,
  });
  t.teardown(() => dev.close());
  await bridge.service.queryCatalog(DEVICE);
  return dev;
}

function address(dev: SimDevice): string {
  return formatGbAddress({ deviceId: DEVICE, channelId: dev.channels[0]!.id });
}

function noToken(t: Test, lines: readonly string[], token: string, what: string): void {
  t.ok(token.length >= 20, 'the bridge made a token');
  const leaked = lines.filter((l) => l.includes(token) || l.includes(encodeURIComponent(token)));
  t.same(leaked, [], `the viewer token is in none of the ${lines.length} ${what}`);
}

t.test('the edge role analyses a gb28181:// camera served by the bridge; the token is in no log or status', async (t) => {
  const dir = await tempDir(t, 'eseal-edgegb-');
  const logs = new LogLines();
  const log = logs.logger();
  const httpPort = await freePort();
  const bridge = await startBridge(t, dir, httpPort, log.child({ role: 'gb28181' }));
  const dev = await startDevice(t, bridge, 'h264');

  // both roles on one server, one dataDir: the edge reads the token file; only occlusion and moved (no detector)
  const cfg = await edgeTestConfig(dir, `http://127.0.0.1:${await freePort()}`, [{ name: 'gbcam', cameraId: '50', url: address(dev), livePort: 0 }]);
  cfg.edge.analysis = { width: 320, height: 240, fps: 5 };
  cfg.edge.gb28181.url = `http://127.0.0.1:${httpPort}`;
  t.same(await edgeRole.checkConfig!(cfg), []);
  const started = Date.now();
  const running = await (await edgeRole.service!()).start(cfg, log.child({ role: 'edge' }));
  t.teardown(() => running.close());

  const statusFile = join(dir, 'edge', STATUS_FILE);
  const camera = async () => (JSON.parse(await readFile(statusFile, 'utf8')) as { cameras: { online: boolean; frames: number }[] }).cameras[0]!;
  await waitFor(
    async () => {
      const c = await camera().catch(() => undefined);
      return !!c && c.frames >= 10;
    },
    60_000,
    'ten frames analysed (edge status file)',
  );
  const onlineAt = logs.lines.map((l) => JSON.parse(l) as { time: number; msg: string }).find((l) => l.msg === 'capture: camera online')?.time;
  t.comment(`edge start to the camera's first frame: ${onlineAt ? onlineAt - started : '?'} ms (INVITE, first picture, fMP4 to ffmpeg)`);
  const c = await camera();
  t.equal(c.online, true, 'the camera is online');
  t.ok(c.frames >= 10, `${c.frames} frames went through the pipeline (occlusion, moved)`);
  t.equal(bridge.viewer.viewers(DEVICE, dev.channels[0]!.id), 1, 'the edge is one viewer of the channel');
  await running.close();

  const token = (await readFile(gbViewTokenFile(dir), 'utf8')).trim();
  noToken(t, logs.lines, token, 'log lines of bridge and edge');
  t.notOk((await readFile(statusFile, 'utf8')).includes(token), 'nor in the edge status file');
  t.ok(logs.lines.some((l) => l.includes('capture: camera online') && l.includes(address(dev))), 'the log names the camera by its gb28181:// address');
});

t.test('bridge down at first: the camera is offline, then online once the bridge and device are up, offline when the bridge stops', async (t) => {
  const dir = await tempDir(t, 'eseal-edgegb-');
  const logs = new LogLines();
  const log = logs.logger();
  const httpPort = await freePort();
  const events: string[] = [];
  const reasons: string[] = [];
  // the device's first channel, named before the device or the bridge exist
  const channelId = defaultChannels(DEVICE, 1)[0]!.id;
  const capture = new FfmpegCapture({
    camera: 'gbcam',
    url: `gb28181://${DEVICE}/${channelId}`,
    width: 160,
    height: 120,
    fps: 5,
    stallSeconds: 5,
    backoff: { initialMs: 100, maxMs: 500 },
    gb28181: { url: `http://127.0.0.1:${httpPort}`, token: '', dataDir: dir },
    log: log.child({ role: 'edge' }),
  });
  let frames = 0;
  capture.on('online', () => events.push('online'));
  capture.on('offline', (reason) => {
    events.push('offline');
    reasons.push(reason);
  });
  capture.on('frame', () => frames++);
  t.teardown(() => capture.stop());
  capture.start();

  await waitFor(() => events.length > 0, 10_000, 'offline');
  t.same(events, ['offline'], 'offline first');
  t.match(reasons[0], /view\.token does not exist yet/, 'no bridge has run: no token file yet');
  await waitFor(() => (logs.lines.filter((l) => l.includes('capture: retry failed')).length >= 2), 10_000, 'retries while the bridge is down');

  const bridge = await startBridge(t, dir, httpPort, log.child({ role: 'gb28181' }));
  const dev = await startDevice(t, bridge, 'h264');
  t.equal(dev.channels[0]!.id, channelId, 'the channel the camera names');
  const up = performance.now();
  await waitFor(() => capture.online && frames >= 10, 30_000, 'online with frames once the bridge is up').catch((err: unknown) => {
    t.comment(logs.lines.slice(-15).join('\n'));
    throw err;
  });
  t.comment(`bridge up to ten frames at the edge: ${Math.round(performance.now() - up)} ms (backoff ≤ 500 ms)`);
  t.same(events, ['offline', 'online']);

  await bridge.close();
  await waitFor(() => events.length === 3, 20_000, 'offline when the bridge stops');
  t.same(events, ['offline', 'online', 'offline']);
  t.comment(`offline reason after the bridge stopped: ${reasons[1]}`);
  await waitFor(() => reasons.length >= 1 && logs.lines.some((l) => l.includes('connection refused')), 10_000, 'retries meet a closed port');
  await capture.stop();

  const token = (await readFile(gbViewTokenFile(dir), 'utf8')).trim();
  noToken(t, [...logs.lines, ...reasons, ...capture.stderrTail], token, 'log lines, offline reasons and ffmpeg messages');
});

t.test('an H.265 channel (415 for fMP4) is read as the bridge\'s MJPEG', async (t) => {
  const dir = await tempDir(t, 'eseal-edgegb-');
  const logs = new LogLines();
  const log = logs.logger();
  const httpPort = await freePort();
  const bridge = await startBridge(t, dir, httpPort, log.child({ role: 'gb28181' }));
  const dev = await startDevice(t, bridge, 'h265');
  const token = (await readFile(gbViewTokenFile(dir), 'utf8')).trim();
  // a bridge "elsewhere": URL and token configured, no token file used
  const capture = new FfmpegCapture({
    camera: 'h265cam',
    url: address(dev),
    width: 160,
    height: 120,
    fps: 5,
    backoff: { initialMs: 100, maxMs: 500 },
    gb28181: { url: `http://127.0.0.1:${httpPort}/`, token, dataDir: join(dir, 'elsewhere') },
    log: log.child({ role: 'edge' }),
  });
  let frames = 0;
  const offline: string[] = [];
  capture.on('frame', (f) => {
    frames++;
    t.equal(f.rgb.length, 160 * 120 * 3);
  });
  capture.on('offline', (r) => offline.push(r));
  t.teardown(() => capture.stop());
  const started = performance.now();
  let firstMs = 0;
  capture.once('online', () => (firstMs = performance.now() - started));
  capture.start();
  await waitFor(() => frames >= 5, 45_000, 'frames from the MJPEG stream');
  t.comment(`H.265 channel: capture start to first frame ${Math.round(firstMs)} ms (INVITE, 415, MJPEG transcode)`);
  t.same(offline, [], 'the 415 was not a failure');
  t.ok(logs.lines.some((l) => l.includes("reading the bridge's MJPEG stream")), 'the switch to MJPEG is logged');
  t.ok(logs.lines.some((l) => l.includes('-f mpjpeg')), 'ffmpeg reads multipart MJPEG');
  await capture.stop();
  noToken(t, logs.lines, token, 'log lines');
});

t.test('the bridge refuses a wrong token and an unknown channel: offline with its reason', async (t) => {
  const dir = await tempDir(t, 'eseal-edgegb-');
  const log = pino({ level: 'silent' });
  const httpPort = await freePort();
  const bridge = await startBridge(t, dir, httpPort, log);
  await startDevice(t, bridge, 'h264');
  for (const [token, channel, re] of [
    ['wrong-token-0123456789abcdef', defaultChannels(DEVICE, 1)[0]!.id, /answered 401 for mp4: ESEAL_ERR_GBVIEW_TOKEN.*edge\.gb28181\.token/],
    ['', '34020000001310000099', /answered 404 for mp4: .*34020000001310000099/],
  ] as const) {
    const capture = new FfmpegCapture({
      camera: 'gbcam',
      url: `gb28181://${DEVICE}/${channel}`,
      backoff: { initialMs: 1000, maxMs: 1000 },
      gb28181: { url: `http://127.0.0.1:${httpPort}`, token, dataDir: dir },
    });
    const reason = new Promise<string>((resolve) => capture.once('offline', resolve));
    capture.start();
    t.match(await reason, re, channel);
    await capture.stop();
  }
});
