// The items page over the relay's GET /admin/items: newest first, filtered by camera and time, paged
// by nextBefore; an evidence item's page plays its video through the console, whose proxy passes
// the browser's Range on to the relay and its 206 back with the right bytes.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { evidenceName } from '../helpers/evidence.ts';
import { makeMp4Fixture } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir } from '../helpers/relay.ts';
import { beijingTime, readItemsFilter } from '../../console/pages/itemsPage.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

const PW = 'viewer-pass-12';

/** `YYYY-MM-DD HH:MM:SS` in Beijing time */
const beijing = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

t.test('items newest first by camera and time, and the evidence video through the console with ranges', async (t) => {
  const dir = await tempDir(t);
  const video = await makeMp4Fixture(dir, 'h264', 1);
  const bytes = await readFile(video);
  const { relay, mine } = await relayWithMine(t);
  const person = (cameraId: string, n: string) => ({ mineId: MINE, cameraId, aiTypeCode: '01', inWellNumber: n, time: formatJsonTime() });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person('20', '0001'))).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person('21', '0002'))).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person('20', '0003'))).status, 200);
  const ep = EVIDENCE_ENDPOINTS.personVideo;
  const name = evidenceName(ep, MINE);
  t.equal((await mine.upload(ep, video, { fileName: name })).status, 200);

  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: PW });
  const anon = new ConsoleClient(c.url);
  const v = new ConsoleClient(c.url);
  await v.login('v1', PW);

  const all = await v.call('GET', '/api/items');
  t.equal(all.status, 200);
  const items = all.json.data.items as { seq: number; endpoint: string; cameraId: string; receivedAt: number; file?: { name: string; size: number } }[];
  t.same(items.map((i) => i.endpoint), [ep.id, 'infoReport/person', 'infoReport/person', 'infoReport/person'], 'newest first');
  t.ok(items.every((x, i) => i === 0 || items[i - 1]!.receivedAt >= x.receivedAt), 'by the time received');
  const evidence = items[0]!;
  t.match(evidence.file, { name, size: bytes.length });

  // by camera; paged two at a time by nextBefore
  t.same((await v.call('GET', '/api/items?camera=21')).json.data.items.map((i: any) => i.record.inWellNumber), ['0002']);
  const page1 = await v.call('GET', '/api/items?endpoint=infoReport/person&limit=2');
  t.same(page1.json.data.items.map((i: any) => i.record.inWellNumber), ['0003', '0002']);
  t.type(page1.json.data.nextBefore, 'number');
  const page2 = await v.call('GET', `/api/items?endpoint=infoReport/person&limit=2&before=${page1.json.data.nextBefore}`);
  t.same(page2.json.data.items.map((i: any) => i.record.inWellNumber), ['0001']);
  t.notOk(page2.json.data.nextBefore, 'the last page');
  // by time: nothing before the first item, everything from it on
  const first = items.at(-1)!.receivedAt;
  t.same((await v.call('GET', `/api/items?to=${first}`)).json.data.items, [], 'to is exclusive');
  t.equal((await v.call('GET', `/api/items?from=${first}`)).json.data.items.length, 4);
  const bad = await v.call('GET', '/api/items?from=yesterday');
  t.equal(bad.status, 400);
  t.match(bad.json.msg, /^from: /);
  const gone = await v.call('GET', '/api/items?before=999999');
  t.equal(gone.status, 400, "a before the relay does not keep: the relay's field named");
  t.match(gone.json.msg, /^before: /);

  // the page: filters by Beijing time, the next page link
  const pageAll = await v.call('GET', `/items?endpoint=infoReport/person&from=${encodeURIComponent(beijing(first).slice(0, 16))}`);
  t.equal(pageAll.status, 200);
  t.equal((pageAll.text.match(/<tr data-seq=/g) ?? []).length, 3, 'three person records from the minute of the first');
  t.match((await v.call('GET', '/items?camera=21')).text, /<td>140421007866<\/td><td>21<\/td>/);
  const badTime = await v.call('GET', '/items?to=2026-13-01');
  t.equal(badTime.status, 400);
  t.match(badTime.text, /to: a Beijing time YYYY-MM-DD/, 'the page names the field');

  // the evidence item's page plays its video through the console
  const detail = await v.call('GET', `/items/${evidence.seq}`);
  t.match(detail.text, new RegExp(`<video id="video" controls preload="metadata" width="\\d+" src="/api/items/${evidence.seq}/video"></video>`));
  const record = items[1]!;
  t.notMatch((await v.call('GET', `/items/${record.seq}`)).text, /<video/, 'a record has no video');

  const whole = await v.call('GET', `/api/items/${evidence.seq}/video`);
  t.equal(whole.status, 200);
  t.equal(whole.headers['content-type'], 'video/mp4');
  t.equal(whole.headers['accept-ranges'], 'bytes');
  t.equal(Number(whole.headers['content-length']), bytes.length);
  const raw = async (range: string) => {
    const { request } = await import('undici');
    const res = await request(`${c.url}/api/items/${evidence.seq}/video`, { headers: { cookie: [...v.cookies].map(([k, x]) => `${k}=${x}`).join('; '), range } });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };
  const head = await raw('bytes=0-99');
  t.equal(head.status, 206);
  t.equal(head.headers['content-range'], `bytes 0-99/${bytes.length}`);
  t.same(head.body, bytes.subarray(0, 100), 'the first 100 bytes');
  const mid = await raw(`bytes=1000-1999`);
  t.equal(mid.status, 206);
  t.same(mid.body, bytes.subarray(1000, 2000), 'a range from the middle');
  const rest = await raw('bytes=2000-');
  t.same(rest.body, bytes.subarray(2000), 'to the end');
  const beyond = await raw(`bytes=${bytes.length}-`);
  t.equal(beyond.status, 416);
  t.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
  t.match(JSON.parse(beyond.body.toString()).msg, /^Range: outside the video/);
  const none = await v.call('GET', `/api/items/${record.seq}/video`);
  t.equal(none.status, 404, 'a record has no video');
  t.match(none.json.msg, /^seq: /);
  t.equal((await anon.call('GET', `/api/items/${evidence.seq}/video`)).status, 401, 'anonymous: no video');
});

t.test('the items filter reads Beijing times and names each bad field', async (t) => {
  t.equal(beijingTime('2026-01-02', 'from'), Date.UTC(2026, 0, 1, 16), 'a day starts at 00:00 Beijing');
  t.equal(beijingTime('2026-01-02', 'to', true), Date.UTC(2026, 0, 2, 16), 'a day as `to` runs to its end');
  t.equal(beijingTime('2026-01-02T08:30', 'from'), Date.UTC(2026, 0, 2, 0, 30));
  t.equal(beijingTime('2026-01-02 08:30:15', 'to', true), Date.UTC(2026, 0, 2, 0, 30, 15), 'a time is taken as it is');
  for (const [q, field] of [
    [{ from: '2026-02-30' }, 'from'],
    [{ to: '2026-01-01 24:00' }, 'to'],
    [{ from: '2026-01-02', to: '2026-01-01' }, 'to'],
    [{ camera: 'a b' }, 'camera'],
    [{ mine: '<x>' }, 'mine'],
    [{ before: '0' }, 'before'],
    [{ state: 'lost' }, 'state'],
  ] as const) {
    let err: { field?: string } | undefined;
    try {
      readItemsFilter(q);
    } catch (e) {
      err = e as { field?: string };
    }
    t.equal(err?.field, field, `${JSON.stringify(q)}: ${field}`);
  }
  t.same(readItemsFilter({ camera: '20', from: '', before: '12' }).filter, { camera: '20', before: 12 }, 'empty fields are no filter');
});
