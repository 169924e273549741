// 煤矿: the numbers the relay counted for a day of two mines sent through the national API, as the
// console's list (filtered, sorted, paged on the server) and a mine's page (cameras, 31-day chart,
// timeline linked to the items) show them.
import t from 'tap';
import { ConsoleClient, startTestConsole } from './fixture.ts';
import { PRODUCING, SENT, SHUT, sendDay } from './w2aData.ts';
import { filterMines, readMinesFilter } from '../../console/api/minesApi.ts';
import { minesBody } from '../../console/pages/minesPage.ts';
import type { MineRow } from '../../console/alarms/relayRows.ts';

t.test('mines and cameras from the relay, filtered, sorted, paged; a mine page with its chart and timeline', async (t) => {
  const { relay } = await sendDay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: 'viewer-pass-1' });
  const v = new ConsoleClient(c.url);
  t.equal((await v.call('GET', '/api/mines')).status, 401, 'anonymous: 401');
  await v.login('v1', 'viewer-pass-1');

  const all = await v.call('GET', '/api/mines');
  t.equal(all.status, 200, all.text);
  t.equal(all.json.data.total, 2);
  const p = all.json.data.mines.find((m: MineRow) => m.mineId === PRODUCING);
  const s = all.json.data.mines.find((m: MineRow) => m.mineId === SHUT);
  t.match(p, { status: '生产矿井', shutDown: false, online: 1, offline: 1, total: 10, flagged: 0, rejected: 0, late: 0, dead: 0 });
  t.same(p.today, SENT.producing.calls, 'calls of the day by kind');
  t.match(p.cameras.find((x: { cameraId: string }) => x.cameraId === '10'), { online: true, liveUrl: 'http://10.1.2.3/live/10' });
  t.match(p.cameras.find((x: { cameraId: string }) => x.cameraId === '20'), { online: false });
  t.ok(p.latencyMaxMs > 0 && p.latencyMaxMs < 30_000, 'delivered, within the budget');
  t.match(s, { status: '停产矿井', shutDown: true, online: 1, offline: 0, total: 2 });
  t.same(s.today, SENT.shut.calls);

  const ids = async (q: string) => (await v.call('GET', `/api/mines${q}`)).json.data.mines.map((m: MineRow) => m.mineId);
  t.same(await ids('?status=shutDown'), [SHUT]);
  t.same(await ids('?status=producing'), [PRODUCING]);
  t.same(await ids('?status=unknown'), []);
  t.same(await ids('?camera=offline'), [PRODUCING], 'a camera whose last online-offine said offline');
  t.same(await ids('?q=5555'), [SHUT]);
  t.same(await ids('?sort=total&order=desc'), [PRODUCING, SHUT]);
  t.same(await ids('?sort=total&order=asc'), [SHUT, PRODUCING]);
  const paged = await v.call('GET', '/api/mines?limit=1&offset=1');
  t.match(paged.json.data, { total: 2, offset: 1, limit: 1, mines: [{ mineId: PRODUCING }] }, 'mine id order');
  const bad = await v.call('GET', '/api/mines?sort=size');
  t.equal(bad.status, 400);
  t.match(bad.json.msg, /^sort: /);
  t.match((await v.call('GET', '/api/mines?day=2026-02-30')).json.msg, /^day: a day YYYY-MM-DD/);
  t.match((await v.call('GET', '/mines?q=<x>')).text, /q: part of a mine id/, 'the page names the field too');
  t.same((await v.call('GET', '/api/mines?day=2020-01-01')).json.data.mines.map((m: { total: number }) => m.total), [0, 0], 'another day: no calls');

  const page = await v.call('GET', '/mines?sort=total&order=desc');
  t.equal(page.status, 200);
  t.match(page.text, new RegExp(`<tr data-mine="${PRODUCING}"><td><a href="/mines/${PRODUCING}">`));
  t.ok(page.text.indexOf(`data-mine="${PRODUCING}"`) < page.text.indexOf(`data-mine="${SHUT}"`), 'sorted on the server');
  t.match(page.text, /data-endpoint="infoReport\/person">infoReport\/person <b>2<\/b>/);
  t.match((await v.call('GET', '/mines?lang=en')).text, /Last seen/);

  const one = await v.call('GET', `/api/mines/${PRODUCING}`);
  t.equal(one.status, 200);
  t.equal(one.json.data.daily.filter((r: { endpoint: string }) => r.endpoint === 'infoReport/person')[0].count, 2);
  t.equal(one.json.data.items.length, 10, 'the timeline: every item of the mine, newest first');
  const seqs = one.json.data.items.map((i: { seq: number }) => i.seq);
  t.same(seqs, [...seqs].sort((a: number, b: number) => b - a));
  t.equal((await v.call('GET', '/api/mines/140421000000')).status, 404);
  t.equal((await v.call('GET', '/api/mines/bad!id')).status, 400);
  const minePage = await v.call('GET', `/mines/${PRODUCING}?lang=zh`);
  t.match(minePage.text, /<tr data-camera="20">[^]*?<td class="bad">离线<\/td>/);
  t.match(minePage.text, new RegExp(`<a href="/items/${seqs[0]}">${seqs[0]}</a>`), 'timeline linked to the items');
  const option = JSON.parse(/data-chart="([^"]*)"/.exec(minePage.text)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
  t.equal(option.xAxis.data.length, 31, '31 days');
  const person = option.series.find((x: { name: string }) => x.name === 'infoReport/person');
  t.equal(person.data[30], 2, 'today: 2 person records');
  t.match(minePage.text, /<script src="\/assets\/echarts.min.js" defer><\/script><script src="\/assets\/charts.js" defer><\/script>/);
  t.equal((await v.call('GET', '/assets/charts.js')).status, 200);

  const ov = await v.call('GET', '/api/overview');
  t.match(ov.json.data.today, { delivered: 12, late: 0 }, "the overview: today's deliveries, none late");
  t.match((await v.call('GET', '/?lang=zh')).text, /<div class="card" id="late-today"><div>今日超时送达<\/div><div class="v ok">0<\/div><small>\/ 12 /);
});

t.test('1,000 mines: the list is filtered and paged on the server, and fast', async (t) => {
  const mines: MineRow[] = Array.from({ length: 1000 }, (_, i) => ({
    mineId: `1404210${String(i).padStart(5, '0')}`,
    ...(i % 10 === 0 ? { status: '停产矿井' } : { status: '生产矿井' }),
    accounts: [],
    cameras: [{ cameraId: '10', lastSeenAt: i, online: i % 7 !== 0 }],
    today: { 'infoReport/person': i % 13 },
    flagged: 0,
    rejected: 0,
    late: i % 5,
    dead: 0,
    latencyMaxMs: i,
  }));
  const started = process.hrtime.bigint();
  const f = readMinesFilter({ status: 'shutDown', sort: 'late', order: 'desc', limit: '20' });
  const p = filterMines(mines, f);
  const html = minesBody('zh', p, f).text;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(p.total, 100);
  t.equal(p.mines.length, 20);
  t.ok(p.mines.every((m, i, a) => i === 0 || a[i - 1]!.late >= m.late));
  t.equal((html.match(/<tr data-mine=/g) ?? []).length, 20, 'one page of rows');
  t.comment(`filter, sort and render: ${ms.toFixed(1)} ms (timed by npm run bench -- console, not here)`);
});

t.test('a mine id or status with markup renders inert', async (t) => {
  const evil = '<script>alert(1)</script>';
  const f = readMinesFilter({});
  const row: MineRow = { mineId: evil, status: evil, accounts: [], cameras: [], today: { [evil]: 1 }, flagged: 0, rejected: 0, late: 0, dead: 0, latencyMaxMs: 0 };
  const out = minesBody('zh', filterMines([row], f), f).text;
  t.notOk(out.includes('<script>alert'), 'no markup from the data');
  t.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
});
