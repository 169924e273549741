// The console's data on the relay's admin API, from real national API calls to a real relay on
// loopback: the maintained counts, the mines and cameras, the item search, the video with ranges.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { openLmdb } from '../../../src/store/lmdb/open.ts';
import { join } from 'node:path';
import { beijingDay } from '../../../relay/stats/beijingDay.ts';
import { evidenceName } from '../../helpers/evidence.ts';
import { forwardingSetup, waitFor } from '../../helpers/forwarding.ts';
import { makeMp4Fixture } from '../../helpers/media.ts';
import { MINE, relayWithMine, startTestRelay, tempDir, type TestRelay } from '../../helpers/relay.ts';

interface Answer {
  status: number;
  body: { code: number; msg: string; data?: any };
}

async function admin(relay: TestRelay, path: string): Promise<Answer> {
  const res = await request(`${relay.url}${path}`, { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  return { status: res.statusCode, body: (await res.body.json()) as Answer['body'] };
}

const today = () => beijingDay(Date.now());
const time = () => formatJsonTime();

t.test('counts per day, mine and endpoint; cameras; rejections; items newest first', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const person = (n: string, cameraId = '20') => ({ mineId: MINE, cameraId, aiTypeCode: '01', inWellNumber: n, time: time() });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person('0005'))).status, 200);
  const second = person('0003', '21');
  t.equal((await mine.record(RECORD_ENDPOINTS.person, second)).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, second)).status, 200, 'a re-send: success, no second item');
  t.equal((await mine.record(RECORD_ENDPOINTS.belt, { mineId: MINE, cameraId: '10', aiTypeCode: '03', beltStatus: '0001', time: time() })).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 0, time: time() })).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId: '10', liveUrl: 'http://10.1.2.3/live', time: time() })).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '11', alarm: 1, time: time() })).status, 200);
  const bad = await mine.record(RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '12345', time: time() });
  t.equal(bad.status, 400, 'refused at the door');
  // the refusal is counted in its own commit, after the answer
  await waitFor(async () => (await admin(relay, `/admin/mines`)).body.data.mines[0].rejected === 1, 5000, 'refusal counted');

  const daily = await admin(relay, `/admin/daily?from=${today()}&to=${today()}`);
  t.equal(daily.status, 200);
  t.equal(daily.body.code, 0);
  const rows = daily.body.data.rows as any[];
  const p = rows.find((r) => r.endpoint === 'infoReport/person');
  t.match(p, { day: today(), mineId: MINE, count: 2, sum: 8, aiTypes: { '01': 2 }, flagged: 0, delivered: 0, rejected: 1, dead: 0 });
  t.ok(p.firstAt <= p.lastAt && p.lastAt <= Date.now());
  t.match(rows.find((r) => r.endpoint === 'infoReport/belt'), { count: 1, beltStatus: { '0001': 1 }, aiTypes: { '03': 1 } });
  t.match(rows.find((r) => r.endpoint === 'camera/online-offine'), { count: 2 });
  t.equal(rows.length, 4, 'one row per (day, mine, endpoint)');

  const mines = (await admin(relay, '/admin/mines')).body.data.mines as any[];
  t.equal(mines.length, 1);
  const m = mines[0];
  t.match(m, { mineId: MINE, accounts: ['mine001'], today: { 'infoReport/person': 2, 'infoReport/belt': 1, 'camera/online-offine': 2, 'camera/live': 1 }, rejected: 1 });
  t.ok(m.lastSeenAt > 0);
  t.same(
    m.cameras.map((c: any) => [c.cameraId, c.online, c.liveUrl]),
    [
      ['10', false, 'http://10.1.2.3/live'],
      ['11', true, undefined],
      ['20', undefined, undefined],
      ['21', undefined, undefined],
    ],
    'cameras: online from the last camera/online-offine (alarm 0 offline, 1 online), liveUrl from camera/live',
  );
  const yesterday = beijingDay(Date.now() - 86_400_000);
  t.same((await admin(relay, `/admin/mines?day=${yesterday}`)).body.data.mines[0].today, {}, 'another day: nothing');

  const hourly = (await admin(relay, `/admin/hourly?mine=${MINE}&from=${today()}&to=${today()}`)).body.data.rows as any[];
  t.equal(hourly.reduce((s, r) => s + r.count, 0), 6, 'six items accepted, by hour');
  t.ok(hourly.every((r) => r.hour % 3_600_000 === 0));

  // items: newest first, paged with nextBefore
  const page1 = (await admin(relay, `/admin/items?mine=${MINE}&limit=4`)).body.data;
  t.same(page1.items.map((i: any) => i.seq), [6, 5, 4, 3]);
  t.equal(page1.nextBefore, 3);
  const page2 = (await admin(relay, `/admin/items?mine=${MINE}&limit=4&before=${page1.nextBefore}`)).body.data;
  t.same(page2.items.map((i: any) => i.seq), [2, 1]);
  t.equal(page2.nextBefore, undefined, 'the last page says so');
  const persons = (await admin(relay, `/admin/items?endpoint=infoReport/person&camera=21`)).body.data.items as any[];
  t.equal(persons.length, 1, 'all mines (the time index), filtered by endpoint and camera');
  t.match(persons[0], { seq: 2, state: 'ready', lane: 'record', mineId: MINE, cameraId: '21', account: 'mine001', record: { inWellNumber: '0003' }, attempts: 0, flags: [] });
  const now = Date.now();
  t.equal((await admin(relay, `/admin/items?from=${now + 1000}`)).body.data.items.length, 0, 'from: nothing later than now');
  t.equal((await admin(relay, `/admin/items?to=${now + 1000}&state=ready`)).body.data.items.length, 6);
  const one = (await admin(relay, '/admin/items/2')).body.data;
  t.match(one, { seq: 2, endpoint: 'infoReport/person', key: `${MINE}/21/infoReport/person:mine001`, payload: { requestId: String, from: '127.0.0.1' } });
  t.equal((await admin(relay, '/admin/items/99')).status, 404);
});

t.test('bad parameters: 400 naming the field and the rule', async (t) => {
  const relay = await startTestRelay(t);
  const cases: [string, RegExp][] = [
    ['/admin/daily?from=2026-13-01', /^from: a day YYYY-MM-DD/],
    ['/admin/daily?from=2026-01-01&to=2026-03-01', /^to: at most 7 days/],
    ['/admin/daily?from=2026-01-01&to=2026-01-08', /^to: at most 7 days/],
    [`/admin/daily?mine=${MINE}&from=2026-01-01&to=2026-03-01`, /^to: at most 31 days/],
    ['/admin/daily?from=2026-01-02&to=2026-01-01', /^to: not before from/],
    ['/admin/daily?mine=../x', /^mine: 1 to 32 letters/],
    ['/admin/hourly?from=2026-01-01', /^mine: required/],
    [`/admin/hourly?mine=${MINE}&from=2026-01-01&to=2026-01-09`, /^to: at most 8 days/],
    ['/admin/mines?day=yesterday', /^day: a day YYYY-MM-DD/],
    ['/admin/items?limit=0', /^limit: a whole number from 1 to 1000/],
    ['/admin/items?limit=1001', /^limit: a whole number from 1 to 1000/],
    ['/admin/items?state=lost', /^state: one of ready, leased, dead, done/],
    ['/admin/items?lane=fast', /^lane: one of status, record, evidence/],
    ['/admin/items?endpoint=nope', /^endpoint: an endpoint id/],
    ['/admin/items?from=-1', /^from: a time in ms/],
    ['/admin/items?before=77', /^before: item 77 is not kept/],
    ['/admin/items/abc', /^seq: a whole number/],
  ];
  for (const [path, re] of cases) {
    const a = await admin(relay, path);
    t.equal(a.status, 400, path);
    t.match(a.body.msg, re, path);
  }
  const anonymous = await request(`${relay.url}/admin/daily`);
  t.equal(anonymous.statusCode, 401, 'the admin token is needed');
  await anonymous.body.dump();
});

t.test('delivered, late and dead are counted when the forwarder records them; a purge drops the item from the search, not from the counts', async (t) => {
  const { relay, mine } = await forwardingSetup(t, {
    sim: { faults: { reject: { endpoint: 'infoReport/truck', status: 400, code: 400, msg: 'truck gate not registered' } } },
  });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0002', time: time() })).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0004', time: time() })).status, 200);
  await waitFor(() => relay.ctx.queue.stats().byState.done === 1 && relay.ctx.queue.stats().byState.dead === 1, 20_000, 'delivered and dead');
  const rows = (await admin(relay, `/admin/daily?from=${today()}&to=${today()}&mine=${MINE}`)).body.data.rows as any[];
  const person = rows.find((r) => r.endpoint === 'infoReport/person');
  t.match(person, { count: 1, sum: 2, delivered: 1, late: 0, dead: 0 });
  t.ok(person.latencyMaxMs >= 0 && person.latencySumMs === person.latencyMaxMs, 'one latency');
  t.match(rows.find((r) => r.endpoint === 'infoReport/truck'), { count: 1, sum: 4, delivered: 0, dead: 1 });
  const mineRow = (await admin(relay, '/admin/mines')).body.data.mines.find((m: any) => m.mineId === MINE);
  t.equal(mineRow.dead, 1);
  const deadItems = (await admin(relay, `/admin/items?mine=${MINE}&state=dead`)).body.data.items as any[];
  t.same(deadItems.map((i: any) => i.endpoint), ['infoReport/truck']);
  t.match(deadItems[0].lastError, /truck gate not registered/, 'why it died is shown');

  const done = (await admin(relay, `/admin/items?mine=${MINE}&state=done`)).body.data.items[0];
  t.ok(done.deliveredAt >= done.receivedAt);
  const del = await request(`${relay.url}/admin/queue/${done.seq}`, { method: 'DELETE', headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  t.equal(del.statusCode, 200);
  await del.body.dump();
  t.same((await admin(relay, `/admin/items?mine=${MINE}`)).body.data.items.map((i: any) => i.seq), [deadItems[0].seq], 'the purged item left the index');
  t.equal(relay.ctx.stats.receivedAtOf(done.seq), undefined, 'its index entry is gone');
  const after = (await admin(relay, `/admin/daily?mine=${MINE}`)).body.data.rows.find((r: any) => r.endpoint === 'infoReport/person');
  t.match(after, { count: 1, delivered: 1 }, 'the counts are history: a purge keeps them');
});

t.test('an upgraded relay (items, no aggregates) builds them once at start', async (t) => {
  const dir = await tempDir(t);
  const first = await startTestRelay(t, {}, dir);
  await first.ctx.accounts.add({ username: 'mine001', password: 'S3cret+pass/word=', mines: [MINE], org: 'XX煤矿' });
  const { GuideMine } = await import('../../helpers/mineClient.ts');
  const mine = new GuideMine(first.url, 'mine001', 'S3cret+pass/word=');
  t.equal((await mine.login()).status, 200);
  for (const n of ['0001', '0002', '0003']) {
    t.equal((await mine.record(RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: n, time: time() })).status, 200);
  }
  await first.close();
  // a relay of the version before: the queue as it was, no stats.* tables at all
  const root = openLmdb(join(dir, 'db'));
  for (const name of ['stats.meta', 'stats.daily', 'stats.hourly', 'stats.mines', 'stats.bySeq', 'stats.byMine', 'stats.byTime']) {
    const db = root.openDB({ name });
    await db.drop();
  }
  await root.close();
  const second = await startTestRelay(t, {}, dir);
  const rows = (await admin(second, `/admin/daily?mine=${MINE}`)).body.data.rows as any[];
  t.match(rows, [{ endpoint: 'infoReport/person', count: 3, sum: 6 }], 'rebuilt from the queue');
  t.same((await admin(second, `/admin/items?mine=${MINE}`)).body.data.items.map((i: any) => i.seq), [3, 2, 1], 'the index too');
  await second.close();
  const third = await startTestRelay(t, {}, dir);
  t.match((await admin(third, `/admin/daily?mine=${MINE}`)).body.data.rows, [{ count: 3 }], 'built once: a second start counts nothing twice');
});

t.test('evidence: counts from the file name, the video whole and by ranges (206, 416), 404 when not evidence', async (t) => {
  const dir = await tempDir(t);
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const ep = EVIDENCE_ENDPOINTS.personVideo;
  const name = evidenceName(ep, MINE); // count 0002
  t.equal((await mine.upload(ep, video, { fileName: name })).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0001', time: time() })).status, 200);
  const row = (await admin(relay, `/admin/daily?mine=${MINE}`)).body.data.rows.find((r: any) => r.endpoint === ep.id);
  t.match(row, { count: 1, sum: Number(name.slice(16, 20)), aiTypes: { '01': 1 } });
  const item = (await admin(relay, `/admin/items?mine=${MINE}&lane=evidence`)).body.data.items[0];
  t.match(item.file, { name, size: bytes.length, codec: 'avc1', width: 320 });

  const get = async (range?: string) => {
    const res = await request(`${relay.url}/admin/items/${item.seq}/video`, {
      headers: { authorization: `Bearer ${relay.ctx.adminToken}`, ...(range ? { range } : {}) },
    });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };
  const whole = await get();
  t.equal(whole.status, 200);
  t.equal(whole.headers['content-type'], 'video/mp4');
  t.equal(whole.headers['accept-ranges'], 'bytes');
  t.equal(Number(whole.headers['content-length']), bytes.length);
  t.same(whole.body, bytes);
  const head = await get('bytes=0-99');
  t.equal(head.status, 206);
  t.equal(head.headers['content-range'], `bytes 0-99/${bytes.length}`);
  t.same(head.body, bytes.subarray(0, 100));
  const mid = await get('bytes=100-');
  t.equal(mid.status, 206);
  t.same(mid.body, bytes.subarray(100));
  const tail = await get('bytes=-10');
  t.same(tail.body, bytes.subarray(bytes.length - 10));
  const beyond = await get(`bytes=${bytes.length}-`);
  t.equal(beyond.status, 416);
  t.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
  t.match(JSON.parse(beyond.body.toString()).msg, /^Range: outside the video/);
  const recordSeq = (await admin(relay, `/admin/items?mine=${MINE}&lane=record`)).body.data.items[0].seq;
  t.equal((await admin(relay, `/admin/items/${recordSeq}/video`)).status, 404, 'a record has no video');

  // the evidence refused at the door counts for the mine its file name names
  const refused = await mine.upload(ep, video, { fileName: name.replace(/\.MP4$/, '.AVI') });
  t.equal(refused.status, 400);
  await waitFor(async () => (await admin(relay, `/admin/daily?mine=${MINE}`)).body.data.rows.find((r: any) => r.endpoint === ep.id)?.rejected === 1, 5000, 'evidence refusal counted');
});
