import t from 'tap';
import { connect } from 'node:net';
import { request } from 'undici';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { makeVideo } from '../helpers/media.ts';
import { blobFiles } from '../helpers/evidence.ts';
import { waitFor } from '../helpers/wait.ts';
import { MINE, OTHER_MINE, relayWithMine, tempDir } from '../helpers/relay.ts';

t.test('/healthz is public; /metrics needs the admin token', async (t) => {
  const { relay } = await relayWithMine(t);
  const health = await request(relay.url + '/healthz');
  t.equal(health.statusCode, 200);
  t.match(await health.body.json(), { status: 'ok' });
  const anon = await request(relay.url + '/metrics');
  t.equal(anon.statusCode, 401);
  t.match(await anon.body.json(), { code: 1, msg: /admin token/ });
  const wrong = await request(relay.url + '/metrics', { headers: { authorization: 'Bearer nope' } });
  t.equal(wrong.statusCode, 401);
  await wrong.body.dump();
  const ok = await request(relay.url + '/metrics', { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  t.equal(ok.statusCode, 200);
  const text = await ok.body.text();
  t.match(text, /eseal_logins_total\{outcome="ok"\} 1/);
  t.match(text, /eseal_rejected_total\{endpoint="other",reason="ESEAL_ERR_AUTH_ADMIN"\} 2/);
  t.match(text, /eseal_process_/);
});

t.test('camera/mineStatus answers from the relay’s store', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const unknown = await mine.mineStatus(MINE);
  t.equal(unknown.status, 404);
  t.match(unknown.body.msg, /^mineId: the relay does not know the status of mine 140421007866 .*eseal mines set-status/);
  await relay.ctx.mines.setStatus(MINE, '停产矿井');
  const known = await mine.mineStatus(MINE);
  t.equal(known.status, 200);
  t.same(known.body, { code: 0, msg: 'success', data: { status: '停产矿井' } });
  t.equal((await mine.mineStatus(OTHER_MINE)).status, 403);
  const bad = await mine.mineStatus('123');
  t.equal(bad.status, 400);
  t.match(bad.body.msg, /^mineId: must be 12 characters/);
  const withDefault = await relayWithMine(t, { 'relay.mineStatusDefault': '生产矿井' });
  t.same((await withDefault.mine.mineStatus(MINE)).body.data, { status: '生产矿井' });
});

t.test('uploads beyond the concurrency limit get 503 with Retry-After, and lose nothing', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const { relay, mine } = await relayWithMine(t, { 'relay.limits.maxConcurrentUploads': 1 });
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const url = new URL(relay.url);
  // hold one upload open: headers and the part header sent, the file still coming
  const boundary = 'xxslow';
  const sock = connect(Number(url.port), url.hostname);
  t.teardown(() => sock.destroy());
  await new Promise((r) => sock.once('connect', r));
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() });
  sock.write(
    `POST ${e.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${mine.token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="personVideo"; filename="${name}"\r\nContent-Type: application/mp4\r\n\r\n` +
      'x'.repeat(1000),
  );
  // the slot is taken before the file is streamed to its temporary file: wait for that file
  await waitFor(async () => (await blobFiles(relay.dataDir)).length > 0, 30_000, 'the slow upload to start streaming');
  const busy = await mine.upload(e, video, { fileName: name.replace('0001', '0002') });
  t.equal(busy.status, 503);
  t.equal(busy.headers['retry-after'], '5');
  t.match(busy.body.msg, /relay busy: 1 uploads in progress; retry in 5 s/);
  sock.destroy();
  // the slot is given back before the temporary file is removed: wait for the removal
  await waitFor(async () => (await blobFiles(relay.dataDir)).length === 0, 30_000, 'the broken-off upload to be cleaned up');
  const after = await mine.upload(e, video, { fileName: name.replace('0001', '0002') });
  t.equal(after.status, 200, 'the slot is free again once the slow upload broke off');
  t.equal(relay.ctx.queue.range().length, 1);
});
