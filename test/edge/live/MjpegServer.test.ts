import { connect, type Socket } from 'node:net';
import jpeg from 'jpeg-js';
import t, { type Test } from 'tap';
import { BOUNDARY, MjpegServer, timestampHeader } from '../../../edge/live/MjpegServer.ts';
import { LiveNotListening, LiveUrlTooLong } from '../../../edge/live/errors.ts';
import { boxMarks, noiseFrame, solidFrame, T0 } from '../evidence/frames.ts';

/** the secret path of these tests' live servers */
const TOKEN = 'testtokentesttokentesttokentest0';
const W = 160;
const H = 120;
const BLUE = [20, 40, 220] as const;

/** A raw HTTP/1.1 GET over a plain socket, so the exact bytes on the wire can be checked. */
function get(port: number, path: string): { socket: Socket; received: () => Buffer; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

interface Head {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

function parseHead(bytes: Buffer): Head | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.toString('latin1', 0, end).split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: bytes.subarray(end + 4) };
}

interface Part {
  headers: Map<string, string>;
  jpeg: Buffer;
}

/** Parts of a multipart body: each `--boundary CRLF headers CRLF CRLF body CRLF`, body sized by Content-Length. */
function parseParts(body: Buffer): Part[] {
  const parts: Part[] = [];
  const open = Buffer.from(`--${BOUNDARY}\r\n`);
  let at = 0;
  for (;;) {
    if (body.length < at + open.length || !body.subarray(at, at + open.length).equals(open)) break;
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const headers = new Map(
      body
        .toString('latin1', at + open.length, headEnd)
        .split('\r\n')
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
    );
    const length = Number(headers.get('content-length'));
    const start = headEnd + 4;
    if (body.length < start + length + 2) break;
    if (body.toString('latin1', start + length, start + length + 2) !== '\r\n') throw new Error('part does not end with CRLF');
    parts.push({ headers, jpeg: body.subarray(start, start + length) });
    at = start + length + 2;
  }
  return parts;
}

async function until<T>(what: string, f: () => T | undefined, tries = 500): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function server(t: Test, options: Partial<Omit<ConstructorParameters<typeof MjpegServer>[0], 'pathToken'>> = {}): Promise<{ live: MjpegServer; port: number }> {
  const live = new MjpegServer({ host: '127.0.0.1', port: 0, camera: 'aux-1', pathToken: TOKEN, ...options });
  const { port } = await live.listen();
  t.teardown(() => live.close());
  return { live, port };
}

const overlay = { time: T0, camera: 'aux-1' };

t.test('stream: mjpg-streamer headers, boundary and parts holding valid JPEGs', async (t) => {
  const { live, port } = await server(t, { maxFps: 0 });
  t.equal(live.stats().encoded, 0);
  const client = get(port, `/${TOKEN}/?action=stream`);
  await until('a viewer', () => live.stats().clients === 1);
  live.publish(solidFrame(1, T0 + 1234.5, W, H, BLUE), boxMarks(10, 10, 60, 60, [255, 0, 0]), overlay);
  live.publish(solidFrame(2, T0 + 2000, W, H, BLUE), [], overlay);
  const head = await until('two parts', () => {
    const h = parseHead(client.received());
    return h && parseParts(h.body).length >= 2 ? h : undefined;
  });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-type'), `multipart/x-mixed-replace;boundary=${BOUNDARY}`);
  t.equal(head.headers.get('access-control-allow-origin'), undefined, 'no CORS: no foreign page may read the pictures');
  t.match(head.headers.get('cache-control'), /no-cache/);
  t.equal(head.headers.get('pragma'), 'no-cache');
  t.equal(head.headers.get('connection'), 'close');
  t.equal(head.headers.get('transfer-encoding'), undefined, 'no chunked framing, as mjpg-streamer');

  const parts = parseParts(head.body);
  t.same(
    parts.map((p) => p.headers.get('x-timestamp')),
    [timestampHeader(T0 + 1234.5), timestampHeader(T0 + 2000)],
  );
  t.match(parts[0]!.headers.get('x-timestamp'), /^\d+\.234500$/, 'seconds.micros');
  for (const p of parts) {
    t.equal(p.headers.get('content-type'), 'image/jpeg');
    t.equal(p.jpeg.readUInt16BE(0), 0xffd8, 'SOI');
    t.equal(p.jpeg.readUInt16BE(p.jpeg.length - 2), 0xffd9, 'EOI');
    const img = jpeg.decode(p.jpeg, { useTArray: true });
    t.equal(img.width, W);
    t.equal(img.height, H);
    const centre = ((H / 2) * W + W / 2) * 4;
    t.ok(Math.abs(img.data[centre]! - BLUE[0]) < 12 && Math.abs(img.data[centre + 2]! - BLUE[2]) < 12, 'the frame’s colour');
  }
  const first = jpeg.decode(parts[0]!.jpeg, { useTArray: true });
  const edge = (35 * W + 10) * 4;
  t.ok(first.data[edge]! > 180 && first.data[edge + 2]! < 100, 'the box is drawn on the first frame');
  t.equal(live.stats().encoded, 2, 'one encode per published frame');
  client.socket.destroy();
  await until('the viewer to leave', () => live.stats().clients === 0);
});

t.test('lazy: nothing is encoded without a viewer; a snapshot encodes the latest frame once', async (t) => {
  const { live, port } = await server(t);
  const none = get(port, `/${TOKEN}/?action=snapshot`);
  await none.closed;
  t.equal(parseHead(none.received())!.status, 503, 'no frame yet');

  for (let i = 0; i < 5; i++) live.publish(solidFrame(i, T0 + i * 100, W, H, BLUE), [], overlay);
  t.equal(live.stats().encoded, 0, 'no viewer, no encode');
  const snaps: Head[] = [];
  for (let i = 0; i < 2; i++) {
    const s = get(port, `/${TOKEN}/?action=snapshot`);
    await s.closed;
    snaps.push(parseHead(s.received())!);
  }
  t.equal(live.stats().encoded, 1, 'two snapshots of one frame, one encode');
  const snap = snaps[0]!;
  t.equal(snap.status, 200);
  t.equal(snap.headers.get('content-type'), 'image/jpeg');
  t.equal(snap.headers.get('access-control-allow-origin'), undefined);
  t.equal(snap.headers.get('x-timestamp'), timestampHeader(T0 + 400), 'the latest frame');
  t.equal(Number(snap.headers.get('content-length')), snap.body.length);
  t.equal(jpeg.decode(snap.body, { useTArray: true }).width, W);
  t.same(snaps[1]!.body, snap.body);

  const page = get(port, `/${TOKEN}/`);
  await page.closed;
  const html = parseHead(page.received())!;
  t.equal(html.status, 200);
  t.match(html.headers.get('content-type'), /^text\/html/);
  t.match(html.body.toString(), `<img src="/${TOKEN}/?action=stream"`);
  t.match(html.body.toString(), /aux-1/);

  const bad = get(port, `/${TOKEN}/?action=nothing`);
  await bad.closed;
  t.equal(parseHead(bad.received())!.status, 404);
});

t.test('viewers over maxClients get 503', async (t) => {
  const { live, port } = await server(t, { maxClients: 2 });
  const a = get(port, `/${TOKEN}/?action=stream`);
  const b = get(port, `/${TOKEN}/?action=stream`);
  await until('two viewers', () => live.stats().clients === 2);
  const c = get(port, `/${TOKEN}/?action=stream`);
  await c.closed;
  const head = parseHead(c.received())!;
  t.equal(head.status, 503);
  t.ok(head.headers.has('retry-after'));
  t.equal(live.stats().clients, 2);
  a.socket.destroy();
  await until('a place to free up', () => live.stats().clients === 1);
  const d = get(port, `/${TOKEN}/?action=stream`);
  await until('the third viewer', () => live.stats().clients === 2);
  b.socket.destroy();
  d.socket.destroy();
});

t.test('a viewer that stops reading skips frames; its backlog stays one part', async (t) => {
  const { live, port } = await server(t, { maxFps: 0, quality: 90 });
  const slow = get(port, `/${TOKEN}/?action=stream`);
  slow.socket.pause();
  const fast = get(port, `/${TOKEN}/?action=stream`);
  await until('two viewers', () => live.stats().clients === 2);
  const W2 = 320;
  const H2 = 240;
  let biggest = 0;
  // Frames come faster than the encoder takes them (it skips to the newest, as the slow viewer
  // does): publish until the slow viewer has skipped 50 and the fast one has had 50.
  const fastGot = () => parseParts(parseHead(fast.received())?.body ?? Buffer.alloc(0)).length;
  for (let i = 0; i < 5000 && (live.stats().skipped < 50 || fastGot() <= 50); i++) {
    live.publish(noiseFrame(i % 64, T0 + i * 100, W2, H2, (i % 8) + 1), [], overlay);
    // Let sockets move bytes between frames, as a real capture loop would.
    await new Promise((r) => setTimeout(r, 1));
    biggest = Math.max(biggest, live.stats().maxQueuedBytes);
  }
  const stats = live.stats();
  t.ok(stats.skipped >= 50, `the slow viewer skipped ${stats.skipped} frames`);
  const fastParts = parseParts(parseHead(fast.received())!.body).length;
  t.ok(fastParts > 50, `the fast viewer kept getting frames (${fastParts})`);
  // One noisy 320×240 part is about 150 KB at q90; a backlog would be tens of MB by now.
  t.ok(biggest < 512 * 1024, `at most ${biggest} bytes queued for any viewer`);
  t.equal(stats.clients, 2, 'the slow viewer is still connected');
  slow.socket.destroy();
  fast.socket.destroy();
});

t.test('a viewer stalled past stalledViewerMs is dropped, freeing its place', async (t) => {
  const { live, port } = await server(t, { maxFps: 0, quality: 90, maxClients: 1, stalledViewerMs: 0 });
  const stalled = get(port, `/${TOKEN}/?action=stream`);
  stalled.socket.pause();
  await until('the viewer', () => live.stats().clients === 1);
  for (let i = 0; i < 600 && live.stats().dropped === 0; i++) {
    live.publish(noiseFrame(i, T0 + i * 100, 320, 240, (i % 8) + 1), [], overlay);
    await new Promise((r) => setTimeout(r, 1));
  }
  t.equal(live.stats().dropped, 1);
  t.equal(live.stats().clients, 0);
  const next = get(port, `/${TOKEN}/?action=stream`);
  await until('a new viewer in the freed place', () => live.stats().clients === 1);
  next.socket.destroy();
  stalled.socket.destroy();
});

t.test('liveUrl', async (t) => {
  const idle = new MjpegServer({ host: '127.0.0.1', port: 0, pathToken: TOKEN });
  t.throws(() => idle.url('192.0.2.1'), { code: LiveNotListening.code });
  const { live, port } = await server(t);
  t.equal(live.url('192.0.2.1'), `http://192.0.2.1:${port}/${TOKEN}/?action=stream`);
  t.equal(live.url('2001:db8::1', 8081), `http://[2001:db8::1]:8081/${TOKEN}/?action=stream`);
  t.throws(() => live.url(`${'a'.repeat(190)}.example`), { code: LiveUrlTooLong.code });
});
