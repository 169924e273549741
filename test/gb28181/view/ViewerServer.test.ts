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

async function setup(t: Tap, extra: { maxViewersPerChannel?: number; maxViewersPerAddress?: number; admin?: { token: string; catalog(deviceId: string): Promise<{ id: string; name: string; status: string }[]> } } = {}) {
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

t.test("the edge beside the bridge (the admin token) is not held to the per-address limit", async (t) => {
  const ADMIN = 'admin-token-for-the-local-edge-0001';
  const { viewer } = await setup(t, { maxViewersPerAddress: 1, admin: { token: ADMIN, catalog: async () => [] } });
  const open = (ch: string, bearer?: string): Promise<{ status: number; close(): void }> =>
    new Promise((resolve, reject) => {
      const req = request(viewer.liveUrl('dev', ch), bearer ? { headers: { Authorization: `Bearer ${bearer}` } } : {}, (res) => {
        resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
  const a = await open('e1');
  t.equal(a.status, 200);
  t.equal((await open('e2')).status, 429, 'a browser from the same address: its limit of 1');
  t.equal((await open('e2', 'not-the-admin-token-000000000000000')).status, 429, 'a wrong Bearer changes nothing');
  const edge = [await open('e2', ADMIN), await open('e3', ADMIN), await open('e4', ADMIN)];
  t.same(edge.map((x) => x.status), [200, 200, 200], 'the admin Bearer: one viewer per camera, however many');
  for (const x of [a, ...edge]) x.close();
});

/** A channel whose camera switches from 320x240 to 640x480 after two seconds (new SPS/PPS, keyframe first). */
function switchingSource(engine: MediaEngine): LiveSource {
  return {
    async acquire(deviceId, channelId) {
      const streamId = `${deviceId}/${channelId}/switch`;
      const { port } = await engine.openIncoming({ streamId, transport: 'udp', ssrc: '4242' });
      const small = accessUnits('h264', await annexBClip('h264', 2, '320x240'));
      const large = accessUnits('h264', await annexBClip('h264', 1, '640x480'));
      const rtp = new RtpPacketiser({ ssrc: 4242 });
      const sock = createSocket('udp4');
      let i = 0;
      const timer = setInterval(() => {
        const au = i < small.length ? small[i]! : large[(i - small.length) % large.length]!;
        const ts = 3600 * (i + 1);
        for (const p of rtp.ps(psFrame(au, ts), ts)) sock.send(p, port, '127.0.0.1');
        i++;
      }, 40);
      return {
        streamId,
        release() {
          clearInterval(timer);
          sock.close();
          void engine.closeStream(streamId).catch(() => undefined);
        },
      };
    },
  };
}

/** [width, height] of the avc1 sample entry of an init segment */
function avc1Size(init: Buffer): [number, number] {
  const at = init.indexOf('avc1', init.indexOf('stsd', 0, 'latin1'), 'latin1') + 28; // not the ftyp brand
  return [init.readUInt16BE(at), init.readUInt16BE(at + 2)];
}

/** the top-level box types of an MP4 byte stream */
function topBoxes(buf: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at);
    if (size < 8) break;
    types.push(buf.toString('latin1', at + 4, at + 8));
    at += size;
  }
  return types;
}

/** ffmpeg decodes `n` frames of `file` to 8-bit grey: bytes per frame = width × height */
async function greyFrameBytes(file: string, n: number): Promise<number> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', file, '-frames:v', String(n), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { timeoutMs: 60_000 });
  return stdout.length / n;
}

t.test('a new SPS mid-stream (320x240 → 640x480): a new init segment, the JSON message again first on the WebSocket; both parts decode at their size', async (t) => {
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base + 120, max: base + 160 }, noMediaSeconds: 15, log });
  await engine.start();
  const viewer = new ViewerServer({ host: '127.0.0.1', port: 0, token: TOKEN, source: switchingSource(engine), frames: engine });
  await viewer.listen();
  t.teardown(async () => {
    await viewer.close();
    await engine.close();
  });
  // WebSocket: text messages and binary chunks in the order they came
  const ws = new WebSocket(`ws://127.0.0.1:${viewer.port}/live/dev/switch.mp4?token=${TOKEN}`);
  const messages: Array<string | Buffer> = [];
  ws.on('message', (d: Buffer, isBinary: boolean) => messages.push(isBinary ? Buffer.from(d) : d.toString()));
  // HTTP: the bytes
  const http: Buffer[] = [];
  const req = request(viewer.liveUrl('dev', 'switch'), (res) => res.on('data', (d: Buffer) => http.push(d)));
  req.on('error', () => undefined);
  req.end();
  const texts = (): string[] => messages.filter((m): m is string => typeof m === 'string');
  await waitFor(() => texts().length >= 2 && messages.length - messages.indexOf(texts()[1]!) > 30, 30_000, 'the second codec message and 30 messages after it');
  ws.close();
  req.destroy();
  const [first, second] = texts().map((s) => JSON.parse(s) as { codec: string; width: number; height: number });
  t.same([first!.width, first!.height], [320, 240], 'the first JSON message: 320x240');
  t.same([second!.width, second!.height], [640, 480], 'the second JSON message: 640x480');
  const cut = messages.indexOf(texts()[1]!);
  const before = messages.slice(1, cut) as Buffer[];
  const after = messages.slice(cut + 1) as Buffer[];
  t.equal(after[0]!.toString('latin1', 4, 8), 'ftyp', 'a new init segment right after the JSON message');
  t.same(avc1Size(after[0]!), [640, 480], 'for the new size');
  t.same(avc1Size(before[0]!), [320, 240]);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'before.mp4'), Buffer.concat(before));
  await writeFile(join(dir, 'after.mp4'), Buffer.concat(after));
  t.equal(await greyFrameBytes(join(dir, 'before.mp4'), 10), 320 * 240, 'the first part decodes at 320x240');
  t.equal(await greyFrameBytes(join(dir, 'after.mp4'), 20), 640 * 480, 'the second part decodes at 640x480');
  // the HTTP viewer got the same: ftyp moov (moof mdat)… ftyp moov (moof mdat)…
  const boxes = topBoxes(Buffer.concat(http));
  const moovs = boxes.flatMap((b, i) => (b === 'moov' ? [i] : []));
  t.equal(moovs.length, 2, 'two init segments over HTTP');
  t.equal(boxes[moovs[1]! - 1], 'ftyp');
  t.ok(boxes.slice(moovs[1]! + 1).every((b) => b === 'moof' || b === 'mdat') && boxes.length > moovs[1]! + 2, 'fragments after the second');
});

t.test('the GOP cache: HTTP viewers, the first and a late one, start at once from the last keyframe, not at the next', async (t) => {
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base + 170, max: base + 200 }, noMediaSeconds: 15, log });
  await engine.start();
  // one keyframe every 250 frames (10 s): a viewer waiting for the next keyframe would see nothing for long
  const aus = accessUnits('h264', await annexBClip('h264', 10, '320x240', 250));
  let sent = 0;
  const sock = createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  const source: LiveSource = {
    async acquire() {
      const { port } = await engine.openIncoming({ streamId: 'gop', transport: 'udp', ssrc: '250' });
      const rtp = new RtpPacketiser({ ssrc: 250 });
      timer = setInterval(() => {
        const ts = 3600 * (sent + 1);
        for (const p of rtp.ps(psFrame(aus[sent % aus.length]!, ts), ts)) sock.send(p, port, '127.0.0.1');
        sent++;
      }, 40);
      return { streamId: 'gop', release: () => clearInterval(timer) };
    },
  };
  const viewer = new ViewerServer({ host: '127.0.0.1', port: 0, token: TOKEN, source, frames: engine });
  await viewer.listen();
  t.teardown(async () => {
    clearInterval(timer);
    sock.close();
    await viewer.close();
    await engine.close();
  });
  const open = (): { bytes: Buffer[]; firstMoofAt: () => number | undefined; close(): void } => {
    const bytes: Buffer[] = [];
    let firstMoofAt: number | undefined;
    const req = request(viewer.liveUrl('dev', 'gop'), (res) =>
      res.on('data', (d: Buffer) => {
        bytes.push(d);
        if (firstMoofAt === undefined && Buffer.concat(bytes).includes('moof')) firstMoofAt = sent;
      }),
    );
    req.on('error', () => undefined);
    req.end();
    return { bytes, firstMoofAt: () => firstMoofAt, close: () => req.destroy() };
  };
  const a = open();
  await waitFor(() => a.firstMoofAt() !== undefined || sent > aus.length, 30_000, 'the first viewer\'s first fragment');
  t.ok(a.firstMoofAt()! < aus.length, `the first viewer's first fragment came before the next keyframe (after frame ${a.firstMoofAt()})`);
  await waitFor(() => sent >= 40, 10_000, 'the stream to run on');
  const joinedAt = sent;
  const b = open();
  await waitFor(() => b.firstMoofAt() !== undefined || sent > aus.length, 30_000, 'the late viewer\'s first fragment');
  t.ok(b.firstMoofAt()! < aus.length, `the late viewer (joined at frame ${joinedAt}) got its first fragment at frame ${b.firstMoofAt()}`);
  await waitFor(() => sent >= b.firstMoofAt()! + 10, 10_000, 'ten more frames');
  a.close();
  b.close();
  const file = join(await tempDir(t), 'late.mp4');
  await writeFile(file, Buffer.concat(b.bytes));
  t.ok((await decodedFrames(file, joinedAt)) >= joinedAt, 'the late viewer got the group of pictures from its keyframe: every frame since decodes');
});
