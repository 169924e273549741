// The viewer over real sockets: a LiveSource over a real MediaEngine fed PS/RTP from ffmpeg clips;
// the fMP4 it serves is decoded by the real ffmpeg, over HTTP and from the WebSocket.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { MediaEngine } from '../../../gb28181/media/MediaEngine.ts';
import { ViewerServer } from '../../../gb28181/view/ViewerServer.ts';
import type { LiveSource } from '../../../gb28181/view/ViewTypes.ts';
import { ViewUnavailable } from '../../../gb28181/view/errors.ts';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { accessUnits, annexBClip, psFrame, RtpPacketiser, type Codec } from '../../helpers/rtpPs.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

const log = pino({ level: 'silent' });
const TOKEN = 'test-token-0123456789abcdef';
const base = 40000 + 2 * Math.floor(Math.random() * 5000);

/** A LiveSource over the engine: a "device" sends the clip in a loop at 25 fps while the lease is held. */
function liveSource(engine: MediaEngine, stats: { acquired: number; released: number }): LiveSource {
  let n = 0;
  return {
    async acquire(deviceId, channelId) {
      if (deviceId === 'offline') throw ViewUnavailable('device offline', { statusCode: 404 });
      const codec: Codec = channelId.startsWith('h265') ? 'h265' : 'h264';
      const streamId = `${deviceId}/${channelId}/${++n}`;
      const ssrc = 1000 + n;
      const { port } = await engine.openIncoming({ streamId, transport: 'udp', ssrc: String(ssrc) });
      const aus = accessUnits(codec, await annexBClip(codec, 2));
      const rtp = new RtpPacketiser({ ssrc });
      const sock = createSocket('udp4');
      let i = 0;
      const timer = setInterval(() => {
        const ts = 3600 * (i + 1);
        for (const p of rtp.ps(psFrame(aus[i % aus.length]!, ts, { codec }), ts)) sock.send(p, port, '127.0.0.1');
        i++;
      }, 40);
      stats.acquired++;
      return {
        streamId,
        release() {
          stats.released++;
          clearInterval(timer);
          sock.close();
          void engine.closeStream(streamId).catch(() => undefined);
        },
      };
    },
  };
}

async function setup(t: Tap, extra: { maxViewersPerChannel?: number; maxViewersPerAddress?: number } = {}) {
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 100 }, noMediaSeconds: 15, log });
  await engine.start();
  const stats = { acquired: 0, released: 0 };
  const viewer = new ViewerServer({ host: '127.0.0.1', port: 0, token: TOKEN, source: liveSource(engine, stats), frames: engine, ...extra });
  await viewer.listen();
  t.teardown(async () => {
    await viewer.close();
    await engine.close();
  });
  return { engine, viewer, stats };
}
type Tap = { teardown(fn: () => unknown): void };

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** frames ffmpeg decodes from `input` (stops after `n`) */
async function decodedFrames(input: string, n: number): Promise<number> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', input, '-frames:v', String(n), '-f', 'framemd5', 'pipe:1'], { timeoutMs: 60_000 });
  return stdout.toString().split('\n').filter((l) => /^\d+,/.test(l)).length;
}

t.test('token, paths and an unavailable channel are answered with JSON codes', async (t) => {
  const { viewer } = await setup(t);
  const u = `http://127.0.0.1:${viewer.port}`;
  const noToken = await get(`${u}/live/d/c.mp4`);
  t.equal(noToken.status, 401);
  t.equal(JSON.parse(noToken.body).code, 'ESEAL_ERR_GBVIEW_TOKEN');
  t.equal((await get(`${u}/live/d/c.mp4?token=wrong`)).status, 401);
  t.equal((await get(`${u}/nothing?token=${TOKEN}`)).status, 404);
  const offline = await get(`${u}/live/offline/c.mp4?token=${TOKEN}`);
  t.equal(offline.status, 404);
  t.equal(JSON.parse(offline.body).code, 'ESEAL_ERR_GBVIEW_UNAVAILABLE');
  const page = await get(`${u}/play/34020000001320000001/34020000001320000002?token=${TOKEN}`);
  t.equal(page.status, 200);
  t.match(page.body, /MediaSource/);
  t.match(page.body, /实时视频/);
  t.notMatch(page.body, /https?:\/\/(?!127)/, 'no external script');
});

t.test('HTTP fMP4: ffmpeg decodes frames from the URL the edge module gets; one pull shared, released after', async (t) => {
  const { viewer, stats } = await setup(t);
  const url = viewer.liveUrl('34020000001320000001', '34020000001310000001');
  const [a, b] = await Promise.all([decodedFrames(url, 30), decodedFrames(url, 30)]);
  t.equal(a, 30, 'ffmpeg decoded 30 frames over HTTP');
  t.equal(b, 30, 'a second viewer at the same time too');
  t.equal(stats.acquired, 1, 'one upstream pull for both');
  await waitFor(() => stats.released === 1, 10_000, 'release after the last viewer');
});

t.test('WebSocket fMP4: codec info first, then init + fragments that ffmpeg decodes', async (t) => {
  const { viewer } = await setup(t);
  const ws = new WebSocket(`ws://127.0.0.1:${viewer.port}/live/34020000001320000001/34020000001310000001.mp4?token=${TOKEN}`);
  const texts: string[] = [];
  const chunks: Buffer[] = [];
  ws.on('message', (d: Buffer, isBinary: boolean) => (isBinary ? chunks.push(Buffer.from(d)) : texts.push(d.toString())));
  await waitFor(() => chunks.length >= 41, 20_000, 'fragments');
  ws.close();
  const info = JSON.parse(texts[0]!);
  t.match(info.codec, /^avc1\.4d/, 'main profile codec string');
  t.equal(info.width, 320);
  t.equal(chunks[0]!.toString('latin1', 4, 8), 'ftyp', 'the init segment first');
  const file = join(await tempDir(t), 'ws.mp4');
  await writeFile(file, Buffer.concat(chunks));
  t.equal(await decodedFrames(file, 40), 40, 'ffmpeg decoded 40 frames from the WebSocket');
});

t.test('MJPEG through one ffmpeg; H.265 channels get MJPEG and a 415 for fMP4', async (t) => {
  const { viewer } = await setup(t);
  for (const ch of ['34020000001310000001', 'h265cam']) {
    const jpegs = await new Promise<number>((resolve, reject) => {
      const req = request(viewer.liveUrl('34020000001320000001', ch, 'mjpeg'), (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        t.match(res.headers['content-type'], /multipart\/x-mixed-replace;boundary=/);
        let buf = Buffer.alloc(0);
        res.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          let count = 0;
          for (let at = buf.indexOf('\xff\xd8', 0, 'latin1'); at >= 0; at = buf.indexOf('\xff\xd8', at + 2, 'latin1')) count++;
          if (count >= 3) {
            req.destroy();
            resolve(count);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    t.ok(jpegs >= 3, `${ch}: JPEGs in the multipart stream`);
  }
  const h265 = await get(viewer.liveUrl('34020000001320000001', 'h265cam'));
  t.equal(h265.status, 415);
  t.equal(JSON.parse(h265.body).code, 'ESEAL_ERR_GBVIEW_CODEC');
});

t.test('viewer limits per channel and per address', async (t) => {
  const { viewer } = await setup(t, { maxViewersPerChannel: 2, maxViewersPerAddress: 3 });
  const open = (ch: string): Promise<{ status: number; close(): void }> =>
    new Promise((resolve, reject) => {
      const req = request(viewer.liveUrl('dev', ch), (res) => {
        resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
  const a = await open('c1');
  const b = await open('c1');
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  t.equal((await open('c1')).status, 503, 'a third viewer of the channel');
  const c = await open('c2');
  t.equal(c.status, 200);
  t.equal((await open('c3')).status, 429, 'a fourth viewer from the address');
  a.close();
  await waitFor(() => viewer.viewers('dev', 'c1') === 1, 5000, 'the place freed');
  const d = await open('c1');
  t.equal(d.status, 200, 'a place freed is taken again');
  for (const x of [b, c, d]) x.close();
});
