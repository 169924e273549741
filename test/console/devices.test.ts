// 智能感知管理 end to end: a real relay, the edge's real HeartbeatSender, a third-party account's real
// calls, a model published in the relay's registry, and the console. An operator binds the model
// to the edge through the console's API; the relay's signed manifest (as edges download it) carries
// the binding and the edge's next heartbeat is answered with it; push reissues the manifest; every
// action audited, every field named when wrong, viewers and requests without CSRF refused. The
// GB/T 28181 bridge's devices and channels are listed (a real bridge, a sim device); a bridge not
// running is said on the page, not an error.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import type { Heartbeat } from '../../src/devices/heartbeat.ts';
import { MODEL_PATHS, type ModelManifest } from '../../src/models/manifest.ts';
import { HeartbeatSender, type HeartbeatOutcome } from '../../edge/heartbeat/HeartbeatSender.ts';
import { ModelRegistry } from '../../relay/models/ModelRegistry.ts';
import { alertText } from '../../console/pages/devicesPage.ts';
import { mergeBindings } from '../../console/api/devicesApi.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, OTHER_MINE, relayWithMine, tempDir } from '../helpers/relay.ts';
import { sampleHeartbeat } from '../helpers/heartbeat.ts';
import { catalogCollected, startGbBridge, startSimDevice } from '../helpers/gbBridge.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

const OP_PW = 'operator-pass-1';
const VIEW_PW = 'viewer-pass-12';
const EVIL = '<script>alert(1)</script>';

const beat = (): Heartbeat => sampleHeartbeat({ errors: [{ at: Date.now(), code: 'camera.offline', msg: `gate (30): ffmpeg exited ${EVIL}` }] });

/** The bridge's tokens where the console looks on a server running both: <dataDir>/gb28181/. */
async function shareBridgeTokens(from: string, to: string): Promise<void> {
  await mkdir(join(to, 'gb28181'), { recursive: true });
  for (const f of ['admin.token', 'view.token']) await copyFile(join(from, 'gb28181', f), join(to, 'gb28181', f));
}

t.test('devices, model binding and push through the console', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  // the edge heartbeats; its account makes a call
  const sender = new HeartbeatSender({ baseUrl: relay.url, getToken: async () => mine.token, collect: beat, intervalSeconds: 30 });
  t.teardown(() => sender.close());
  t.same(await sender.sendNow(), { outcome: 'sent', answer: {} }, 'no binding yet');
  const time = formatJsonTime();
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '20', alarm: 1, time })).status, 200);
  // a third-party device: an account that only calls, once refused
  await relay.ctx.accounts.add({ username: 'vendor7', password: 'Vendor+pass/77', mines: [OTHER_MINE], org: 'YY煤矿' });
  const vendor = new GuideMine(relay.url, 'vendor7', 'Vendor+pass/77');
  t.equal((await vendor.login()).status, 200);
  t.equal((await vendor.record(RECORD_ENDPOINTS.cameraOnline, { mineId: OTHER_MINE, cameraId: '10', alarm: 0, time })).status, 200);
  t.equal((await vendor.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 0, time })).status, 403);
  // the province publishes two models
  const registry = new ModelRegistry(relay.dataDir);
  const src = await tempDir(t);
  await writeFile(join(src, 'night.onnx'), randomBytes(300));
  await writeFile(join(src, 'day.onnx'), randomBytes(200));
  const night = (await registry.publish(join(src, 'night.onnx'), { name: 'night', version: '7' })).entry;
  await registry.publish(join(src, 'day.onnx'), { name: 'day', version: '2' });

  const c = await startTestConsole(t, relay, { set: { 'admin.gb28181.url': 'http://127.0.0.1:1' } });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: OP_PW });
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: VIEW_PW });
  const op = new ConsoleClient(c.url);
  await op.login('op1', OP_PW);
  const viewer = new ConsoleClient(c.url);
  await viewer.login('v1', VIEW_PW);

  // what the relay knows, as the console shows it
  const list = await viewer.call('GET', '/api/devices');
  t.equal(list.status, 200);
  const devices = list.json.data.devices as any[];
  const edge = devices.find((d) => d.kind === 'eseal-edge');
  t.match(edge, { deviceId: 'edge-01', account: 'mine001', mineIds: [MINE], software: { version: '1.2.3' }, model: { name: 'default' }, detector: { p95Ms: 85.5 } });
  t.ok(edge.alerts.includes('cameras not running: 30'), 'the offline camera is an alert');
  const third = devices.find((d) => d.account === 'vendor7');
  t.match(third, { kind: 'third-party', mineIds: [OTHER_MINE], rejected: 1, calls: { 'camera/online-offine': 1 } });
  t.match(list.json.data.gb, { running: false, devices: [], error: /did not answer/ }, 'no bridge: said, not an error');
  const models = await viewer.call('GET', '/api/models');
  t.same(models.json.data.manifest.models.map((m: any) => m.name).sort(), ['day', 'night']);
  t.same(models.json.data.bindings, []);

  const page = await viewer.call('GET', '/devices');
  t.equal(page.status, 200);
  t.match(page.text, /<div class="card" id="dv-edges"><div>边缘分析设备<\/div><div class="v">1<\/div>/, 'one edge');
  t.match(page.text, /<div class="card" id="dv-alerted"><div>告警设备<\/div><div class="v bad">2<\/div>/, 'two devices alerted (the edge, the vendor refused within the hour)');
  t.match(page.text, /<tr class="risk" data-account="mine001" data-device="edge-01">/, 'its row highlighted');
  t.match(page.text, /<div class="bad">摄像头未运行: 30<\/div>/);
  t.match(page.text, /<td class="num">1\/2<\/td>/, 'one camera of two running');
  t.match(page.text, /<td class="num">40 \/ 86<\/td>/, 'detector p50 / p95');
  t.match(page.text, /id="gb-down">GB\/T 28181 网关未运行或无法连接。/);
  t.notOk(page.text.includes(EVIL), "the edge's error text is not markup");
  t.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.notMatch(page.text, /id="bind-form"/, 'a viewer gets no binding form');
  t.match(page.text, /id="devices-count">2 \/ 2</);
  const vendorOnly = await viewer.call('GET', `/devices?q=${OTHER_MINE}`);
  t.match(vendorOnly.text, /id="devices-count">1 \/ 2</, 'filtered by a mine id');
  t.match(vendorOnly.text, /data-account="vendor7"/);
  t.notMatch(vendorOnly.text, /data-account="mine001"/);
  t.match((await viewer.call('GET', '/devices?q=edge-&alerts=1')).text, /id="devices-count">1 \/ 2</, 'by device id, with alerts');
  const badQ = await viewer.call('GET', '/devices?q=a%20b');
  t.equal(badQ.status, 400);
  t.match(badQ.text, /q: the start of an account, mine or device id/);
  t.match((await op.call('GET', '/devices')).text, /id="bind-form"/, 'an operator does');
  t.match((await viewer.call('GET', '/devices?lang=en')).text, /<h1>Front-end analysis<\/h1>/);

  // binding: role, CSRF, fields, the relay's own rules
  t.equal((await viewer.act('POST', '/api/models/bind', { targetKind: 'device', targets: ['edge-01'], model: 'night' })).status, 403, 'a viewer may not bind');
  t.equal((await op.call('POST', '/api/models/bind', { json: { targetKind: 'device', targets: ['edge-01'], model: 'night' } })).status, 403, 'no CSRF token');
  for (const [body, msg] of [
    [{ targetKind: 'camera', targets: ['edge-01'], model: 'night' }, /^targetKind: /],
    [{ targetKind: 'mine', targets: ['1404'], model: 'night' }, /^targets: 12-character mine ids/],
    [{ targetKind: 'device', targets: ['edge 01'], model: 'night' }, /^targets: device ids/],
    [{ targetKind: 'device', targets: ['edge-01'], model: 'no such/model' }, /^model: /],
    [{ targetKind: 'device', targets: ['edge-01'] }, /^model: /],
    [{ targetKind: 'device', targets: ['edge-01'], model: 'night', extra: 1 }, /^extra: /],
  ] as const) {
    const a = await op.act('POST', '/api/models/bind', body);
    t.equal(a.status, 400, JSON.stringify(body));
    t.match(a.json.msg, msg);
  }
  const unknown = await op.act('POST', '/api/models/bind', { targetKind: 'device', targets: ['edge-01'], model: 'dusk' });
  t.equal(unknown.status, 400, 'a model the registry does not hold: the relay says so');
  t.match(unknown.json.msg, /^bindings\[0\]\.model: no model "dusk" is published/);

  const bound = await op.act('POST', '/api/models/bind', { targetKind: 'device', targets: ['edge-01'], model: 'night' });
  t.equal(bound.status, 200, bound.text);
  t.same(bound.json.data.bindings, [{ target: { device: 'edge-01' }, model: 'night' }]);
  // the relay's signed manifest, as the edge downloads it, carries the binding
  const fetched = await request(relay.url + MODEL_PATHS.manifest, { headers: { authorization: `Bearer ${mine.token}` } });
  t.equal(fetched.statusCode, 200);
  const manifest = (await fetched.body.json()) as ModelManifest;
  t.same(manifest.bindings, [{ target: { device: 'edge-01' }, model: 'night' }], 'the manifest edges download carries it');
  t.same((await registry.current())?.bindings, manifest.bindings, 'and verifies with the province key');
  const answered = (await sender.sendNow()) as Extract<HeartbeatOutcome, { outcome: 'sent' }>;
  t.same(answered.answer, { model: { name: 'night', version: '7', sm3: night.sm3 } }, "the edge's next heartbeat is told its model");

  // a mine too, through the page's form; then the whole list replaced through PUT
  const form = await op.call('POST', '/devices/bind', { form: { _csrf: op.csrf, targetKind: 'mine', targets: `${MINE}, ${OTHER_MINE}`, model: 'day' } });
  t.equal(form.status, 303);
  t.equal(form.headers.location, '/devices?done=bound');
  t.same((await registry.current())?.bindings, [
    { target: { device: 'edge-01' }, model: 'night' },
    { target: { mine: MINE }, model: 'day' },
    { target: { mine: OTHER_MINE }, model: 'day' },
  ]);
  const shown = await op.call('GET', '/devices?done=bound');
  t.match(shown.text, /role="status">已绑定并下发</);
  t.match(shown.text, new RegExp(`<tr data-target="mine ${MINE}"><td>煤矿</td><td>${MINE}</td><td>day</td>`));
  t.match(shown.text, /<td class="bound">night <small class="muted">7<\/small> <small class="muted">\(device edge-01\)<\/small><\/td>/, "the edge's bound model beside the one it runs");
  const badForm = await op.call('POST', '/devices/bind', { form: { _csrf: op.csrf, targetKind: 'mine', targets: 'abc', model: 'day' } });
  t.equal(badForm.status, 400);
  t.match(badForm.text, /role="alert">targets: 12-character mine ids of letters and digits, got &quot;abc&quot;/, 'the page names the field');
  t.match(badForm.text, /id="bind-targets" value="abc"/, 'and keeps what was typed');
  const unbind = await op.call('POST', '/devices/bind', { form: { _csrf: op.csrf, targetKind: 'mine', targets: OTHER_MINE, model: '' } });
  t.equal(unbind.headers.location, '/devices?done=unbound');
  const put = await op.act('PUT', '/api/models/bindings', { bindings: [{ target: { account: 'vendor7' }, model: 'day' }] });
  t.equal(put.status, 200);
  t.same((await registry.current())?.bindings, [{ target: { account: 'vendor7' }, model: 'day' }], 'PUT replaces the list');
  const putBad = await op.act('PUT', '/api/models/bindings', { bindings: [{ target: { mine: 'x' }, model: 'day' }] });
  t.equal(putBad.status, 400);
  t.match(putBad.json.msg, /^bindings\[0\]\.target/);

  // push: the same bindings, a new issuedAt
  const before = Date.parse((await registry.current())!.issuedAt);
  const pushed = await op.call('POST', '/devices/push', { form: { _csrf: op.csrf } });
  t.equal(pushed.headers.location, '/devices?done=pushed');
  const after = await registry.current();
  t.ok(Date.parse(after!.issuedAt) >= before, 'issued again');
  t.same(after?.bindings, [{ target: { account: 'vendor7' }, model: 'day' }], 'bindings kept');
  t.equal((await op.act('POST', '/api/models/push')).status, 200);

  const audit = c.ctx.store.audit.list({ limit: 20 }).filter((e) => e.action !== 'login').map((e) => `${e.user} ${e.action} ${e.target} ${e.result.slice(0, 17)}`);
  t.same(audit, [
    'op1 push models model manifest ok',
    'op1 push models model manifest ok',
    'op1 bind models all bindings (1) refused: HTTP 400',
    'op1 bind models all bindings (1) ok',
    'op1 bind models mine 140421009999 -> (none) ok',
    `op1 bind models mine ${MINE},${OTHER_MINE} -> day ok`,
    'op1 bind models device edge-01 -> night ok',
    'op1 bind models device edge-01 -> dusk refused: HTTP 400',
  ], 'every action audited with the verdict, newest first');
});

t.test('nothing published: binding is refused by name; the bridge, when running, lists its devices and channels', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000071';
  await startSimDevice(t, bridge, id, { channelCount: 2 });
  await catalogCollected(bridge, id, 2);
  const { relay } = await relayWithMine(t);
  await shareBridgeTokens(bridge.dataDir, relay.dataDir);
  const c = await startTestConsole(t, relay, { set: { 'admin.gb28181.url': `http://127.0.0.1:${bridge.httpPort}` } });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: OP_PW });
  const op = new ConsoleClient(c.url);
  await op.login('op1', OP_PW);

  const refused = await op.act('POST', '/api/models/bind', { targetKind: 'device', targets: ['edge-01'], model: 'night' });
  t.equal(refused.status, 409);
  t.match(refused.json.msg, /^models: nothing is published yet/);
  t.match((await op.call('GET', '/devices')).text, /id="manifest">尚未发布模型/);

  const gb = (await op.call('GET', '/api/devices')).json.data.gb;
  t.match(gb, { running: true, devices: [{ deviceId: id, online: true, transport: 'UDP' }] });
  t.equal(gb.devices[0].channels.length, 2);
  const page = await op.call('GET', '/devices');
  t.match(page.text, new RegExp(`<tr data-gb="${id}"><td>${id}</td><td>[^<]*</td><td class="ok">在线</td>`), 'online');
  t.match(page.text, /<div class="card" id="dv-gb"><div>GB\/T 28181 设备与通道<\/div><div class="v ok">1\/1<\/div>/);
  for (const ch of gb.devices[0].channels) t.match(page.text, new RegExp(`data-channel="${ch.channelId}"`));
});

t.test('binding merges by target; the relay alerts read in Chinese with their detail', async (t) => {
  const current = [
    { target: { device: 'a' }, model: 'm1' },
    { target: { mine: '140421007866' }, model: 'm1' },
  ];
  t.same(mergeBindings(current, 'device', ['a', 'b'], 'm2'), [
    { target: { mine: '140421007866' }, model: 'm1' },
    { target: { device: 'a' }, model: 'm2' },
    { target: { device: 'b' }, model: 'm2' },
  ]);
  t.same(mergeBindings(current, 'mine', ['140421007866'], ''), [{ target: { device: 'a' }, model: 'm1' }], 'unbind');
  t.same(mergeBindings(current, 'account', ['a'], 'm3').slice(0, 2), current, 'an account a is not the device a');
  t.equal(alertText('zh', 'cameras not running: 30, 31'), '摄像头未运行: 30, 31');
  t.equal(alertText('zh', 'detector p95 > 1000 ms'), '检测耗时 p95 超限: 1000 ms');
  t.equal(alertText('zh', 'heartbeat late'), '心跳超时');
  t.equal(alertText('en', 'heartbeat late'), 'heartbeat late');
  t.equal(alertText('zh', 'something new'), 'something new', 'an alert the page does not know is shown as the relay wrote it');
});
