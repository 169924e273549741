// 默认参数设置: thresholds, a default and per mine, read by all, changed by admins only, every
// field checked with a message naming it, every change (and refusal) audited.
import t from 'tap';
import { startTestRelay } from '../helpers/relay.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';
import { DEFAULT_THRESHOLDS } from '../../console/settings/thresholds.ts';

const PW = 'admin-password-1';
const MINE = '140421007866';

t.test('thresholds through the API and the page', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'boss', role: 'admin', password: PW });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });
  const admin = new ConsoleClient(c.url);
  await admin.login('boss', PW);
  const op = new ConsoleClient(c.url);
  await op.login('op1', PW);

  t.same((await op.call('GET', '/api/settings/thresholds')).json.data, { default: DEFAULT_THRESHOLDS, mines: {} }, 'anyone reads them');
  t.equal((await op.act('PUT', '/api/settings/thresholds/default', { ...DEFAULT_THRESHOLDS, personsInPerDay: 5 })).status, 403, 'only admins change them');

  const set = await admin.act('PUT', '/api/settings/thresholds/default', { ...DEFAULT_THRESHOLDS, personsInPerDay: 5 });
  t.equal(set.status, 200, set.text);
  t.equal(set.json.data.default.personsInPerDay, 5);
  const tooBig = await admin.act('PUT', '/api/settings/thresholds/default', { ...DEFAULT_THRESHOLDS, trucksOutPerDay: 1e6 });
  t.equal(tooBig.status, 400);
  t.match(tooBig.json.msg, /^trucksOutPerDay: must be <= 100000/);
  const missing = await admin.act('PUT', '/api/settings/thresholds/default', { personsInPerDay: 1 });
  t.match(missing.json.msg, /^trucksOutPerDay: must have required property/);
  const mine = await admin.act('PUT', `/api/settings/thresholds/mines/${MINE}`, { trucksOutPerDay: 40 });
  t.equal(mine.status, 200);
  t.same(mine.json.data.mines, { [MINE]: { trucksOutPerDay: 40 } });
  t.same(c.ctx.store.thresholds.forMine(MINE), { ...DEFAULT_THRESHOLDS, personsInPerDay: 5, trucksOutPerDay: 40 }, 'the override over the default');
  const badMine = await admin.act('PUT', '/api/settings/thresholds/mines/1404', { trucksOutPerDay: 40 });
  t.equal(badMine.status, 400);
  t.match(badMine.json.msg, /^mine: /);
  t.match((await admin.act('PUT', `/api/settings/thresholds/mines/${MINE}`, { lorries: 3 })).json.msg, /^lorries: must NOT have additional properties/);

  // the page: a bad field re-shown with its name, a good one saved
  const bad = await admin.call('POST', '/settings/default', { form: { _csrf: admin.csrf, personsInPerDay: '-1', trucksOutPerDay: '0', beltRunningPerDay: '0', dispatchRoomEmptyPerDay: '3', occlusionMovedPerDay: 'x' } });
  t.equal(bad.status, 400);
  t.match(bad.text, /role="alert">default\.personsInPerDay: must be .*0.*; default\.occlusionMovedPerDay: must be a whole number/);
  t.match(bad.text, /id="personsInPerDay" value="-1"/, 'what was typed is kept');
  const good = await admin.call('POST', '/settings/mine', { form: { _csrf: admin.csrf, mine: '140421009999', m_personsInPerDay: '2', m_trucksOutPerDay: '' } });
  t.equal(good.status, 303);
  const shown = await admin.call('GET', '/settings?saved=1');
  t.match(shown.text, /<tr data-mine="140421009999"><td>140421009999<\/td><td class="num">2<\/td>/);
  const removed = await admin.call('POST', '/settings/mine', { form: { _csrf: admin.csrf, mine: MINE } });
  t.equal(removed.status, 303, 'a mine with no field set goes back to the default');
  t.same(Object.keys(c.ctx.store.thresholds.get().mines), ['140421009999']);
  const viewerPage = await op.call('GET', '/settings');
  t.match(viewerPage.text, /id="personsInPerDay" value="5" placeholder="" disabled/, 'read-only for others');
  t.notMatch(viewerPage.text, /id="mine-form"/);

  const audit = c.ctx.store.audit.list({ limit: 20 }).filter((e) => e.action === 'settings').map((e) => `${e.user} ${e.target} ${e.result.slice(0, 7)}`);
  t.same(audit, [
    `boss thresholds mine ${MINE} ok`,
    'boss thresholds mine 140421009999 ok',
    'boss thresholds default refused',
    `boss thresholds mine ${MINE} ok`,
    'boss thresholds default ok',
  ], 'changes and refusals by the store are audited (a body the route schema refuses never reaches it)');
});
