import t from 'tap';
import { readFile } from 'node:fs/promises';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime, type RecordEndpoint } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { NATIONAL_PW, NATIONAL_USER, forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, startTestRelay, tempDir } from '../helpers/relay.ts';
import { evidenceName } from '../helpers/evidence.ts';

function records(): [RecordEndpoint, Record<string, unknown>][] {
  const time = formatJsonTime();
  return [
    [RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0005', time }],
    [RECORD_ENDPOINTS.truck, { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0002', time }],
    [RECORD_ENDPOINTS.belt, { mineId: MINE, cameraId: '10', aiTypeCode: '03', beltStatus: '0001', time }],
    [RECORD_ENDPOINTS.dispatchingRoom, { mineId: MINE, cameraId: '40', aiTypeCode: '06', time }],
    [RECORD_ENDPOINTS.occlusion, { mineId: MINE, cameraId: '10', aiTypeCode: '04', time }],
    [RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId: '10', liveUrl: 'http://10.1.2.3:8080/?action=stream', time }],
    [RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 1, time }],
  ];
}

t.test('all twelve data calls reach the national platform field for field and byte for byte', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const bytes = await readFile(video);
  const { sim, relay, mine } = await forwardingSetup(t);
  t.equal(sim.stats().logins, 1, 'the passthrough login was confirmed upstream');
  const sent = records();
  for (const [e, body] of sent) t.equal((await mine.record(e, body)).status, 200, e.id);
  const names = new Map<string, string>();
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const name = evidenceName(e, MINE);
    names.set(e.id, name);
    t.equal((await mine.upload(e, video, { fileName: name })).status, 200, e.id);
  }
  await waitFor(() => sim.stats().received === 12, 15_000, '12 items upstream');
  for (const [e, body] of sent) {
    const [got] = sim.received({ endpoint: e.id });
    t.same(got?.record, body, `${e.id} field for field`);
    t.equal(got?.account, NATIONAL_USER, 'sent with the mine’s own national account');
  }
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const [got] = sim.received({ endpoint: e.id });
    t.equal(got?.file?.partName, e.partName, `${e.id} part name`);
    t.equal(got?.file?.fileName, names.get(e.id), `${e.id} file name`);
    t.equal(got?.file?.sm3, sm3Hex(bytes), `${e.id} bytes`);
    t.equal(got?.file?.contentType, 'application/mp4');
  }
  t.equal(sim.stats().duplicates, 0);
  await waitFor(() => relay.ctx.queue.stats().byState.done === 12, 5000, 'all acknowledged');
  t.equal(sim.stats().logins, 1, 'one upstream token reused for all twelve');
  const metrics = await relay.ctx.metrics.registry.metrics();
  t.match(metrics, /eseal_forward_latency_seconds_count\{lane="evidence"\} 5/);
});

t.test('token expiry and code 1 answers mid-stream: log in again and deliver', async (t) => {
  const { sim, relay, mine } = await forwardingSetup(t, { sim: { faults: { code1Rate: 0.3 } } });
  for (let i = 0; i < 40; i++) {
    if (i === 20) sim.expireTokens();
    const body = { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: String(i).padStart(4, '0'), time: formatJsonTime() };
    t.equal((await mine.record(RECORD_ENDPOINTS.person, body)).status, 200);
  }
  await waitFor(() => relay.ctx.queue.stats().byState.done === 40, 30_000, '40 delivered');
  const got = sim.received({ endpoint: 'infoReport/person' }).filter((r) => !r.duplicate);
  t.equal(got.length, 40, 'every record once');
  t.same(
    got.map((r) => r.record!['inWellNumber']),
    Array.from({ length: 40 }, (_, i) => String(i).padStart(4, '0')),
    'in order: one camera is one FIFO',
  );
  t.ok(sim.stats().logins > 2, `logged in again (${sim.stats().logins} logins)`);
  t.equal(relay.ctx.queue.stats().byState.dead, 0, 'nothing dead-lettered');
});

t.test('a definite refusal goes to dead letters with the answer; replay delivers it once fixed', async (t) => {
  const { sim, relay, mine } = await forwardingSetup(t, {
    sim: { faults: { reject: { endpoint: 'infoReport/truck', status: 400, code: 400, msg: 'outMineNumber exceeds the daily limit' } } },
  });
  const body = { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0099', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, body)).status, 200, 'the mine hears success: the relay holds it');
  const other = { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, other)).status, 200);
  await waitFor(() => relay.ctx.queue.stats().byState.dead === 1, 10_000, 'a dead letter');
  const [dead] = relay.ctx.queue.range({ state: 'dead' });
  t.match(dead!.deadReason, /HTTP 400 .*outMineNumber exceeds the daily limit/);
  await waitFor(() => sim.received({ endpoint: 'camera/online-offine' }).length === 1, 5000, 'other items unaffected');
  await sim.setFaults({ reject: null });
  await relay.ctx.queue.replay(dead!.seq);
  relay.ctx.forwarder!.kick();
  await waitFor(() => sim.received({ endpoint: 'infoReport/truck' }).length === 1, 10_000, 'delivered after replay');
  t.same(sim.received({ endpoint: 'infoReport/truck' })[0]!.record, body);
  await waitFor(() => relay.ctx.queue.get(dead!.seq)!.state === 'done', 5000, 'acknowledged');
});

t.test('mineStatus comes from the platform, and stale from the last answer when it is down', async (t) => {
  const { sim, mine } = await forwardingSetup(t, { relay: { 'upstream.mineStatusCacheSeconds': 0 } });
  const first = await mine.mineStatus(MINE);
  t.same(first.body, { code: 0, msg: 'success', data: { status: '生产矿井' } });
  sim.setMineStatus(MINE, '停产矿井');
  t.same((await mine.mineStatus(MINE)).body.data, { status: '停产矿井' });
  await sim.setFaults({ down: true });
  const stale = await mine.mineStatus(MINE);
  t.equal(stale.status, 200);
  t.equal(stale.body.data.status, '停产矿井');
  t.equal(stale.body.data.stale, true);
  t.match(stale.body.data.updatedAt, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  t.match(stale.headers['warning'], /stale/);
});

t.test('passthrough logins while the platform is down: only credentials it confirmed before', async (t) => {
  const { sim, relay } = await forwardingSetup(t);
  sim.addAccount({ username: 'mine002', password: 'second-pw' });
  await sim.setFaults({ down: true });
  const known = new GuideMine(relay.url, NATIONAL_USER, NATIONAL_PW);
  t.equal((await known.login()).status, 200, 'confirmed before: accepted');
  const wrong = new GuideMine(relay.url, NATIONAL_USER, 'not-it');
  t.equal((await wrong.login()).status, 426);
  const unseen = new GuideMine(relay.url, 'mine002', 'second-pw');
  const a = await unseen.login();
  t.equal(a.status, 426);
  t.match(a.body.msg, /national platform cannot be reached .* not seen before/);
  await sim.setFaults({ down: false });
  t.equal((await unseen.login()).status, 200, 'once it is back, new credentials are checked upstream');
  const bad = new GuideMine(relay.url, 'mine002', 'guess');
  t.same((await bad.login()).body, { code: 1, msg: 'Bad credentials', data: 'invalid_exception' }, 'the platform says no: bad credentials');
  t.equal(relay.ctx.accounts.get('mine002')?.mode, 'passthrough');
});

t.test('local accounts forward with the national password given to eseal accounts add', async (t) => {
  const { sim } = await forwardingSetup(t);
  const relay = await startTestRelay(t, { 'upstream.url': sim.url, 'upstream.mode': 'local', 'forward.retry.baseSeconds': 1, 'forward.retry.maxSeconds': 2 });
  await relay.ctx.accounts.add({ username: 'local1', password: 'relay-pw', mines: [MINE], upstreamUsername: NATIONAL_USER, upstreamPassword: NATIONAL_PW });
  await relay.ctx.accounts.add({ username: 'local2', password: 'relay-pw', mines: [MINE], upstreamUsername: NATIONAL_USER, upstreamPassword: 'wrong' });
  for (const user of ['local1', 'local2']) {
    const m = new GuideMine(relay.url, user, 'relay-pw');
    t.equal((await m.login()).status, 200, `${user} logs in to the relay locally`);
    const body = { mineId: MINE, cameraId: '10', alarm: user === 'local1' ? 1 : 0, time: formatJsonTime() };
    t.equal((await m.record(RECORD_ENDPOINTS.cameraOnline, body)).status, 200);
  }
  await waitFor(() => sim.received({ endpoint: 'camera/online-offine' }).length === 1, 10_000, 'local1 delivered');
  await new Promise((r) => setTimeout(r, 1500));
  const pending = relay.ctx.queue.range().filter((i) => i.state !== 'done');
  t.equal(pending.length, 1, 'local2 waits: its national password is wrong');
  t.equal((pending[0]!.payload as RelayItem).account, 'local2');
  t.match(pending[0]!.lastError, /refused the login/);
  t.notOk(relay.ctx.queue.range({ state: 'dead' }).length, 'a login problem is never a dead letter');
});

t.test('forward.bandwidthBytesPerSecond caps the video bytes sent upstream', async (t) => {
  const dir = await tempDir(t);
  const padded = `${dir}/padded.mp4`;
  await padMp4ToSize(await makeVideo(dir, { seconds: 1 }), padded, 600_000);
  const { sim, mine } = await forwardingSetup(t, { relay: { 'forward.bandwidthBytesPerSecond': 200_000 } });
  const started = Date.now();
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, padded, { fileName: evidenceName(EVIDENCE_ENDPOINTS.personVideo, MINE) })).status, 200);
  await waitFor(() => sim.received({ endpoint: 'fileOperator/personVideo' }).length === 1, 15_000, 'the video upstream');
  const ms = Date.now() - started;
  // 600 kB at 200 kB/s with one second of burst: at least about 2 s
  t.ok(ms >= 1800, `took ${ms} ms under the cap`);
  t.equal(sim.received({ endpoint: 'fileOperator/personVideo' })[0]?.file?.size, 600_000);
});
