import t from 'tap';
import { request } from 'undici';
import { RECORD_ENDPOINTS, formatJsonTime, type RecordEndpoint } from '../../src/contract/index.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { MINE, OTHER_MINE, relayWithMine } from '../helpers/relay.ts';

const time = () => formatJsonTime();

function bodies(): [RecordEndpoint, Record<string, unknown>][] {
  return [
    [RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0005', time: time() }],
    [RECORD_ENDPOINTS.truck, { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0002', time: time() }],
    [RECORD_ENDPOINTS.belt, { mineId: MINE, cameraId: '10', aiTypeCode: '03', beltStatus: '0001', time: time() }],
    [RECORD_ENDPOINTS.dispatchingRoom, { mineId: MINE, cameraId: '40', aiTypeCode: '06', time: time() }],
    [RECORD_ENDPOINTS.occlusion, { mineId: MINE, cameraId: '10', aiTypeCode: '04', time: time() }],
    [RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId: '10', liveUrl: 'http://10.1.2.3:8080/?action=stream', time: time() }],
    [RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 1, time: time() }],
  ];
}

t.test('all seven JSON calls succeed and are stored durably, field for field', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const expected = bodies();
  for (const [endpoint, body] of expected) {
    const a = await mine.record(endpoint, body);
    t.equal(a.status, 200, endpoint.id);
    t.same(a.body, { code: 0, msg: 'success', data: true });
  }
  const items = relay.ctx.queue.range();
  t.equal(items.length, 7);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const p = item.payload as RelayItem;
    t.equal(p.endpoint, expected[i]![0].id);
    t.same(p.record, expected[i]![1]);
    t.equal(p.account, 'mine001');
    t.same(p.flags, [], `${p.endpoint} unflagged`);
    t.equal(item.key, `${MINE}/${p.cameraId}/${p.endpoint}:mine001`, 'FIFO per mine/camera/kind and account');
    t.equal(item.lane, p.endpoint.startsWith('camera/') ? 'status' : 'record');
  }
});

t.test('GET with a JSON body (as the guide’s truck and belt examples), form bodies, query strings', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const truck = { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0001', time: time() };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, truck, { method: 'GET' })).status, 200, 'GET with body');
  const belt = new URLSearchParams({ mineId: MINE, cameraId: '10', aiTypeCode: '03', beltStatus: '0002', time: time() });
  t.equal((await mine.record(RECORD_ENDPOINTS.belt, null, { raw: belt.toString(), contentType: 'application/x-www-form-urlencoded' })).status, 200, 'form body');
  const res = await request(`${relay.url}${RECORD_ENDPOINTS.cameraOnline.path}?${new URLSearchParams({ mineId: MINE, cameraId: '10', alarm: '0', time: time() })}`, {
    headers: { authorization: `Bearer ${mine.token}` },
  });
  t.equal(res.statusCode, 200, 'GET with query');
  await res.body.dump();
  const text = await mine.record(RECORD_ENDPOINTS.occlusion, { mineId: MINE, cameraId: '10', aiTypeCode: '05', time: time() }, { contentType: 'text/plain; charset=GBK' });
  t.equal(text.status, 200, 'a wrong declared content type does not matter: the body is read as UTF-8 JSON');
  const items = relay.ctx.queue.range().map((i) => i.payload as RelayItem);
  t.equal(items.length, 4);
  t.equal(items[2]!.record!['alarm'], 0, 'query string "0" normalised to the number 0');
  t.match(items[2]!.flags, ['value.normalised:alarm']);
});

t.test('bad input is refused with 400, the field and the rule, and stores nothing', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const guideExample = '{\n\t“mineId” : “140421007866”,\n\t"cameraId" : "10",\n\t“aiTypeCode” : “01”,\n\t“inWellNumber” : “0001”\n\t“time” : “2020-09-09 12:00:00”\n}';
  const curly = await mine.record(RECORD_ENDPOINTS.person, null, { raw: guideExample });
  t.equal(curly.status, 400);
  t.equal(curly.body.code, 1);
  t.equal(curly.body.data, null);
  t.match(curly.body.msg, /^body: invalid JSON at line 2, column 2 .*full-width opening quote/);

  const cases: [RecordEndpoint, Record<string, unknown>, RegExp][] = [
    [RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', time: time() }, /^inWellNumber: required/],
    [RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '12345', time: time() }, /^inWellNumber: must be exactly 4 digits/],
    [RECORD_ENDPOINTS.belt, { mineId: MINE, cameraId: '10', aiTypeCode: '03', beltStatus: '0005', time: time() }, /^beltStatus: must be one of/],
    [RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 'online', time: time() }, /^alarm: must be the number 0/],
    [RECORD_ENDPOINTS.cameraLive, { mineId: MINE, cameraId: '10', liveUrl: '', time: time() }, /^liveUrl: required/],
    [RECORD_ENDPOINTS.truck, { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0001', time: '2020-09-09' }, /^time: must be a real date/],
  ];
  for (const [endpoint, body, re] of cases) {
    const a = await mine.record(endpoint, body);
    t.equal(a.status, 400, endpoint.id);
    t.match(a.body.msg, re);
  }
  const other = await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: OTHER_MINE, cameraId: '10', alarm: 1, time: time() });
  t.equal(other.status, 403);
  t.match(other.body.msg, /^mineId: 140421009999 is not a mine of account mine001/);
  const multipart = await mine.record(RECORD_ENDPOINTS.cameraOnline, null, { raw: '--x\r\n', contentType: 'multipart/form-data; boundary=x' });
  t.equal(multipart.status, 415);
  const big = await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, pad: 'x'.repeat(70_000) });
  t.equal(big.status, 413);
  t.equal(big.body.code, 1);
  t.equal(relay.ctx.queue.range().length, 0, 'nothing stored');
});

t.test('the same record twice is one item; flags are stored and counted', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const body = { mineId: MINE, cameraId: '30', aiTypeCode: '01', inWellNumber: 3, time: time(), extra: 1 };
  t.equal((await mine.record(RECORD_ENDPOINTS.person, body)).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, body)).status, 200, 'a re-send is success too');
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1);
  const p = items[0]!.payload as RelayItem;
  t.equal(p.record!['inWellNumber'], '0003');
  t.same(p.flags.sort(), ['cameraId.unusual:30', 'field.unknown:extra', 'value.normalised:inWellNumber']);
  const metrics = await relay.ctx.metrics.registry.metrics();
  t.match(metrics, /eseal_duplicates_total\{endpoint="infoReport\/person"\} 1/);
  t.match(metrics, /eseal_flags_total\{endpoint="infoReport\/person",flag="cameraId.unusual"\} 1/);
  t.match(metrics, /eseal_accepted_total\{endpoint="infoReport\/person"\} 1/);
});

t.test('unknown paths and methods get the envelope', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const res = await request(relay.url + '/jy-essa/electronicSeal/infoReport/nothing', { method: 'POST', headers: { authorization: `Bearer ${mine.token}` } });
  t.equal(res.statusCode, 404);
  t.match(await res.body.json(), { code: 1, msg: /no such endpoint/ });
  const put = await request(relay.url + RECORD_ENDPOINTS.person.path, { method: 'PUT', headers: { authorization: `Bearer ${mine.token}` } });
  t.equal(put.statusCode, 405);
  t.match(await put.body.json(), { code: 1, msg: /takes POST or GET/ });
});
