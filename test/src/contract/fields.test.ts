import t from 'tap';
import { refused } from '../../helpers/refusal.ts';
import { RECORD_ENDPOINTS, QUERY_ENDPOINTS, checkQuery, checkRecord, formatJsonTime, flagKind } from '../../../src/contract/index.ts';

const now = Date.UTC(2020, 8, 9, 4, 0, 0); // 2020-09-09 12:00:00 Beijing
const ctx = { now, maxSkewMs: 300_000 };
const time = formatJsonTime(now);

t.test('the guide’s examples pass (with correct quotes) and keep the guide’s field order', async (t) => {
  const r = checkRecord(RECORD_ENDPOINTS.person, { time, inWellNumber: '0001', aiTypeCode: '01', cameraId: '10', mineId: '140421007866' }, ctx);
  t.same(Object.keys(r.value), ['mineId', 'cameraId', 'aiTypeCode', 'inWellNumber', 'time']);
  t.same(r.flags, []);
  const live = checkRecord(RECORD_ENDPOINTS.cameraLive, { mineId: '140421007866', cameraId: '10', liveUrl: '127.0.0.1:33390', time }, ctx);
  t.same(live.flags, ['liveUrl.notHttp'], 'the guide’s own liveUrl example has no scheme: accepted, flagged');
  const online = checkRecord(RECORD_ENDPOINTS.cameraOnline, { mineId: '140421007866', cameraId: '10', alarm: 1, time }, ctx);
  t.equal(online.value['alarm'], 1);
});

t.test('definitely broken input is refused naming the field and the rule', async (t) => {
  const base = { mineId: '140421007866', cameraId: '10', aiTypeCode: '03', beltStatus: '0001', time };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...base, mineId: undefined }, 'mineId', /^mineId: required/],
    [{ ...base, mineId: '14042100786' }, 'mineId', /^mineId: must be 12 characters .* got 11/],
    [{ ...base, mineId: '14042100786-' }, 'mineId', /letters and digits/],
    [{ ...base, cameraId: '1' }, 'cameraId', /^cameraId: must be exactly 2 digits/],
    [{ ...base, cameraId: 'ab' }, 'cameraId', /^cameraId: must be 2 digits/],
    [{ ...base, aiTypeCode: '07' }, 'aiTypeCode', /^aiTypeCode: must be one of 01 persons, .* got "07"/],
    [{ ...base, beltStatus: '0004' }, 'beltStatus', /^beltStatus: must be one of 0001 runningWithCoal/],
    [{ ...base, beltStatus: 'x' }, 'beltStatus', /^beltStatus: must be 4 digits/],
    [{ ...base, time: '2020/09/09 12:00:00' }, 'time', /^time: must be a real date and time yyyy-MM-dd HH:mm:ss/],
    [{ ...base, time: 1599624000 }, 'time', /^time: must be a string/],
  ];
  for (const [body, field, re] of cases) {
    const err = refused(() => checkRecord(RECORD_ENDPOINTS.belt, body, ctx));
    t.equal(err.field, field, `field of ${err.message}`);
    t.equal(err.statusCode, 400);
    t.match(err.message, re);
  }
  t.match(refused(() => checkRecord(RECORD_ENDPOINTS.belt, [base], ctx)).message, /^body: must be a JSON object/);
  t.match(refused(() => checkRecord(RECORD_ENDPOINTS.cameraOnline, { ...base, alarm: 2 }, ctx)).message, /^alarm: must be the number 0 \(offline\) or 1/);
  t.match(refused(() => checkRecord(RECORD_ENDPOINTS.cameraLive, { ...base, liveUrl: 'http://x/' + 'a'.repeat(200) }, ctx)).message, /^liveUrl: must be at most 200/);
});

t.test('soft mismatches are accepted and flagged', async (t) => {
  const r = checkRecord(
    RECORD_ENDPOINTS.person,
    { mineId: '14042100786A', cameraId: '30', aiTypeCode: '02', inWellNumber: 5, time: formatJsonTime(now + 600_000), extra: 'x' },
    ctx,
  );
  t.equal(r.value['inWellNumber'], '0005', 'a number is normalised to 4 digits');
  t.same(r.flags.map(flagKind).sort(), ['aiTypeCode.unusual', 'cameraId.unusual', 'field.unknown', 'mineId.notDigits', 'time.skew', 'value.normalised']);
  t.notOk('extra' in r.value, 'unknown members are not kept for forwarding');
  const belt = checkRecord(RECORD_ENDPOINTS.belt, { mineId: '140421007866', cameraId: '10', aiTypeCode: '03', beltStatus: 2, time }, ctx);
  t.equal(belt.value['beltStatus'], '0002');
  t.match(belt.flags, ['value.normalised:beltStatus']);
});

t.test('mineStatus query', async (t) => {
  t.same(checkQuery(QUERY_ENDPOINTS.mineStatus, { mineId: '140421007866' }, ctx).value, { mineId: '140421007866' });
  t.match(refused(() => checkQuery(QUERY_ENDPOINTS.mineStatus, {}, ctx)).message, /^mineId: required/);
});
