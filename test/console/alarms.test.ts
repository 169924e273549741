// 报警管理: a day of two mines against the province's thresholds (a default and a mine's own), the
// shut-down mine with persons in flagged as suspected illegal production with links to its evidence,
// the 7-day trend; the rules themselves on hand-made rows.
import t from 'tap';
import { ConsoleClient, startTestConsole } from './fixture.ts';
import { PRODUCING, SENT, SHUT, sendDay } from './w2aData.ts';
import { isShutDown, mineAlarm } from '../../console/alarms/alarmRules.ts';
import { DEFAULT_THRESHOLDS } from '../../console/settings/thresholds.ts';
import { addDays, beijingDay, type DailyRow } from '../../console/alarms/relayRows.ts';
import { DailyCache } from '../../console/alarms/dailyCache.ts';
import { alarmsBody } from '../../console/pages/alarmsPage.ts';
import { acceptanceListBody } from '../../console/pages/acceptancePage.ts';

t.test('a day of alarms, suspected illegal production linked to its evidence, the 7-day trend', async (t) => {
  const { relay } = await sendDay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: 'viewer-pass-1' });
  // the producing mine may have 5 persons in before it is an alarm; 8 went down
  await c.ctx.store.thresholds.setMine(PRODUCING, { personsInPerDay: 5, dispatchRoomEmptyPerDay: 0 }, 'test');
  const v = new ConsoleClient(c.url);
  t.equal((await v.call('GET', '/api/alarms')).status, 401);
  await v.login('v1', 'viewer-pass-1');

  const a = await v.call('GET', '/api/alarms');
  t.equal(a.status, 200, a.text);
  const d = a.json.data;
  t.equal(d.day, beijingDay(Date.now()), 'default: today in Beijing');
  t.same(d.mines.map((m: { mineId: string }) => m.mineId), [SHUT, PRODUCING], 'the suspected mine first');
  const [s, p] = d.mines;
  t.match(p, {
    shutDown: false,
    suspectedIllegal: false,
    counts: { personsInPerDay: SENT.producing.persons, trucksOutPerDay: SENT.producing.trucks, beltRunningPerDay: 1, dispatchRoomEmptyPerDay: 1, occlusionMovedPerDay: 1 },
    thresholds: { personsInPerDay: 5, trucksOutPerDay: 0, beltRunningPerDay: 0, dispatchRoomEmptyPerDay: 0, occlusionMovedPerDay: 3 },
  });
  t.same(p.alarms, ['personsInPerDay', 'trucksOutPerDay', 'beltRunningPerDay', 'dispatchRoomEmptyPerDay'], 'above its thresholds; the stopped belt (0003) is not running');
  t.match(s, { status: '停产矿井', shutDown: true, suspectedIllegal: true, counts: { personsInPerDay: SENT.shut.persons, trucksOutPerDay: 0, beltRunningPerDay: 0 } });
  t.same(s.evidence, { 'fileOperator/personVideo': 1 });
  t.match(d.totals, { mines: 2, minesWithAlarms: 2, suspected: 1, counts: { personsInPerDay: 10, trucksOutPerDay: 2 } });
  t.equal(d.trend.length, 7);
  t.equal(d.trend[0].day, addDays(d.day, -6));
  t.same(d.trend[6], { day: d.day, counts: d.totals.counts, minesWithAlarms: 2, suspected: 1 });
  t.same(d.trend[5].counts.personsInPerDay, 0, 'yesterday: nothing');

  t.same((await v.call('GET', '/api/alarms?show=alarms')).json.data.mines.length, 2);
  const yesterday = await v.call('GET', `/api/alarms?day=${addDays(d.day, -1)}`);
  t.match(yesterday.json.data.totals, { suspected: 0, counts: { personsInPerDay: 0 } });
  const bad = await v.call('GET', '/api/alarms?day=yesterday');
  t.equal(bad.status, 400);
  t.match(bad.json.msg, /^day: /);
  t.match((await v.call('GET', '/api/alarms?show=some')).json.msg, /^show: /);
  t.match((await v.call('GET', '/alarms?day=2026-13-01')).text, /day: a day YYYY-MM-DD/, 'the page names the field');
  const badOffset = await v.call('GET', '/alarms?offset=-1');
  t.equal(badOffset.status, 400);
  t.match(badOffset.text, /offset: a whole number from 0 to 1000000/);

  const page = await v.call('GET', '/alarms?lang=zh');
  t.equal(page.status, 200);
  t.match(page.text, new RegExp(`<tr data-mine="${SHUT}" class="suspect"`), 'the shut-down mine highlighted');
  t.match(page.text, /<strong class="bad suspected">疑似违法生产<\/strong>/);
  t.match(page.text, new RegExp(`<a href="/items\\?mine=${SHUT}&amp;endpoint=fileOperator%2FpersonVideo" class="evidence"`), 'linked to its evidence');
  t.match(page.text, /<td class="num bad" data-kind="personsInPerDay" [^>]*>8 <small class="muted">\/ 5<\/small>/);
  t.match(page.text, /id="chart-trend"/);
  const evidence = await v.call('GET', `/items?mine=${SHUT}&endpoint=fileOperator%2FpersonVideo`);
  t.equal((evidence.text.match(/<tr data-seq=/g) ?? []).length, 1, 'the link lists the evidence item');
  t.match((await v.call('GET', '/alarms?lang=en')).text, /Suspected illegal production/);
});

const row = (endpoint: string, o: Partial<DailyRow> = {}): DailyRow => ({
  day: '2026-12-01', mineId: '140421000001', endpoint, count: 1, sum: 0, beltStatus: {}, aiTypes: {}, flagged: 0, delivered: 1, late: 0, latencySumMs: 0, latencyMaxMs: 0, dead: 0, rejected: 0, firstAt: 0, lastAt: 0, ...o,
});

t.test('the rules: which statuses are shut down, what counts as activity', async (t) => {
  for (const s of ['停产矿井', '停工矿井', '长期停产停建', '已关闭', '闭坑', '关停矿井']) t.ok(isShutDown(s), s);
  for (const s of ['生产矿井', '建设矿井', undefined]) t.notOk(isShutDown(s), String(s));
  const quiet = mineAlarm('140421000001', '停产矿井', [row('camera/online-offine'), row('infoReport/belt', { beltStatus: { '0003': 1 } })], DEFAULT_THRESHOLDS);
  t.equal(quiet.suspectedIllegal, false, 'a stopped belt and camera status are no activity');
  const belt = mineAlarm('140421000001', '停产矿井', [row('fileOperator/beltVideo', { beltStatus: { '0002': 1 }, aiTypes: { '03': 1 } })], { ...DEFAULT_THRESHOLDS, beltRunningPerDay: 10 });
  t.equal(belt.suspectedIllegal, true, 'a belt running without coal is activity, whatever the threshold');
  t.same(belt.alarms, []);
  const truck = mineAlarm('140421000001', '生产矿井', [row('infoReport/truck', { sum: 4 }), row('fileOperator/truckVideo', { sum: 3 })], { ...DEFAULT_THRESHOLDS, trucksOutPerDay: 7 });
  t.equal(truck.counts.trucksOutPerDay, 7);
  t.same(truck.alarms, [], 'at the threshold is no alarm; above it is');
  const cover = mineAlarm('140421000001', undefined, [row('infoReport/occlusion-movAngle', { count: 4, aiTypes: { '04': 2, '05': 2 } })], DEFAULT_THRESHOLDS);
  t.same(cover.alarms, ['occlusionMovedPerDay']);
  t.equal(cover.shutDown, false);
});

t.test("the daily cache: a week's past days asked once, today each time, a stale past day fetched again behind the answer", async (t) => {
  const { relay } = await sendDay(t);
  const c = await startTestConsole(t, relay);
  const asked: string[] = [];
  const cache = new DailyCache(
    (path) => {
      asked.push(path);
      return c.ctx.relay.get(path);
    },
    { maxAgeMs: 60_000 },
  );
  const now = Date.now();
  const today = beijingDay(now);
  const from = addDays(today, -6);
  const first = await cache.rows(from, today, now);
  t.same(asked, [`/admin/daily?from=${from}&to=${today}`], 'one call for the week');
  t.equal(first.filter((r) => r.mineId === PRODUCING && r.endpoint === 'infoReport/person')[0]!.sum, SENT.producing.persons);
  const again = await cache.rows(from, today, now + 1000);
  t.same(asked.slice(1), [`/admin/daily?from=${today}&to=${today}`], 'then today only');
  t.same(again, first, 'the same rows');
  await cache.rows(from, today, now + 120_000);
  await cache.settled();
  t.same(asked.slice(2), [`/admin/daily?from=${today}&to=${today}`, `/admin/daily?from=${from}&to=${addDays(today, -1)}`], 'stale past days fetched again, after the answer');
  await cache.rows(addDays(today, -1), addDays(today, -1), now + 121_000);
  t.equal(asked.length, 4, 'a fresh past day: no call');
});

t.test('whatever a mine or the relay wrote is text on the alarms and acceptance pages', async (t) => {
  const evil = '<script>alert(1)</script>';
  const a = mineAlarm(evil, evil, [row('infoReport/person', { mineId: evil, sum: 3 })], DEFAULT_THRESHOLDS);
  const trend = [{ day: '2026-12-01', counts: a.counts, minesWithAlarms: 1, suspected: 0 }];
  const out = [
    alarmsBody('zh', { day: '2026-12-01', mines: [a], totals: { mines: 1, minesWithAlarms: 1, suspected: 0, counts: a.counts }, trend }, 'all', 0).text,
    acceptanceListBody('en', { from: '2026-11-25', to: '2026-12-01', gapHours: 2, passed: 0, failed: 1, mines: [{ mineId: evil, status: evil, mineKind: 'producing', verdict: 'fail', failing: [{ endpoint: evil, reasons: [{ code: 'missing', n: 0 }] }], calls: 0 }] }, 0).text,
  ];
  for (const text of out) {
    t.notOk(text.includes('<script>alert'), 'no markup from the data');
    t.ok(text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  }
});
