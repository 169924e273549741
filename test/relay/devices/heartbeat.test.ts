// The device inventory end to end: a real relay, the edge's real HeartbeatSender on loopback, a
// mine client making real calls. The heartbeat is kept and listed by /admin/devices with the
// account's calls; a third-party account is known by its calls and refusals; bad heartbeats are
// refused naming the field; the rate per account is bounded; the answer names the bound model.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { HEARTBEAT_PATH } from '../../../src/devices/heartbeat.ts';
import { HeartbeatSender, type HeartbeatOutcome } from '../../../edge/heartbeat/HeartbeatSender.ts';
import { ModelRegistry } from '../../../relay/models/ModelRegistry.ts';
import type { DeviceRow } from '../../../relay/devices/deviceRows.ts';
import { GuideMine } from '../../helpers/mineClient.ts';
import { MINE, OTHER_MINE, relayWithMine, tempDir } from '../../helpers/relay.ts';
import { sampleHeartbeat } from '../../helpers/heartbeat.ts';

const beat = sampleHeartbeat;

t.test('heartbeats and calls make the device inventory', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const admin = async (path: string) => {
    const res = await request(relay.url + path, { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
    return { status: res.statusCode, body: (await res.body.json()) as { code: number; msg: string; data: { devices: DeviceRow[] } } };
  };
  const post = async (body: unknown, token: string | null = mine.token, raw?: string) => {
    const res = await request(relay.url + HEARTBEAT_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: raw ?? JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { code: number; msg: string; data: unknown } };
  };

  // not a national path: no token or a stale one is 401 in the envelope
  for (const token of [null, 'stale-token']) {
    const r = await post(beat(), token);
    t.equal(r.status, 401, `token ${token}`);
    t.equal(r.body.code, 1);
    t.match(r.body.msg, /token expire/);
  }
  t.equal((await admin('/admin/devices')).body.data.devices.length, 0, 'nothing known yet');
  t.equal((await request(relay.url + '/admin/devices')).statusCode, 401, 'the admin token is required');

  // the real sender
  let current = beat();
  const sender = new HeartbeatSender({ baseUrl: relay.url, getToken: async () => mine.token, collect: () => current, intervalSeconds: 30 });
  t.teardown(() => sender.close());
  const bound: unknown[] = [];
  sender.on('bound', (m) => bound.push(m));
  const first = await sender.sendNow();
  t.same(first, { outcome: 'sent', answer: {} }, 'no binding yet');
  t.same(bound, [undefined]);

  // calls of the edge's account: a record accepted, one refused for a mine not its own
  const time = formatJsonTime();
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '20', alarm: 1, time })).status, 200);
  const refused = await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: OTHER_MINE, cameraId: '20', alarm: 1, time });
  t.equal(refused.status, 403);

  // a third-party device: an account that only makes calls
  await relay.ctx.accounts.add({ username: 'vendor7', password: 'Vendor+pass/77', mines: [OTHER_MINE], org: 'YY煤矿' });
  const vendor = new GuideMine(relay.url, 'vendor7', 'Vendor+pass/77');
  t.equal((await vendor.login()).status, 200);
  t.equal((await vendor.record(RECORD_ENDPOINTS.cameraOnline, { mineId: OTHER_MINE, cameraId: '10', alarm: 0, time })).status, 200);
  t.equal((await vendor.record(RECORD_ENDPOINTS.cameraOnline, { mineId: OTHER_MINE, cameraId: '10', alarm: 0, time: 'yesterday' })).status, 400);

  const listed = await admin('/admin/devices');
  t.equal(listed.status, 200);
  t.equal(listed.body.code, 0);
  const [edge, third] = listed.body.data.devices;
  t.equal(listed.body.data.devices.length, 2);
  t.match(edge, {
    account: 'mine001',
    mineIds: [MINE],
    deviceId: 'edge-01',
    kind: 'eseal-edge',
    software: { name: 'eseal-edge', version: '1.2.3' },
    model: { name: 'default', version: 'builtin', sm3: '' },
    detector: { p50Ms: 40, p95Ms: 85.5, runs: 1234 },
    intervalSeconds: 30,
    rejected: 1,
    lastError: { code: 'ESEAL_ERR_AUTH_MINE', endpoint: RECORD_ENDPOINTS.cameraOnline.id },
    addresses: ['127.0.0.1'],
  });
  t.equal(edge!.cameras?.length, 2);
  t.equal(edge!.calls[RECORD_ENDPOINTS.cameraOnline.id], 1, 'the accepted record counted');
  t.equal(edge!.calls['edge.heartbeat'], 1, 'the heartbeat counted as a call');
  t.ok(edge!.heartbeatAt! >= edge!.startedAt!);
  t.same(edge!.alerts, ['cameras not running: 30', 'errors in last hour']);
  t.match(third, { account: 'vendor7', kind: 'third-party', mineIds: [OTHER_MINE], rejected: 1, lastError: { code: 'ESEAL_ERR_INPUT_FIELD', msg: /time/ } });
  t.notOk('deviceId' in third!, 'a third-party device has no device id');
  t.equal(third!.calls[RECORD_ENDPOINTS.cameraOnline.id], 1);
  t.same(third!.alerts, ['errors in last hour']);

  // the next heartbeat replaces the last one (one row per device)
  current = beat({ errors: [], cameras: [{ cameraId: '20', state: 'running' }], detector: { p50Ms: 900, p95Ms: 1500, runs: 2000 } });
  t.equal((await sender.sendNow()).outcome, 'sent');
  const again = (await admin('/admin/devices')).body.data.devices.filter((d) => d.kind === 'eseal-edge');
  t.equal(again.length, 1);
  t.same(again[0]!.alerts, ['detector p95 > 1000 ms', 'errors in last hour'], 'the refused record is still within the hour');

  // bad heartbeats: the field named, nothing kept
  const cases: [unknown, RegExp, string][] = [
    [{ ...beat(), deviceId: 'a b' }, /^deviceId: must be a device id/, 'deviceId'],
    [{ ...beat(), cameras: [{ cameraId: '20', state: 'RUNNING!' }] }, /^cameras\[0\]\.state: /, 'cameras[0].state'],
    [{ ...beat(), cameras: Array.from({ length: 65 }, (_, i) => ({ cameraId: String(i), state: 'running' })) }, /^cameras: at most 64 entries/, 'cameras'],
    [{ ...beat(), errors: Array.from({ length: 21 }, () => ({ at: Date.now(), code: 'x', msg: 'y' })) }, /^errors: at most 20 entries/, 'errors'],
    [{ ...beat(), software: { name: 'x'.repeat(201), version: '1' } }, /^software\.name: /, 'software.name'],
    [{ ...beat(), model: { name: 'm', version: '1', sm3: 'zz' } }, /^model/, 'model'],
    [{ ...beat(), detector: undefined }, /^detector: /, 'detector'],
    [[1, 2], /^body: a JSON object/, 'body'],
  ];
  for (const [body, msg, field] of cases) {
    const r = await post(body);
    t.equal(r.status, 400, field);
    t.match(r.body.msg, msg, field);
  }
  const huge = await post(undefined, mine.token, JSON.stringify({ ...beat(), pad: 'x'.repeat(70 * 1024) }));
  t.equal(huge.status, 413, 'a body over 64 KiB');
  const foreign = await post(beat({ mineId: OTHER_MINE }));
  t.equal(foreign.status, 403, "a mine not the account's");
  t.match(foreign.body.msg, /^mineId: 140421009999 is not a mine of account mine001/);
  t.same((await admin('/admin/devices')).body.data.devices.filter((d) => d.kind === 'eseal-edge').map((d) => d.deviceId), ['edge-01'], 'nothing kept of them');

  // the binding: the answer names the model bound to this device
  const registry = new ModelRegistry(relay.dataDir);
  const src = await tempDir(t);
  await writeFile(join(src, 'night.onnx'), randomBytes(300));
  const { entry } = await registry.publish(join(src, 'night.onnx'), { name: 'night', version: '7' });
  await registry.setBindings([{ target: { device: 'edge-01' }, model: 'night' }]);
  const answered = (await sender.sendNow()) as Extract<HeartbeatOutcome, { outcome: 'sent' }>;
  t.same(answered.answer, { model: { name: 'night', version: '7', sm3: entry.sm3 } });
  t.same(bound.at(-1), { name: 'night', version: '7', sm3: entry.sm3 }, "the sender's bound event");
  const row = (await admin('/admin/devices')).body.data.devices.find((d) => d.deviceId === 'edge-01')!;
  t.match(row.boundModel, { name: 'night', version: '7', sm3: entry.sm3, target: 'device edge-01' });
  t.notOk(row.alerts.includes('model differs from binding'), 'not within the grace period');
});

t.test('heartbeats per account are bounded in rate and in devices', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const post = async (deviceId: string) => {
    const res = await request(relay.url + HEARTBEAT_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${mine.token}` },
      body: JSON.stringify(beat({ deviceId })),
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as { code: number; msg: string } };
  };
  // 64 devices of one account are taken, the 65th is refused
  for (let i = 0; i < 64; i++) t.equal((await post(`edge-${i}`)).status, 200);
  const more = await post('edge-64');
  t.equal(more.status, 429);
  t.match(more.body.msg, /^deviceId: account mine001 has 64 heartbeating devices already/);
  // 120 a minute in all: 55 more go through (the 65th above was counted), the next is refused with Retry-After
  let refused: Awaited<ReturnType<typeof post>> | undefined;
  for (let i = 0; i < 60 && !refused; i++) {
    const r = await post('edge-1');
    if (r.status !== 200) refused = r;
  }
  t.equal(refused?.status, 429);
  t.match(refused?.body.msg, /more than 120 heartbeats a minute/);
  t.ok(Number(refused?.headers['retry-after']) >= 1, 'Retry-After');
});
