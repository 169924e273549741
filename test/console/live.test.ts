// 实时视频 end to end: the marked MJPEG streams from real camera/live calls (their liveUrl shown in
// <img>, the page's policy letting exactly those origins in), and a GB/T 28181 channel of a sim
// device through a real bridge and the console's proxy: JPEG frames arrive, the bridge's viewer is
// gone when the browser leaves, a session holds at most LIVE_MAX_PER_SESSION streams.
import { copyFile, mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { LIVE_MAX_PER_SESSION, LiveSlots, browserUrl } from '../../console/api/liveApi.ts';
import { livePolicy, readLiveSelection } from '../../console/pages/livePage.ts';
import { MINE, relayWithMine } from '../helpers/relay.ts';
import { catalogCollected, startGbBridge, startSimDevice } from '../helpers/gbBridge.ts';
import { waitFor } from '../helpers/wait.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

const PW = 'viewer-pass-12';

async function shareBridgeTokens(from: string, to: string): Promise<void> {
  await mkdir(join(to, 'gb28181'), { recursive: true });
  for (const f of ['admin.token', 'view.token']) await copyFile(join(from, 'gb28181', f), join(to, 'gb28181', f));
}

/** A browser-like GET that keeps the body as it streams and can be dropped (the tab closed). */
function watch(url: string, cookie: string) {
  const chunks: Buffer[] = [];
  let size = 0;
  let setStatus!: (s: number) => void;
  const status = new Promise<number>((r) => (setStatus = r));
  const req = httpRequest(url, { headers: { cookie } }, (res) => {
    setStatus(res.statusCode ?? 0);
    res.on('data', (d: Buffer) => {
      if (size < 4 * 1024 * 1024) chunks.push(d);
      size += d.length;
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => setStatus(0));
  req.end();
  const body = () => Buffer.concat(chunks);
  /** complete JPEGs (SOI … EOI) in multipart parts */
  const jpegs = () => {
    const b = body();
    let n = 0;
    for (let i = b.indexOf('image/jpeg'); i >= 0; i = b.indexOf('image/jpeg', i + 1)) {
      const soi = b.indexOf(Buffer.from([0xff, 0xd8, 0xff]), i);
      if (soi > 0 && b.indexOf(Buffer.from([0xff, 0xd9]), soi) > 0) n++;
    }
    return n;
  };
  return { status, body, jpegs, close: () => req.destroy() };
}

t.test('the marked MJPEG streams: each camera\'s last liveUrl in the grid', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const live = (cameraId: string, liveUrl: string) => mine.record(RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId, liveUrl, time: formatJsonTime() });
  t.equal((await live('10', 'http://10.1.2.3:8080/?action=stream')).status, 200);
  t.equal((await live('10', 'http://10.1.2.3:8081/?action=stream')).status, 200, 'the last one counts');
  t.equal((await live('20', '10.1.2.4:8080')).status, 200, "the guide's bare ip:port (flagged)");
  const c = await startTestConsole(t, relay, { set: { 'admin.gb28181.url': 'http://127.0.0.1:1' } });
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: PW });
  const v = new ConsoleClient(c.url);
  await v.login('v1', PW);

  const api = await v.call('GET', '/api/live');
  t.equal(api.status, 200);
  t.same(
    api.json.data.mjpeg.map((m: any) => [m.id, m.url]),
    [
      [`m:${MINE}:10`, 'http://10.1.2.3:8081/?action=stream'],
      [`m:${MINE}:20`, 'http://10.1.2.4:8080/'],
    ],
  );
  t.match(api.json.data.gb, { running: false, channels: [] });
  t.equal(api.json.data.maxShown, 9);

  const empty = await v.call('GET', '/live');
  t.equal(empty.status, 200);
  t.match(empty.text, /id="live-empty"/, 'nothing picked: a hint, no grid');
  t.match(empty.text, /id="gb-down"/, 'the bridge not running is said');
  t.match(empty.headers['content-security-policy'], /img-src 'self' data: blob:;/);

  const shown = await v.call('GET', `/live?show=m:${MINE}:10&show=m:${MINE}:20`);
  t.equal(shown.status, 200);
  t.match(shown.text, new RegExp(`<figure class="live-cell" data-stream="m:${MINE}:10"><img src="http://10.1.2.3:8081/\\?action=stream"`));
  t.match(shown.text, new RegExp(`<figure class="live-cell" data-stream="m:${MINE}:20"><img src="http://10.1.2.4:8080/"`));
  t.match(shown.text, new RegExp(`value="m:${MINE}:10" checked id="pick-m-${MINE}-10"`), 'the picked boxes stay ticked');
  t.match(shown.headers['content-security-policy'], /img-src 'self' data: blob: http:\/\/10\.1\.2\.3:8081 http:\/\/10\.1\.2\.4:8080;/, 'images from exactly those origins');
  t.match(shown.headers['content-security-policy'], /script-src 'self';/, 'scripts still only from the console');

  const ten = Array.from({ length: 10 }, (_, i) => `show=m:${MINE}:${i + 10}`).join('&');
  const tooMany = await v.call('GET', `/live?${ten}`);
  t.equal(tooMany.status, 400);
  t.match(tooMany.text, /role="alert">show: at most 9 streams at once, got 10/);
  const bad = await v.call('GET', '/live?show=javascript:alert(1)');
  t.equal(bad.status, 400);
  t.match(bad.text, /show: a stream id/);
  t.match((await v.call('GET', `/live?show=m:${MINE}:99`)).text, /role="alert">以下视频流已不存在: m:140421007866:99/);
  t.match((await v.call('GET', '/live?lang=en')).text, /<h1>Live video<\/h1>/);
});

t.test('a GB/T 28181 channel through the console: JPEG frames, the upstream closed when the viewer leaves, a cap per session', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000091';
  const device = await startSimDevice(t, bridge, id, { channelCount: 1 });
  await catalogCollected(bridge, id, 1);
  const ch = device.channels[0]!.id;
  const { relay } = await relayWithMine(t);
  await shareBridgeTokens(bridge.dataDir, relay.dataDir);
  const c = await startTestConsole(t, relay, { set: { 'admin.gb28181.url': `http://127.0.0.1:${bridge.httpPort}` } });
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: PW });
  const v = new ConsoleClient(c.url);
  await v.login('v1', PW);
  const cookie = [...v.cookies].map(([k, x]) => `${k}=${x}`).join('; ');

  const api = await v.call('GET', '/api/live');
  t.same(api.json.data.gb.channels.map((g: any) => [g.id, g.url, g.online]), [[`g:${id}:${ch}`, `/api/live/gb/${id}/${ch}.mjpeg`, true]]);
  const page = await v.call('GET', `/live?show=g:${id}:${ch}`);
  t.match(page.text, new RegExp(`<img src="/api/live/gb/${id}/${ch}.mjpeg"`), 'the grid shows it through the console');
  t.notOk(page.text.includes(bridge.token), 'the page never holds the view token');

  const url = `${c.url}/api/live/gb/${id}/${ch}.mjpeg`;
  const one = watch(url, cookie);
  t.equal(await one.status, 200);
  await waitFor(() => one.jpegs() >= 2, 40_000, 'JPEG frames through the console');
  t.match(one.body().subarray(0, 200).toString('latin1'), /--boundarydonotcross/, 'the multipart stream as the bridge sends it');
  t.equal(bridge.viewer.viewers(id, ch), 1, 'one viewer at the bridge');
  one.close();
  await waitFor(() => bridge.viewer.viewers(id, ch) === 0, 10_000, 'the upstream closed when the viewer left');

  // the session's cap: LIVE_MAX_PER_SESSION open, the next refused; another session is not held to it
  const many = Array.from({ length: LIVE_MAX_PER_SESSION }, () => watch(url, cookie));
  t.same(await Promise.all(many.map((m) => m.status)), many.map(() => 200));
  const over = await v.call('GET', `/api/live/gb/${id}/${ch}.mjpeg`);
  t.equal(over.status, 429);
  t.equal(over.json.code, 'ESEAL_ERR_CONSOLE_LIVE_LIMIT');
  t.match(over.json.msg, /^streams: this session has 12 live streams open, at most 12/);
  for (const m of many) m.close();
  await waitFor(() => bridge.viewer.viewers(id, ch) === 0, 10_000, 'every upstream closed');
  const again = watch(url, cookie);
  t.equal(await again.status, 200, 'slots come back when the streams close');
  again.close();

  // refusals
  t.equal((await new ConsoleClient(c.url).call('GET', `/api/live/gb/${id}/${ch}.mjpeg`)).status, 401, 'anonymous');
  const badId = await v.call('GET', `/api/live/gb/123/${ch}.mjpeg`);
  t.equal(badId.status, 400);
  t.match(badId.json.msg, /^device: /);
  const unknown = await v.call('GET', `/api/live/gb/34020000001320000099/${ch}.mjpeg`);
  t.equal(unknown.status, 404, 'a device the bridge does not know');
  t.match(unknown.json.msg, /^channel: the bridge refused channel 34020000001320000099\/\d{20}: HTTP 404: device 34020000001320000099 has never registered/);
  t.notOk(JSON.stringify(unknown.json ?? '').includes(bridge.token), 'the token never in a message');
  await waitFor(() => bridge.viewer.viewers(id, ch) === 0, 10_000, 'nothing left open');
});

t.test('live: slots, liveUrls the browser may open, the selection, the policy', async (t) => {
  const slots = new LiveSlots(2, 3);
  const a1 = slots.take('a');
  slots.take('a');
  t.throws(() => slots.take('a'), /this session has 2 live streams open/);
  const b1 = slots.take('b');
  t.throws(() => slots.take('c'), /the console proxies 3 live streams, at most 3/);
  a1();
  a1();
  t.equal(slots.open('a'), 1, 'a slot given back once only');
  t.equal(slots.open(), 2);
  b1();
  t.equal(slots.open('b'), 0);

  t.equal(browserUrl('http://10.0.0.1:8080/?action=stream'), 'http://10.0.0.1:8080/?action=stream');
  t.equal(browserUrl('10.0.0.1:8080'), 'http://10.0.0.1:8080/');
  for (const bad of ['javascript:alert(1)', 'rtsp://10.0.0.1/x', 'data:image/png,xx', '', undefined, 'http://', `http://x/${'a'.repeat(300)}`]) t.equal(browserUrl(bad), undefined, String(bad).slice(0, 30));

  t.same(readLiveSelection({ show: ['g:34020000001320000091:34020000001320000001', 'g:34020000001320000091:34020000001320000001'], filter: ' 1404 ' }), {
    show: ['g:34020000001320000091:34020000001320000001'],
    filter: '1404',
  });
  t.throws(() => readLiveSelection({ filter: 'a"b' }), /^filter: /);
  t.equal(livePolicy(['http://a:1', 'http://a:1']).match(/http:\/\/a:1/g)?.length, 1, 'an origin once');
});
