// The simulated national platform speaks the guide's API as NATIONAL-API.md describes the real
// one: pig's login (same token again, 401/426/424 bodies), the twelve data calls recorded field
// for field, duplicates flagged, broken input refused with the field and the rule.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { Test } from 'tap';
import {
  AUTH_PATHS,
  EVIDENCE_ENDPOINTS,
  RECORD_ENDPOINTS,
  formatJsonTime,
  type RecordEndpoint } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { NationalSimulator, type SimOptions } from '../../sim/national/index.ts';
import { makeMp4Fixture, makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { GuideMine, encryptPassword } from '../helpers/mineClient.ts';
import { evidenceName, uploadEveryKind } from '../helpers/evidence.ts';
import { tempDir } from '../helpers/tempDir.ts';

const MINE = '140421007866';
const OTHER_MINE = '140421009999';
const PASSWORD = 'S3cret+pass/word=';
const BASIC = 'Basic ' + Buffer.from('pcfront:pcfront').toString('base64');

async function startSim(t: Test, options: SimOptions = {}): Promise<NationalSimulator> {
  const sim = await NationalSimulator.start({
    accounts: [{ username: 'mine001', password: PASSWORD, org: 'XX煤矿' }],
    seed: 1,
    ...options,
  });
  t.teardown(() => sim.close());
  return sim;
}

async function loggedIn(t: Test, options: SimOptions = {}): Promise<{ sim: NationalSimulator; mine: GuideMine }> {
  const sim = await startSim(t, options);
  const mine = new GuideMine(sim.url, 'mine001', PASSWORD);
  const login = await mine.login();
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { sim, mine };
}

/** A valid body for each record endpoint, built from the contract's field list. */
function recordFor(endpoint: RecordEndpoint, mineId = MINE): Record<string, string | number> {
  const camera: Record<string, string> = {
    'infoReport/person': '10',
    'infoReport/truck': '30',
    'infoReport/belt': '20',
    'infoReport/dispatchingRoomVideo': '40',
  };
  const out: Record<string, string | number> = {};
  for (const f of endpoint.fields) {
    switch (f.rule) {
      case 'mineId':
        out[f.name] = mineId;
        break;
      case 'cameraId':
        out[f.name] = camera[endpoint.id] ?? '10';
        break;
      case 'aiTypeCode':
        out[f.name] = endpoint.aiTypes![0]!;
        break;
      case 'count4':
        out[f.name] = '0003';
        break;
      case 'beltStatus':
        out[f.name] = '0002';
        break;
      case 'time':
        out[f.name] = formatJsonTime();
        break;
      case 'liveUrl':
        out[f.name] = 'http://10.1.2.3:8080/live/10.mjpeg';
        break;
      case 'alarm':
        out[f.name] = 1;
        break;
    }
  }
  return out;
}

async function login(sim: NationalSimulator, query: string, headers: Record<string, string> = { authorization: BASIC }) {
  const res = await request(`${sim.url}${AUTH_PATHS.token}?${query}`, { headers });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

t.test('login: sm-crypto, hutool and C1C2C3 ciphertexts; the same token again with less time left', async (t) => {
  let clock = Date.UTC(2024, 0, 1);
  const sim = await startSim(t, { now: () => clock });
  const key = await (await request(sim.url + AUTH_PATHS.publicKey)).body.text();
  t.equal(key, sim.publicKeyHex, '/sm2 answers the key as bare hex');
  t.match(key, /^04[0-9a-f]{128}$/);

  const first = await new GuideMine(sim.url, 'mine001', PASSWORD).login();
  t.equal(first.status, 200);
  t.match(first.body.access_token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID');
  t.same(first.body, { access_token: first.body.access_token, token_type: 'bearer', expires_in: 43200, scope: 'server', dept_name: 'XX煤矿', org_name: 'XX煤矿' });

  clock += 100_500;
  const hutool = await new GuideMine(sim.url, 'mine001', PASSWORD, { style: 'hutool-base64', method: 'POST' }).login();
  t.equal(hutool.status, 200, 'POST with a form body, base64 with 04');
  t.equal(hutool.body.access_token, first.body.access_token, 'pig: the same token while it is valid');
  t.equal(hutool.body.expires_in, 43099, 'with the whole seconds left of its lifetime (100.5 s later)');

  clock += 1000;
  const bc = await new GuideMine(sim.url, 'mine001', PASSWORD, { style: 'c1c2c3-hex' }).login();
  t.equal(bc.body.access_token, first.body.access_token);
  t.equal(bc.body.expires_in, 43098);

  // A '+' left unescaped in the query string arrives as a space (pig's bug): it still decrypts.
  let cipher = '';
  while (!cipher.includes('+')) cipher = encryptPassword(PASSWORD, key, 'hutool-base64');
  const raw = await login(sim, `username=mine001&password=${cipher}&grant_type=password&scope=server&encrypt=SM2`);
  t.equal(raw.status, 200, 'raw + in the query');
  t.equal(raw.body['access_token'], first.body.access_token);
  t.equal(sim.stats().logins, 4);

  // The token expires after its lifetime; a new login gets a new token.
  const mine = new GuideMine(sim.url, 'mine001', PASSWORD);
  mine.token = first.body.access_token;
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, recordFor(RECORD_ENDPOINTS.cameraOnline))).status, 200);
  clock += 43200_000;
  const expired = await mine.record(RECORD_ENDPOINTS.cameraOnline, recordFor(RECORD_ENDPOINTS.cameraOnline));
  t.equal(expired.status, 424);
  t.same(expired.body, { code: 1, msg: 'token expire', data: `Invalid access token: ${first.body.access_token}` });
  const again = await mine.login();
  t.equal(again.body.expires_in, 43200);
  t.not(again.body.access_token, first.body.access_token, 'a new token after expiry');
});

t.test('login refusals: 401 client, 426 credentials; 424 on data calls', async (t) => {
  const sim = await startSim(t);
  const wrongClient = await new GuideMine(sim.url, 'mine001', PASSWORD, { client: 'pcfront:wrong' }).login();
  t.equal(wrongClient.status, 401);
  t.match(wrongClient.body, { code: 1, msg: /^Authorization: unknown client/ });
  const noClient = await login(sim, 'username=mine001&password=x&grant_type=password&scope=server', {});
  t.equal(noClient.status, 401);
  t.match(noClient.body['msg'], /^Authorization: Basic client credentials are required/);

  const badCredentials = { code: 1, msg: 'Bad credentials', data: 'invalid_exception' };
  const wrongPassword = await new GuideMine(sim.url, 'mine001', 'not-the-password').login();
  t.equal(wrongPassword.status, 426);
  t.same(wrongPassword.body, badCredentials);
  const unknownUser = await new GuideMine(sim.url, 'nobody', PASSWORD).login();
  t.equal(unknownUser.status, 426);
  t.same(unknownUser.body, badCredentials);
  const garbage = await login(sim, 'username=mine001&password=00ff&grant_type=password&scope=server');
  t.equal(garbage.status, 426, 'a password that is not SM2 ciphertext');
  t.same(garbage.body, badCredentials);
  const grant = await login(sim, 'username=mine001&password=x&grant_type=client_credentials&scope=server');
  t.equal(grant.status, 400);
  t.match(grant.body['msg'], /^grant_type: must be password/);
  t.equal(sim.stats().loginFailures, 6);

  const mine = new GuideMine(sim.url, 'mine001', PASSWORD);
  const none = await mine.record(RECORD_ENDPOINTS.person, recordFor(RECORD_ENDPOINTS.person));
  t.equal(none.status, 424);
  t.same(none.body, { code: 1, msg: 'token expire', data: 'Invalid access token: ' });
  mine.token = 'b1e7a2f0-0000-4000-8000-000000000000';
  const unknown = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, new URL(import.meta.url).pathname, { fileName: evidenceName(EVIDENCE_ENDPOINTS.personVideo, MINE) });
  t.equal(unknown.status, 424);
  t.same(unknown.body, { code: 1, msg: 'token expire', data: `Invalid access token: ${mine.token}` });
  t.equal(sim.stats().tokenRejected, 2);
  t.equal(sim.received().length, 0);

  await mine.login();
  t.equal((await mine.record(RECORD_ENDPOINTS.person, recordFor(RECORD_ENDPOINTS.person))).status, 200);
  t.equal(sim.expireTokens(), 1);
  const afterExpire = await mine.record(RECORD_ENDPOINTS.person, recordFor(RECORD_ENDPOINTS.person));
  t.equal(afterExpire.status, 424, 'expireTokens(): every token stops working');
  const fresh = await mine.login();
  t.equal(fresh.status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, recordFor(RECORD_ENDPOINTS.person))).status, 200, 'a new login works');
});

t.test('the seven records are accepted and recorded field for field; duplicates flagged', async (t) => {
  const { sim, mine } = await loggedIn(t);
  const sent: Record<string, unknown>[] = [];
  for (const endpoint of Object.values(RECORD_ENDPOINTS)) {
    const body = recordFor(endpoint);
    sent.push(body);
    const a = await mine.record(endpoint, body);
    t.equal(a.status, 200, endpoint.id);
    t.same(a.body, { code: 0, msg: 'success', data: true });
  }
  // GET with a JSON body, as the guide's own truck example
  const truck = { ...recordFor(RECORD_ENDPOINTS.truck), outMineNumber: 7 };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, truck, { method: 'GET' })).status, 200, 'GET with a body');

  const items = sim.received();
  t.equal(items.length, 8);
  for (const [i, endpoint] of Object.values(RECORD_ENDPOINTS).entries()) {
    const item = items[i]!;
    t.equal(item.seq, i + 1);
    t.equal(item.endpoint, endpoint.id);
    t.equal(item.account, 'mine001');
    t.equal(item.mineId, MINE);
    t.equal(item.cameraId, sent[i]!['cameraId']);
    t.strictSame(item.record, sent[i], `${endpoint.id}: the body as received`);
    t.equal(item.duplicate, false);
    t.equal(item.file, undefined);
    t.ok(item.at > 0);
  }
  t.strictSame(items[7]!.record, truck, 'the number kept as sent');
  t.same(items[7]!.flags, ['value.normalised:outMineNumber'], 'flagged as the relay flags it');

  const repeat = await mine.record(RECORD_ENDPOINTS.person, sent[0]);
  t.equal(repeat.status, 200, 'a duplicate is accepted');
  const dup = sim.received({ endpoint: 'infoReport/person' });
  t.equal(dup.length, 2);
  t.same(dup.map((i) => i.duplicate), [false, true]);
  const changed = await mine.record(RECORD_ENDPOINTS.person, { ...sent[0], inWellNumber: '0004' });
  t.equal(changed.status, 200);
  t.equal(sim.received({ since: 9 })[0]!.duplicate, false, 'another record is not a duplicate');
  const stats = sim.stats();
  t.equal(stats.received, 10);
  t.equal(stats.duplicates, 1);
  t.equal(stats.byEndpoint['infoReport/person'], 3);
  t.equal(stats.byEndpoint['infoReport/truck'], 2);
  t.equal(stats.lastSeq, 10);
  t.same(sim.received({ mineId: OTHER_MINE }), []);
  t.equal(sim.received({ endpoint: RECORD_ENDPOINTS.cameraLive.path }).length, 1, 'filter by path too');
});

t.test('the five evidence uploads are accepted and recorded with name, size and SM3', async (t) => {
  const dir = await tempDir(t, 'eseal-sim-test-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const bytes = await readFile(video);
  const { sim, mine } = await loggedIn(t);
  const names = await uploadEveryKind(t, mine, video, MINE);
  const items = sim.received();
  t.equal(items.length, 5);
  for (const [i, endpoint] of Object.values(EVIDENCE_ENDPOINTS).entries()) {
    const item = items[i]!;
    t.equal(item.endpoint, endpoint.id);
    t.equal(item.mineId, MINE);
    t.equal(item.cameraId, names[i]!.slice(12, 14));
    t.equal(item.record, undefined);
    t.same(item.file, {
      partName: endpoint.partName,
      fileName: names[i],
      contentType: 'application/mp4',
      size: bytes.length,
      sm3: sm3Hex(bytes),
      probe: { durationMs: item.file!.probe.durationMs, codec: 'avc1', width: 320, height: 240 },
    });
    t.ok(Math.abs(item.file!.probe.durationMs - 1000) <= 100);
    t.equal(item.duplicate, false);
  }

  const again = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: names[0] });
  t.equal(again.status, 200);
  t.equal(sim.received({ since: 5 })[0]!.duplicate, true, 'same name, same bytes: a duplicate');
  const other = await makeVideo(dir, { seconds: 1, fps: 5 });
  const differentBytes = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, other, { fileName: names[0] });
  t.equal(differentBytes.status, 200);
  t.equal(sim.received({ since: 6 })[0]!.duplicate, false, 'same name, other bytes: not a duplicate');
  t.equal(sim.stats().duplicates, 1);
});

t.test('broken input: 400 with the field and the rule, nothing recorded', async (t) => {
  const dir = await tempDir(t, 'eseal-sim-test-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const { sim, mine } = await loggedIn(t);
  const person = recordFor(RECORD_ENDPOINTS.person);

  const cases: [string, Promise<{ status: number; body: any }>, RegExp][] = [
    ['missing field', mine.record(RECORD_ENDPOINTS.person, { ...person, inWellNumber: undefined }), /^inWellNumber: required/],
    ['wrong length', mine.record(RECORD_ENDPOINTS.person, { ...person, mineId: '1404' }), /^mineId: must be 12 characters/],
    ['unknown code', mine.record(RECORD_ENDPOINTS.belt, { ...recordFor(RECORD_ENDPOINTS.belt), beltStatus: '0009' }), /^beltStatus: must be one of/],
    ['bad time', mine.record(RECORD_ENDPOINTS.person, { ...person, time: '2024-02-30 10:00:00' }), /^time: must be a real date/],
    [
      'full-width quotes',
      mine.record(RECORD_ENDPOINTS.person, null, { raw: '{\n “mineId”: "140421007866"}' }),
      /^body: invalid JSON at line 2, column 2 .*full-width opening quote/,
    ],
    ['bad file name', mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: 'clip.MP4' }), /^personVideo filename: must be 34 digits/],
    [
      'wrong part name',
      mine.upload(EVIDENCE_ENDPOINTS.cameraCoverVideo, video, { fileName: evidenceName(EVIDENCE_ENDPOINTS.cameraCoverVideo, MINE), partName: 'file' }),
      /^cameraCoverVideo: the file part must be named "cameraCoverVideo"/,
    ],
  ];
  for (const [what, call, msg] of cases) {
    const a = await call;
    t.equal(a.status, 400, what);
    t.match(a.body, { code: 1, msg, data: null }, what);
  }

  const h265 = await makeMp4Fixture(dir, 'h265', 1);
  const notH264 = await mine.upload(EVIDENCE_ENDPOINTS.truckVideo, h265, { fileName: evidenceName(EVIDENCE_ENDPOINTS.truckVideo, MINE) });
  t.equal(notH264.status, 400);
  t.match(notH264.body.msg, /^truckVideo: .*H\.265/);
  const ts = await makeMp4Fixture(dir, 'mpegts', 1);
  const notMp4 = await mine.upload(EVIDENCE_ENDPOINTS.truckVideo, ts, { fileName: evidenceName(EVIDENCE_ENDPOINTS.truckVideo, MINE) });
  t.equal(notMp4.status, 400);
  t.match(notMp4.body.msg, /^truckVideo: .*MPEG-TS/);

  const exact = join(dir, 'exact.mp4');
  const over = join(dir, 'over.mp4');
  await padMp4ToSize(video, exact, 10 * 1024 * 1024);
  await padMp4ToSize(video, over, 10 * 1024 * 1024 + 1);
  const tooBig = await mine.upload(EVIDENCE_ENDPOINTS.beltVideo, over, { fileName: evidenceName(EVIDENCE_ENDPOINTS.beltVideo, MINE) });
  t.equal(tooBig.status, 400);
  t.match(tooBig.body.msg, /^beltVideo: larger than 10485760 bytes/);
  t.equal(sim.received().length, 0, 'nothing recorded');
  t.equal(sim.stats().invalid, cases.length + 3);

  const fits = await mine.upload(EVIDENCE_ENDPOINTS.beltVideo, exact, { fileName: evidenceName(EVIDENCE_ENDPOINTS.beltVideo, MINE) });
  t.equal(fits.status, 200, 'exactly 10 MiB passes');
  t.equal(sim.received()[0]!.file!.size, (await stat(exact)).size);
});

t.test('mine status, mines of an account, the SPKI key and kept files', async (t) => {
  const keep = await tempDir(t, 'eseal-sim-test-');
  const dir = await tempDir(t, 'eseal-sim-test-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const sim = await startSim(t, {
    accounts: [{ username: 'city', password: PASSWORD, mines: [MINE] }],
    mineStatuses: { [MINE]: '生产矿井' },
    publicKeyFormat: 'spki',
    keepFiles: keep,
  });
  const key = await (await request(sim.url + AUTH_PATHS.publicKey)).body.text();
  t.match(key, /^MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE/, 'base64 SubjectPublicKeyInfo of an SM2 key');
  // a hutool device reads the SPKI key; the point inside it is the hex key
  const cipher = encryptPassword(PASSWORD, sim.publicKeyHex, 'hutool-base64');
  const login = await request(sim.url + AUTH_PATHS.token, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'city', password: cipher, grant_type: 'password', scope: 'server' }).toString(),
  });
  t.equal(login.statusCode, 200);
  const answer = (await login.body.json()) as { access_token: string; org_name: string };
  t.equal(answer.org_name, 'city', 'org defaults to the username');
  const mine = new GuideMine(sim.url, 'city', PASSWORD);
  mine.token = answer.access_token;

  const status = await mine.mineStatus(MINE);
  t.equal(status.status, 200);
  t.same(status.body, { code: 0, msg: 'success', data: { status: '生产矿井' } });
  sim.setMineStatus(OTHER_MINE, '停产停工');
  t.equal((await mine.mineStatus(OTHER_MINE)).status, 403, 'not a mine of the account');
  const badQuery = await mine.mineStatus('1404');
  t.equal(badQuery.status, 400);
  t.match(badQuery.body.msg, /^mineId: must be 12 characters/);

  const foreign = await mine.record(RECORD_ENDPOINTS.person, recordFor(RECORD_ENDPOINTS.person, OTHER_MINE));
  t.equal(foreign.status, 403);
  t.match(foreign.body, { code: 1, msg: /^mineId: 140421009999 is not a mine of account city/ });

  const name = evidenceName(EVIDENCE_ENDPOINTS.dispatchingRoomVideo, MINE);
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.dispatchingRoomVideo, video, { fileName: name })).status, 200);
  const item = sim.received()[0]!;
  t.equal(item.file!.path, join(keep, `1-${name}`), 'kept as <seq>-<name>');
  t.equal(sm3Hex(await readFile(item.file!.path!)), item.file!.sm3);

  const open = await startSim(t, { mineStatuses: {} });
  const other = new GuideMine(open.url, 'mine001', PASSWORD);
  await other.login();
  const unknown = await other.mineStatus(OTHER_MINE);
  t.equal(unknown.status, 200);
  t.same(unknown.body, { code: 1, msg: 'mine not found', data: null });
});
