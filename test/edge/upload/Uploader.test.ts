// The uploader against a real relay (tus) and the national simulator (multipart) on loopback:
// records and clips arrive whole, outages are waited out, refusals become dead letters without
// holding up the rest, a refused token costs one re-login.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS } from '../../../src/contract/index.ts';
import { sm3Hex } from '../../../src/crypto/sm3.ts';
import type { RelayItem } from '../../../relay/ingest/RelayItem.ts';
import { NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../../helpers/forwarding.ts';
import { makeVideo } from '../../helpers/media.ts';
import { MINE, OTHER_MINE, startTestRelay, tempDir } from '../../helpers/relay.ts';
import { RELAY_PW, RELAY_USER, capturedLog, onlineRecord, openTestOutbox, personClipName, personRecord, startUploader, truckRecord } from './uploadSetup.ts';

t.test('to a relay: records and a clip (by tus) arrive, in lane order, and leave the outbox', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 2 });
  const bytes = await readFile(video);
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: RELAY_USER, password: RELAY_PW, mines: [MINE], org: 'XX煤矿' });
  const outbox = await openTestOutbox(t, dir);
  const name = personClipName();
  await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, name, video, { keepSource: true });
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(3));
  await outbox.addRecord(RECORD_ENDPOINTS.cameraOnline, onlineRecord());
  const { log, text } = capturedLog();
  const uploader = startUploader(t, { outbox, url: relay.url, username: RELAY_USER, password: RELAY_PW, log, concurrency: 1 });

  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the outbox to empty');
  const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  t.same(items.map((i) => i.endpoint), ['camera/online-offine', 'infoReport/person', 'fileOperator/personVideo'], 'status call, record, clip: in that order');
  t.match(items[1]?.record, { inWellNumber: '0003', mineId: MINE });
  t.equal(items[2]?.file?.name, name);
  t.equal(items[2]?.file?.blob, sm3Hex(bytes), 'the relay holds the bytes of the clip');
  const tusUploads = [...relay.ctx.root.openDB({ name: 'tus-uploads' }).getRange({})];
  t.equal(tusUploads.length, 1, 'the clip went by tus');
  t.match(uploader.stats(), { delivered: 3, deadLettered: 0, logins: 1, inFlight: [] });
  t.notMatch(text(), RELAY_PW, 'the password is never logged');
});

t.test('to the national platform (no tus): the clip goes as a multipart upload', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 2 });
  const sim = await startSim(t);
  const outbox = await openTestOutbox(t, dir);
  const name = personClipName();
  // the record as added: truckRecord() stamps the current time, which may be a second later at the check
  const truck = truckRecord(1);
  await outbox.addRecord(RECORD_ENDPOINTS.truck, truck);
  await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, name, video, { keepSource: true });
  const { log } = capturedLog();
  startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log });

  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the outbox to empty');
  const clip = sim.received({ endpoint: 'fileOperator/personVideo' })[0];
  t.equal(clip?.file?.partName, 'personVideo', 'the multipart part the guide names');
  t.equal(clip?.file?.fileName, name);
  t.equal(clip?.file?.sm3, sm3Hex(await readFile(video)));
  t.match(sim.received({ endpoint: 'infoReport/truck' })[0]?.record, truck);
  t.equal(sim.stats().logins, 1, 'one login for everything');
});

t.test('upstream down: entries wait (nothing lost, nothing dead), then go in order when it is back', async (t) => {
  const dir = await tempDir(t);
  const sim = await startSim(t);
  await sim.setFaults({ down: true });
  const outbox = await openTestOutbox(t, dir);
  const ids = [];
  for (let n = 1; n <= 4; n++) ids.push(await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(n)));
  const { log, lines } = capturedLog();
  const uploader = startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log, concurrency: 1 });

  await waitFor(() => uploader.stats().retried >= 2, 15_000, 'two failed attempts');
  t.equal(outbox.stats().pending, 4, 'all still waiting');
  t.equal(outbox.stats().dead, 0);
  t.ok(lines.some((l) => l['msg'] === 'cannot send: pausing'), 'the outage is logged');
  t.equal(sim.stats().received, 0);

  await sim.setFaults({ down: false });
  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the outbox to empty after the outage');
  t.same(
    sim.received({ endpoint: 'infoReport/person' }).map((i) => i.record?.['inWellNumber']),
    ['0001', '0002', '0003', '0004'],
    'in the order they were added',
  );
});

t.test('a definite rejection becomes a dead letter with its reason and does not hold up the rest', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const sim = await startSim(t, { faults: { reject: { endpoint: 'infoReport/person', status: 400, code: 2, msg: 'inWellNumber: not accepted' } } });
  const outbox = await openTestOutbox(t, dir);
  const refused = await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(1));
  await outbox.addRecord(RECORD_ENDPOINTS.truck, truckRecord(1));
  await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, personClipName(), video, { keepSource: true });
  const { log, lines } = capturedLog();
  const uploader = startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log, concurrency: 1 });

  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the outbox to empty');
  const dead = outbox.deadLetters();
  t.same(dead.map((d) => d.id), [refused]);
  t.match(dead[0]?.deadReason, /HTTP 400 .*inWellNumber: not accepted/, 'the reason is the answer');
  t.equal(sim.received({ endpoint: 'infoReport/truck' }).length, 1, 'the next record went');
  t.equal(sim.received({ endpoint: 'fileOperator/personVideo' }).length, 1, 'and the clip');
  t.equal(uploader.stats().deadLettered, 1);
  t.ok(lines.some((l) => l['msg'] === 'refused for good: kept as a dead letter' && l['id'] === refused));
});

t.test('a relay refusal (code 1) costs one fresh login before it is taken as definite', async (t) => {
  const dir = await tempDir(t);
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: RELAY_USER, password: RELAY_PW, mines: [MINE], org: 'XX煤矿' });
  const outbox = await openTestOutbox(t, dir);
  const foreign = await outbox.addRecord(RECORD_ENDPOINTS.person, { ...personRecord(1), mineId: OTHER_MINE });
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(2));
  const { log } = capturedLog();
  const uploader = startUploader(t, { outbox, url: relay.url, username: RELAY_USER, password: RELAY_PW, log, concurrency: 1 });
  await waitFor(() => outbox.stats().pending === 0, 20_000, 'the outbox to empty');
  t.same(outbox.deadLetters().map((d) => d.id), [foreign], "another mine's record is refused for good");
  t.match(outbox.deadLetters()[0]?.deadReason, /again after a fresh login/);
  t.equal(uploader.stats().logins, 2, 'after exactly one re-login');
  t.equal(relay.ctx.queue.range().length, 1, 'the good record arrived');
});

t.test('a refused token: one re-login, and the entry goes', async (t) => {
  const dir = await tempDir(t);
  const sim = await startSim(t);
  const outbox = await openTestOutbox(t, dir);
  const { log } = capturedLog();
  const uploader = startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log });
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(1));
  uploader.kick();
  await waitFor(() => sim.stats().received === 1, 10_000, 'the first record');
  t.equal(sim.stats().logins, 1);

  t.equal(sim.expireTokens(), 1);
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(2));
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(3));
  uploader.kick();
  await waitFor(() => sim.stats().received === 3, 10_000, 'the records after the expiry');
  // two workers may both have sent with the old token: each is refused, one login serves both
  t.ok(sim.stats().tokenRejected >= 1 && sim.stats().tokenRejected <= 2, 'the old token was refused (once per call in flight)');
  t.equal(sim.stats().logins, 2, 'and one fresh login followed');
  t.equal(uploader.stats().logins, 2);
  t.equal(outbox.stats().dead, 0);
});

t.test('wrong credentials: nothing is sent or lost, the error is logged, the password is not', async (t) => {
  const dir = await tempDir(t);
  const sim = await startSim(t);
  const outbox = await openTestOutbox(t, dir);
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(1));
  const { log, lines, text } = capturedLog();
  const uploader = startUploader(t, { outbox, url: sim.url, username: NATIONAL_USER, password: 'Wrong+Secret/9', log });
  await waitFor(() => uploader.stats().retried >= 1, 10_000, 'a failed attempt');
  t.equal(outbox.stats().pending, 1);
  t.equal(outbox.stats().dead, 0, 'a refused login is not the entry\'s fault');
  t.match(uploader.stats().lastError, /ESEAL_ERR_UPSTREAM_LOGIN/);
  t.ok(lines.some((l) => l['msg'] === 'cannot send: pausing'));
  t.notMatch(text(), 'Wrong+Secret/9');
});
