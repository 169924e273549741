// Issue 9, finding 8: the marked live stream was open to anyone, on every interface, with
// `Access-Control-Allow-Origin: *`, and any client could take every viewer slot. Now: a secret
// path (>= 128 random bits, kept across restarts) is the only way in, everything else is 404; no
// CORS header; viewers capped per address; a viewer that does not read is disconnected; the
// listener binds the configured address; the liveUrl the edge reports carries the secret path.
import { connect, type Socket } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { MjpegServer } from '../../edge/live/MjpegServer.ts';
import { LiveToken } from '../../edge/live/errors.ts';
import { loadOrCreateLiveToken } from '../../edge/live/LiveToken.ts';
import { defaultPublicHost, liveBindHost } from '../../edge/EdgeService.ts';
import { role } from '../../edge/role.ts';
import { LENGTHS } from '../../src/contract/codes.ts';
import { createLogger } from '../../src/log.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { edgeTestConfig } from '../helpers/edge.ts';
import { waitFor } from '../helpers/forwarding.ts';
import { makeVideo } from '../helpers/media.ts';
import { relayWithMine, tempDir } from '../helpers/relay.ts';
import { noiseFrame, solidFrame, T0 } from '../edge/evidence/frames.ts';

const TOKEN = 'Zm9yLXRoZS1saXZlLXN0cmVhbS10ZXN0';
const overlay = { time: T0, camera: 'gate' };

interface Client {
  socket: Socket;
  received: () => Buffer;
  closed: Promise<void>;
  status: () => number | undefined;
  header: (name: string) => string | undefined;
}

/** A raw GET from `localAddress` (any 127.x.y.z is this machine on Linux). */
function get(port: number, path: string, options: { host?: string; localAddress?: string; method?: string } = {}): Client {
  const socket = connect({ port, host: options.host ?? '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  socket.write(`${options.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: camera\r\nOrigin: http://evil.example\r\n\r\n`);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const head = () => {
    const all = Buffer.concat(chunks);
    const end = all.indexOf('\r\n\r\n');
    return end < 0 ? undefined : all.toString('latin1', 0, end);
  };
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed,
    status: () => {
      const h = head();
      return h ? Number(h.split(' ')[1]) : undefined;
    },
    header: (name) => {
      const line = head()
        ?.split('\r\n')
        .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
      return line?.slice(line.indexOf(':') + 1).trim();
    },
  };
}

async function until<T>(what: string, f: () => T | undefined | false, tries = 1000): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Its status once the head came; a refusal is read to its end (the listener closes), anything else is cut. */
async function settle(c: Client): Promise<number> {
  const status = await until('an answer', () => c.status());
  if (status >= 400) await c.closed;
  else c.socket.destroy();
  return status;
}

async function server(t: Test, options: Partial<Omit<ConstructorParameters<typeof MjpegServer>[0], 'pathToken'>> = {}): Promise<{ live: MjpegServer; port: number }> {
  const live = new MjpegServer({ host: '127.0.0.1', port: 0, camera: 'gate', pathToken: TOKEN, ...options });
  const { port } = await live.listen();
  t.teardown(() => live.close());
  return { live, port };
}

t.test('only the secret path is served; every other path is 404 and adds no viewer', async (t) => {
  const { live, port } = await server(t);
  live.publish(solidFrame(1, T0, 64, 48, [10, 200, 10]), [], overlay);
  const wrong = [
    '/?action=stream',
    '/?action=snapshot',
    '/',
    '/index.html',
    `/${TOKEN.slice(0, -1)}/?action=stream`,
    `/${TOKEN}x/?action=stream`,
    `/${TOKEN.toLowerCase()}/?action=stream`,
    `/x/${TOKEN}/?action=stream`,
    `/${TOKEN}/more/?action=stream`,
    `/..%2f${TOKEN}/?action=snapshot`,
    `/?action=stream&token=${TOKEN}`,
  ];
  for (const path of wrong) {
    const c = get(port, path);
    t.equal(await settle(c), 404, `${path}: 404`);
    t.notOk(c.received().includes(TOKEN), `${path}: the answer does not give the token away`);
    t.notOk(c.received().includes('action='), `${path}: nor says what is served here`);
  }
  t.equal(live.stats().clients, 0, 'no viewer was added');
  t.equal(await settle(get(port, '/?action=stream', { method: 'POST' })), 404, 'another method without the token: 404 too');

  for (const path of [`/${TOKEN}/?action=snapshot`, `/${TOKEN}?action=snapshot`, `/${TOKEN}/`, `/${TOKEN}/index.html`]) {
    t.equal(await settle(get(port, path)), 200, `${path}: 200`);
  }
});

t.test('no CORS header on any answer', async (t) => {
  const { live, port } = await server(t);
  live.publish(solidFrame(1, T0, 64, 48, [10, 200, 10]), [], overlay);
  const stream = get(port, `/${TOKEN}/?action=stream`);
  await until('the stream head', () => stream.status());
  for (const [what, c] of [
    ['stream', stream],
    ['snapshot', get(port, `/${TOKEN}/?action=snapshot`)],
    ['page', get(port, `/${TOKEN}/`)],
    ['404', get(port, '/?action=stream')],
    ['preflight', get(port, `/${TOKEN}/?action=stream`, { method: 'OPTIONS' })],
  ] as const) {
    await until(`the ${what} head`, () => c.status());
    t.equal(c.header('access-control-allow-origin'), undefined, `${what} (${c.status()}): no Access-Control-Allow-Origin`);
    c.socket.destroy();
  }
});

t.test('one address cannot take every viewer place', async (t) => {
  const { live, port } = await server(t, { maxClients: 4, maxClientsPerAddress: 2 });
  const path = `/${TOKEN}/?action=stream`;
  const a = get(port, path);
  const b = get(port, path);
  await until('two viewers from 127.0.0.1', () => live.stats().clients === 2);
  const c = get(port, path);
  t.equal(await settle(c), 429, 'a third from the same address: 429');
  t.ok(c.header('retry-after'), 'with Retry-After');
  t.equal(live.stats().clients, 2);
  const other = get(port, path, { localAddress: '127.0.0.2' });
  await until('a viewer from another address', () => live.stats().clients === 3);
  t.equal(other.status(), 200, 'another address still gets in');
  a.socket.destroy();
  await until('a place to free up', () => live.stats().clients === 2);
  const again = get(port, path);
  await until('the first address back to two viewers', () => live.stats().clients === 3);
  t.equal(again.status(), 200);
  for (const s of [b, other, again]) s.socket.destroy();
});

t.test('idle connections: capped per address, and closed when no request comes', async (t) => {
  const { live, port } = await server(t, { maxClientsPerAddress: 1, maxConnectionsPerAddress: 5, idleMs: 500 });
  const idle: Socket[] = [];
  for (let i = 0; i < 5; i++) {
    const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    s.on('error', () => undefined);
    idle.push(s);
  }
  await until('five idle connections', () => live.stats().connections === 5);
  const sixth = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
  sixth.on('error', () => undefined);
  await until('the sixth to be closed at once', () => live.stats().refused === 1 && sixth.destroyed, 1000);
  live.publish(solidFrame(1, T0, 64, 48, [10, 200, 10]), [], overlay);
  t.equal(await settle(get(port, `/${TOKEN}/?action=snapshot`, { localAddress: '127.0.0.4' })), 200, 'another address is still served');
  // nothing sent: each is closed by the listener
  await until('the idle connections to be closed', () => idle.every((s) => s.destroyed));
  await until('every connection closed on the listener side', () => live.stats().connections === 0, 1000);
  t.pass('every idle connection was closed');
  // a viewer is not an idle connection: it stays while the camera sends nothing
  const viewer = get(port, `/${TOKEN}/?action=stream`, { localAddress: '127.0.0.3' });
  await until('the viewer', () => live.stats().clients === 1);
  // an idle connection opened after it is closed after idleMs: by then the viewer has been waiting longer
  const later = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.5' });
  later.on('error', () => undefined);
  await until('the later idle connection to be closed', () => later.destroyed);
  t.equal(live.stats().clients, 1, 'the viewer is still there');
  viewer.socket.destroy();
});

t.test('a viewer that does not read is disconnected, also when no frame follows', async (t) => {
  const { live, port } = await server(t, { maxFps: 0, quality: 95, stalledViewerMs: 1000 });
  const stalled = get(port, `/${TOKEN}/?action=stream`);
  stalled.socket.pause();
  await until('the viewer', () => live.stats().clients === 1);
  // frames until the viewer's socket (and the kernel's buffers) stop taking them: a part waits in
  // Node and the next five frames are skipped for it
  let part = 0;
  let skippedInARow = 0;
  for (let i = 0; i < 3000 && !(skippedInARow >= 5 && live.stats().waiting === 1); i++) {
    const before = live.stats();
    live.publish(noiseFrame(i % 64, T0 + i * 100, 640, 480, (i % 8) + 1), [], overlay);
    await new Promise((r) => setTimeout(r, 1));
    const after = live.stats();
    skippedInARow = after.sent === before.sent && after.skipped > before.skipped ? skippedInARow + 1 : 0;
  }
  t.equal(live.stats().waiting, 1, 'the viewer fell behind');
  part = live.stats().maxQueuedBytes;
  // the camera sends nothing more: the viewer must still go, freeing its place and its part
  await until('the stalled viewer to be dropped', () => live.stats().dropped === 1, 1500);
  // reading again, it finds its connection closed
  stalled.socket.resume();
  await stalled.closed;
  t.equal(live.stats().clients, 0, 'its place is free');
  t.ok(part < 2 * 1024 * 1024, `at most one part was held for it (${part} bytes)`);
});

t.test('the token: >= 128 random bits, one per camera, kept across restarts, never silently replaced', async (t) => {
  const dir = await tempDir(t);
  const gate = await loadOrCreateLiveToken(dir, 'gate');
  t.match(gate, /^[A-Za-z0-9_-]{32}$/, '32 base64url characters: 192 bits');
  t.equal(await loadOrCreateLiveToken(dir, 'gate'), gate, 'the same token on the next start');
  const room = await loadOrCreateLiveToken(dir, 'room');
  t.not(room, gate, 'another camera, another token');
  const file = join(dir, 'live', 'gate.token');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'readable by the edge only');
  await writeFile(file, 'short\n');
  await t.rejects(loadOrCreateLiveToken(dir, 'gate'), { code: LiveToken.code }, 'a damaged token file is refused, not replaced');
  t.throws(() => new MjpegServer({ host: '127.0.0.1', port: 0, pathToken: 'guessable' }), { code: LiveToken.code }, 'a short token is refused');
});

t.test('the live server binds the configured address', async (t) => {
  t.equal(liveBindHost('10.9.8.7', '10.9.8.7'), '10.9.8.7', 'edge.live.host as configured');
  t.equal(liveBindHost('', '127.0.0.1'), '127.0.0.1', "by default the liveUrl's host when it is an address of this machine");
  t.equal(liveBindHost('', '[::1]'), '::1');
  t.equal(liveBindHost('', 'camera-gate.mine.example'), '0.0.0.0', 'a name or NAT address: every interface');
  const outside = defaultPublicHost();
  if (outside === '127.0.0.1') {
    t.comment('no non-loopback IPv4 address here: the reachability check is skipped');
    return;
  }
  const { port } = await server(t);
  const c = get(port, `/${TOKEN}/?action=snapshot`, { host: outside });
  await Promise.race([c.closed, until('an answer', () => c.status())]);
  c.socket.destroy();
  t.equal(c.status(), undefined, `bound to 127.0.0.1: not reachable on ${outside}`);
});

t.test('the liveUrl the edge reports carries the token path, fits 200 characters and survives a restart', async (t) => {
  const { relay } = await relayWithMine(t);
  const dir = await tempDir(t);
  const clip = await makeVideo(dir, { seconds: 2, width: 160, height: 120 });
  const cfg = await edgeTestConfig(dir, relay.url, [{ name: 'gate', cameraId: '10', url: `file://${clip}`, loop: true, livePort: 0, analyses: { belt: false } }]);
  cfg.edge.live.publicHost = '127.0.0.1';
  const liveItems = () => relay.ctx.queue.range().map((i) => i.payload as RelayItem).filter((i) => i.endpoint === 'camera/live');

  const urls: string[] = [];
  for (let run = 1; run <= 2; run++) {
    const running = await (await role.service!()).start(cfg, createLogger({ level: 'silent' }));
    await waitFor(() => liveItems().length === run, 60_000, `camera/live at the relay (start ${run})`);
    const url = String(liveItems()[run - 1]!.record!['liveUrl']);
    urls.push(url);
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/\?action=stream$/, `start ${run}: http://host:port/<token>/?action=stream`);
    t.ok(url.length <= LENGTHS.liveUrlMax, `${url.length} characters, the guide allows ${LENGTHS.liveUrlMax}`);
    t.same(liveItems()[run - 1]!.flags, [], 'the relay flags nothing');
    const { port, pathname } = new URL(url);
    t.equal(await settle(get(Number(port), '/?action=snapshot')), 404, 'without the token: 404');
    t.equal(await settle(get(Number(port), pathname)), 200, 'with it: the page');
    const token = (await readFile(join(dir, 'edge', 'live', 'gate.token'), 'utf8')).trim();
    t.equal(pathname, `/${token}/`, 'the token kept in the data dir');
    const summary = JSON.stringify(running.summary);
    t.notOk(summary.includes(token), 'the start log line does not show the token');
    t.match(summary, /\/<token>\/\?action=stream/);
    t.equal((await stat(join(dir, 'edge', 'status.json'))).mode & 0o777, 0o600, 'status.json (it holds the liveUrls) is the edge\'s only');
    await running.close();
  }
  t.equal(new URL(urls[1]!).pathname, new URL(urls[0]!).pathname, 'the same secret path after a restart');
  // the longest public host that still fits: the check at start names the setting to shorten
  t.ok(`http://${'h'.repeat(LENGTHS.liveUrlMax - 61)}:65535/${TOKEN}/?action=stream`.length <= LENGTHS.liveUrlMax, 'a public host of 139 characters still fits');
});
