// 企业自测: each mine's seven days against the acceptance rules as the list and a mine's page show
// them, with the data sent through the national API today only (so the steady item fails with the
// days and hours it missed); the self-test record exported as JSON and CSV, audited; the rules on
// hand-made rows: a mine that sent everything steadily passes, and each fault fails its item.
import t from 'tap';
import { request } from 'undici';
import { ConsoleClient, startTestConsole } from './fixture.ts';
import { PRODUCING, SHUT, sendDay } from './w2aData.ts';
import { assess, hourlyGaps, type AcceptanceItem } from '../../console/acceptance/acceptanceRules.ts';
import { csvCell } from '../../console/acceptance/selfTestRecord.ts';
import { HOUR_MS, addDays, beijingDay, dayStart, daysFrom, type DailyRow, type HourlyRow } from '../../console/alarms/relayRows.ts';

const item = (items: AcceptanceItem[], e: string) => items.find((i) => i.endpoint === e)!;

t.test('the list, a mine page and its self-test record from a day sent through the national API', async (t) => {
  const { relay } = await sendDay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: 'viewer-pass-1' });
  const v = new ConsoleClient(c.url);
  t.equal((await v.call('GET', '/api/acceptance')).status, 401);
  await v.login('v1', 'viewer-pass-1');
  const today = beijingDay(Date.now());
  const from = addDays(today, -6);

  const list = await v.call('GET', '/api/acceptance');
  t.equal(list.status, 200, list.text);
  t.match(list.json.data, { from, to: today, gapHours: 2, passed: 0, failed: 2 });
  const [s, p] = list.json.data.mines;
  t.match(s, { mineId: SHUT, mineKind: 'shutDown', verdict: 'fail', calls: 2 });
  t.same(s.failing, [
    { endpoint: 'camera/live', reasons: [{ code: 'missing', n: 0 }] },
    { endpoint: 'camera/online-offine', reasons: [{ code: 'daysWithout', n: 6, detail: daysFrom(from, addDays(today, -1)).join(' ') }] },
  ], 'a shut-down mine owes only camera status and its live URL');
  t.match(p, { mineId: PRODUCING, mineKind: 'producing', verdict: 'fail', calls: 10 });
  t.same(p.failing.map((f: { endpoint: string }) => f.endpoint), ['camera/online-offine'], 'the producing mine sent every required record today');

  const one = await v.call('GET', `/api/acceptance/${PRODUCING}?gapHours=3`);
  t.equal(one.status, 200, one.text);
  const r = one.json.data;
  t.match(r, { mineId: PRODUCING, status: '生产矿井', mineKind: 'producing', from, to: today, gapHours: 3, hourly: true, verdict: 'fail' });
  const online = item(r.items, 'camera/online-offine');
  t.same(online.perDay, [0, 0, 0, 0, 0, 0, 2]);
  t.equal(online.rule, 'steady');
  const first = Math.floor(relay.ctx.queue.get(1)!.payload.receivedAt / HOUR_MS) * HOUR_MS;
  t.same(online.gaps![0], { from: dayStart(from), to: first, hours: (first - dayStart(from)!) / HOUR_MS }, 'the gap before the first call, to the hour');
  t.match(online.reasons, [{ code: 'daysWithout', n: 6 }, { code: 'gaps' }]);
  t.match(item(r.items, 'infoReport/person'), { rule: 'arrive', calls: 2, late: 0, flagged: 0, rejected: 0, dead: 0, verdict: 'pass', budgetSeconds: 30 });
  t.match(item(r.items, 'fileOperator/personVideo'), { rule: 'optional', calls: 0, verdict: 'none', budgetSeconds: 300 });
  const lat = item(r.items, 'infoReport/person').latencyMaxMs;
  t.ok(lat > 0 && lat < 30_000, `delivered in ${lat} ms, within 30 s`);
  t.equal((await v.call('GET', '/api/acceptance/140421000000')).status, 404);
  t.match((await v.call('GET', `/api/acceptance/${PRODUCING}?gapHours=0`)).json.msg, /^gapHours: /);
  t.match((await v.call('GET', `/api/acceptance/${PRODUCING}?to=12-01`)).json.msg, /^to: /);
  t.match((await v.call('GET', `/acceptance/${PRODUCING}?gapHours=99`)).text, /gapHours: a whole number of hours from 1 to 72/, 'the page names the field');

  const listPage = await v.call('GET', '/acceptance?lang=zh');
  t.match(listPage.text, new RegExp(`<tr data-mine="${SHUT}">[^]*?data-verdict="fail">未通过</span>`));
  t.match(listPage.text, /<div class="v bad">2<\/div>/);
  const page = await v.call('GET', `/acceptance/${PRODUCING}?gapHours=3`);
  t.match(page.text, /<tr data-endpoint="infoReport\/person" class="">[^]*?data-verdict="pass">通过<\/span>/);
  t.match(page.text, /<tr data-endpoint="camera\/online-offine" class="risk">[^]*?无数据的日期 6/);
  t.match(page.text, new RegExp(`href="/api/acceptance/${PRODUCING}/record.csv\\?to=${today}&amp;gapHours=3" id="download-csv"`));

  const json = await v.call('GET', `/api/acceptance/${PRODUCING}/record.json?gapHours=3`);
  t.equal(json.status, 200);
  t.equal(json.headers['content-disposition'], `attachment; filename="self-test-${PRODUCING}-${today}.json"`);
  t.match(json.json, { kind: 'eseal-mine-self-test', version: 1, generatedBy: 'v1', mineId: PRODUCING, period: { from, to: today }, rules: { gapHours: 3, budgetsSeconds: { record: 30, evidence: 300 }, hourlyGapsChecked: true }, verdict: 'fail', verdictZh: '未通过' });
  t.ok(Math.abs(json.json.generatedAt - Date.now()) < 60_000);
  t.match(json.json.reasons[0], /^camera\/online-offine: 无数据的日期 6/);
  t.equal(json.json.items.length, 12, 'every data call of the guide');
  const csv = await v.call('GET', `/api/acceptance/${SHUT}/record.csv`);
  t.equal(csv.status, 200);
  t.match(csv.headers['content-type'], /^text\/csv/);
  t.ok(csv.text.startsWith('"煤矿企业自测记录'));
  const raw = await request(`${c.url}/api/acceptance/${SHUT}/record.csv`, { headers: { cookie: [...v.cookies].map(([k, x]) => `${k}=${x}`).join('; ') } });
  t.same([...Buffer.from(await raw.body.arrayBuffer()).subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a BOM, for a spreadsheet');
  const lines = csv.text.split('\r\n');
  t.match(lines.find((l) => l.startsWith('"总体结论')), /"未通过","fail"/);
  t.match(lines.find((l) => l.startsWith('"camera/live"')), /"必需","0",[^]*"未通过","未收到"$/);
  t.match(lines.find((l) => l.startsWith('"fileOperator/personVideo"')), /"非必需","1",/);
  const audit = c.ctx.store.audit.list({ limit: 3 }).map((e) => `${e.action} ${e.target} ${e.user} ${e.result}`);
  t.same(audit.slice(0, 3), [`export self-test ${SHUT} ${today} csv v1 ok: fail`, `export self-test ${SHUT} ${today} csv v1 ok: fail`, `export self-test ${PRODUCING} ${today} json v1 ok: fail`], 'each export audited');
});

const DAY0 = '2026-11-01';
const DAYS = daysFrom(DAY0, addDays(DAY0, 6));
const row = (day: string, endpoint: string, o: Partial<DailyRow> = {}): DailyRow => ({
  day, mineId: '140421000001', endpoint, count: 12, sum: 0, beltStatus: {}, aiTypes: {}, flagged: 0, delivered: 12, late: 0, latencySumMs: 1000, latencyMaxMs: 900, dead: 0, rejected: 0, firstAt: 0, lastAt: 0, ...o,
});
const steadyHours = (): HourlyRow[] => Array.from({ length: 7 * 24 }, (_, h) => ({ hour: dayStart(DAY0)! + h * HOUR_MS, endpoint: 'camera/online-offine', count: 12, late: 0 }));
const full = (extra: DailyRow[] = []) => [...DAYS.flatMap((d) => ['camera/online-offine', 'infoReport/person', 'infoReport/truck', 'infoReport/belt'].map((e) => row(d, e))), row(DAY0, 'camera/live', { count: 1 }), ...extra];
const run = (rows: DailyRow[], status = '生产矿井', hourly = steadyHours()) =>
  assess({
    mine: { mineId: '140421000001', status, cameras: [] },
    rows,
    from: DAY0,
    to: DAYS[6]!,
    gapHours: 2,
    today: '2026-12-31',
    hourly: { rows: hourly, fromMs: dayStart(DAY0)!, toMs: dayStart(DAY0)! + 7 * 86_400_000, nowMs: Date.now() },
  });

t.test('the rules: a steady, clean week passes; each fault fails its item', async (t) => {
  const ok = run(full());
  t.equal(ok.verdict, 'pass', JSON.stringify(ok.failing));
  t.same(item(ok.items, 'infoReport/dispatchingRoomVideo'), { ...item(ok.items, 'infoReport/dispatchingRoomVideo'), rule: 'optional', verdict: 'none' });
  t.match(run(full().filter((r) => r.endpoint !== 'infoReport/truck')).failing, [{ endpoint: 'infoReport/truck', reasons: [{ code: 'missing' }] }]);
  t.equal(run(full().filter((r) => r.endpoint !== 'infoReport/truck'), '停产矿井').verdict, 'pass', 'a shut-down mine owes no records');
  t.match(run(full([row(DAY0, 'fileOperator/beltVideo', { count: 1, late: 1, latencyMaxMs: 301_000 })])).failing, [{ endpoint: 'fileOperator/beltVideo', reasons: [{ code: 'late', n: 1, detail: '301.0s > 300s' }] }]);
  t.match(run(full([row(DAY0, 'infoReport/occlusion-movAngle', { flagged: 1, rejected: 2, dead: 1 })])).failing, [{ reasons: [{ code: 'flagged', n: 1 }, { code: 'rejected', n: 2 }, { code: 'dead', n: 1 }] }]);
  const holes = steadyHours().filter((h) => h.hour < dayStart(DAY0)! + 10 * HOUR_MS || h.hour >= dayStart(DAY0)! + 13 * HOUR_MS);
  const gap = run(full(), '生产矿井', holes);
  t.match(gap.failing, [{ endpoint: 'camera/online-offine', reasons: [{ code: 'gaps', n: 1, detail: '3h' }] }], 'three silent hours > 2');
  t.same(hourlyGaps(holes, 'camera/online-offine', dayStart(DAY0)!, dayStart(DAY0)! + 7 * 86_400_000, Date.now(), 3), [], 'three hours allowed: no gap');
  const twoHours = steadyHours().filter((h) => h.hour < dayStart(DAY0)! + 10 * HOUR_MS || h.hour >= dayStart(DAY0)! + 12 * HOUR_MS);
  t.equal(run(full(), '生产矿井', twoHours).verdict, 'pass', 'two silent hours are allowed');
  t.equal(csvCell('=cmd|"x"'), `"'=cmd|""x"""`, 'a formula is text in the CSV');
});
