// Each fault knob of the simulator does what it says, on the data port only.
import t from 'tap';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { Test } from 'tap';
import { AUTH_PATHS, EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { NationalSimulator, type SimOptions } from '../../sim/national/index.ts';
import { TokenBucket } from '../../sim/national/TokenBucket.ts';
import { makeMp4Fixture, padMp4ToSize } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/wait.ts';

const MINE = '140421007866';
const OTHER_MINE = '140421009999';
const PASSWORD = 'pw-for-faults';

async function loggedIn(t: Test, options: SimOptions = {}): Promise<{ sim: NationalSimulator; mine: GuideMine }> {
  const sim = await NationalSimulator.start({ accounts: [{ username: 'mine001', password: PASSWORD }], seed: 7, ...options });
  t.teardown(() => sim.close());
  const mine = new GuideMine(sim.url, 'mine001', PASSWORD);
  const login = await mine.login();
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { sim, mine };
}

const person = (mineId = MINE) => ({ mineId, cameraId: '10', aiTypeCode: '01', inWellNumber: '0002', time: formatJsonTime() });
const personVideoName = (mineId = MINE) =>
  formatEvidenceFileName('count', { mineId, cameraId: '10', aiTypeCode: '01', count: '0001', time: Date.now() });

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? String(err);
  }
  return 'no error';
}

t.test('down: connection refused, the control port still answers, back up on the same port', async (t) => {
  const { sim, mine } = await loggedIn(t);
  const url = sim.url;
  t.same(await sim.setFaults({ down: true }), { ...sim.faults, down: true });
  // a fresh connection (the pooled ones were cut: their next use is a socket error)
  const fresh = new Agent();
  t.teardown(() => fresh.close());
  t.equal(await errorCode(request(url + AUTH_PATHS.publicKey, { dispatcher: fresh })), 'ECONNREFUSED');
  const control = await request(sim.controlUrl + '/_sim/faults');
  t.equal(control.statusCode, 200);
  t.match(await control.body.json(), { down: true });
  await sim.setFaults({ down: false });
  t.equal(sim.url, url, 'the same URL');
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200, 'back up; the token survived');
  t.equal(sim.received().length, 1);

  const startsDown = await NationalSimulator.start({ faults: { down: true } });
  t.teardown(() => startsDown.close());
  t.equal(await errorCode(request(startsDown.url + AUTH_PATHS.publicKey)), 'ECONNREFUSED', 'down from the start, with its port known');
  await startsDown.setFaults({ down: false });
  t.equal((await request(startsDown.url + AUTH_PATHS.publicKey)).statusCode, 200);
});

t.test('latency is added before every answer', async (t) => {
  // a latency long enough that "none" can be told from it on a loaded machine
  const { sim, mine } = await loggedIn(t, { faults: { latencyMs: 1500 } });
  const t0 = performance.now();
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200);
  const slow = performance.now() - t0;
  t.ok(slow >= 1490, `answered after ${slow.toFixed(0)} ms`);
  await sim.setFaults({ latencyMs: 0 });
  const t1 = performance.now();
  await mine.record(RECORD_ENDPOINTS.person, person());
  t.ok(performance.now() - t1 < 1200, 'none once set back to 0');
});

t.test('error5xxRate: about the share set, repeatable with a seed, HTML or JSON bodies', async (t) => {
  const run = async (seed: number) => {
    const sim = await NationalSimulator.start({ seed, faults: { error5xxRate: 0.3 } });
    t.teardown(() => sim.close());
    const answers: { status: number; type: string; body: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await request(sim.url + AUTH_PATHS.publicKey);
      answers.push({ status: res.statusCode, type: String(res.headers['content-type']), body: await res.body.text() });
    }
    return { sim, answers };
  };
  const a = await run(42);
  const failed = a.answers.filter((x) => x.status >= 500);
  t.ok(failed.length >= 40 && failed.length <= 80, `${failed.length} of 200 failed (rate 0.3)`);
  t.same(new Set(failed.map((x) => x.status)), new Set([500, 502, 503]), 'all three statuses');
  const html = failed.find((x) => x.status === 502)!;
  t.match(html.type, /^text\/html/);
  t.match(html.body, /<title>502 Bad Gateway<\/title>/);
  t.match(JSON.parse(failed.find((x) => x.status === 500)!.body), { code: 500 });
  t.match(JSON.parse(failed.find((x) => x.status === 503)!.body), { status: 503, error: 'Service Unavailable', path: '/sm2' });
  t.equal(a.sim.stats().byFault.error5xx, failed.length);
  t.equal(a.sim.stats().rejectedByFault, failed.length);
  const b = await run(42);
  t.same(b.answers.map((x) => x.status), a.answers.map((x) => x.status), 'the same seed, the same answers');
  const c = await run(43);
  t.notSame(c.answers.map((x) => x.status), a.answers.map((x) => x.status), 'another seed, other answers');
});

t.test('code1Rate: HTTP 200 with code 1 token expire, nothing recorded', async (t) => {
  const { sim, mine } = await loggedIn(t, { faults: { code1Rate: 1 } });
  const a = await mine.record(RECORD_ENDPOINTS.person, person());
  t.equal(a.status, 200);
  t.same(a.body, { code: 1, msg: 'token expire', data: `Invalid access token: ${mine.token}` });
  t.equal(sim.received().length, 0);
  t.equal(sim.stats().byFault.code1, 1);
  await sim.setFaults({ code1Rate: 0 });
  t.same((await mine.record(RECORD_ENDPOINTS.person, person())).body, { code: 0, msg: 'success', data: true });
});

t.test('resetMidUploadRate: the client sees a socket error and nothing is recorded', async (t) => {
  const dir = await tempDir(t, 'eseal-sim-faults-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const { sim, mine } = await loggedIn(t, { faults: { resetMidUploadRate: 1 } });
  const failure = await errorCode(mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: personVideoName() }));
  t.match(failure, /^(ECONNRESET|UND_ERR_SOCKET|EPIPE)$/, `socket error: ${failure}`);
  t.equal(sim.received().length, 0);
  t.equal(sim.stats().byFault.resetMidUpload, 1);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200, 'records are not reset');
  await sim.setFaults({ resetMidUploadRate: 0 });
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: personVideoName() })).status, 200);
  t.equal(sim.received({ endpoint: 'fileOperator/personVideo' }).length, 1);
});

t.test('bandwidthBytesPerSec: a 2 MB upload at 1 MB/s takes about 2 s', async (t) => {
  const dir = await tempDir(t, 'eseal-sim-faults-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const big = join(dir, 'two-megabytes.mp4');
  await padMp4ToSize(video, big, 2_000_000);
  const { sim, mine } = await loggedIn(t, { faults: { bandwidthBytesPerSec: 1_000_000 } });
  const t0 = performance.now();
  const a = await mine.upload(EVIDENCE_ENDPOINTS.truckVideo, big, {
    fileName: formatEvidenceFileName('count', { mineId: MINE, cameraId: '30', aiTypeCode: '02', count: '0001', time: Date.now() }),
  });
  const seconds = (performance.now() - t0) / 1000;
  t.equal(a.status, 200);
  // the lower bound is the limit at work; the upper one only says it is not far slower (loaded machines)
  t.ok(seconds >= 1.8 && seconds < 15, `took ${seconds.toFixed(2)} s`);
  t.equal(sim.received()[0]!.file!.size, 2_000_000);
  t.ok(sim.stats().bodyBytes >= 2_000_000);

  // close() does not wait for an upload crawling at 1 kB/s
  await sim.setFaults({ bandwidthBytesPerSec: 1000 });
  const bytesBefore = sim.stats().bodyBytes;
  const crawling = mine.upload(EVIDENCE_ENDPOINTS.truckVideo, big, { fileName: personVideoName() }).catch((err: unknown) => err);
  // wait until the crawling upload is being received, not a fixed time
  await waitFor(() => sim.stats().bodyBytes > bytesBefore, 30_000, 'the crawling upload to arrive');
  const t1 = performance.now();
  await sim.close();
  // it would take 2,000 s to finish: anything well under that shows close() did not wait for it
  t.ok(performance.now() - t1 < 10_000, `closed in ${(performance.now() - t1).toFixed(0)} ms`);
  t.type(await crawling, Error, 'the crawling upload fails');
  t.equal(sim.received().length, 1);
});

t.test('the token bucket holds the rate for readers together', async (t) => {
  const bucket = new TokenBucket(1_000_000);
  const t0 = performance.now();
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let i = 0; i < 5; i++) await bucket.take(25_000);
  }));
  const ms = performance.now() - t0;
  t.ok(ms >= 400 && ms < 3000, `500 kB by four readers at 1 MB/s in ${ms.toFixed(0)} ms`);
  bucket.setRate(0);
  const t1 = performance.now();
  await bucket.take(10_000_000);
  t.ok(performance.now() - t1 < 1000, 'unlimited at 0 (10 MB would take 10 s at the old rate)');

  const slow = new TokenBucket(1000);
  const t2 = performance.now();
  const waiting = slow.take(60_000); // a minute's worth
  setTimeout(() => slow.setRate(0), 50);
  await waiting;
  t.ok(performance.now() - t2 < 10_000, 'set to unlimited: a waiting reader goes on at once (not after the minute)');
});

t.test('reject rule: matching calls get its status and body; null fixes the cause', async (t) => {
  const dir = await tempDir(t, 'eseal-sim-faults-');
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const rule = { endpoint: 'infoReport/person', mineId: MINE, status: 400, code: 1, msg: 'mineId: 煤矿编码不存在' };
  const { sim, mine } = await loggedIn(t, { faults: { reject: rule } });
  const hit = await mine.record(RECORD_ENDPOINTS.person, person());
  t.equal(hit.status, 400);
  t.same(hit.body, { code: 1, msg: 'mineId: 煤矿编码不存在', data: null });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person(OTHER_MINE))).status, 200, 'another mine passes');
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, { ...person(), cameraId: '30', aiTypeCode: '02', inWellNumber: undefined, outMineNumber: '0001' })).status, 200, 'another endpoint passes');

  await sim.setFaults({ reject: { endpoint: EVIDENCE_ENDPOINTS.personVideo.path, status: 500, code: 500, msg: 'upstream storage full' } });
  const upload = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: personVideoName() });
  t.equal(upload.status, 500);
  t.same(upload.body, { code: 500, msg: 'upstream storage full', data: null });
  t.equal(sim.stats().byFault.reject, 2);

  await sim.setFaults({ reject: null });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200, 'fixed');
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: personVideoName() })).status, 200);
  t.same(sim.received().map((i) => i.endpoint), ['infoReport/person', 'infoReport/truck', 'infoReport/person', 'fileOperator/personVideo']);
});

t.test('bad fault settings are refused and change nothing', async (t) => {
  const sim = await NationalSimulator.start({});
  t.teardown(() => sim.close());
  const before = sim.faults;
  const refused = async (partial: unknown, msg: RegExp) => {
    try {
      await sim.setFaults(partial as never);
      t.fail('accepted');
    } catch (err) {
      t.match(err, { code: 'ESEAL_ERR_SIM_OPTIONS', message: msg });
    }
  };
  await refused({ error5xxRate: 1.5 }, /^faults\.error5xxRate: must be between 0 and 1, got 1\.5/);
  await refused({ latency: 10 }, /^faults\.latency: unknown key \(did you mean faults\.latencyMs\?\)/);
  await refused({ down: 'yes' }, /^faults\.down: must be true or false/);
  await refused({ reject: { status: 99, code: 1, msg: 'x' } }, /^faults\.reject\.status/);
  await refused({ code1Rate: -1, reject: { status: 500, code: 1.5 } }, /^faults\.code1Rate: must be between 0 and 1, got -1; faults\.reject\.code: must be a whole number, got 1\.5; faults\.reject\.msg: required$/);
  t.same(sim.faults, before);
  await t.rejects(NationalSimulator.start({ faults: { code1Rate: -1 } }), { code: 'ESEAL_ERR_SIM_OPTIONS' });
});
